"""The gateway converting against an RTGS over HTTP (a real `rtgs-sim` process) that goes down: a conversion is
answered PDNG and then either completes once the RTGS is back or, past its deadline and before any commit, is
unwound; it never both converts and fails, and fiat and cryptoroubles always end equal."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from gateway.app import make_app
from gateway.config import load_config
from gateway.conversion.reserve import check_reserve
from gateway.domain.calendar import instant
from gateway.http.keys import gateway_key
from tests.conftest import write_config
from tests.conversion.conftest import ConversionGateway, receipt
from tests.rtgs.http_world import RtgsServer, running_server
from tests.settlement.builders import RTGS_ACCOUNTS, SBER, camt_050

pytestmark = pytest.mark.slow

OPENING = 1_000_000_00
AMOUNT = 250_000_00
finish_seconds_max = 30.0


@asynccontextmanager
async def gateway_on_http_rtgs(
    aiohttp_client, tmp_path: Path, conversion_timeout_seconds: int  # type: ignore[no-untyped-def]
) -> AsyncIterator[tuple[ConversionGateway, RtgsServer]]:
    rtgs_dir = tmp_path / "rtgs"
    rtgs_dir.mkdir()
    async with running_server(
        rtgs_dir, f"sqlite+aiosqlite:///{rtgs_dir / 'rtgs.sqlite3'}", participants=True, opening_balance_rub="1000000.00"
    ) as server:
        # A generous call timeout: on a loaded machine the first call must not time out before the test's crash.
        rtgs_toml = (
            f'adapter = "http"\nurl = "{server.url}"\ntimeout_ms = 1500\n'
            f"conversion_timeout_seconds = {conversion_timeout_seconds}"
        )
        config = load_config(
            write_config(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'gateway.sqlite3'}", rtgs_toml=rtgs_toml),
            environ={},
        )
        client = await aiohttp_client(make_app(config, upgrade_database=True, plain_http=True))
        yield ConversionGateway(client, config), server


async def _finished(cgw: ConversionGateway) -> None:
    deadline = time.monotonic() + finish_seconds_max
    while await cgw.gateway.conversion_records.unfinished(10):
        assert time.monotonic() < deadline, "the resumer did not finish the conversion"
        await asyncio.sleep(0.2)


async def _final_receipts(cgw: ConversionGateway) -> list[list[str]]:
    return [receipt(m.payload).codes for m in await cgw.whole_mailbox(SBER) if m.kind == "camt.025.001.05"]


async def _both_sides(cgw: ConversionGateway) -> tuple[int, int, int, int]:
    """(Sberbank's booked fiat, its held fiat, fiat in the reserve account, cryptorouble supply)."""
    bank = await cgw.gateway.rtgs.balance(RTGS_ACCOUNTS[SBER])
    reserve = await cgw.gateway.rtgs.balance(cgw.gateway.rtgs.reserve_account)
    assert bank is not None and reserve is not None
    today = instant(cgw.environment.clock_us()).date()
    check = await check_reserve(cgw.gateway.store, cgw.gateway.conversion_records, cgw.gateway.rtgs, today)
    assert check.ok, check
    return bank.booked_kopecks, bank.held_kopecks, reserve.booked_kopecks, await cgw.supply()


async def test_rtgs_down_then_back_completes_the_conversion_later(aiohttp_client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    async with gateway_on_http_rtgs(aiohttp_client, tmp_path, conversion_timeout_seconds=120) as (cgw, server):
        await server.stop()
        message = camt_050(SBER, "LQ-OUT-1", AMOUNT)
        answer = await cgw.post(message)
        assert answer.status == 200 and answer.headers["X-Gateway-Outcome"] == "pending"
        assert receipt(answer.body).codes == ["PDNG"]
        assert receipt((await cgw.post(message)).body).codes == ["PDNG"]  # a replay while it waits
        assert await cgw.supply() == 0 and await _final_receipts(cgw) == []

        await server.start()
        await _finished(cgw)
        assert await _final_receipts(cgw) == [["ACSC"]]
        # Finished by the resumer, the receipt still relates to the camt.050 it answers.
        final = [m for m in await cgw.whole_mailbox(SBER) if m.kind == "camt.025.001.05"][-1]
        assert final.app_hdr.text("Rltd/BizMsgIdr") == "LQ-OUT-1"
        assert await _both_sides(cgw) == (OPENING - AMOUNT, 0, AMOUNT, AMOUNT)
        assert receipt((await cgw.post(message)).body).codes == ["ACSC"]  # the replay now gets the final receipt


async def test_rtgs_down_past_the_deadline_fails_the_conversion_cleanly(aiohttp_client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    async with gateway_on_http_rtgs(aiohttp_client, tmp_path, conversion_timeout_seconds=2) as (cgw, server):
        await server.stop()
        answer = await cgw.post(camt_050(SBER, "LQ-OUT-2", AMOUNT))
        assert receipt(answer.body).codes == ["PDNG"]
        await asyncio.sleep(2.5)  # past the deadline while the RTGS is still down
        await server.start()
        await _finished(cgw)
        assert await _final_receipts(cgw) == [["RJCT", "AB03"]]
        assert await _both_sides(cgw) == (OPENING, 0, 0, 0)


async def test_rtgs_killed_between_hold_and_commit_completes_once_back(aiohttp_client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    async with gateway_on_http_rtgs(aiohttp_client, tmp_path, conversion_timeout_seconds=2) as (cgw, server):

        def crash_the_rtgs(step: str) -> None:
            if step == "mint.fiat_held":
                server.kill()

        cgw.client.app[gateway_key].conversions.after_step = crash_the_rtgs
        answer = await cgw.post(camt_050(SBER, "LQ-OUT-3", AMOUNT))
        assert receipt(answer.body).codes == ["PDNG"]
        assert await cgw.pending_mints() == AMOUNT  # the mint waits, pending, for the fiat commit
        await asyncio.sleep(2.5)  # past the deadline: too late to unwind, the commit may have happened
        await server.start()
        await _finished(cgw)
        assert await _final_receipts(cgw) == [["ACSC"]]
        # Finished by the resumer, the receipt still relates to the camt.050 it answers.
        final = [m for m in await cgw.whole_mailbox(SBER) if m.kind == "camt.025.001.05"][-1]
        assert final.app_hdr.text("Rltd/BizMsgIdr") == "LQ-OUT-3"
        assert await _both_sides(cgw) == (OPENING - AMOUNT, 0, AMOUNT, AMOUNT)
