from tests.verify.conftest import engine  # noqa: F401  (both engines)
