"""Prometheus metrics, one registry per app (no process-wide globals, so tests and several apps never share
counters): messages by type and outcome, settlement latency, ledger batch sizes, mailbox push lag; and for treasury
the supply, the reserve, the emission cap, open reconciliation breaks and the business day, read at each scrape with
a few small queries (gateway.treasury.figures.TreasuryFigures.gauges: two rows of the ledger, the latest day, a
count of open breaks over their index)."""

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
        # Money in kopecks, as the ledger keeps it. A Prometheus sample is a 64-bit float: exact to the kopeck up to
        # 2**53 kopecks (90 trillion roubles).
        self.supply_kopecks = Gauge(
            "gateway_cryptorouble_supply_kopecks", "Cryptoroubles issued (minus the issuance account), in kopecks",
            registry=self.registry,
        )
        self.reserve_kopecks = Gauge(
            "gateway_fiat_reserve_kopecks",
            "The fiat reserve as the ledger mirrors it (equal to the supply), in kopecks", registry=self.registry,
        )
        self.emission_cap_kopecks = Gauge(
            "gateway_emission_cap_kopecks", "The most cryptoroubles that may be issued, pending mints included, in kopecks",
            registry=self.registry,
        )
        self.breaks_open = Gauge(
            "gateway_reconciliation_breaks_open", "Reconciliation breaks not yet resolved, by kind",
            ["kind"], registry=self.registry,
        )
        self.business_day = Gauge(
            "gateway_business_day",
            "1 for the latest business day the ledger recorded, labelled with its date and state (open, closing, closed)",
            ["business_date", "state"], registry=self.registry,
        )
        self.outbox_lag_seconds = Gauge(
            "gateway_outbox_lag_seconds",
            "Age of the oldest message waiting for push delivery to a webhook (0 when none waits)",
            registry=self.registry,
        )


async def metrics_handler(request: web.Request) -> web.Response:
    return await metrics_response(request.app)


async def metrics_response(app: web.Application) -> web.Response:
    """The metrics of the banks' application `app`, its figures read now."""
    metrics = app[metrics_key]
    gateway = app[gateway_key]
    metrics.queued_transfers.set(gateway.batcher.queued_transfers)
    webhooks = [p.bic for p in gateway.config.participants if p.webhook_url is not None]
    oldest_us = await gateway.journal.oldest_undelivered_us(webhooks)
    lag = 0.0 if oldest_us is None else max(0.0, (gateway.environment.clock_us() - oldest_us) / 1_000_000)
    metrics.outbox_lag_seconds.set(lag)
    gauges = await gateway.treasury.gauges()
    metrics.supply_kopecks.set(gauges.supply_kopecks)
    metrics.reserve_kopecks.set(gauges.reserve_ledger_kopecks)
    metrics.emission_cap_kopecks.set(gauges.emission_cap_kopecks)
    metrics.breaks_open.clear()  # a kind with no open break any more is gone, not stuck at its last count
    for kind, count in gauges.open_breaks.items():
        metrics.breaks_open.labels(kind).set(count)
    metrics.business_day.clear()
    if gauges.day is not None:
        metrics.business_day.labels(gauges.day.business_date.isoformat(), gauges.day.state.value).set(1)
    return web.Response(body=generate_latest(metrics.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})
