"""The HTTP application. `make_app(config)` is the only way to build it, for `gateway serve` and for tests alike."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from gateway.config import Config
from gateway.domain.ledger import AccountKind
from gateway.domain.money import text_from_kopecks
from gateway.runtime import Gateway, running_gateway

log = logging.getLogger(__name__)

gateway_key = web.AppKey("gateway", Gateway)
pending_sweep_seconds = 1.0
pending_sweep_transfers_max = 1_000


def make_app(config: Config, upgrade_database: bool) -> web.Application:
    app = web.Application(client_max_size=config.limits.request_bytes_max)
    app.cleanup_ctx.append(_gateway_context(config, upgrade_database))
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/v1/ledger/head", ledger_head)
    return app


def _gateway_context(config: Config, upgrade_database: bool):  # type: ignore[no-untyped-def]
    async def context(app: web.Application) -> AsyncIterator[None]:
        async with running_gateway(config, upgrade=upgrade_database) as gateway:
            app[gateway_key] = gateway
            sweeper = asyncio.create_task(_sweep_expired_pending(gateway), name="pending-sweeper")
            try:
                yield
            finally:
                sweeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sweeper

    return context


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
