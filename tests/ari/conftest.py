import pytest

from certbot_safedeploy.ari.fetch import Client
from tests.ari.ariserver import AriServer
from tests.pki import make_cert


@pytest.fixture
def server():
    with AriServer() as s:
        yield s


@pytest.fixture
def client(server):
    return Client(cafile=str(server.ca_file), timeout=2.0, deadline=5.0)


@pytest.fixture(scope="session")
def ca():
    return make_cert("ari test issuer", ca=True)


@pytest.fixture
def leaf(ca):
    def make(name="a.example", **kw):
        return make_cert(name, issuer=ca, sans=[name], **kw)
    return make
