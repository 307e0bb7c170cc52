"""Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from gateway_adapters.sql.engine import make_engine
from gateway_adapters.sql.migrate import (
    current_revision,
    head_revision,
    upgrade_to_head,
)
from gateway_adapters.sql.models import Base

from gateway.config import Limits, load_config


async def test_upgrade_matches_the_models_and_is_repeatable(database_url: str) -> None:
    limits: Limits = load_config(environ={}).limits
    engine = make_engine(database_url, limits)
    try:
        assert await current_revision(engine) is None
        await upgrade_to_head(engine)
        await upgrade_to_head(engine)  # a second run is a no-op
        assert await current_revision(engine) == head_revision()
        async with engine.connect() as connection:
            differences = await connection.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"compare_type": True}), Base.metadata)
            )
        assert differences == []
    finally:
        await engine.dispose()
