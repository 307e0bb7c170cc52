"""The RTGS over ISO 20022 and HTTP: every port call works through HttpRtgs against a real `rtgs-sim`, a retry with the
same id after a crash books once, whatever goes wrong on the wire is RtgsUnavailable (retry) or a refusal (never a
guess), and the server refuses what is not the gateway's valid, addressed, bounded XML over its mutual TLS."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from gateway_adapters.rtgs import wire
from gateway_adapters.rtgs.http_client import HttpRtgs, RtgsProtocolError
from gateway_adapters.rtgs.http_server import make_rtgs_app
from gateway_adapters.rtgs.simulator import RtgsSimulator
from gateway_adapters.sql.engine import make_engine

from gateway import bounds
from gateway.config import load_config
from gateway.conversion.ports import (
    FiatBalance,
    FiatDirection,
    FiatReferences,
    RtgsOutcome,
    RtgsUnavailable,
)
from gateway.messages.statements import AccountId
from gateway.messages.writers import liquidity_transfer_message
from gateway.messages.writers.camt_050_001_05 import LiquidityCreditTransfer
from gateway.security.certs import parties_of, write_development_pki
from tests.rtgs.http_world import (
    CBR_BIC,
    RESERVE_ACCOUNT,
    RTGS_BIC,
    client_for,
    free_port,
    running_server,
    write_rtgs_config,
)

O = RtgsOutcome
SBER, VTB, ALFA = "30101810400000000225", "30101810700000000187", "30101810200000000593"  # tests/conftest.py BANKS
UNKNOWN = "30101810900000000999"
MSK = timezone(timedelta(hours=3))
OPENING_RUB, OPENING = "1000000.00", 1_000_000_00  # every bank's RTGS account opens with a million roubles
GATEWAY = wire.Parties(CBR_BIC, RTGS_BIC)
ADMI_002 = "urn:iso:std:iso:20022:tech:xsd:admi.002.001.01"
# A bank's camt.050 references, for the calls whose references are not the point of the test.
REFS = FiatReferences("SBER-LQT-20260512-0001", "E2E-0001", "TX-0001", uuid.UUID("c3e8f1a2-47b9-4d05-8e6c-2a9d7b14f063"))


def sqlite_url(directory: Path) -> str:
    return f"sqlite+aiosqlite:///{directory / 'rtgs.sqlite3'}"


def days_around_now() -> tuple[date, date]:
    """Yesterday and today in Moscow, asked after the bookings: the two days hold them even across midnight."""
    today = datetime.now(MSK).date()
    return today - timedelta(days=1), today


async def balances(rtgs: HttpRtgs, *accounts: str) -> list[tuple[int, int]]:
    found = [await rtgs.balance(account) for account in accounts]
    assert all(balance is not None for balance in found), found
    return [(b.booked_kopecks, b.held_kopecks) for b in found if b is not None]


@asynccontextmanager
async def admin_of(database_url: str) -> AsyncIterator[RtgsSimulator]:
    """The simulator of the server's own database, in this process: what an RTGS operator's console would do."""
    engine = make_engine(database_url, load_config(environ={}).limits)
    try:
        yield await RtgsSimulator.open(engine, RESERVE_ACCOUNT, CBR_BIC)
    finally:
        await engine.dispose()


@asynccontextmanager
async def served(app: web.Application) -> AsyncIterator[str]:
    """`app` on a free loopback port in this process; its base URL."""
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    try:
        await web.SockSite(runner, listener).start()
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        await runner.cleanup()
        listener.close()


# --- the whole port through a real rtgs-sim -------------------------------------------------------------------------


@pytest.mark.slow
async def test_every_port_operation_works_through_the_client(tmp_path: Path) -> None:
    database_url = sqlite_url(tmp_path)
    async with (
        running_server(tmp_path, database_url, participants=True, opening_balance_rub=OPENING_RUB) as server,
        client_for(server) as rtgs,
        admin_of(database_url) as admin,
    ):
        assert rtgs.reserve_account == RESERVE_ACCOUNT
        assert await rtgs.balance(SBER) == FiatBalance(SBER, OPENING, 0)
        assert await rtgs.balance(UNKNOWN) is None

        hold_id = uuid.uuid4()
        assert await rtgs.reserve(hold_id, SBER, 250_000_00, REFS) is O.DONE
        assert await rtgs.reserve(hold_id, SBER, 250_000_00, REFS) is O.DONE  # a replay holds once
        assert await rtgs.reserve(hold_id, SBER, 250_000_01, REFS) is O.REQUEST_CONFLICT
        assert await rtgs.balance(SBER) == FiatBalance(SBER, OPENING, 250_000_00)
        assert await rtgs.reserve(uuid.uuid4(), SBER, 750_000_01, REFS) is O.INSUFFICIENT_FUNDS  # 750,000.00 available
        assert await rtgs.reserve(uuid.uuid4(), UNKNOWN, 1_00, REFS) is O.UNKNOWN_ACCOUNT
        assert await admin.set_blocked(ALFA, True)
        assert await rtgs.reserve(uuid.uuid4(), ALFA, 1_00, REFS) is O.ACCOUNT_BLOCKED

        commit_id = uuid.uuid4()
        assert await rtgs.commit(commit_id, hold_id) is O.DONE
        assert await rtgs.commit(commit_id, hold_id) is O.DONE  # a replay books once
        assert await rtgs.release(uuid.uuid4(), hold_id) is O.HOLD_COMMITTED
        assert await rtgs.commit(uuid.uuid4(), uuid.uuid4()) is O.HOLD_NOT_FOUND
        released = uuid.uuid4()
        assert await rtgs.release(uuid.uuid4(), released) is O.DONE  # never reserved: released, and marked
        assert await rtgs.reserve(released, SBER, 1_00, REFS) is O.HOLD_RELEASED
        assert await rtgs.commit(uuid.uuid4(), released) is O.HOLD_RELEASED

        credit_id = uuid.uuid4()
        assert await rtgs.credit_from_reserve(credit_id, VTB, 100_000_00, REFS) is O.DONE
        assert await rtgs.credit_from_reserve(credit_id, VTB, 100_000_00, REFS) is O.DONE
        assert await rtgs.credit_from_reserve(credit_id, VTB, 100_000_01, REFS) is O.REQUEST_CONFLICT
        assert await rtgs.credit_from_reserve(uuid.uuid4(), VTB, 150_000_01, REFS) is O.INSUFFICIENT_FUNDS
        assert await rtgs.credit_from_reserve(uuid.uuid4(), UNKNOWN, 1_00, REFS) is O.UNKNOWN_ACCOUNT

        # Sberbank: 1,000,000 - 250,000 committed; VTB: 1,000,000 + 100,000; the reserve: 250,000 - 100,000.
        assert await balances(rtgs, SBER, VTB, RESERVE_ACCOUNT) == [(750_000_00, 0), (1_100_000_00, 0), (150_000_00, 0)]
        from_date, to_date = days_around_now()
        reserve = await rtgs.statement(RESERVE_ACCOUNT, from_date, to_date)
        assert reserve is not None
        assert (reserve.opening_kopecks, reserve.closing_kopecks) == (0, 150_000_00)
        assert [(e.direction, e.kopecks, e.counter_account, e.request_id) for e in reserve.entries] == [
            (FiatDirection.CREDIT, 250_000_00, SBER, commit_id),
            (FiatDirection.DEBIT, 100_000_00, VTB, credit_id),
        ]
        assert [e.reference for e in reserve.entries] == [f"conversion hold {hold_id}", f"conversion {credit_id}"]
        assert reserve == await admin.statement(RESERVE_ACCOUNT, from_date, to_date)  # the simulator's, exactly
        assert await rtgs.statement(UNKNOWN, from_date, to_date) is None
        with pytest.raises(ValueError, match="31 days"):  # the simulator's own bound, refused over HTTP as a 400
            await rtgs.statement(SBER, to_date, to_date + timedelta(days=31))
        with pytest.raises(ValueError):  # an amount no request can carry never leaves the client
            await rtgs.reserve(uuid.uuid4(), SBER, 0, REFS)
    assert server.process is not None and server.process.returncode == 0  # SIGTERM stops it cleanly


async def test_a_statement_comes_in_pages_that_join_to_the_simulators_own(tmp_path: Path) -> None:
    database_url = sqlite_url(tmp_path)
    async with admin_of(database_url) as simulator:
        await simulator.open_account(SBER, "SABRRUMMXXX", 10_000_00)
        app = make_rtgs_app(simulator, CBR_BIC, RTGS_BIC, statement_page_entries_max=2)
        async with served(app) as url, HttpRtgs(url, CBR_BIC, RTGS_BIC, RESERVE_ACCOUNT, 5_000) as rtgs:
            for amount in (1_00, 2_00, 3_00, 4_00):  # with the opening booking, five entries: three pages of two
                hold_id = uuid.uuid4()
                assert await rtgs.reserve(hold_id, SBER, amount, REFS) is O.DONE
                assert await rtgs.commit(uuid.uuid4(), hold_id) is O.DONE
            from_date, to_date = days_around_now()
            paged = await rtgs.statement(SBER, from_date, to_date)
            assert paged == await simulator.statement(SBER, from_date, to_date)
            assert paged is not None and len(paged.entries) == 5
            assert (paged.opening_kopecks, paged.closing_kopecks) == (0, 10_000_00 - 10_00)
            assert await rtgs.balance(SBER) == FiatBalance(SBER, 9_990_00, 0)


# --- crashes, silence and nonsense ----------------------------------------------------------------------------------


async def test_no_server_is_unavailable_at_once(tmp_path: Path) -> None:
    async with HttpRtgs(f"http://127.0.0.1:{free_port()}", CBR_BIC, RTGS_BIC, RESERVE_ACCOUNT, 5_000) as rtgs:
        started = time.monotonic()
        with pytest.raises(RtgsUnavailable, match="no answer"):
            await rtgs.reserve(uuid.uuid4(), SBER, 1_00, REFS)
        with pytest.raises(RtgsUnavailable):
            await rtgs.balance(SBER)
        assert time.monotonic() - started < 1.0  # refused, not waited out


@pytest.mark.slow
async def test_a_retry_after_the_rtgs_crashed_answers_done_and_books_once(tmp_path: Path) -> None:
    database_url = sqlite_url(tmp_path)
    async with (
        running_server(tmp_path, database_url, participants=True, opening_balance_rub=OPENING_RUB) as server,
        client_for(server) as rtgs,
    ):
        hold_id, commit_id, credit_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        assert await rtgs.reserve(hold_id, SBER, 300_000_00, REFS) is O.DONE
        assert await rtgs.commit(commit_id, hold_id) is O.DONE  # booked; say its answer was lost on the way
        server.kill()
        with pytest.raises(RtgsUnavailable):  # the gateway's retry finds the RTGS down: the outcome stays unknown
            await rtgs.commit(commit_id, hold_id)
        await server.start()  # the same database, the same port
        assert await rtgs.commit(commit_id, hold_id) is O.DONE  # the retry, with the same id
        assert await rtgs.credit_from_reserve(credit_id, VTB, 120_000_00, REFS) is O.DONE
        server.kill()
        await server.start()
        assert await rtgs.credit_from_reserve(credit_id, VTB, 120_000_00, REFS) is O.DONE
        assert await rtgs.reserve(hold_id, SBER, 300_000_00, REFS) is O.DONE  # even the reserve's first answer stands

        # Each booked once: Sberbank 1,000,000 - 300,000; VTB 1,000,000 + 120,000; the reserve 300,000 - 120,000.
        assert await balances(rtgs, SBER, VTB, RESERVE_ACCOUNT) == [(700_000_00, 0), (1_120_000_00, 0), (180_000_00, 0)]
        reserve = await rtgs.statement(RESERVE_ACCOUNT, *days_around_now())
        assert reserve is not None
        assert [(e.direction, e.kopecks, e.request_id) for e in reserve.entries] == [
            (FiatDirection.CREDIT, 300_000_00, commit_id),
            (FiatDirection.DEBIT, 120_000_00, credit_id),
        ]
    assert server.starts == 3


async def test_an_rtgs_that_never_answers_is_unavailable_after_the_timeout() -> None:
    async def silent(request: web.Request) -> web.Response:
        await asyncio.sleep(30)
        return web.Response()

    app = web.Application()
    app.router.add_post("/v1/messages", silent)
    async with served(app) as url, HttpRtgs(url, CBR_BIC, RTGS_BIC, RESERVE_ACCOUNT, 300) as rtgs:
        started = time.monotonic()
        with pytest.raises(RtgsUnavailable):
            await rtgs.commit(uuid.uuid4(), uuid.uuid4())
        assert 0.25 <= time.monotonic() - started < 2.0


Answering = Callable[[bytes], tuple[int, bytes]]


def _inbound(data: bytes) -> wire.Inbound:
    read = wire.read_request(GATEWAY, RESERVE_ACCOUNT, data)
    assert isinstance(read, wire.Inbound), read
    return read


def _about_another_request(data: bytes) -> tuple[int, bytes]:
    other = _inbound(wire.release_request(GATEWAY, uuid.uuid4(), uuid.uuid4(), wire.now_utc()).payload)
    return 200, wire.receipt_answer(GATEWAY, other, O.DONE, wire.now_utc())


def _from_another_bic(data: bytes) -> tuple[int, bytes]:
    impostor = wire.Parties(CBR_BIC, "SABRRUMMXXX")
    return 200, wire.receipt_answer(impostor, _inbound(data), O.DONE, wire.now_utc())


def _rejected_with_an_unknown_reason(data: bytes) -> tuple[int, bytes]:
    answer = wire.receipt_answer(GATEWAY, _inbound(data), O.INSUFFICIENT_FUNDS, wire.now_utc())
    return 200, answer.replace(b"<StsCd>AM04</StsCd>", b"<StsCd>ZZ99</StsCd>")


def _admi_002(data: bytes) -> tuple[int, bytes]:
    from gateway.messages.rejections import Layer, Rejection

    rejection = Rejection("FF01", "/Envelope/Document", "not what this RTGS reads", Layer.SCHEMA)
    return 400, wire.reject_answer(GATEWAY, wire.Refusal(rejection, "REF-1"), wire.now_utc())


bad_answers: dict[str, tuple[Answering, type[Exception]]] = {
    "garbage": (lambda data: (200, b"\x00\x01 not xml"), RtgsUnavailable),
    "HTML": (lambda data: (200, b"<html><body>gateway timeout</body></html>"), RtgsUnavailable),
    "500": (lambda data: (500, b"internal error"), RtgsUnavailable),
    "503": (lambda data: (503, b""), RtgsUnavailable),
    "429": (lambda data: (429, b"slow down"), RtgsUnavailable),
    "a redirect": (lambda data: (302, b""), RtgsUnavailable),
    "an admi.002 with 200": (lambda data: (200, _admi_002(data)[1]), RtgsUnavailable),
    "a receipt for another request": (_about_another_request, RtgsUnavailable),
    "a receipt from another BIC": (_from_another_bic, RtgsUnavailable),
    "an unknown reason code": (_rejected_with_an_unknown_reason, RtgsUnavailable),
    "an answer beyond the message bound": (lambda data: (200, b" " * (bounds.message_bytes_max + 1)), RtgsUnavailable),
    "an admi.002 with 400": (_admi_002, RtgsProtocolError),
    "a plain 404": (lambda data: (404, b"no such path"), RtgsProtocolError),
}


@pytest.mark.parametrize("case", list(bad_answers))
async def test_an_answer_that_is_not_the_expected_message_is_never_taken_for_one(case: str) -> None:
    answering, expected = bad_answers[case]

    async def handler(request: web.Request) -> web.Response:
        status, body = answering(await request.read())
        return web.Response(status=status, body=body, content_type="application/xml")

    app = web.Application()
    app.router.add_post("/v1/messages", handler)
    async with served(app) as url, HttpRtgs(url, CBR_BIC, RTGS_BIC, RESERVE_ACCOUNT, 5_000) as rtgs:
        with pytest.raises(expected) as raised:
            await rtgs.reserve(uuid.uuid4(), SBER, 1_00, REFS)
    if expected is RtgsProtocolError:
        assert not isinstance(raised.value, RtgsUnavailable)
        assert isinstance(raised.value, RtgsProtocolError) and 400 <= raised.value.status < 500
    if case == "an admi.002 with 400":
        assert "FF01" in str(raised.value) and "not what this RTGS reads" in str(raised.value)


async def test_the_fake_rtgs_of_the_test_above_answers_right_when_asked_to() -> None:
    """The harness itself: the same handler, answering with the right receipt, gives DONE."""

    async def handler(request: web.Request) -> web.Response:
        answer = wire.receipt_answer(GATEWAY, _inbound(await request.read()), O.DONE, wire.now_utc())
        return web.Response(body=answer, content_type="application/xml")

    app = web.Application()
    app.router.add_post("/v1/messages", handler)
    async with served(app) as url, HttpRtgs(url, CBR_BIC, RTGS_BIC, RESERVE_ACCOUNT, 5_000) as rtgs:
        assert await rtgs.reserve(uuid.uuid4(), SBER, 1_00, REFS) is O.DONE


# --- what the server refuses ----------------------------------------------------------------------------------------


async def _post(url: str, body: bytes, content_type: str = "application/xml") -> tuple[int, bytes]:
    timeout = aiohttp.ClientTimeout(total=30)
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        session.post(f"{url}/v1/messages", data=body, headers={"Content-Type": content_type}) as response,
    ):
        return response.status, await response.read()


def _reject_code(body: bytes) -> str:
    reject = wire.read_reject(body)
    assert reject is not None, body[:300]
    return reject.reason_code


def _transfer(
    debit: AccountId, credit: AccountId | None, kopecks: int, references: FiatReferences | None = REFS,
    end_to_end_id: str = "NOTPROVIDED",
) -> bytes:
    """A camt.050 as the protocol's own writer writes it, with any pair of accounts: LqdtyTrfId the `references`
    (InstrId their MsgId), or EndToEndId `end_to_end_id` alone."""
    reference = uuid.uuid4().hex
    transfer = LiquidityCreditTransfer(
        message_id=reference, creation_time=wire.now_utc(),
        instruction_id=None if references is None else references.message_id,
        end_to_end_id=end_to_end_id if references is None else references.end_to_end_id or "NOTPROVIDED",
        transaction_id=None if references is None else references.transaction_id,
        uetr=None if references is None else references.uetr, creditor_bic=None, credit_account=credit,
        amount_kopecks=kopecks, currency=None if kopecks == 0 else "RUB", debtor_bic=None, debit_account=debit,
        settlement_date=None,
    )  # fmt: skip
    header = wire.business_header(CBR_BIC, RTGS_BIC, wire.liquidity_transfer, reference, wire.now_utc(), None)
    return liquidity_transfer_message(header, transfer)


@pytest.mark.slow
async def test_the_server_refuses_what_is_not_the_gateways_valid_bounded_xml(tmp_path: Path) -> None:
    async with running_server(tmp_path, sqlite_url(tmp_path), participants=True, opening_balance_rub=OPENING_RUB) as server:
        url = server.url
        now = wire.now_utc()
        as_sberbank = wire.reserve_request(wire.Parties("SABRRUMMXXX", RTGS_BIC), uuid.uuid4(), SBER, 1_00, REFS, now)
        status, body = await _post(url, as_sberbank.payload)
        assert (status, _reject_code(body)) == (403, "AG01")

        valid = wire.reserve_request(GATEWAY, uuid.uuid4(), SBER, 1_00, REFS, now).payload
        status, body = await _post(url, valid, "text/plain")
        assert (status, _reject_code(body)) == (415, "FF01")
        status, body = await _post(url, b"<Envelope><AppHdr>")  # not well-formed
        assert (status, _reject_code(body)) == (400, "FF01")
        status, body = await _post(url, valid.replace(b"<MsgId>", b"<MsgIdentification>").replace(b"</MsgId>", b"</MsgIdentification>"))
        assert (status, _reject_code(body)) == (400, "FF01")  # well-formed, not valid against the schema
        addressed_elsewhere = wire.reserve_request(wire.Parties(CBR_BIC, "SABRRUMMXXX"), uuid.uuid4(), SBER, 1_00, REFS, now)
        status, body = await _post(url, addressed_elsewhere.payload)
        assert (status, _reject_code(body)) == (400, "RC02")
        status, body = await _post(url, b"<" + b"x" * bounds.message_bytes_max + b"/>")
        assert (status, _reject_code(body)) == (413, "FF01")

        # Valid ISO 20022 that is not the protocol: money between two banks' accounts, a commit to a bank.
        status, body = await _post(url, _transfer(AccountId(SBER, None), AccountId(VTB, None), 1_00))
        assert (status, _reject_code(body)) == (400, "AC02")
        hold = AccountId(uuid.uuid4().hex, wire.hold_scheme)
        status, body = await _post(url, _transfer(hold, AccountId(VTB, None), 0, None))
        assert (status, _reject_code(body)) == (400, "AC03")

        async with client_for(server) as rtgs:  # nothing of it moved or held anything
            assert await balances(rtgs, SBER, VTB, RESERVE_ACCOUNT) == [(OPENING, 0), (OPENING, 0), (0, 0)]
            assert await rtgs.reserve(uuid.uuid4(), SBER, 1_00, REFS) is O.DONE  # and the server still serves


@pytest.mark.slow
async def test_mutual_tls_lets_in_the_gateways_certificate_only(tmp_path: Path) -> None:
    config = load_config(write_rtgs_config(tmp_path, participants=True), environ={})
    parties = parties_of(config)
    pki = write_development_pki(tmp_path / "pki", parties[0], parties, force=False)
    database_url = sqlite_url(tmp_path)
    async with running_server(tmp_path, database_url, participants=True, opening_balance_rub=OPENING_RUB,
                              tls_dir=pki.directory) as server:  # fmt: skip
        assert server.url.startswith("https://")
        async with client_for(server) as rtgs:
            assert await rtgs.balance(SBER) == FiatBalance(SBER, OPENING, 0)
            assert await rtgs.reserve(uuid.uuid4(), SBER, 5_00, REFS) is O.DONE
        async with client_for(server, certificate_bic="SABRRUMMXXX") as as_a_bank:
            with pytest.raises(RtgsProtocolError) as refused:
                await as_a_bank.reserve(uuid.uuid4(), SBER, 5_00, REFS)
            assert refused.value.status == 403
        plain = HttpRtgs(f"http://127.0.0.1:{server.port}", CBR_BIC, RTGS_BIC, RESERVE_ACCOUNT, 2_000)
        async with plain:
            with pytest.raises(RtgsUnavailable):  # no TLS, no conversation
                await plain.balance(SBER)
        async with client_for(server) as rtgs:
            assert await rtgs.balance(SBER) == FiatBalance(SBER, OPENING, 5_00)  # the bank's reserve held nothing


@pytest.mark.slow
def test_rtgs_sim_refuses_plain_http_off_loopback(tmp_path: Path) -> None:
    config_path = write_rtgs_config(tmp_path, participants=False)
    done = subprocess.run(
        [sys.executable, "-m", "gateway_adapters.rtgs.cli", "--config", str(config_path), "--host", "0.0.0.0",
         "--database", sqlite_url(tmp_path)],
        capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "loopback" in done.stderr
    assert not (tmp_path / "rtgs.sqlite3").exists()  # refused before anything was opened
