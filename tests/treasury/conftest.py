"""The settlement tests' gateway under test, for treasury's tests."""

from tests.settlement.conftest import gw, make_gateway  # noqa: F401  (fixtures)
