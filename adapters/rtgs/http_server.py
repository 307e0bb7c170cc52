"""The RTGS over HTTP: any implementation of the Rtgs port (gateway.conversion.ports), served in ISO 20022 as
docs/rtgs-protocol.md describes, and `run_rtgs_simulator`, which serves the embedded simulator (`gateway rtgs-sim`).

  POST /v1/messages   a camt.050 or camt.060 in the gateway's envelope -> 200 and its answer (camt.025/052/053);
                      400 admi.002 unreadable or not the protocol, 403 admi.002 not from the gateway, 413 too large,
                      415 not XML, 503 the RTGS cannot answer now (the outcome is unknown: retry with the same id)
  GET  /healthz       alive

Handlers are thin: bounded bytes in, wire.read_request, one port call (wire.respond), the answer out. The port call is
shielded from client disconnects: a movement that started completes, and its retry is answered from the RTGS's record.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import signal
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path

from aiohttp import web
from gateway_adapters.rtgs import cli as rtgs_cli
from gateway_adapters.rtgs import wire

from gateway import bounds
from gateway.config import Config, canonical_bic
from gateway.conversion.ports import Rtgs, RtgsUnavailable
from gateway.messages.codes import transaction_forbidden
from gateway.messages.rejections import Layer, Rejection, invalid_file_format

log = logging.getLogger(__name__)

xml_media_types = frozenset({"application/xml", "text/xml"})
request_bytes_max = bounds.message_bytes_max  # a request is one message: no body may outgrow the message bound
tls_file_names = ("server.pem", "server.key", "ca.pem")  # as `gateway certs init` writes them
forbidden_sender = transaction_forbidden  # the admi.002 code of a request whose AppHdr/Fr is not the gateway

rtgs_key = web.AppKey("rtgs", Rtgs)
parties_key = web.AppKey("parties", wire.Parties)
clock_key = web.AppKey("clock", Callable[[], datetime])
page_entries_key = web.AppKey("statement_page_entries_max", int)


def make_rtgs_app(
    rtgs: Rtgs,
    gateway_bic: str,
    rtgs_bic: str,
    *,
    clock: Callable[[], datetime] = wire.now_utc,
    statement_page_entries_max: int = bounds.rtgs_statement_page_entries_max,
) -> web.Application:
    """The RTGS's HTTP application in front of `rtgs`, which the caller opened and closes. Over TLS (the server's
    ssl context requiring client certificates), the client certificate must name the gateway's BIC."""
    app = _application(wire.Parties(gateway_bic, rtgs_bic), clock, statement_page_entries_max)
    app[rtgs_key] = rtgs
    return app


def make_rtgs_simulator_app(config: Config, database_url: str) -> web.Application:
    """The application of `gateway rtgs-sim`: the embedded simulator on its own database, opened on start-up (its
    reserve account and each participant's account opened unless they exist) and closed on clean-up."""
    app = _application(wire.Parties(config.central_bank.bic, config.rtgs.bic), wire.now_utc,
                       bounds.rtgs_statement_page_entries_max)  # fmt: skip
    app.cleanup_ctx.append(_simulator_context(config, database_url))
    return app


def _application(
    parties: wire.Parties, clock: Callable[[], datetime], statement_page_entries_max: int
) -> web.Application:
    assert 1 <= statement_page_entries_max <= bounds.rtgs_statement_page_entries_max, statement_page_entries_max
    app = web.Application(client_max_size=request_bytes_max)
    app[parties_key] = parties
    app[clock_key] = clock
    app[page_entries_key] = statement_page_entries_max
    app.router.add_get("/healthz", healthz)
    app.router.add_post("/v1/messages", post_message)
    return app


def _simulator_context(config: Config, database_url: str) -> Callable[[web.Application], AsyncIterator[None]]:
    async def context(app: web.Application) -> AsyncIterator[None]:
        from gateway_adapters.rtgs.simulator import RtgsSimulator
        from gateway_adapters.sql.engine import make_engine

        _make_sqlite_directory(database_url)
        engine = make_engine(database_url, config.limits)
        try:
            central_bank = config.central_bank
            simulator = await RtgsSimulator.open(engine, central_bank.reserve_rtgs_account, central_bank.bic)
            for participant in config.participants:
                opening_kopecks = config.rtgs.opening_balance_kopecks
                if await simulator.open_account(participant.rtgs_account, participant.bic, opening_kopecks):
                    log.info("opened RTGS account %s of %s", participant.rtgs_account, participant.bic)
            app[rtgs_key] = simulator
            yield
        finally:
            await engine.dispose()

    return context


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "alive"})


async def post_message(request: web.Request) -> web.StreamResponse:
    parties = request.app[parties_key]
    certified = _certificate_bic(request)
    if certified is not None and certified != parties.gateway_bic:
        text = f"the client certificate names {certified}: the RTGS serves the gateway {parties.gateway_bic} only"
        return _refused(request, 403, text)
    if request.content_type not in xml_media_types:
        return _refused(request, 415, f"the body must be ISO 20022 XML (application/xml), not {request.content_type or 'untyped'}")
    too_large = f"the body is larger than {request_bytes_max} bytes"
    if request.content_length is not None and request.content_length > request_bytes_max:
        return _refused(request, 413, too_large)
    try:
        data = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return _refused(request, 413, too_large)
    now = request.app[clock_key]()
    read = wire.read_request(parties, request.app[rtgs_key].reserve_account, data)
    if isinstance(read, wire.Refusal):
        return _xml(400, wire.reject_answer(parties, read, now))
    if read.header.from_bic is None or canonical_bic(read.header.from_bic) != parties.gateway_bic:
        text = f"AppHdr/Fr names {read.header.from_bic}: the RTGS serves the gateway {parties.gateway_bic} only"
        rejection = Rejection(forbidden_sender, f"{read.header.path}/Fr", text, Layer.BUSINESS)
        return _xml(403, wire.reject_answer(parties, wire.Refusal(rejection, read.message_id), now))
    try:
        # Shielded: a gateway that hangs up must not cut a movement short; its retry reads the outcome recorded.
        rtgs, page_entries_max = request.app[rtgs_key], request.app[page_entries_key]
        answer = await asyncio.shield(wire.respond(rtgs, parties, read, now, page_entries_max))
    except RtgsUnavailable as error:
        log.warning("%s %s: unavailable: %s", request.method, request.path, error)
        raise web.HTTPServiceUnavailable(text="the RTGS cannot answer now", headers={"Retry-After": str(bounds.retry_after_seconds)}) from None
    except ValueError as error:  # the port refuses the call itself: a programmer's error on the gateway's side
        rejection = Rejection(invalid_file_format, "", f"the RTGS refuses the call: {error}", Layer.BUSINESS)
        return _xml(400, wire.reject_answer(parties, wire.Refusal(rejection, read.message_id), now))
    return _xml(200, answer)


def _certificate_bic(request: web.Request) -> str | None:
    """The BIC the TLS client certificate names (its chain verified by the handshake); None over plain HTTP. A
    certificate naming no BIC reads as the empty string, which is nobody's."""
    transport = request.transport
    ssl_object = None if transport is None else transport.get_extra_info("ssl_object")
    if ssl_object is None:
        return None
    from gateway.security.certs import bic_from_certificate

    return bic_from_certificate(ssl_object.getpeercert(binary_form=True)) or ""


def _refused(request: web.Request, status: int, text: str) -> web.Response:
    """A transport-level refusal: an admi.002 (FF01) with the HTTP status that fits it."""
    parties = request.app[parties_key]
    rejection = Rejection(invalid_file_format, "", text, Layer.WELL_FORMEDNESS)
    return _xml(status, wire.reject_answer(parties, wire.Refusal(rejection, None), request.app[clock_key]()))


def _xml(status: int, body: bytes) -> web.Response:
    return web.Response(status=status, body=body, content_type="application/xml", charset="utf-8")


# --------------------------------------------------------------------------------------------------------------
# `gateway rtgs-sim`: the embedded simulator, served
# --------------------------------------------------------------------------------------------------------------


class RtgsSimulatorUsageError(ValueError):
    """rtgs-sim cannot start as asked: plain HTTP off loopback, or TLS files missing."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def run_rtgs_simulator(
    config: Config,
    host: str,
    port: int,
    database_url: str | None,
    tls_dir: Path | None,
) -> None:
    """Serve the embedded simulator on `database_url` (default: ./var/rtgs-sim.sqlite3, never the gateway's database)
    until SIGTERM or SIGINT. Opens the reserve account (owner the central bank, at 0) and each participant's RTGS
    account (at rtgs.opening_balance_kopecks) unless they exist. Plain HTTP on loopback only; with `tls_dir`, TLS
    with server.pem/server.key, client certificates from ca.pem required, and the gateway's BIC in them."""
    ssl_context = None
    if tls_dir is None:
        if not is_loopback(host):
            raise RtgsSimulatorUsageError(f"refusing plain HTTP on {host}: without --tls-dir rtgs-sim serves on a loopback address only")
    else:
        files = [tls_dir / name for name in tls_file_names]
        missing = [str(path) for path in files if not path.is_file()]
        if missing:
            raise RtgsSimulatorUsageError(f"TLS files missing: {', '.join(missing)} (create a development set with `gateway certs init {tls_dir}`)")
        from gateway.security.certs import server_ssl_context

        ssl_context = server_ssl_context(*files)
    url = database_url or rtgs_cli.default_database_url
    app = make_rtgs_simulator_app(config, url)
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=config.limits.shutdown_timeout_ms / 1000)
    await runner.setup()  # opens the simulator's database
    try:
        site = web.TCPSite(runner, host, port, ssl_context=ssl_context, backlog=128)
        await site.start()
        scheme = "http" if ssl_context is None else "https"
        log.info("RTGS simulator (%s) on %s://%s:%d, database %s", config.rtgs.bic, scheme, host, port, _redacted(url))
        await _until_stopped()
        log.info("RTGS simulator stopping")
    finally:
        await runner.cleanup()  # closes it


async def _until_stopped() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signal_number, stop.set)
    try:
        await stop.wait()
    finally:
        for signal_number in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signal_number)


def _make_sqlite_directory(url: str) -> None:
    """The simulator's SQLite file may be the first thing under ./var: make its folder, as the gateway's demo does."""
    prefix = "sqlite+aiosqlite:///"
    if url.startswith(prefix) and url != prefix + ":memory:":
        Path(url.removeprefix(prefix)).parent.mkdir(parents=True, exist_ok=True)


def _redacted(url: str) -> str:
    scheme, _, rest = url.partition("://")
    _, at, location = rest.rpartition("@")
    return f"{scheme}://***@{location}" if at else url
