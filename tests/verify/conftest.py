"""Every path test runs on each engine this cryptography offers: the library's and ours."""

import pytest

from certbot_safedeploy.verify import library

ENGINES = (["library"] if library.AVAILABLE else []) + ["builtin"]


@pytest.fixture(params=ENGINES)
def engine(request):
    return request.param
