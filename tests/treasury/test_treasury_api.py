"""The treasury JSON API (/v1/treasury/...) after a real morning of conversions and payments: the central bank sees
supply, both reserves, the cap and every bank's positions to the kopeck as the ledger and the RTGS hold them, today's
flows and rejects by reason code as worked out by hand, pending payments and open breaks; a bank sees only its own
figures, and asking for another bank's is refused 403; nobody named, 401."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import text

from gateway import runtime
from gateway.app import make_app
from gateway.config import load_config
from gateway.domain.calendar import business_zone
from gateway.http.keys import gateway_key
from tests.conftest import write_config
from tests.settlement.builders import ALFA, CBRF, SBER, VTB, Tx, pacs_008
from tests.settlement.conftest import ClientFactory
from tests.treasury import scenario
from tests.treasury.test_business_days import Clock, calendar_toml, friday, tuesday


@pytest.fixture
async def client(aiohttp_client, database_url: str, tmp_path: Path) -> AsyncIterator[TestClient]:  # type: ignore[no-untyped-def]
    """The gateway in the development mode, figures recomputed on every request, the morning settled."""
    path = write_config(
        tmp_path, database_url, limits_toml="treasury_refresh_ms = 0",
        rtgs_toml=f'opening_balance_rub = "{scenario.rtgs_opening_rub}"',
    )
    client = await aiohttp_client(make_app(load_config(path, environ={}), upgrade_database=True, plain_http=True))

    async def post(bank: str, payload: bytes) -> tuple[int, bytes]:
        response = await client.post("/v1/messages", data=payload, headers={"Content-Type": "application/xml"})
        return response.status, await response.read()

    await scenario.settle_the_morning(post)
    yield client


async def get(client: TestClient, path: str, viewer: str | None, status: int = 200, **query: str) -> Any:
    params = dict(query) | ({} if viewer is None else {"participant": viewer})
    response = await client.get(f"/v1/treasury/{path}", params=params)
    body = await response.json()
    assert response.status == status, (response.status, body)
    assert response.headers["Cache-Control"] == "no-store"
    return body


async def test_the_central_bank_sees_every_figure_as_the_ledger_and_the_rtgs_hold_it(client: TestClient) -> None:
    gateway = client.app[gateway_key]
    overview = await get(client, "overview", CBRF)
    assert overview["viewer"] == {"bic": CBRF, "name": "Bank of Russia", "role": "central_bank"}
    assert overview["emission"] == {
        "supply_rub": scenario.SUPPLY_RUB,
        "reserve_ledger_rub": scenario.SUPPLY_RUB,
        "reserve_rtgs_rub": scenario.SUPPLY_RUB,
        "emission_cap_rub": scenario.CAP_RUB,
        "pending_mints_rub": "0.00",
        "headroom_rub": scenario.HEADROOM_RUB,
    }
    # ... and the same as the ledger and the RTGS say themselves.
    accounts = {a.code: a.posted_kopecks for a in await gateway.store.accounts()}
    assert -accounts[f"{CBRF}/issuance"] == accounts[f"{CBRF}/reserve"] == 700_000_00
    reserve = await gateway.rtgs.balance(gateway.rtgs.reserve_account)
    assert reserve is not None and reserve.booked_kopecks == 700_000_00

    positions = {p["bic"]: p for p in overview["positions"]}
    assert sorted(positions) == sorted([SBER, VTB, ALFA])
    for bic, position in positions.items():
        main = next(w for w in position["wallets"] if w["code"] == f"{bic}/main")
        assert main["posted_rub"] == scenario.WALLETS_RUB[bic] == f"{accounts[f'{bic}/main'] // 100}.00"
        assert position["wallets_rub"] == scenario.WALLETS_RUB[bic]  # the "clients" wallets hold nothing
        assert position["rtgs_booked_rub"] == scenario.RTGS_RUB[bic] and position["rtgs_held_rub"] == "0.00"

    flows = {f["message_type"]: f for f in overview["flows"]}
    assert {t: _flow(flows[t]) for t in scenario.FLOWS} == scenario.FLOWS
    assert overview["rejects_by_reason"] == scenario.REASONS
    day = overview["business_day"]
    assert day["state"] == "open" and day["date"] == overview["as_of"][:10]
    assert day["cutoff"].endswith("+03:00")

    rejects = await get(client, "rejects", CBRF)
    assert rejects["by_reason"] == scenario.REASONS
    recent = {(r["kind"], r["bank"], r["reason_code"], r["amount_rub"]) for r in rejects["recent"]}
    assert recent == {
        ("transaction", SBER, "AM04", "450000.00"),
        ("conversion", ALFA, "AM04", "2000000.00"),
        ("message", SBER, "RC02", None),
    }
    refused = next(r for r in rejects["recent"] if r["kind"] == "message")
    assert (refused["message_type"], refused["reference"]) == ("pacs.008.001.08", "TRS-PAY-3")

    pending = await get(client, "pending", CBRF)
    assert [(i["kind"], i["debtor"], i["creditor"], i["amount_rub"], i["reference"]) for i in pending["items"]] == [
        ("warehoused", VTB, SBER, "5000.00", "TRS-PAY-4")
    ]
    assert pending["totals"] == [{"kind": "warehoused", "bank": VTB, "count": 1, "amount_rub": "5000.00"}]

    series = await get(client, "series", CBRF)
    [today] = series["days"]  # the gateway's first day: no closed day before it
    assert (today["today"], today["supply_rub"], today["settled_rub"]) == (True, scenario.SUPPLY_RUB, scenario.SETTLED_RUB)
    assert today["sent_rub"] is None and today["received_rub"] is None
    assert _total(series["hours"], "settled_rub") == 101_000_00
    assert series["hours"][-1]["supply_rub"] == scenario.SUPPLY_RUB


async def test_a_bank_sees_its_own_figures_and_nothing_of_another_bank(client: TestClient) -> None:
    overview = await get(client, "overview", SBER)
    assert overview["viewer"] == {"bic": SBER, "name": "Sberbank", "role": "bank"}
    assert [p["bic"] for p in overview["positions"]] == [SBER]
    assert overview["positions"][0]["wallets_rub"] == scenario.WALLETS_RUB[SBER]
    assert overview["emission"]["reserve_rtgs_rub"] is None  # the central bank's own account
    assert overview["emission"]["supply_rub"] == scenario.SUPPLY_RUB  # as /v1/ledger/head tells every bank
    flows = {f["message_type"]: f for f in overview["flows"]}
    assert {t: _flow(flows[t]) for t in flows} == scenario.SBER_FLOWS
    assert overview["rejects_by_reason"] == scenario.SBER_REASONS
    text_of_everything = json.dumps(overview)
    assert ALFA not in text_of_everything and VTB not in text_of_everything

    rejects = await get(client, "rejects", SBER)
    assert {r["bank"] for r in rejects["recent"]} == {SBER} and rejects["by_reason"] == scenario.SBER_REASONS
    assert (await get(client, "rejects", ALFA))["by_reason"] == scenario.ALFA_REASONS
    # VTB's warehoused payment is Sberbank's too (it is its creditor agent); Alfa has nothing pending.
    assert [i["reference"] for i in (await get(client, "pending", SBER))["items"]] == ["TRS-PAY-4"]
    assert (await get(client, "pending", ALFA)) | {"as_of": None} == {"as_of": None, "totals": [], "items": []}
    series = await get(client, "series", VTB)
    assert (series["days"][-1]["sent_rub"], series["days"][-1]["received_rub"]) == ("0.00", scenario.SETTLED_RUB)

    # The central bank may look as one bank; a bank only as itself.
    as_sber = await get(client, "overview", CBRF, bank="SABRRUMM")
    assert [p["bic"] for p in as_sber["positions"]] == [SBER] and as_sber["emission"]["reserve_rtgs_rub"] is None
    assert [p["bic"] for p in (await get(client, "overview", SBER, bank=SBER))["positions"]] == [SBER]
    for path in ("overview", "series", "pending", "rejects", "breaks"):
        refused = await get(client, path, SBER, 403, bank=VTB)
        assert "only its own" in refused["error"]
        assert "error" in await get(client, path, None, 401)
        assert "error" in await get(client, path, "TESTRUMMXXX", 401)  # a BIC, but nobody's
    assert (await get(client, "overview", CBRF, 400, bank=CBRF))["error"].startswith("bank:")
    for params in ({"limit": "0"}, {"limit": "501"}, {"limit": "ten"}, {"limit": "-1"}):
        await get(client, "rejects", CBRF, 400, **params)
    await get(client, "series", CBRF, 400, days="63")


async def test_open_breaks_are_shown_with_their_age_to_whom_they_concern(client: TestClient) -> None:
    """Breaks as `gateway reconcile` records them (written here straight into its table): open ones only, a bank's
    own only to that bank."""
    gateway = client.app[gateway_key]
    now_us = gateway.environment.clock_us()
    day_us = 86_400_000_000
    rows = [
        # (kind, account, first seen days ago, resolved, references)
        ("message_without_posting", f"{SBER}/main", 2, False, {"msg_id": "TRS-PAY-1", "uetr": str(uuid.uuid4())}),
        ("fiat_leg_missing", "30101810700000000187", 0, False, [{"camt.050": "TRS-MINT-VTB"}]),  # VTB's RTGS account
        ("supply_not_reserve", f"{CBRF}/reserve", 1, False, {}),
        ("posting_without_message", f"{SBER}/main", 5, True, {}),  # resolved: not shown
    ]
    async with gateway.store.engine.begin() as connection:
        for n, (kind, account, age, resolved, references) in enumerate(rows):
            seen_us = now_us - age * day_us
            await connection.execute(
                text(
                    "INSERT INTO reconciliation_breaks (id, fingerprint, kind, business_date, first_seen_date,"
                    " last_seen_date, first_seen_at_us, last_seen_at_us, resolved_at_us, amount_kopecks,"
                    " expected_kopecks, account, references_json, description) VALUES (:id, :fingerprint, :kind,"
                    " :date, :date, :date, :seen, :seen, :resolved, :amount, :expected, :account, :references,"
                    " :description)"
                ),
                {
                    "id": uuid.uuid4().hex if gateway.store.engine.dialect.name == "sqlite" else uuid.uuid4(),
                    "fingerprint": f"test-{n}", "kind": kind,
                    "date": gateway.environment.calendar.business_date_at(seen_us).isoformat(),
                    "seen": seen_us, "resolved": now_us if resolved else None, "amount": 100_000_00 + n,
                    "expected": -5 if n == 2 else None, "account": account, "references": json.dumps(references),
                    "description": f"break {n}",
                },
            )
    everything = await get(client, "breaks", CBRF)
    assert everything["open_total"] == 3
    by_kind = {b["kind"]: b for b in everything["breaks"]}
    assert sorted(by_kind) == ["fiat_leg_missing", "message_without_posting", "supply_not_reserve"]
    assert [b["kind"] for b in everything["breaks"]][0] == "message_without_posting"  # oldest first
    oldest = by_kind["message_without_posting"]
    assert (oldest["age_days"], oldest["amount_rub"], oldest["references"]["msg_id"]) == (2, "100000.00", "TRS-PAY-1")
    assert by_kind["supply_not_reserve"]["expected_rub"] == "-0.05"
    assert [b["kind"] for b in (await get(client, "breaks", SBER))["breaks"]] == ["message_without_posting"]
    vtb = await get(client, "breaks", VTB)
    assert (vtb["open_total"], vtb["breaks"][0]["references"]) == (1, [{"camt.050": "TRS-MINT-VTB"}])
    assert (await get(client, "breaks", ALFA)) | {"as_of": None} == {"as_of": None, "open_total": 0, "breaks": []}
    assert len((await get(client, "breaks", CBRF, limit="1"))["breaks"]) == 1


def _flow(flow: dict[str, Any]) -> dict[str, Any]:
    return {
        "received": flow["received"],
        "messages": flow["messages"],
        "transactions": {k: (v["count"], v["amount_rub"]) for k, v in flow["transactions"].items()},
    }


def _total(points: list[dict[str, Any]], key: str) -> int:
    return sum(int(p[key].replace(".", "")) for p in points)


async def test_the_series_holds_each_closed_day_and_today_by_the_hour(
    make_gateway: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Supply at each day's close and the volume settled in it, worked back from the supply now; read on from where
    the last read stopped: a closed day is read once, today's hours as they grow. The calendar of
    tests/treasury/test_business_days.py: Friday the 20th is followed by Tuesday the 24th."""
    clock = Clock(datetime(2026, 11, 20, 10, 0, tzinfo=business_zone))
    monkeypatch.setattr(runtime, "clock_us", clock)
    gw = await make_gateway(business_days_toml=calendar_toml, limits_toml="treasury_refresh_ms = 0")  # FUNDING minted
    clock.set(friday, 11, 0)
    await gw.settle(pacs_008(SBER, "SER-FRI-1", [Tx(SBER, VTB, 1_000_00)], friday))
    clock.set(friday, 18, 30)
    assert [d.business_date for d in await gw.gateway.days.close_due()] == [friday]

    clock.set(tuesday, 10, 5)
    first = await get(gw.client, "series", CBRF)
    assert [(d["date"], d["supply_rub"], d["settled_rub"]) for d in first["days"]] == [
        ("2026-11-20", "6000000.00", "1000.00"),  # FUNDING, and Sberbank's 1,000.00 to VTB
        ("2026-11-24", "6000000.00", "0.00"),  # nothing yet today
    ]
    assert first["hours"] == []

    await gw.settle(pacs_008(SBER, "SER-TUE-1", [Tx(SBER, VTB, 2_000_00)], tuesday))
    await gw.settle(pacs_008(VTB, "SER-TUE-2", [Tx(VTB, ALFA, 500_00)], tuesday))
    clock.set(tuesday, 11, 20)
    await gw.mint({ALFA: 250_000_00})
    reads = gw.gateway.treasury._reads
    read_back: list[tuple[int, int | None]] = []
    original = reads.movements

    async def counted(after_seq: int, through_seq: int | None, hourly: bool) -> Any:
        read_back.append((after_seq, through_seq))
        return await original(after_seq, through_seq, hourly)

    monkeypatch.setattr(reads, "movements", counted)
    second = await get(gw.client, "series", CBRF)
    assert read_back == [(4, None)]  # only today's new postings: Friday (seq 1 to 4) is not read again
    assert [(d["date"], d["supply_rub"], d["settled_rub"], d["today"]) for d in second["days"]] == [
        ("2026-11-20", "6000000.00", "1000.00", False),
        ("2026-11-24", "6250000.00", "2500.00", True),
    ]
    assert [(h["hour"], h["supply_rub"], h["settled_rub"]) for h in second["hours"]] == [
        ("2026-11-24T10:00:00+03:00", "6000000.00", "2500.00"),
        ("2026-11-24T11:00:00+03:00", "6250000.00", "0.00"),
    ]
    vtb = await get(gw.client, "series", VTB)
    assert [(d["sent_rub"], d["received_rub"], d["settled_rub"]) for d in vtb["days"]] == [
        ("0.00", "1000.00", "1000.00"), ("500.00", "2000.00", "2500.00")
    ]
    overview = await get(gw.client, "overview", CBRF)
    assert (overview["business_day"]["date"], overview["business_day"]["state"]) == ("2026-11-24", "open")
    assert {f["message_type"]: f["received"] for f in overview["flows"]} == {"pacs.008.001.08": 2}  # not Friday's
