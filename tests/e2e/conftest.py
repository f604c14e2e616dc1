"""e2e tests use `running_stack`/`live` from tests/conftest.py."""
