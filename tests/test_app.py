"""The HTTP app built by make_app serves health, readiness and the ledger head over real HTTP."""

from __future__ import annotations

import uuid
from pathlib import Path

from gateway.app import gateway_key, make_app
from gateway.config import load_config
from gateway.domain.ledger import TransferKind, TransferRequest, TransferResult
from tests.conftest import write_config


async def test_health_readiness_and_ledger_head(aiohttp_client, database_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = load_config(write_config(tmp_path, database_url), environ={})
    client = await aiohttp_client(make_app(config, upgrade_database=True))
    assert (await client.get("/healthz")).status == 200
    ready = await client.get("/readyz")
    assert ready.status == 200 and (await ready.json())["ledger_seq"] == 0
    gateway = client.app[gateway_key]
    accounts = {a.code: a.id for a in await gateway.store.accounts()}
    mint = TransferRequest(uuid.uuid4(), accounts["CBRFRUMMXXX/issuance"], accounts["VTBRRUMMXXX/main"], 250_000_00,
                           TransferKind.MINT, "CBRFRUMMXXX:MINT-1")  # fmt: skip
    assert await gateway.batcher.submit([mint]) == [TransferResult.OK]
    head = await (await client.get("/v1/ledger/head")).json()
    assert head["seq"] == 1
    assert head["supply_rub"] == "250000.00" and head["reserve_rub"] == "250000.00"
    assert head["emission_cap_rub"] == "1000000000.00"
