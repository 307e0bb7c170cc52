"""Prometheus metrics, one registry per app (no process-wide globals, so tests and several apps never share
counters): messages by type and outcome, settlement latency, ledger batch sizes, mailbox push lag."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from gateway.http.keys import gateway_key, metrics_key

_latency_buckets_seconds = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_batch_buckets_transfers = (0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.messages = Counter(
            "gateway_messages", "Messages received, by message type and outcome",
            ["message_type", "outcome"], registry=self.registry,
        )
        self.settlement_seconds = Histogram(
            "gateway_settlement_seconds", "Time from a message's arrival to its answer",
            buckets=_latency_buckets_seconds, registry=self.registry,
        )
        self.batch_transfers = Histogram(
            "gateway_ledger_batch_transfers", "Transfers per ledger batch (one database transaction)",
            buckets=_batch_buckets_transfers, registry=self.registry,
        )
        self.queued_transfers = Gauge(
            "gateway_ledger_queued_transfers", "Transfers waiting for the auto-batcher", registry=self.registry
        )
        self.outbox_lag_seconds = Gauge(
            "gateway_outbox_lag_seconds",
            "Age of the oldest message waiting for push delivery to a webhook (0 when none waits)",
            registry=self.registry,
        )


async def metrics_handler(request: web.Request) -> web.Response:
    metrics = request.app[metrics_key]
    gateway = request.app[gateway_key]
    metrics.queued_transfers.set(gateway.batcher.queued_transfers)
    webhooks = [p.bic for p in gateway.config.participants if p.webhook_url is not None]
    oldest_us = await gateway.journal.oldest_undelivered_us(webhooks)
    lag = 0.0 if oldest_us is None else max(0.0, (gateway.environment.clock_us() - oldest_us) / 1_000_000)
    metrics.outbox_lag_seconds.set(lag)
    return web.Response(body=generate_latest(metrics.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})
