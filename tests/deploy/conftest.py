"""The compose deployment's twin on a scratch PostgreSQL database, for every test of tests/deploy that runs it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import create_pg_database, drop_pg_database, require_postgres
from tests.deploy.twin import Twin


@pytest.fixture
def twin(tmp_path: Path) -> Iterator[Twin]:
    require_postgres()
    database_url = create_pg_database()
    deployment = Twin(tmp_path, database_url)
    try:
        yield deployment
    finally:
        deployment.close()
        drop_pg_database(database_url)
