"""The compose deployment's twin on a scratch PostgreSQL database, for every test of tests/deploy that runs it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import create_pg_database, drop_pg_database, require_postgres
from tests.deploy.twin import Twin, base_environment, write_secrets


@pytest.fixture(scope="session")
def secrets_made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The secrets as docs/deploy.md makes them, once per session: each twin gets its own copy to change."""
    return write_secrets(tmp_path_factory.mktemp("guide"), base_environment(tmp_path_factory.getbasetemp()))


@pytest.fixture
def twin(tmp_path: Path, secrets_made: Path) -> Iterator[Twin]:
    require_postgres()
    database_url = create_pg_database()
    deployment = Twin(tmp_path, database_url, secrets_made=secrets_made)
    try:
        yield deployment
    finally:
        deployment.close()
        drop_pg_database(database_url)
