"""Opening the database: one async SQLAlchemy engine per process, with every driver option set explicitly."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from gateway.config import Limits


def is_postgres(url: str) -> bool:
    return url.startswith("postgresql+asyncpg://")


def make_engine(url: str, limits: Limits) -> AsyncEngine:
    """Every wait on the database is bounded, so that a server that stops answering (connections accepted, nothing
    returned) costs a caller at most these waits, never a hang: opening a connection (db_connect_timeout_ms), waiting
    for a pooled one (db_checkout_timeout_ms), and each statement, the pool's pre-ping included, on both sides of the
    wire (db_statement_timeout_ms: asyncpg gives up on the client, statement_timeout cancels on the server)."""
    if is_postgres(url):
        return create_async_engine(
            url,
            pool_size=limits.db_pool_connections_max,
            max_overflow=0,
            pool_pre_ping=True,
            pool_timeout=limits.db_checkout_timeout_ms / 1000,
            connect_args={
                "timeout": limits.db_connect_timeout_ms / 1000,
                "command_timeout": limits.db_statement_timeout_ms / 1000,
                "server_settings": postgres_session_settings(limits, "cryptoruble-gateway"),
            },
        )
    # SQLite's "timeout" is how long a statement waits for another process's lock.
    engine = create_async_engine(
        url,
        pool_timeout=limits.db_checkout_timeout_ms / 1000,
        connect_args={"timeout": limits.db_statement_timeout_ms / 1000},
    )
    _make_sqlite_durable_and_serial(engine, limits.db_statement_timeout_ms)
    return engine


def postgres_session_settings(limits: Limits, application_name: str) -> dict[str, str]:
    """Server-side bounds of every gateway session. A session whose client vanished inside a transaction (a network
    that black-holes it) would hold its locks, the chain head's among them, until TCP keepalive noticed, hours
    later: PostgreSQL ends it after idle_in_transaction_session_timeout instead."""
    return {
        "statement_timeout": str(limits.db_statement_timeout_ms),
        "idle_in_transaction_session_timeout": str(limits.db_statement_timeout_ms * 2),
        "application_name": application_name,
    }


def _make_sqlite_durable_and_serial(engine: AsyncEngine, busy_timeout_ms: int) -> None:
    """SQLite: write-ahead log with full fsync (a settled batch survives power loss), foreign keys on, and every
    transaction BEGIN IMMEDIATE, so two processes on one file serialise their batches instead of deadlocking."""

    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None  # let SQLAlchemy's begin event below issue BEGIN itself
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection):  # type: ignore[no-untyped-def]
        connection.exec_driver_sql("BEGIN IMMEDIATE")
