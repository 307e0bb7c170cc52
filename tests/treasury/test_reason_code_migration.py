"""Migration 0007 on SQLite and PostgreSQL: a refused message's reason code is journaled with it; downgraded to 0006
the schema is 0006's again (no column, no index of 0007 left), and upgraded once more each refusal journaled before
gets back, from its stored answer, the very code the gateway had written when it refused it, while a message whose
transactions were judged one by one keeps none."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from gateway_adapters.sql.engine import make_engine
from gateway_adapters.sql.migrate import downgrade_to, upgrade_to, upgrade_to_head

from tests.conftest import create_pg_database, drop_pg_database
from tests.settlement.builders import SBER, VTB, Tx, pacs_008, today_in_moscow
from tests.settlement.conftest import GatewayUnderTest, message_reject, status_report

tables = ("messages", "payments", "conversions")


async def _codes(gw: GatewayUnderTest) -> dict[Any, str | None]:
    rows = await gw.rows("SELECT id, reason_code FROM messages WHERE direction = 'in'")
    return {row.id: row.reason_code for row in rows}


def _schema(sync: sa.Connection) -> dict[str, Any]:
    inspector = sa.inspect(sync)
    return {
        table: (
            sorted(column["name"] for column in inspector.get_columns(table)),
            sorted(index["name"] for index in inspector.get_indexes(table)),
        )
        for table in tables
    }


@pytest.fixture
def fresh_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """Another empty database of the same kind as the gateway's."""
    if database_url.startswith("sqlite"):
        yield f"sqlite+aiosqlite:///{tmp_path / 'fresh.sqlite3'}"
        return
    url = create_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(url)


async def test_reason_codes_are_journaled_and_survive_a_downgrade_and_upgrade(
    gw: GatewayUnderTest, fresh_url: str
) -> None:
    today = today_in_moscow()
    misaddressed = await gw.post(pacs_008(SBER, "MIG-RC02", [Tx(SBER, VTB, 1_00)], today, to=VTB))
    assert message_reject(misaddressed.body).text("Rsn/RjctgPtyRsn") == "RC02"
    unreadable = await gw.post(b"<not-xml")
    assert message_reject(unreadable.body).text("Rsn/RjctgPtyRsn") == "FF01"
    # Every transaction refused by the ledger: the message is rejected, but each code is its payment's.
    broke = await gw.settle(pacs_008(VTB, "MIG-AM04", [Tx(VTB, SBER, 9_000_000_00)], today))
    assert (broke.group_status, broke.transactions[0].reasons) == ("RJCT", ("AM04",))
    paid = status_report((await gw.post(pacs_008(SBER, "MIG-OK", [Tx(SBER, VTB, 1_00)], today))).body)
    assert paid.group_status == "ACSC"

    journaled = await _codes(gw)
    assert sorted(code for code in journaled.values() if code is not None) == ["FF01", "RC02"]
    assert sum(code is None for code in journaled.values()) == 2  # MIG-AM04 and MIG-OK

    engine = gw.gateway.store.engine
    await downgrade_to(engine, "0006")
    async with engine.connect() as connection:
        downgraded = await connection.run_sync(_schema)
    assert "reason_code" not in downgraded["messages"][0]
    # ... the same as a database built to 0006 from nothing.
    fresh_engine = make_engine(fresh_url, gw.config.limits)
    try:
        await upgrade_to(fresh_engine, "0006")
        async with fresh_engine.connect() as connection:
            assert await connection.run_sync(_schema) == downgraded
    finally:
        await fresh_engine.dispose()

    await upgrade_to_head(engine)
    assert await _codes(gw) == journaled
