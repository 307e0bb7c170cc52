"""The HTTP application. `make_app(config)` is the only way to build it, for `gateway serve` and for tests alike."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web
from gateway_adapters.sql.reports import SqlAccountHistory
from gateway_adapters.sql.store import now_us

from gateway.config import Config
from gateway.conversion.service import Conversions
from gateway.delivery.relay import Relay
from gateway.domain.ledger import AccountKind
from gateway.domain.money import text_from_kopecks
from gateway.http import admin, messages
from gateway.http.errors import error_middleware
from gateway.http.keys import (
    HttpSettings,
    gateway_key,
    metrics_key,
    settings_key,
    settlement_key,
    webhooks_key,
)
from gateway.http.metrics import Metrics, metrics_handler
from gateway.reporting.service import AccountReports
from gateway.runtime import Gateway, running_gateway
from gateway.settlement.service import Settlement

log = logging.getLogger(__name__)

pending_sweep_seconds = 1.0
pending_sweep_transfers_max = 1_000
directory_refresh_seconds = 2.0
warehouse_sweep_seconds = 5.0
warehouse_sweep_payments_max = 10_000
conversion_resume_seconds = 2.0


def make_app(config: Config, upgrade_database: bool, plain_http: bool = False) -> web.Application:
    """The gateway's HTTP application. `plain_http` is the loopback development mode (no client certificates)."""
    app = web.Application(client_max_size=config.limits.request_bytes_max, middlewares=[error_middleware])
    app[settings_key] = HttpSettings(
        plain_http=plain_http,
        request_bytes_max=config.limits.request_bytes_max,
        mailbox_retention_seconds=config.http.mailbox_retention_days * 86_400,
    )
    app[metrics_key] = Metrics()
    app[webhooks_key] = {p.bic: p.webhook_url for p in config.participants if p.webhook_url is not None}
    app.cleanup_ctx.append(_gateway_context(config, upgrade_database))
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_handler)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/v1/ledger/head", ledger_head)
    app.router.add_post("/v1/messages", messages.post_message)
    app.router.add_get("/v1/messages", messages.get_mailbox)
    app.router.add_get("/v1/admin/emission", admin.get_emission)
    app.router.add_put("/v1/admin/emission-cap", admin.put_emission_cap)
    app.router.add_put("/v1/admin/conversion-limits/{bic}", admin.put_daily_limit)
    return app


def _gateway_context(config: Config, upgrade_database: bool):  # type: ignore[no-untyped-def]
    async def context(app: web.Application) -> AsyncIterator[None]:
        observe_batch = app[metrics_key].batch_transfers.observe
        async with running_gateway(config, upgrade=upgrade_database, observe_batch=observe_batch) as gateway:
            app[gateway_key] = gateway
            issuance = next(a for a in await gateway.store.accounts() if a.kind is AccountKind.ISSUANCE)
            conversions = Conversions(
                config, gateway.batcher, gateway.journal, gateway.conversions, gateway.rtgs, issuance.id, now_us
            )
            reports = AccountReports(SqlAccountHistory(gateway.store.engine), config.central_bank.bic)
            settlement = Settlement(
                config, gateway.batcher, gateway.journal, await gateway.directory(), now_us, conversions, reports
            )
            app[settlement_key] = settlement
            tasks = [
                asyncio.create_task(_resume_conversions(conversions), name="conversion-resumer"),
                asyncio.create_task(_sweep_expired_pending(gateway), name="pending-sweeper"),
                asyncio.create_task(_refresh_directory(gateway, settlement), name="directory-refresher"),
                asyncio.create_task(_release_warehoused(settlement), name="warehouse-releaser"),
            ]
            session = None
            if app[webhooks_key]:
                session = aiohttp.ClientSession()
                relay = Relay(gateway.journal, app[webhooks_key], now_us, session)
                tasks.append(asyncio.create_task(relay.run(), name="outbox-relay"))
            try:
                yield
            finally:
                for task in tasks:
                    task.cancel()
                for task in tasks:
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                if session is not None:
                    await session.close()

    return context


async def _resume_conversions(conversions: Conversions) -> None:
    """Conversions a crash left half-way, or whose RTGS call failed, are driven on (or unwound) from here: at once
    on start-up, then every few seconds."""
    while True:
        try:
            finished = await conversions.resume()
            if finished:
                log.info("finished %d conversions left unfinished", finished)
        except Exception:  # every step is idempotent: the next pass repeats whatever this one did not finish
            log.exception("conversion resume failed")
        await asyncio.sleep(conversion_resume_seconds)


async def _release_warehoused(settlement: Settlement) -> None:
    """Future-dated payments settle as their business day starts: this checks every few seconds for due ones."""
    while True:
        await asyncio.sleep(warehouse_sweep_seconds)
        try:
            released = await settlement.settle_due(warehouse_sweep_payments_max)
            if released:
                log.info("settled %d warehoused payments that came due", released)
        except Exception:  # the next sweep tries again; a release is one transaction, never half-done
            log.exception("warehouse release failed")


async def _refresh_directory(gateway: Gateway, settlement: Settlement) -> None:
    """Operators suspend and add participants through the database: pick that up within seconds."""
    while True:
        await asyncio.sleep(directory_refresh_seconds)
        try:
            settlement.directory = await gateway.directory()
        except Exception:  # keep the last good snapshot; the ledger enforces suspensions itself
            log.exception("directory refresh failed")


async def _sweep_expired_pending(gateway: Gateway) -> None:
    """Void two-phase transfers nobody resolved in time, so the funds they hold are released."""
    while True:
        await asyncio.sleep(pending_sweep_seconds)
        try:
            voided = await gateway.ledger.void_expired(pending_sweep_transfers_max)
            if voided:
                log.info("voided %d expired pending transfers", voided)
        except Exception:  # the sweep runs again next second; the ledger itself stays consistent
            log.exception("pending-transfer sweep failed")


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "alive"})


async def readyz(request: web.Request) -> web.Response:
    gateway = request.app[gateway_key]
    if gateway.batcher.halted is not None:
        return web.json_response({"status": "halted", "reason": str(gateway.batcher.halted)}, status=503)
    try:
        head = await gateway.store.head()
    except Exception as error:
        return web.json_response({"status": "database unavailable", "reason": type(error).__name__}, status=503)
    return web.json_response({"status": "ready", "ledger_seq": head.seq})


async def ledger_head(request: web.Request) -> web.Response:
    """The chain head and the figures treasury watches: supply, reserve, cap."""
    gateway = request.app[gateway_key]
    head = await gateway.store.head()
    accounts = await gateway.store.accounts()
    issuance = next(a for a in accounts if a.kind is AccountKind.ISSUANCE)
    reserve = next(a for a in accounts if a.kind is AccountKind.RESERVE)
    return web.json_response(
        {
            "seq": head.seq,
            "hash": head.hash.hex(),
            "supply_rub": text_from_kopecks(-issuance.posted_kopecks),
            "reserve_rub": text_from_kopecks(reserve.posted_kopecks),
            "emission_cap_rub": text_from_kopecks(head.emission_cap_kopecks),
            "pending_mints_rub": text_from_kopecks(issuance.debits_pending_kopecks),
        }
    )
