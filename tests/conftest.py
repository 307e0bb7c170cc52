"""Shared fixtures: configs, a fresh SQLite or PostgreSQL ledger per test, and the PostgreSQL gate.

PostgreSQL tests use the server named by GATEWAY_TEST_PG_URL (default: the local trust-auth server). Each test gets
its own freshly created database. When the server is unreachable they skip, except under CI=true, where they fail:
CI must never pass without having run them.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
from gateway_adapters.sql.outages import is_transient
from gateway_adapters.sql.store import SqlStore, now_us

from gateway.config import Config, load_config
from gateway.domain.ledger import Account, AccountKind
from gateway.ledger.batcher import AutoBatcher
from gateway.ledger.service import Ledger
from gateway.ledger.signing import ChainSigner, generate_key_file, load_private_key
from gateway.runtime import open_store
from tests.corpus import in_ci

pg_url_default = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"

BANKS = (
    ("SABRRUMMXXX", "Sberbank", "044525225", "30101810400000000225"),
    ("VTBRRUMMXXX", "VTB Bank", "044525187", "30101810700000000187"),
    ("ALFARUMMXXX", "Alfa-Bank", "044525593", "30101810200000000593"),
)


def pg_admin_url() -> str:
    return os.environ.get("GATEWAY_TEST_PG_URL", pg_url_default)


def _plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def write_config(
    directory: Path,
    database_url: str,
    emission_cap_rub: str = "1000000000.00",
    extra_participant_toml: str = "",
    limits_toml: str = "",
    rtgs_toml: str = "",
    participant_toml: Mapping[str, str] | None = None,
    business_days_toml: str = "",
) -> Path:
    """A config for tests: the central bank, three banks (Alfa capped at 5,000,000.00 per wallet, Sberbank at
    1,000,000.00 per payment) and a fresh signing key. `participant_toml`: more keys for a bank's table, by BIC."""
    key_file = directory / "cb-key.pem"
    if not key_file.exists():
        generate_key_file(key_file)
    participants = []
    for bic, name, clearing, rtgs in BANKS:
        limit = ""
        if bic == "SABRRUMMXXX":
            limit = 'transfer_max_rub = "1000000.00"\n'
        if bic == "ALFARUMMXXX":
            limit = 'balance_max_rub = "5000000.00"\n'
        participants.append(
            f'[[participants]]\nbic = "{bic}"\nname = "{name}"\nclearing_code = "{clearing}"\n'
            f'rtgs_account = "{rtgs}"\nwallets = ["main", "clients"]\n{limit}'
            + (participant_toml or {}).get(bic, "")
        )
    text = (
        f'[database]\nurl = "{database_url}"\n\n'
        # The ops listener on any free port: gateways of tests running at once never meet on the default 9464.
        "[http]\nops_port = 0\n\n"
        f'[central_bank]\nbic = "CBRFRUMMXXX"\nname = "Bank of Russia"\nsigning_key_file = "{key_file}"\n'
        f'emission_cap_rub = "{emission_cap_rub}"\nreserve_rtgs_account = "30101810000000000001"\n\n'
        + "\n".join(participants)
        + extra_participant_toml
        + f"\n[limits]\n{_every_message_checked(limits_toml)}\n"
        + (f"\n[rtgs]\n{rtgs_toml}\n" if rtgs_toml else "")
        + (f"\n[business_days]\n{business_days_toml}\n" if business_days_toml else "")
    )
    path = directory / "gateway.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _every_message_checked(limits_toml: str) -> str:
    """Tests check every message the gateway writes against its XSD (a deployment checks one in a hundred), unless
    the test sets the share itself."""
    if "outbound_schema_check_every" in limits_toml:
        return limits_toml
    return "outbound_schema_check_every = 1\n" + limits_toml


async def _pg_reachable() -> str | None:
    try:
        connection = await asyncpg.connect(_plain(pg_admin_url()), timeout=5)
    except (OSError, asyncpg.PostgresError, asyncio.TimeoutError) as error:
        return f"{type(error).__name__}: {error}"
    await connection.close()
    return None


def require_postgres() -> None:
    problem = asyncio.run(_pg_reachable())
    if problem is None:
        return
    message = f"PostgreSQL at {pg_admin_url()} unreachable ({problem})"
    if in_ci:
        pytest.fail(message + " -- under CI=true PostgreSQL tests must run", pytrace=False)
    pytest.skip(message + "; set GATEWAY_TEST_PG_URL or start the server")


@pytest.fixture(scope="session")
def postgres_available() -> None:
    require_postgres()


def create_pg_database() -> str:
    """Create an empty database for one test; returns its SQLAlchemy URL."""
    name = f"gw_test_{uuid.uuid4().hex[:16]}"

    async def create() -> None:
        connection = await asyncpg.connect(_plain(pg_admin_url()))
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()

    asyncio.run(create())
    base, _, _ = pg_admin_url().rpartition("/")
    return f"{base}/{name}"


def drop_pg_database(url: str) -> None:
    name = url.rpartition("/")[2]

    async def drop() -> None:
        connection = await asyncpg.connect(_plain(pg_admin_url()))
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()

    asyncio.run(drop())


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database of each kind: the contract every storage adapter must meet."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'ledger.sqlite3'}"
        return
    require_postgres()
    url = create_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(url)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'ledger.sqlite3'}"


@pytest.fixture
def postgres_url(postgres_available: None) -> Iterator[str]:
    url = create_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(url)


@dataclass
class LedgerUnderTest:
    config: Config
    store: SqlStore
    ledger: Ledger
    accounts: dict[str, Account]  # by code, as created

    def id_of(self, code: str) -> int:
        return self.accounts[code].id

    @property
    def issuance(self) -> int:
        return self.id_of("CBRFRUMMXXX/issuance")

    @property
    def reserve(self) -> int:
        return self.id_of("CBRFRUMMXXX/reserve")

    async def balances(self) -> dict[str, int]:
        return {a.code: a.posted_kopecks for a in await self.store.accounts()}

    def batcher(self, batch_transfers_max: int = 1000, queue_transfers_max: int = 100_000) -> AutoBatcher:
        return AutoBatcher(self.ledger, batch_transfers_max, 0, queue_transfers_max)


async def open_ledger(config: Config, clock_us=now_us) -> LedgerUnderTest:  # type: ignore[no-untyped-def]
    store = await open_store(config, upgrade=True)
    signer = ChainSigner(load_private_key(config.central_bank.signing_key_file))
    ledger = Ledger(store, signer, config.limits, clock_us=clock_us, is_transient=is_transient)
    accounts = {a.code: a for a in await store.accounts()}
    assert {a.kind for a in accounts.values()} == {AccountKind.ISSUANCE, AccountKind.RESERVE, AccountKind.WALLET}
    return LedgerUnderTest(config, store, ledger, accounts)


@pytest.fixture
async def ledger(database_url: str, tmp_path: Path) -> AsyncIterator[LedgerUnderTest]:
    """A bootstrapped ledger (central bank + three banks, two wallets each) on each kind of database."""
    config = load_config(write_config(tmp_path, database_url))
    under_test = await open_ledger(config)
    try:
        yield under_test
    finally:
        await under_test.store.close()
