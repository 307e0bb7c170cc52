"""Serving the app: the listening socket behind the edge (gateway.http.edge), aiohttp's runner with every protocol
option set at the call site, and the process's loop until SIGINT or SIGTERM. `gateway serve` runs serve_forever;
tests that need the real edge start an EdgeSite on a runner of their own."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import gc
import logging
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.http_exceptions import HttpProcessingError

from gateway import bounds
from gateway.config import Limits
from gateway.http.edge import Edge, EdgeLimits, excerpt
from gateway.http.ops import make_ops_app

log = logging.getLogger(__name__)


class ParserLog(logging.LoggerAdapter):  # type: ignore[type-arg]
    """aiohttp's server log, except that a request its parser refused (a bad request line, an oversized header, bytes
    that are not HTTP) is one line at INFO naming the peer and the complaint. aiohttp logs those at ERROR with a
    traceback, or at DEBUG when they are a connection's first bytes: either way a client could flood the log, or
    hide its probing in it. Everything else passes through unchanged."""

    def log(self, level: int, msg: object, *args: object, **kwargs: Any) -> None:
        error = kwargs.get("exc_info")
        if isinstance(error, HttpProcessingError):
            peer = args[0] if args else "unknown peer"
            self.logger.info("refused a malformed HTTP request from %s: %s", peer, excerpt(error.message or error))
            return
        super().log(level, msg, *args, **kwargs)


class AccessLog(AbstractAccessLogger):
    """One line per request: peer, request line, status, bytes sent (headers and body), milliseconds. aiohttp's
    default access log formats its own timestamp with strftime and walks a compiled format for every line: 4 % of
    the CPU of a single payment (docs/performance.md); the log record has a timestamp already."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info('%s "%s %s HTTP/%d.%d" %d %d %.1f ms', request.remote, request.method, request.path_qs,
                         request.version.major, request.version.minor, response.status, response.body_length,
                         time * 1000)

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)


def runner_options(limits: Limits) -> dict[str, Any]:
    """aiohttp's per-connection options, every one explicit rather than aiohttp's default."""
    return {
        "shutdown_timeout": limits.shutdown_timeout_ms / 1000,
        "keepalive_timeout": limits.idle_timeout_ms / 1000,  # idle between requests, and before the first
        "max_line_size": bounds.request_line_bytes_max,
        "max_field_size": bounds.header_field_bytes_max,
        "max_headers": bounds.headers_max,
        "lingering_time": bounds.lingering_close_ms / 1000,
        "handler_cancellation": False,  # a client hanging up never cancels a handler half-way
        "logger": ParserLog(logging.getLogger("aiohttp.server"), {}),
        "access_log_class": AccessLog,
    }


class EdgeSite(web.BaseSite):
    """A TCP listener whose connections go through an Edge; it does TLS itself (the socket is plain)."""

    def __init__(
        self,
        runner: web.BaseRunner,
        host: str,
        port: int,
        *,
        ssl_context: ssl.SSLContext | None,
        limits: EdgeLimits,
        reuse_port: bool = False,
    ) -> None:
        super().__init__(runner, ssl_context=ssl_context, backlog=bounds.listen_backlog)
        self._host = host
        self._port = port
        self._reuse_port = reuse_port
        self._limits = limits
        self.edge: Edge | None = None
        self._trimming: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        """The bound port (the requested one until started; 0 asks for any free port)."""
        if self._server is not None and self._server.sockets:  # type: ignore[attr-defined]
            return int(self._server.sockets[0].getsockname()[1])  # type: ignore[attr-defined]
        return self._port

    @property
    def name(self) -> str:
        scheme = "https" if self._ssl_context is not None else "http"
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"{scheme}://{host}:{self.port}"

    async def start(self) -> None:
        await super().start()
        server = self._runner.server
        assert server is not None, "runner.setup() first"
        self.edge = Edge(server, self._ssl_context, self._limits)
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self.edge.connection,
            self._host,
            self._port,
            backlog=self._backlog,
            reuse_address=True,
            reuse_port=self._reuse_port,
        )
        self._trimming = loop.create_task(self.edge.trim_heap(), name="heap-trim")

    async def stop(self) -> None:
        if self._trimming is not None:
            self._trimming.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._trimming
            self._trimming = None
        await super().stop()
        if self.edge is not None:
            self.edge.abort_all()


def serve_forever(
    app: web.Application,
    *,
    host: str,
    port: int,
    ssl_context: ssl.SSLContext | None,
    limits: Limits,
    reuse_port: bool,
    announce: Callable[[str], None],
    alongside: Callable[[web.Application, str], Awaitable[bool]] | None = None,
    ops_site: OpsSite | None = None,
) -> None:
    """Serve until SIGINT or SIGTERM, then close gracefully: stop listening, let requests in progress finish within
    shutdown_timeout_ms, and run the app's cleanup (the auto-batcher settles what it holds).

    `ops_site` makes the ops listener's site (gateway.http.ops) on its runner, started once the app is: a TCP site
    for `gateway serve`, a unix socket its supervisor asks for a worker of `serve --workers N`. A listener that cannot
    bind raises CannotListen, saying which setting moves it.

    `alongside` (`gateway demo`) runs in the same loop once the site listens, given the app and the site's URL; it
    returns whether to go on serving until a signal (False: close now). What it raises closes the server and goes
    on to the caller."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    main = loop.create_task(_serve(app, host, port, ssl_context, limits, reuse_port, announce, alongside, ops_site))
    try:
        loop.run_until_complete(main)
    except (web.GracefulExit, KeyboardInterrupt):
        pass
    finally:
        if not main.done():
            main.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                loop.run_until_complete(main)
        left = [task for task in asyncio.all_tasks(loop) if not task.done()]
        for task in left:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


async def _serve(
    app: web.Application,
    host: str,
    port: int,
    ssl_context: ssl.SSLContext | None,
    limits: Limits,
    reuse_port: bool,
    announce: Callable[[str], None],
    alongside: Callable[[web.Application, str], Awaitable[bool]] | None,
    ops_site: OpsSite | None,
) -> None:
    runner = web.AppRunner(app, handle_signals=True, **runner_options(limits))
    await runner.setup()
    _out_of_the_collectors_way()
    # Its own runner (no access log: a scrape every few seconds is no news), stopped after the banks' port.
    ops_runner = web.AppRunner(make_ops_app(app), handle_signals=False, access_log=None,
                               shutdown_timeout=limits.shutdown_timeout_ms / 1000)
    try:
        edge_limits = EdgeLimits.of(limits)
        site = EdgeSite(runner, host, port, ssl_context=ssl_context, limits=edge_limits, reuse_port=reuse_port)
        await bind_or_explain(site, "serve --port P, or [http] port")
        announce(f"serving on {site.name}")
        if ops_site is not None:
            await ops_runner.setup()
            ops = ops_site(ops_runner)
            await bind_or_explain(ops, "[http] ops_port, or GATEWAY_HTTP__OPS_PORT")
            announce(f"ops listener (/healthz, /readyz, /metrics; no client certificate) on {_site_name(ops)}")
        if alongside is None or await alongside(app, site.name):
            await asyncio.Event().wait()  # until a signal raises GracefulExit
    finally:
        await runner.cleanup()
        await ops_runner.cleanup()


OpsSite = Callable[[web.AppRunner], web.BaseSite]


young_generation_objects = 10_000  # the collector's first threshold in `gateway serve` (Python's default: 700)


def _out_of_the_collectors_way() -> None:
    """What the gateway built to start (its config, schemas, routes, the database layer's metadata) lives as long as
    the process: frozen, the cyclic garbage collector's passes walk only what messages allocate, not all of it again.
    A young generation of 10,000 objects instead of 700 makes those passes rarer: a message's objects die by their
    reference counts long before, and a pass then finds less to walk."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(young_generation_objects, middle, old)


class CannotListen(Exception):
    """A listener could not bind its address (in use, not this host's, a privileged port)."""

    def __init__(self, address: str, reason: str, hint: str) -> None:
        super().__init__(f"cannot listen on {address}: {reason} ({hint})")


async def bind_or_explain(site: web.BaseSite, hint: str) -> None:
    """Start a site; an address it cannot bind is a CannotListen saying why, ending with `hint`."""
    try:
        await site.start()
    except OSError as error:
        if error.errno not in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
            raise
        reason = "in use by another process" if error.errno == errno.EADDRINUSE else error.strerror or str(error)
        raise CannotListen(site.name.partition("://")[2], reason, hint) from None


def _site_name(site: web.BaseSite) -> str:
    """The site's address as bound (port 0 asks for any free one): a URL, or a unix socket's path."""
    if isinstance(site, web.UnixSite):
        return f"unix socket {site._path}"  # type: ignore[attr-defined]
    server = getattr(site, "_server", None)
    sockets = getattr(server, "sockets", None)
    if sockets:
        host, port = sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"
    return site.name
