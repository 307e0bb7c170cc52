"""The HTTP application. `make_app(config)` is the only way to build it, for `gateway serve` and for tests alike."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from aiohttp import web

from gateway.config import Config
from gateway.domain.ledger import AccountKind
from gateway.domain.money import text_from_kopecks
from gateway.http import admin, messages, ops, treasury
from gateway.http.edge import edge_middleware
from gateway.http.errors import error_middleware
from gateway.http.keys import HttpSettings, gateway_key, metrics_key, overdue_key, settings_key
from gateway.http.metrics import Metrics, metrics_handler
from gateway.messages.signing import published_pem
from gateway.runtime import background, running_gateway


def make_app(
    config: Config, upgrade_database: bool, plain_http: bool = False, clock: Callable[[], int] | None = None
) -> web.Application:
    """The gateway's HTTP application. `plain_http` is the loopback development mode (no client certificates);
    `clock` is the real one except in `gateway demo` (gateway.runtime.running_gateway says why)."""
    # The edge's middleware first: it sees a request's headers complete before anything else runs.
    app = web.Application(
        client_max_size=config.limits.request_bytes_max, middlewares=[edge_middleware, error_middleware]
    )
    app[settings_key] = HttpSettings(
        plain_http=plain_http,
        request_bytes_max=config.limits.request_bytes_max,
        mailbox_retention_seconds=config.http.mailbox_retention_days * 86_400,
        request_timeout_seconds=config.limits.request_timeout_ms / 1000,
    )
    app[metrics_key] = Metrics()
    app[overdue_key] = set()
    app.cleanup_ctx.append(_gateway_context(config, upgrade_database, clock))
    # The ops routes, here too for a bank's (or CI's) check over mutual TLS; the ops listener serves them without.
    app.router.add_get("/healthz", ops.healthz)
    app.router.add_get("/metrics", metrics_handler)
    app.router.add_get("/readyz", ops.readyz)
    app.router.add_get("/v1/ledger/head", ledger_head)
    app.router.add_get("/v1/signing-certificates", signing_certificates)
    app.router.add_post("/v1/messages", messages.post_message)
    app.router.add_get("/v1/messages", messages.get_mailbox)
    app.router.add_get("/v1/admin/emission", admin.get_emission)
    app.router.add_put("/v1/admin/emission-cap", admin.put_emission_cap)
    app.router.add_put("/v1/admin/conversion-limits/{bic}", admin.put_daily_limit)
    app.router.add_get("/v1/treasury/overview", treasury.get_overview)
    app.router.add_get("/v1/treasury/series", treasury.get_series)
    app.router.add_get("/v1/treasury/pending", treasury.get_pending)
    app.router.add_get("/v1/treasury/rejects", treasury.get_rejects)
    app.router.add_get("/v1/treasury/breaks", treasury.get_breaks)
    app.router.add_get("/treasury", treasury.get_page)
    app.router.add_get("/treasury/static/{name}", treasury.get_static)
    return app


def _gateway_context(  # type: ignore[no-untyped-def]
    config: Config, upgrade_database: bool, clock: Callable[[], int] | None
):
    async def context(app: web.Application) -> AsyncIterator[None]:
        observe_batch = app[metrics_key].batch_transfers.observe
        async with running_gateway(
            config, upgrade=upgrade_database, observe_batch=observe_batch, clock=clock
        ) as gateway:
            app[gateway_key] = gateway
            async with background(gateway):
                yield

    return context


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


async def signing_certificates(request: web.Request) -> web.Response:
    """The certificates of the gateway's message-signing key, PEM: the one in use, then the next during a rotation,
    so that a bank can register the next before the gateway switches to it."""
    published = request.app[gateway_key].signing.published
    if not published:
        text = "this gateway signs no messages: its config has no [message_signing]"
        return web.json_response({"error": text}, status=404)
    return web.Response(body=published_pem(published), content_type="application/x-pem-file")
