"""The settlement tests' gateway under test, for treasury's tests."""

from tests.settlement.conftest import make_gateway  # noqa: F401  (a fixture)
