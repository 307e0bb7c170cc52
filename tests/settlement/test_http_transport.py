"""The HTTP transport around settlement: media type, empty and oversized bodies get their 4xx with an official admi.002,
the mailbox pages by cursor and refuses bad parameters, and a database that cannot be used answers 503 with
Retry-After, moving nothing, until it can again."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import pytest

from tests.conftest import pg_admin_url
from tests.settlement.builders import (
    ALFA,
    CBRF,
    SBER,
    VTB,
    Tx,
    pacs_008,
    today_in_moscow,
)
from tests.settlement.conftest import (
    FUNDED_TOTAL,
    FUNDING,
    Answer,
    ClientFactory,
    GatewayUnderTest,
    Message,
    StatusReport,
    message_reject,
)


def assert_transport_reject(answer: Answer, status: int, words: str) -> None:
    """A transport-level refusal: the status, and an official admi.002 FF01 from the gateway saying why."""
    assert answer.status == status, (answer.status, answer.body)
    assert answer.headers["Content-Type"] == "application/xml; charset=utf-8"
    message = Message.read(answer.body)
    message.assert_official()
    assert message.sender == CBRF
    reject = message_reject(answer.body)
    assert reject.text("Rsn/RjctgPtyRsn") == "FF01"
    assert words in reject.text("Rsn/RsnDesc"), reject.xml()


async def assert_nothing_moved(gw: GatewayUnderTest) -> None:
    assert await gw.balances() == FUNDING
    assert await gw.wallets_total() == FUNDED_TOTAL
    assert await gw.payments_settled() == {}


def one_payment(message_id: str, kopecks: int = 100_00) -> bytes:
    return pacs_008(SBER, message_id, [Tx(SBER, VTB, kopecks)], today_in_moscow())


# --------------------------------------------------------------------------------------------------------------
# POST /v1/messages
# --------------------------------------------------------------------------------------------------------------


async def test_a_body_that_is_not_declared_xml_gets_415(gw: GatewayUnderTest) -> None:
    for n, content_type in enumerate(("text/plain", "application/json", "application/octet-stream")):
        answer = await gw.post(one_payment(f"SBER-MEDIA-{n}"), content_type=content_type)
        assert_transport_reject(answer, 415, content_type)
    await assert_nothing_moved(gw)
    # text/xml is XML too.
    assert (await gw.post(one_payment("SBER-MEDIA-XML"), content_type="text/xml")).status == 200
    assert await gw.balances() == {SBER: 2_999_900_00, VTB: 2_000_100_00, ALFA: 1_000_000_00}


async def test_an_empty_body_gets_400(gw: GatewayUnderTest) -> None:
    assert_transport_reject(await gw.post(b""), 400, "empty")
    await assert_nothing_moved(gw)


async def test_a_body_over_request_bytes_max_gets_413_declared_or_streamed(make_gateway: ClientFactory) -> None:
    gw = await make_gateway(limits_toml="request_bytes_max = 2048\n")
    payload = pacs_008(SBER, "SBER-BIG-1", [Tx(SBER, VTB, 1_00) for _ in range(3)], today_in_moscow())
    assert len(payload) > 2048
    assert_transport_reject(await gw.post(payload), 413, "2048 bytes")

    async def streamed() -> AsyncIterator[bytes]:  # chunked: no Content-Length to refuse it by
        for start in range(0, len(payload), 512):
            yield payload[start : start + 512]

    response = await gw.client.post("/v1/messages", data=streamed(), headers={"Content-Type": "application/xml"})
    assert_transport_reject(Answer(response.status, await response.read(), dict(response.headers)), 413, "2048 bytes")
    await assert_nothing_moved(gw)

    small = one_payment("SBER-SMALL-1", 3_00)
    assert len(small) <= 2048
    report = await gw.settle(small)
    assert report.group_status == "ACSC"
    assert await gw.balances() == {SBER: 2_999_997_00, VTB: 2_000_003_00, ALFA: 1_000_000_00}


async def test_without_the_development_mode_a_client_without_a_certificate_gets_401(make_gateway: ClientFactory) -> None:
    gw = await make_gateway(plain_http=False)
    assert_transport_reject(await gw.post(one_payment("SBER-NO-CERT")), 401, "certificate")
    response = await gw.client.get("/v1/messages", params={"participant": SBER})
    assert response.status == 401
    await assert_nothing_moved(gw)


# --------------------------------------------------------------------------------------------------------------
# GET /v1/messages
# --------------------------------------------------------------------------------------------------------------


async def test_the_mailbox_pages_by_cursor_oldest_first(gw: GatewayUnderTest) -> None:
    for n in (1, 2, 3):
        await gw.settle(one_payment(f"SBER-PAGE-{n}"))
    for n in (1, 2):
        await gw.settle(pacs_008(VTB, f"VTB-PAGE-{n}", [Tx(VTB, SBER, n * 1_00)], today_in_moscow()))

    pages, after = [], 0
    while True:
        page = await gw.mailbox(SBER, after=after, limit=2)
        if not page.messages:
            assert page.next_after == after  # an empty page leaves the cursor where it was
            break
        pages.append(page)
        assert page.next_after == page.messages[-1]["seq"]
        after = page.next_after
    assert [len(p.messages) for p in pages] == [2, 2, 1]
    items = [item for p in pages for item in p.messages]
    seqs = [item["seq"] for item in items]
    assert seqs == sorted(seqs) and len(set(seqs)) == 5
    messages = [m for p in pages for m in p.decoded()]
    assert [(m.kind, m.app_hdr.text("Rltd/BizMsgIdr")) for m in messages] == [
        ("pacs.002.001.10", "SBER-PAGE-1"),
        ("pacs.002.001.10", "SBER-PAGE-2"),
        ("pacs.002.001.10", "SBER-PAGE-3"),
        ("pacs.008.001.08", "VTB-PAGE-1"),
        ("pacs.008.001.08", "VTB-PAGE-2"),
    ]
    for item, message in zip(items, messages, strict=True):
        assert item["message_type"] == message.kind
        assert item["reference"] == message.app_hdr.text("BizMsgIdr")
        assert item["sha256"] == hashlib.sha256(base64.b64decode(item["payload_base64"])).hexdigest()
        assert message.receiver == SBER
        message.assert_official()
    # Reading moves nothing: the same cursor gives the same page; a mid cursor the rest.
    assert (await gw.mailbox(SBER, after=seqs[1], limit=2)).messages == items[2:4]
    assert (await gw.mailbox(SBER, after=0, limit=500)).messages == items
    # Each bank sees its own mailbox only.
    vtb_refs = [m.app_hdr.text("Rltd/BizMsgIdr") for m in await gw.whole_mailbox(VTB)]
    assert vtb_refs == ["SBER-PAGE-1", "SBER-PAGE-2", "SBER-PAGE-3", "VTB-PAGE-1", "VTB-PAGE-2"]
    assert await gw.whole_mailbox(ALFA) == []


async def test_bad_mailbox_parameters_get_400(gw: GatewayUnderTest) -> None:
    for params in ({"after": "-1"}, {"after": "seven"}, {"limit": "0"}, {"limit": "501"}, {"limit": "1.5"}):
        response = await gw.client.get("/v1/messages", params={"participant": SBER, **params})
        assert response.status == 400, params
    assert (await gw.client.get("/v1/messages", params={"participant": SBER, "limit": "500"})).status == 200


async def test_the_mailbox_without_a_participant_gets_401(gw: GatewayUnderTest) -> None:
    for params in ({}, {"participant": "not-a-bic"}, {"participant": ""}):
        response = await gw.client.get("/v1/messages", params=params)
        assert response.status == 401, params


# --------------------------------------------------------------------------------------------------------------
# The database cannot be used: 503 with Retry-After, nothing half-done, and the retry settles once it can
# --------------------------------------------------------------------------------------------------------------


def _pg(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def assert_unavailable(answer: Answer) -> None:
    assert answer.status == 503, (answer.status, answer.body)
    assert answer.headers["Retry-After"] == "1"
    assert b"Traceback" not in answer.body


async def test_a_database_locked_by_someone_else_answers_503_and_the_retry_settles(
    make_gateway: ClientFactory, database_url: str
) -> None:
    # Every wait on the database is cut at 300 ms and a batch is not retried, so the refusal comes at once.
    gw = await make_gateway(limits_toml="db_statement_timeout_ms = 300\nbatch_retries_max = 0\n")
    payload = one_payment("SBER-LOCKED-1", 250_00)
    if database_url.startswith("sqlite"):
        # Another process holds SQLite's write lock (and every gateway transaction begins IMMEDIATE).
        other = sqlite3.connect(database_url.removeprefix("sqlite+aiosqlite:///"), isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            assert_unavailable(await gw.post(payload))
            response = await gw.client.get("/v1/messages", params={"participant": SBER})
            assert_unavailable(Answer(response.status, await response.read(), dict(response.headers)))
        finally:
            other.execute("ROLLBACK")
            other.close()
    else:
        # Another session holds the chain-head row every batch must lock first.
        other = await asyncpg.connect(_pg(database_url))
        try:
            async with other.transaction():
                await other.fetch("SELECT * FROM ledger_head FOR UPDATE")
                assert_unavailable(await gw.post(payload))
                await assert_nothing_moved(gw)
        finally:
            await other.close()
    await assert_nothing_moved(gw)
    assert await gw.whole_mailbox(SBER) == []

    # The bank's retry of the very same message settles it, once.
    report = await gw.settle(payload)
    assert report.group_status == "ACSC"
    assert (await gw.client.get("/readyz")).status == 200
    assert await gw.balances() == {SBER: 2_999_750_00, VTB: 2_000_250_00, ALFA: 1_000_000_00}
    assert len(await gw.whole_mailbox(SBER)) == 1


@asynccontextmanager
async def refusing_connections(database_url: str) -> AsyncIterator[None]:
    """A PostgreSQL outage for the gateway: its database takes no new connections and every open one is cut."""
    name = database_url.rpartition("/")[2]
    admin = await asyncpg.connect(_pg(pg_admin_url()))
    try:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        await admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name)
        yield
    finally:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await admin.close()


only_postgres = pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
# Short enough that a lost database is given up on quickly, long enough that the gateway's own start (migrations,
# the registry) fits on a loaded 2-core CI machine: 500 ms once did not.
outage_limits = "db_statement_timeout_ms = 2000\nbatch_retries_max = 1\n"


@only_postgres
async def test_a_database_refusing_connections_answers_503_and_the_gateway_recovers(
    make_gateway: ClientFactory, database_url: str
) -> None:
    gw = await make_gateway(limits_toml=outage_limits)
    payload = one_payment("SBER-OUTAGE-1", 42_00)
    async with refusing_connections(database_url):
        assert_unavailable(await gw.post(payload))

    # Back: the bank retries as Retry-After told it to, and the payment settles once, without a restart.
    answer = Answer(503, b"", {})
    for _ in range(12):  # three seconds
        answer = await gw.post(payload)
        if answer.status != 503:
            break
        await asyncio.sleep(int(answer.headers["Retry-After"]) / 4)
    assert answer.status == 200, answer.body
    assert StatusReport(Message.read(answer.body)).group_status == "ACSC"
    assert await gw.balances() == {SBER: 2_999_958_00, VTB: 2_000_042_00, ALFA: 1_000_000_00}
    assert (await gw.client.get("/readyz")).status == 200


@only_postgres
async def test_the_mailbox_of_a_database_refusing_connections_answers_503(
    make_gateway: ClientFactory, database_url: str
) -> None:
    gw = await make_gateway(limits_toml=outage_limits)
    await gw.settle(one_payment("SBER-OUTAGE-2"))
    async with refusing_connections(database_url):
        response = await gw.client.get("/v1/messages", params={"participant": SBER})
        assert_unavailable(Answer(response.status, await response.read(), dict(response.headers)))
    assert len((await gw.mailbox(SBER)).messages) == 1
