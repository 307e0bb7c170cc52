"""A PostgreSQL that stops answering, staged by a TCP proxy in front of it (forwarding, then refusing, then
black-holing: connections accepted, nothing returned): every message and mailbox read gets 503 with Retry-After
within request_timeout_ms instead of hanging, nothing is half-done, and once the database answers again each retried
message settles exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bench.drills.tcp_proxy import TcpProxy
from gateway.app import make_app
from gateway.config import load_config
from tests.conftest import write_config
from tests.settlement.builders import ALFA, SBER, VTB, Tx, pacs_008, today_in_moscow
from tests.settlement.conftest import FUNDING, Answer, GatewayUnderTest, Message, StatusReport

pytestmark = pytest.mark.postgres

# Every wait on the database cut at half a second, an answer due after two.
outage_limits = (
    "request_timeout_ms = 2000\ndb_statement_timeout_ms = 500\ndb_connect_timeout_ms = 500\n"
    "db_checkout_timeout_ms = 500\nqueue_wait_ms = 1000\nbatch_retries_max = 1\n"
)
# How long the test waits for an answer before calling it a hang: several times request_timeout_ms, so that a loaded
# machine does not fail it, while the hang this test is about (minutes) still does.
answer_within_seconds = 15.0


@pytest.fixture
async def proxy(postgres_url: str) -> AsyncIterator[TcpProxy]:
    server = urlsplit(postgres_url.replace("+asyncpg", "", 1))
    proxy = TcpProxy(server.hostname or "127.0.0.1", server.port or 5432)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.close()


GatewayFactory = Callable[[str], Awaitable[GatewayUnderTest]]


@pytest.fixture
def make_gw(  # type: ignore[no-untyped-def]
    aiohttp_client, postgres_url: str, proxy: TcpProxy, tmp_path: Path
) -> GatewayFactory:
    """The gateway (loopback development mode) on a PostgreSQL it reaches only through the proxy, wallets funded."""

    async def build(limits_toml: str) -> GatewayUnderTest:
        server = urlsplit(postgres_url)
        proxied = postgres_url.replace(server.netloc, f"{server.username}@127.0.0.1:{proxy.port}", 1)
        config = load_config(write_config(tmp_path, proxied, limits_toml=limits_toml), environ={})
        client = await aiohttp_client(make_app(config, upgrade_database=True, plain_http=True))
        under_test = GatewayUnderTest(client, config)
        await under_test.mint(FUNDING)
        return under_test

    return build


def payment(message_id: str, kopecks: int) -> bytes:
    return pacs_008(SBER, message_id, [Tx(SBER, VTB, kopecks)], today_in_moscow())


async def answered(request: asyncio.Future[Answer] | object) -> Answer:
    try:
        return await asyncio.wait_for(request, answer_within_seconds)  # type: ignore[arg-type]
    except TimeoutError:
        pytest.fail(f"no answer within {answer_within_seconds} s: the gateway hangs on the database")


async def mailbox_answer(gw: GatewayUnderTest) -> Answer:
    response = await gw.client.get("/v1/messages", params={"participant": SBER})
    return Answer(response.status, await response.read(), dict(response.headers))


def assert_unavailable(answer: Answer) -> None:
    assert answer.status == 503, (answer.status, answer.body)
    assert answer.headers["Retry-After"] == "1"
    assert b"Traceback" not in answer.body


async def settled_once_retried(gw: GatewayUnderTest, payload: bytes) -> StatusReport:
    """The bank's retry, as Retry-After tells it, until an answer other than 503."""
    answer = Answer(503, b"", {})
    for _ in range(40):
        answer = await answered(gw.post(payload))
        if answer.status != 503:
            break
        await asyncio.sleep(int(answer.headers["Retry-After"]) / 4)
    assert answer.status == 200, (answer.status, answer.body)
    assert answer.headers["X-Gateway-Outcome"] in ("accepted", "replayed")
    return StatusReport(Message.read(answer.body))


async def test_a_database_that_refuses_then_black_holes_answers_503_in_time_and_each_retry_settles_once(
    make_gw: GatewayFactory, proxy: TcpProxy
) -> None:
    gw = await make_gw(outage_limits)
    first = payment("OUTAGE-FORWARD", 10_00)
    assert (await gw.settle(first)).group_status == "ACSC"

    refused, black_holed = payment("OUTAGE-REFUSED", 20_00), payment("OUTAGE-BLACK-HOLE", 30_00)
    proxy.set_mode("refuse")
    assert_unavailable(await answered(gw.post(refused)))
    assert_unavailable(await answered(mailbox_answer(gw)))

    proxy.set_mode("black_hole")
    assert_unavailable(await answered(gw.post(black_holed)))
    assert_unavailable(await answered(gw.post(refused)))
    assert_unavailable(await answered(mailbox_answer(gw)))
    assert (await answered(gw.client.get("/readyz"))).status == 503

    proxy.set_mode("forward")
    for payload in (refused, black_holed):
        assert (await settled_once_retried(gw, payload)).group_status == "ACSC"
    # A retry of a message already settled is answered from the journal, and moves nothing more.
    replay = await answered(gw.post(first))
    assert (replay.status, replay.headers["X-Gateway-Outcome"]) == (200, "replayed")

    assert await gw.balances() == {SBER: FUNDING[SBER] - 60_00, VTB: FUNDING[VTB] + 60_00, ALFA: FUNDING[ALFA]}
    assert sorted(amount for _, _, amount in (await gw.payments_settled()).values()) == [10_00, 20_00, 30_00]
    answers = [m for m in await gw.whole_mailbox(SBER) if m.kind == "pacs.002.001.10"]
    assert len(answers) == 3
    assert (await answered(gw.client.get("/readyz"))).status == 200


async def test_an_answer_overdue_is_503_at_request_timeout_ms_and_the_message_settles_once_later(
    make_gw: GatewayFactory, proxy: TcpProxy
) -> None:
    # The database's own bounds at their defaults (seconds each, more than a minute together), the answer due after
    # one second: the deadline, not the database's bounds, decides when the bank hears back.
    gw = await make_gw("request_timeout_ms = 1000\n")
    payload = payment("OUTAGE-OVERDUE", 40_00)
    proxy.set_mode("black_hole")
    answer = await answered(gw.post(payload))
    assert_unavailable(answer)
    assert b"AnswerOverdue" in answer.body
    proxy.set_mode("forward")
    assert (await settled_once_retried(gw, payload)).group_status == "ACSC"
    assert await gw.balances() == {SBER: FUNDING[SBER] - 40_00, VTB: FUNDING[VTB] + 40_00, ALFA: FUNDING[ALFA]}
    assert len(await gw.payments_settled()) == 1
