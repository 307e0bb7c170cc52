"""After real messages over HTTP, GET /metrics counts them exactly by type and outcome, observes one settlement latency
per answered message and every ledger batch's size, shows an empty queue, and an outbox lag that is 0 without
webhooks, positive while a webhook participant's message waits, and 0 again once it is delivered."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from gateway_adapters.sql.store import now_us
from prometheus_client.parser import text_string_to_metric_families

from gateway.app import make_app
from gateway.config import load_config
from tests.conftest import write_config
from tests.settlement.builders import ALFA, SBER, VTB, Tx, pacs_008, today_in_moscow
from tests.settlement.conftest import FUNDING, GatewayUnderTest

TBANK = "TICSRUMMXXX"  # a fourth bank, the one with a webhook

Build = Callable[..., Awaitable[GatewayUnderTest]]


def webhook_participant(url: str) -> str:
    return (
        f'\n[[participants]]\nbic = "{TBANK}"\nname = "T-Bank"\nclearing_code = "044525974"\n'
        f'rtgs_account = "30101810145250000974"\nwallets = ["main"]\nwebhook_url = "{url}"\n'
    )


@pytest.fixture
def build_gateway(aiohttp_client, database_url: str, tmp_path: Path) -> Build:  # type: ignore[no-untyped-def]
    """make_app in the development mode on a real socket, wallets funded with FUNDING (three mints, one batch)."""

    async def build(extra_participant_toml: str = "") -> GatewayUnderTest:
        path = write_config(tmp_path, database_url, extra_participant_toml=extra_participant_toml)
        config = load_config(path, environ={})
        client = await aiohttp_client(make_app(config, upgrade_database=True, plain_http=True))
        gateway = GatewayUnderTest(client, config)
        await gateway.mint(FUNDING)
        return gateway

    return build


async def scrape(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the exposition, by (sample name, sorted labels)."""
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.content_type == "text/plain"
    samples = {}
    for family in text_string_to_metric_families(await response.text()):
        for sample in family.samples:
            key = (sample.name, tuple(sorted(sample.labels.items())))
            assert key not in samples, key
            samples[key] = sample.value
    return samples


def values(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str) -> dict[Any, float]:
    """The samples called `name`: by their labels' values when they have labels, else the one value under ()."""
    return {tuple(value for _, value in labels): v for (sample, labels), v in samples.items() if sample == name}


async def test_messages_latency_and_batches_are_counted_exactly(build_gateway: Build) -> None:
    gw = await build_gateway()
    today = today_in_moscow()
    first = pacs_008(SBER, "MET-1", [Tx(SBER, VTB, 100_00)], today)
    xml = "application/xml"
    sent = [
        # (payload, content type, expected HTTP status, expected X-Gateway-Outcome)
        (first, xml, 200, "accepted"),
        (pacs_008(VTB, "MET-2", [Tx(VTB, ALFA, 50_00), Tx(VTB, ALFA, 25_00)], today), xml, 200, "accepted"),
        # Alfa holds 1,000,075.00: the ledger refuses 1,500,000.00 (AM04), yet the message itself was accepted.
        (pacs_008(ALFA, "MET-3", [Tx(ALFA, SBER, 1_500_000_00)], today), xml, 200, "accepted"),
        (first, xml, 200, "replayed"),  # MET-1 again, byte for byte
        (pacs_008(SBER, "MET-4", [Tx(SBER, VTB, 1_00)], today, to=VTB), xml, 200, "rejected"),
        (b"this is not XML", xml, 200, "rejected"),
        (pacs_008(SBER, "MET-5", [Tx(SBER, VTB, 1_00)], today), "text/plain", 415, None),  # transport: not counted
        (b"", xml, 400, None),  # transport: not counted
    ]
    for payload, content_type, status, outcome in sent:
        answer = await gw.post(payload, content_type)
        assert answer.status == status, (answer.status, answer.body[:300])
        assert answer.headers.get("X-Gateway-Outcome") == outcome

    samples = await scrape(gw.client)
    assert values(samples, "gateway_messages_total") == {
        ("pacs.008.001.08", "accepted"): 3,
        ("pacs.008.001.08", "replayed"): 1,
        ("pacs.008.001.08", "rejected"): 1,
        ("unreadable", "rejected"): 1,
    }
    # One latency observation per message answered by settlement: the six above, not the two transport refusals.
    assert values(samples, "gateway_settlement_seconds_count") == {(): 6}
    assert values(samples, "gateway_settlement_seconds_bucket")[("+Inf",)] == 6
    assert values(samples, "gateway_settlement_seconds_sum")[()] > 0
    # Ledger batches, in transfers: the funding's three mints (3), MET-1 (1), MET-2 (2), MET-3 (1, refused by the
    # ledger but still a transfer of the batch), MET-4 and the unreadable one (0 each: journal rows alone). The
    # replay settles no batch: its claim conflicts and it is answered from the journal.
    assert values(samples, "gateway_ledger_batch_transfers_count") == {(): 6}
    assert values(samples, "gateway_ledger_batch_transfers_sum") == {(): 3 + 1 + 2 + 1 + 0 + 0}
    buckets = values(samples, "gateway_ledger_batch_transfers_bucket")
    assert {le: buckets[(le,)] for le in ("0.0", "1.0", "2.0", "5.0", "+Inf")} == {
        "0.0": 2, "1.0": 4, "2.0": 5, "5.0": 6, "+Inf": 6,
    }  # fmt: skip
    assert values(samples, "gateway_ledger_queued_transfers") == {(): 0}
    assert values(samples, "gateway_outbox_lag_seconds") == {(): 0}  # nobody has a webhook
    assert await gw.balances() == {SBER: 2_999_900_00, VTB: 2_000_025_00, ALFA: 1_000_075_00}


class Webhook:
    """A bank's webhook endpoint that answers every POST with `status`."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.received: list[bytes] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append(await request.read())
        return web.Response(status=self.status)


async def test_outbox_lag_is_the_age_of_the_oldest_message_waiting_for_a_webhook(
    build_gateway: Build, aiohttp_server  # type: ignore[no-untyped-def]
) -> None:
    webhook = Webhook(status=500)
    hook_app = web.Application()
    hook_app.router.add_post("/hook", webhook.handle)
    server = await aiohttp_server(hook_app)
    gw = await build_gateway(webhook_participant(str(server.make_url("/hook"))))
    today = today_in_moscow()

    # Messages for banks without a webhook wait in their mailboxes for GET /v1/messages: no lag.
    await gw.settle(pacs_008(SBER, "LAG-1", [Tx(SBER, VTB, 10_00)], today))
    assert values(await scrape(gw.client), "gateway_outbox_lag_seconds") == {(): 0}

    # A payment to T-Bank: its forwarded pacs.008 waits for the webhook, which answers 500.
    before_us = now_us()
    await gw.settle(pacs_008(SBER, "LAG-2", [Tx(SBER, TBANK, 20_00)], today))
    await asyncio.sleep(0.05)
    lag = values(await scrape(gw.client), "gateway_outbox_lag_seconds")[()]
    elapsed_seconds = (now_us() - before_us) / 1_000_000
    assert 0 < lag <= elapsed_seconds

    # The webhook comes back: the relay's next try (after its back-off, 1 s or 2 s) delivers, and the lag is 0.
    webhook.status = 200
    for _ in range(100):  # ten seconds at most
        lag = values(await scrape(gw.client), "gateway_outbox_lag_seconds")[()]
        if lag == 0:
            break
        await asyncio.sleep(0.1)
    assert lag == 0
    rows = await gw.rows("SELECT delivered_at_us FROM mailbox WHERE recipient_bic = :bic", bic=TBANK)
    assert len(rows) == 1 and rows[0].delivered_at_us is not None
    assert webhook.received[-1] == (await gw.whole_mailbox(TBANK))[0].payload
