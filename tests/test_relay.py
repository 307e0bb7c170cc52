"""The outbox relay pushes every mailbox message of a webhook participant, in mailbox order, byte for byte with its
seq and type headers; retries a failing or unreachable webhook with exponential back-off while that participant's
later messages wait; delivers everything once the webhook works; leaves the mailbox whole; and, after a crash
between a push and its marking, pushes the same message again (at least once)."""

from __future__ import annotations

import asyncio
import base64
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from gateway_adapters.sql.journal import JournalReader
from gateway_adapters.sql.store import now_us

from gateway.app import make_app
from gateway.config import load_config
from gateway.delivery.relay import Relay, backoff_seconds
from gateway.domain.journal import MailboxItem
from tests.conftest import write_config
from tests.settlement.builders import (
    ALFA,
    SBER,
    VTB,
    Tx,
    pacs_008,
    pacs_028,
    today_in_moscow,
)
from tests.settlement.conftest import FUNDING, GatewayUnderTest, Message

TBANK = "TICSRUMMXXX"  # a fourth bank: the one whose messages are pushed
second = 1_000_000  # microseconds


# --------------------------------------------------------------------------------------------------------------
# backoff_seconds
# --------------------------------------------------------------------------------------------------------------


def test_backoff_doubles_from_one_second_up_to_five_minutes() -> None:
    assert [backoff_seconds(n) for n in range(1, 11)] == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 300.0]
    assert backoff_seconds(9) == 256.0 and backoff_seconds(10) == 300.0  # 512 s capped at 300 s
    assert backoff_seconds(31) == 300.0 and backoff_seconds(10_000) == 300.0  # the exponent is bounded too
    with pytest.raises(AssertionError):
        backoff_seconds(0)


# --------------------------------------------------------------------------------------------------------------
# A bank's webhook endpoint, and the gateway with T-Bank in it
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Push:
    path: str
    seq: int
    message_type: str
    content_type: str
    body: bytes
    answered: int


class Webhooks:
    """Banks' webhook endpoints on one real server: POST /hook/<name> is recorded and answered with
    `status[name]` (200 unless set)."""

    def __init__(self) -> None:
        self.status: dict[str, int] = {}
        self.received: list[Push] = []

    async def handle(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        status = self.status.get(name, 200)
        self.received.append(
            Push(
                path=name,
                seq=int(request.headers["X-Gateway-Mailbox-Seq"]),
                message_type=request.headers["X-Gateway-Message-Type"],
                content_type=request.headers["Content-Type"],
                body=await request.read(),
                answered=status,
            )
        )
        return web.Response(status=status)

    def to(self, name: str) -> list[Push]:
        return [push for push in self.received if push.path == name]


@pytest.fixture
async def webhooks(aiohttp_server) -> AsyncIterator[tuple[Webhooks, Callable[[str], str]]]:  # type: ignore[no-untyped-def]
    recorder = Webhooks()
    app = web.Application()
    app.router.add_post("/hook/{name}", recorder.handle)
    server = await aiohttp_server(app)
    yield recorder, lambda name: str(server.make_url(f"/hook/{name}"))


def tbank_toml(webhook_url: str | None, credit_notifications: bool = False) -> str:
    text = (
        f'\n[[participants]]\nbic = "{TBANK}"\nname = "T-Bank"\nclearing_code = "044525974"\n'
        f'rtgs_account = "30101810145250000974"\nwallets = ["main"]\n'
    )
    if webhook_url is not None:
        text += f'webhook_url = "{webhook_url}"\n'
    if credit_notifications:
        text += "credit_notifications = true\n"
    return text


Build = Callable[..., Awaitable[GatewayUnderTest]]


@pytest.fixture
def build_gateway(aiohttp_client, database_url: str, tmp_path: Path) -> Build:  # type: ignore[no-untyped-def]
    """make_app (development mode, real socket) with T-Bank as a fourth participant; wallets funded."""

    async def build(extra_participant_toml: str, funding: dict[str, int]) -> GatewayUnderTest:
        path = write_config(tmp_path, database_url, extra_participant_toml=extra_participant_toml)
        config = load_config(path, environ={})
        client = await aiohttp_client(make_app(config, upgrade_database=True, plain_http=True))
        gateway = GatewayUnderTest(client, config)
        await gateway.mint(funding)
        return gateway

    return build


@dataclass(frozen=True)
class Delivery:
    seq: int
    delivered_at_us: int | None
    delivery_attempts: int
    next_attempt_at_us: int | None


async def deliveries(gw: GatewayUnderTest, bic: str) -> list[Delivery]:
    rows = await gw.rows(
        "SELECT seq, delivered_at_us, delivery_attempts, next_attempt_at_us FROM mailbox"
        " WHERE recipient_bic = :bic ORDER BY seq",
        bic=bic,
    )
    return [Delivery(*row) for row in rows]


async def mailbox_items(gw: GatewayUnderTest, bic: str) -> list[dict[str, object]]:
    page = await gw.mailbox(bic, after=0, limit=500)
    return page.messages


def payload_of(item: dict[str, object]) -> bytes:
    return base64.b64decode(str(item["payload_base64"]))


def unreachable_url() -> str:
    """A loopback port nobody listens on: bound, then closed again."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


class Clock:
    """The relay's clock, moved by hand."""

    def __init__(self, start_us: int) -> None:
        self.now_us = start_us

    def __call__(self) -> int:
        return self.now_us


# --------------------------------------------------------------------------------------------------------------
# Through the app's own relay
# --------------------------------------------------------------------------------------------------------------


async def test_every_mailbox_message_is_pushed_in_mailbox_order_byte_for_byte(
    build_gateway: Build, webhooks: tuple[Webhooks, Callable[[str], str]]
) -> None:
    recorder, url = webhooks
    gw = await build_gateway(tbank_toml(url("tbank"), credit_notifications=True), {**FUNDING, TBANK: 500_000_00})
    today = today_in_moscow()
    outgoing = Tx(TBANK, ALFA, 30_00)
    await gw.settle(pacs_008(SBER, "PUSH-1", [Tx(SBER, TBANK, 10_00), Tx(SBER, TBANK, 11_00)], today))
    await gw.settle(pacs_008(VTB, "PUSH-2", [Tx(VTB, TBANK, 12_00)], today))
    await gw.settle(pacs_008(TBANK, "PUSH-3", [outgoing], today))
    await gw.settle(pacs_028(TBANK, "PUSH-4", [outgoing.uetr]))
    misaddressed = await gw.post(pacs_008(TBANK, "PUSH-5", [Tx(TBANK, ALFA, 1_00)], today, to=VTB))
    assert misaddressed.headers["X-Gateway-Outcome"] == "rejected"

    # What T-Bank's mailbox holds, worked out from the messages: for each payment to it the forwarded pacs.008 and
    # a camt.054 (it asked for credit notifications); for each of its own messages the answer.
    items = await mailbox_items(gw, TBANK)
    messages = [Message.read(payload_of(item)) for item in items]
    assert [message.kind for message in messages] == [
        "pacs.008.001.08", "camt.054.001.08",  # PUSH-1, both transactions in one forward and one notification
        "pacs.008.001.08", "camt.054.001.08",  # PUSH-2
        "pacs.002.001.10",  # PUSH-3's status report
        "pacs.002.001.10",  # PUSH-4's status report
        "admi.002.001.01",  # PUSH-5 refused: not addressed to the gateway
    ]  # fmt: skip
    assert [message.app_hdr.text("Rltd/BizMsgIdr") for message in messages[4:]] == ["PUSH-3", "PUSH-4", "PUSH-5"]

    for _ in range(100):  # the relay passes every half second when idle: ten seconds at most
        if all(d.delivered_at_us is not None for d in await deliveries(gw, TBANK)):
            break
        await asyncio.sleep(0.1)

    pushes = recorder.to("tbank")
    assert [push.seq for push in pushes] == [item["seq"] for item in items]
    assert [push.body for push in pushes] == [payload_of(item) for item in items]
    assert [push.message_type for push in pushes] == [item["message_type"] for item in items]
    assert {push.content_type for push in pushes} == {"application/xml; charset=utf-8"}
    assert recorder.received == pushes  # nothing for the banks without a webhook
    assert [(d.delivery_attempts, d.next_attempt_at_us) for d in await deliveries(gw, TBANK)] == [(1, None)] * 7
    # Banks without a webhook are never pushed to: their mailbox rows are untouched.
    assert {(d.delivered_at_us, d.delivery_attempts) for d in await deliveries(gw, SBER)} == {(None, 0)}
    # The mailbox still holds every message.
    assert await mailbox_items(gw, TBANK) == items


# --------------------------------------------------------------------------------------------------------------
# The Relay class on a clock moved by hand (the app itself runs no relay: T-Bank has no webhook_url in its config)
# --------------------------------------------------------------------------------------------------------------


async def tbank_gateway_with_payments(build_gateway: Build, count: int) -> GatewayUnderTest:
    """The gateway with `count` payments from Sberbank settled to T-Bank: `count` forwarded pacs.008 in its mailbox."""
    gw = await build_gateway(tbank_toml(None), FUNDING)
    for n in range(1, count + 1):
        await gw.settle(pacs_008(SBER, f"RELAY-{n}", [Tx(SBER, TBANK, n * 1_00)], today_in_moscow()))
    assert len(await mailbox_items(gw, TBANK)) == count
    return gw


async def test_a_failing_or_unreachable_webhook_is_retried_with_exponential_backoff(
    build_gateway: Build, webhooks: tuple[Webhooks, Callable[[str], str]]
) -> None:
    recorder, url = webhooks
    gw = await tbank_gateway_with_payments(build_gateway, 1)
    [item] = await mailbox_items(gw, TBANK)
    seq = int(str(item["seq"]))
    clock = Clock(now_us())
    t0 = clock.now_us
    recorder.status["tbank"] = 500
    async with aiohttp.ClientSession() as session:
        relay = Relay(gw.gateway.journal, {TBANK: url("tbank")}, clock, session)

        assert await relay.pass_once() == 1
        assert await deliveries(gw, TBANK) == [Delivery(seq, None, 1, t0 + 1 * second)]
        clock.now_us = t0 + 1 * second - 1  # not yet due
        assert await relay.pass_once() == 0
        assert len(recorder.to("tbank")) == 1
        clock.now_us = t0 + 1 * second
        assert await relay.pass_once() == 1
        assert await deliveries(gw, TBANK) == [Delivery(seq, None, 2, t0 + 3 * second)]  # 1 s + 2 s
        clock.now_us = t0 + 3 * second
        assert await relay.pass_once() == 1
        assert await deliveries(gw, TBANK) == [Delivery(seq, None, 3, t0 + 7 * second)]  # + 4 s

        # Nobody listening at all counts as a failure like any other.
        unreachable = Relay(gw.gateway.journal, {TBANK: unreachable_url()}, clock, session)
        clock.now_us = t0 + 7 * second
        assert await unreachable.pass_once() == 1
        assert await deliveries(gw, TBANK) == [Delivery(seq, None, 4, t0 + 15 * second)]  # + 8 s
        assert unreachable.delivered == 0

        # The webhook works again: the next try, when due, delivers.
        recorder.status["tbank"] = 200
        clock.now_us = t0 + 15 * second - 1
        assert await relay.pass_once() == 0
        clock.now_us = t0 + 15 * second
        assert await relay.pass_once() == 1
        assert relay.delivered == 1
        # The success is an attempt too: four failures and the delivery.
        assert await deliveries(gw, TBANK) == [Delivery(seq, t0 + 15 * second, 5, None)]
        clock.now_us = t0 + 3600 * second
        assert await relay.pass_once() == 0

    pushes = recorder.to("tbank")
    assert [push.answered for push in pushes] == [500, 500, 500, 200]
    assert {(push.seq, push.body) for push in pushes} == {(seq, payload_of(item))}
    assert await mailbox_items(gw, TBANK) == [item]


async def test_later_messages_wait_behind_a_failed_one_and_all_are_delivered_in_order_once_it_works(
    build_gateway: Build, webhooks: tuple[Webhooks, Callable[[str], str]]
) -> None:
    recorder, url = webhooks
    gw = await tbank_gateway_with_payments(build_gateway, 3)
    # VTB, pushed to as well through its own (working) webhook, gets one forwarded payment between them.
    await gw.settle(pacs_008(SBER, "RELAY-VTB", [Tx(SBER, VTB, 5_00)], today_in_moscow()))
    items = await mailbox_items(gw, TBANK)
    first, second_seq, third = (int(str(item["seq"])) for item in items)
    [vtb_item] = await mailbox_items(gw, VTB)
    clock = Clock(now_us())
    t0 = clock.now_us
    recorder.status["tbank"] = 500
    async with aiohttp.ClientSession() as session:
        relay = Relay(gw.gateway.journal, {TBANK: url("tbank"), VTB: url("vtb")}, clock, session)

        assert await relay.pass_once() == 4  # T-Bank's three and VTB's one were due
        assert [(p.path, p.seq, p.answered) for p in recorder.received] == [
            ("tbank", first, 500),
            ("vtb", vtb_item["seq"], 200),  # one bank's failing webhook holds back no other bank
        ]
        assert await deliveries(gw, TBANK) == [
            Delivery(first, None, 1, t0 + 1 * second),
            Delivery(second_seq, None, 0, None),
            Delivery(third, None, 0, None),
        ]

        # T-Bank's webhook works again, but its first message is not due before t0 + 1 s: the two after it wait
        # with it, or T-Bank would receive them out of order.
        recorder.status["tbank"] = 200
        await relay.pass_once()
        assert [p.seq for p in recorder.to("tbank")] == [first], "later messages were pushed before the failed one"

        clock.now_us = t0 + 1 * second
        await relay.pass_once()

    assert [(p.seq, p.answered) for p in recorder.to("tbank")] == [
        (first, 500), (first, 200), (second_seq, 200), (third, 200),
    ]  # fmt: skip
    assert [p.body for p in recorder.to("tbank")][1:] == [payload_of(item) for item in items]
    assert [(d.seq, d.delivered_at_us is not None) for d in await deliveries(gw, TBANK)] == [
        (first, True), (second_seq, True), (third, True),
    ]  # fmt: skip
    assert await mailbox_items(gw, TBANK) == items  # the mailbox still holds every message


class CrashingOutbox:
    """The journal, except that the first time a delivery is to be marked the process 'crashes' instead."""

    def __init__(self, journal: JournalReader) -> None:
        self.journal = journal
        self.crashed = False

    async def undelivered(self, recipients: Sequence[str], now_us: int, limit: int) -> list[MailboxItem]:
        return await self.journal.undelivered(recipients, now_us, limit)

    async def delivery_attempted(self, seq: int, delivered_at_us: int | None, next_attempt_at_us: int | None) -> None:
        if delivered_at_us is not None and not self.crashed:
            self.crashed = True
            raise RuntimeError("crash between the webhook's 200 and the marking")
        await self.journal.delivery_attempted(seq, delivered_at_us, next_attempt_at_us)


async def test_a_crash_between_push_and_marking_pushes_the_same_message_again(
    build_gateway: Build, webhooks: tuple[Webhooks, Callable[[str], str]]
) -> None:
    recorder, url = webhooks
    gw = await tbank_gateway_with_payments(build_gateway, 2)
    items = await mailbox_items(gw, TBANK)
    first, later = (int(str(item["seq"])) for item in items)
    clock = Clock(now_us())
    outbox = CrashingOutbox(gw.gateway.journal)
    async with aiohttp.ClientSession() as session:
        relay = Relay(outbox, {TBANK: url("tbank")}, clock, session)
        with pytest.raises(RuntimeError, match="crash"):
            await relay.pass_once()
        assert [p.seq for p in recorder.to("tbank")] == [first]
        assert (await deliveries(gw, TBANK))[0] == Delivery(first, None, 0, None)  # never marked

        # The process comes back (same instant: nothing waits for a back-off) and pushes from where the journal says.
        assert await relay.pass_once() == 2

    pushes = recorder.to("tbank")
    assert [p.seq for p in pushes] == [first, first, later]
    assert pushes[0].body == pushes[1].body == payload_of(items[0])
    repeated = [Message.read(p.body).app_hdr.text("BizMsgIdr") for p in pushes[:2]]
    assert repeated[0] == repeated[1] == items[0]["reference"]  # how the bank recognises the repeat
    assert Message.read(pushes[2].body).app_hdr.text("BizMsgIdr") == items[1]["reference"] != repeated[0]
    assert [(d.seq, d.delivered_at_us, d.delivery_attempts) for d in await deliveries(gw, TBANK)] == [
        (first, clock.now_us, 1), (later, clock.now_us, 1),
    ]  # fmt: skip
