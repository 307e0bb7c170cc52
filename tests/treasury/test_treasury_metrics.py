"""/metrics carries treasury's figures after a real morning: the supply, the ledger's reserve and the emission cap in
kopecks as the ledger holds them, open reconciliation breaks by kind (a resolved one not counted, a kind gone when
its last break is resolved), and the business day with its state."""

from __future__ import annotations

import uuid
from pathlib import Path

from aiohttp.test_utils import TestClient
from sqlalchemy import text

from gateway.app import make_app
from gateway.config import load_config
from gateway.http.keys import gateway_key
from tests.conftest import write_config
from tests.settlement.builders import CBRF
from tests.test_metrics import scrape, values
from tests.treasury import scenario


async def test_treasury_gauges_follow_the_ledger_and_the_breaks(aiohttp_client, database_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write_config(tmp_path, database_url, rtgs_toml=f'opening_balance_rub = "{scenario.rtgs_opening_rub}"')
    client: TestClient = await aiohttp_client(make_app(load_config(path, environ={}), upgrade_database=True,
                                                       plain_http=True))

    async def post(bank: str, payload: bytes) -> tuple[int, bytes]:
        response = await client.post("/v1/messages", data=payload, headers={"Content-Type": "application/xml"})
        return response.status, await response.read()

    await scenario.settle_the_morning(post)
    gateway = client.app[gateway_key]
    accounts = {a.code: a.posted_kopecks for a in await gateway.store.accounts()}
    samples = await scrape(client)
    assert values(samples, "gateway_cryptorouble_supply_kopecks") == {(): -accounts[f"{CBRF}/issuance"]}
    assert values(samples, "gateway_cryptorouble_supply_kopecks") == {(): 700_000_00}
    assert values(samples, "gateway_fiat_reserve_kopecks") == {(): 700_000_00}
    assert values(samples, "gateway_emission_cap_kopecks") == {(): 1_000_000_000_00}
    assert values(samples, "gateway_reconciliation_breaks_open") == {}
    today = gateway.environment.calendar.business_date_at(gateway.environment.clock_us()).isoformat()
    assert values(samples, "gateway_business_day") == {(today, "open"): 1}

    async def record_break(kind: str, resolved: bool) -> str:
        fingerprint = uuid.uuid4().hex
        now_us = gateway.environment.clock_us()
        async with gateway.store.engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO reconciliation_breaks (id, fingerprint, kind, business_date, first_seen_date,"
                    " last_seen_date, first_seen_at_us, last_seen_at_us, resolved_at_us, amount_kopecks,"
                    " expected_kopecks, account, references_json, description) VALUES (:id, :fingerprint, :kind,"
                    " :date, :date, :date, :now, :now, :resolved, NULL, NULL, NULL, '{}', 'a break')"
                ),
                {"id": uuid.uuid4().hex if gateway.store.engine.dialect.name == "sqlite" else uuid.uuid4(),
                 "fingerprint": fingerprint, "kind": kind, "date": today, "now": now_us,
                 "resolved": now_us if resolved else None},
            )
        return fingerprint

    await record_break("posting_without_message", resolved=False)
    await record_break("posting_without_message", resolved=False)
    await record_break("supply_not_reserve", resolved=True)
    missing = await record_break("fiat_leg_missing", resolved=False)
    assert values(await scrape(client), "gateway_reconciliation_breaks_open") == {
        ("posting_without_message",): 2, ("fiat_leg_missing",): 1
    }
    async with gateway.store.engine.begin() as connection:
        await connection.execute(text("UPDATE reconciliation_breaks SET resolved_at_us = 1 WHERE fingerprint = :f"),
                                 {"f": missing})
    assert values(await scrape(client), "gateway_reconciliation_breaks_open") == {("posting_without_message",): 2}
