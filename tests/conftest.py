from tests.deploy.conftest import bed  # noqa: F401  (shared fixture)
