"""The RTGS worlds the contract runs in: the embedded simulator on SQLite and on PostgreSQL, and the HTTP client
against a `gateway rtgs-sim` subprocess. Another kind of world joins by adding one entry to `world_kinds`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from gateway_adapters.rtgs.simulator import RtgsSimulator
from gateway_adapters.sql.engine import make_engine

from gateway.config import load_config
from gateway.conversion.ports import Rtgs
from tests.conftest import create_pg_database, drop_pg_database
from tests.rtgs.http_world import http_rtgs_world

CBR_BIC = "CBRFRUMMXXX"
BeforeOpen = Callable[[str], Awaitable[None]]  # given the database URL, prepares it before the RTGS opens it
RESERVE_ACCOUNT = "30101810000000000001"  # the central bank's cryptorouble reserve account, as in tests/conftest.py


@dataclass(frozen=True, slots=True)
class RtgsWorld:
    rtgs: Rtgs  # the implementation under test: tests use it only through the port
    admin: RtgsSimulator  # the same RTGS's administration, for setup (open_account, set_blocked)
    reserve_account: str


@dataclass(frozen=True, slots=True)
class WorldKind:
    # Builds a world in a test's tmp_path, on a database `before_open` prepared (e.g. as an older simulator left it).
    open: Callable[[Path, BeforeOpen | None], AbstractAsyncContextManager[RtgsWorld]]
    marks: tuple[pytest.MarkDecorator, ...] = ()
    requires: tuple[str, ...] = ()  # synchronous fixtures that gate the kind, e.g. postgres_available


@asynccontextmanager
async def embedded_world(database_url: str, before_open: BeforeOpen | None) -> AsyncIterator[RtgsWorld]:
    if before_open is not None:
        await before_open(database_url)
    engine = make_engine(database_url, load_config(environ={}).limits)
    try:
        simulator = await RtgsSimulator.open(engine, RESERVE_ACCOUNT, CBR_BIC)
        yield RtgsWorld(rtgs=simulator, admin=simulator, reserve_account=RESERVE_ACCOUNT)
    finally:
        await engine.dispose()


@asynccontextmanager
async def embedded_sqlite(tmp_path: Path, before_open: BeforeOpen | None = None) -> AsyncIterator[RtgsWorld]:
    async with embedded_world(f"sqlite+aiosqlite:///{tmp_path / 'rtgs.sqlite3'}", before_open) as world:
        yield world


@asynccontextmanager
async def embedded_postgres(tmp_path: Path, before_open: BeforeOpen | None = None) -> AsyncIterator[RtgsWorld]:
    # The helpers run their own event loop (asyncio.run): give them a thread of their own.
    url = await asyncio.to_thread(create_pg_database)
    try:
        async with embedded_world(url, before_open) as world:
            yield world
    finally:
        await asyncio.to_thread(drop_pg_database, url)


@asynccontextmanager
async def http_sqlite(tmp_path: Path, before_open: BeforeOpen | None = None) -> AsyncIterator[RtgsWorld]:
    """The HTTP client against a `gateway rtgs-sim` subprocess on a SQLite file, `admin` opened on that file."""
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'rtgs.sqlite3'}"
    if before_open is not None:
        await before_open(database_url)
    async with http_rtgs_world(tmp_path, database_url) as world:
        yield RtgsWorld(rtgs=world.rtgs, admin=world.admin, reserve_account=world.reserve_account)


world_kinds: dict[str, WorldKind] = {
    "embedded-sqlite": WorldKind(embedded_sqlite),
    "embedded-postgres": WorldKind(embedded_postgres, marks=(pytest.mark.postgres,), requires=("postgres_available",)),
    "http": WorldKind(http_sqlite, marks=(pytest.mark.slow,)),
}


@pytest.fixture(params=[pytest.param(name, marks=kind.marks) for name, kind in world_kinds.items()])
def rtgs_world_kind(request: pytest.FixtureRequest) -> WorldKind:
    kind = world_kinds[request.param]
    for fixture in kind.requires:  # here, outside the test's event loop: the gates run one of their own
        request.getfixturevalue(fixture)
    return kind


@pytest.fixture
async def rtgs_world(rtgs_world_kind: WorldKind, tmp_path: Path) -> AsyncIterator[RtgsWorld]:
    """An RTGS with only its reserve account (zero balance); tests open bank accounts through `admin`."""
    async with rtgs_world_kind.open(tmp_path, None) as world:
        yield world
