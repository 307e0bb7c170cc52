"""The HTTP listener's edge: each accepted connection, from its first byte to aiohttp's protocol and back.

aiohttp bounds what a request may hold, not how long it may take to arrive: a client that sends half its headers
and stops is held until it goes away, and with it the connection's buffers (about 250 kB with TLS). One
EdgeConnection sits between each accepted socket and aiohttp's protocol and bounds, per gateway process:

  connections      connections_max open at once, TLS handshakes included: one more is closed as it is accepted
  per certificate  connections_per_certificate_max of them with one client certificate: one more is closed once
                   its handshake shows the certificate, so that one bank (or one stolen certificate) cannot take all
  TLS handshake    finished within bounds.tls_handshake_timeout_ms
  headers          complete within header_timeout_ms of the request's first byte
  body             complete within body_timeout_ms of the end of the headers
  idle             idle_timeout_ms between requests (aiohttp's keep-alive timeout, set by gateway.http.listener)
A connection cut for any of these gets no answer: it is aborted, which frees its memory at once, and one line is
logged with the peer's address.

The TLS handshake is done here (loop.start_tls) rather than by the listening socket, so that a connection is counted
from the moment it is accepted and a refused handshake is logged once with the peer address, at WARNING, instead of
vanishing (asyncio logs failed server handshakes only in debug mode). A client without a certificate from the
gateway's client CA never gets past it: no HTTP answer at all (gateway.security.certs.server_ssl_context).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import ssl
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from gateway import bounds
from gateway.http import heap
from gateway.config import Limits
from gateway.security.certs import bic_from_certificate

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EdgeLimits:
    connections_max: int
    connections_per_certificate_max: int
    tls_handshake_timeout_ms: int
    header_timeout_ms: int
    body_timeout_ms: int

    def __post_init__(self) -> None:
        assert 1 <= self.connections_per_certificate_max <= self.connections_max
        assert self.tls_handshake_timeout_ms > 0 and self.header_timeout_ms > 0 and self.body_timeout_ms > 0

    @classmethod
    def of(cls, limits: Limits) -> EdgeLimits:
        return cls(
            connections_max=limits.connections_max,
            connections_per_certificate_max=limits.connections_per_certificate_max,
            tls_handshake_timeout_ms=bounds.tls_handshake_timeout_ms,
            header_timeout_ms=limits.header_timeout_ms,
            body_timeout_ms=limits.body_timeout_ms,
        )


def excerpt(text: object) -> str:
    """Untrusted text (a TLS alert, a parser's complaint) as one bounded log line, control characters escaped."""
    words = " ".join(str(text).split())
    line = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in words)
    cut = bounds.log_excerpt_chars_max
    return line if len(line) <= cut else line[:cut] + "..."


def peer_address(transport: asyncio.BaseTransport) -> str:
    peer = transport.get_extra_info("peername")
    if isinstance(peer, tuple) and len(peer) >= 2:
        host, port = peer[0], peer[1]
        return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"
    return "unknown peer"


def certificate_key(der: bytes | None) -> str:
    """What the per-certificate bound counts by: the BIC a certificate names, else the certificate itself (one from
    the gateway's CA that names no BIC is still one client)."""
    bic = bic_from_certificate(der)
    if bic is not None:
        return bic
    return "sha256:" + hashlib.sha256(der or b"").hexdigest()[:16]


class Edge:
    """The connections of one listening socket: how many are open, how many per client certificate, and the memory
    they leave behind when they close."""

    def __init__(
        self, http_protocol: Callable[[], asyncio.Protocol], ssl_context: ssl.SSLContext | None, limits: EdgeLimits
    ) -> None:
        """`http_protocol` makes aiohttp's protocol for one connection (the runner's Server); `ssl_context` None
        serves plain HTTP (the loopback development mode)."""
        self.limits = limits
        self.ssl_context = ssl_context
        self._http_protocol = http_protocol
        self._open: set[EdgeConnection] = set()
        self._per_certificate: Counter[str] = Counter()
        self._closed_since_trim = 0

    def connection(self) -> EdgeConnection:
        """The protocol factory for loop.create_server."""
        return EdgeConnection(self)

    @property
    def open_connections(self) -> int:
        return len(self._open)

    def connections_of(self, certificate: str) -> int:
        return self._per_certificate[certificate]

    def abort_all(self) -> None:
        """Shutdown: connections still in their handshake are aborted (aiohttp closes the others gracefully)."""
        for connection in list(self._open):
            if not connection.serving:
                connection.abort()

    async def trim_heap(self) -> None:
        """Runs while the listener does: after a burst of connections closed, hand the freed memory back."""
        while True:
            await asyncio.sleep(bounds.heap_trim_seconds)
            if self._closed_since_trim >= bounds.heap_trim_connections_min:
                self._closed_since_trim = 0
                await asyncio.to_thread(heap.trim)  # it walks the whole heap; ctypes lets the loop run meanwhile

    # --- for EdgeConnection --------------------------------------------------------------------------------------

    def _admit(self, connection: EdgeConnection) -> bool:
        if len(self._open) >= self.limits.connections_max:
            return False
        self._open.add(connection)
        return True

    def _admit_certificate(self, certificate: str) -> bool:
        if self._per_certificate[certificate] >= self.limits.connections_per_certificate_max:
            return False
        self._per_certificate[certificate] += 1
        return True

    def _release(self, connection: EdgeConnection, certificate: str | None) -> None:
        self._open.discard(connection)
        self._closed_since_trim += 1
        if certificate is not None:
            self._per_certificate[certificate] -= 1
            assert self._per_certificate[certificate] >= 0, certificate
            if not self._per_certificate[certificate]:
                del self._per_certificate[certificate]

    def _make_http_protocol(self) -> asyncio.Protocol:
        return self._http_protocol()


class EdgeConnection(asyncio.Protocol):
    """One accepted connection: the TLS handshake, the bounds above, and aiohttp's protocol behind, to which every
    byte and event is handed on."""

    def __init__(self, edge: Edge) -> None:
        self._edge = edge
        self._socket_transport: asyncio.Transport | None = None
        self._transport: asyncio.Transport | None = None  # what aiohttp writes to: the TLS layer, or the socket
        self._http: asyncio.Protocol | None = None
        self._early: list[bytes] = []  # bytes that came with the handshake's last flight, before aiohttp took over
        self._early_eof = False
        self._peer = "unknown peer"
        self._certificate: str | None = None
        self._admitted = False
        self._closed = False
        self._handshake: asyncio.Task[None] | None = None
        self._header_deadline: asyncio.TimerHandle | None = None
        self._body_deadline: asyncio.TimerHandle | None = None
        self._in_request = False

    @property
    def serving(self) -> bool:
        """aiohttp has the connection (its handshake, if any, is done)."""
        return self._http is not None

    @property
    def peer(self) -> str:
        return self._peer

    def abort(self) -> None:
        """Cut the connection at once, buffers and all: no TLS close_notify a slow client could make us wait for."""
        transport = self._transport or self._socket_transport
        if transport is not None:
            transport.abort()
        if self._handshake is not None:
            self._handshake.cancel()

    # --- asyncio.Protocol: the socket, then (after start_tls) the TLS layer ---------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._socket_transport = transport
        self._peer = peer_address(transport)
        edge = self._edge
        if not edge._admit(self):
            log.warning("refused a connection from %s: %d connections open (connections_max)", self._peer,
                        edge.limits.connections_max)
            self._closed = True
            transport.abort()
            return
        self._admitted = True
        if edge.ssl_context is None:
            self._serve(transport)
            return
        # Nothing is read until start_tls has put the TLS layer in place (it resumes reading itself).
        transport.pause_reading()
        self._handshake = asyncio.get_running_loop().create_task(self._handshake_tls(transport, edge.ssl_context))

    def data_received(self, data: bytes) -> None:
        http = self._http
        if http is None:
            self._early.append(data)
            return
        if not self._in_request and self._header_deadline is None:
            loop = asyncio.get_running_loop()
            self._header_deadline = loop.call_later(self._edge.limits.header_timeout_ms / 1000, self._headers_late)
        http.data_received(data)

    def eof_received(self) -> bool | None:
        if self._http is None:
            self._early_eof = True
            return True  # kept open until aiohttp has the bytes that came before the EOF
        return self._http.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self._release()
        http, self._http = self._http, None
        if http is not None:
            http.connection_lost(exc)

    def pause_writing(self) -> None:
        if self._http is not None:
            self._http.pause_writing()

    def resume_writing(self) -> None:
        if self._http is not None:
            self._http.resume_writing()

    # --- requests, as edge_middleware reports them ---------------------------------------------------------------

    def request_started(self, request: web.BaseRequest) -> None:
        """Headers complete: the header deadline is met, and the body's starts."""
        self._in_request = True
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None
        if request.body_exists and not request.content.is_eof():
            loop = asyncio.get_running_loop()
            self._body_deadline = loop.call_later(self._edge.limits.body_timeout_ms / 1000, self._body_late, request)

    def request_finished(self) -> None:
        self._in_request = False
        if self._body_deadline is not None:
            self._body_deadline.cancel()
            self._body_deadline = None

    # --- inside ----------------------------------------------------------------------------------------------------

    async def _handshake_tls(self, transport: asyncio.Transport, context: ssl.SSLContext) -> None:
        loop = asyncio.get_running_loop()
        timeout_ms = self._edge.limits.tls_handshake_timeout_ms
        try:
            async with asyncio.timeout(timeout_ms / 1000):
                # asyncio's own handshake timeout stays as a backstop; this one's expiry is told apart below.
                tls = await loop.start_tls(
                    transport, self, context, server_side=True, ssl_handshake_timeout=2 * timeout_ms / 1000
                )
        except ssl.SSLError as error:
            log.warning("refused the TLS handshake of %s: %s", self._peer, _tls_reason(error))
            self._release()
            return
        except TimeoutError:
            log.warning("cut the TLS handshake of %s: not finished within %d ms", self._peer, timeout_ms)
            self._release()
            return
        except OSError as error:  # the client hung up or reset: nothing refused, nothing worth a warning
            log.info("%s closed its connection during the TLS handshake (%s)", self._peer, type(error).__name__)
            self._release()
            return
        except asyncio.CancelledError:  # aborted (a shutdown): the TLS layer tells nobody of a handshake cut short
            self._release()
            raise
        finally:
            self._handshake = None
        if tls is None or self._closed:  # lost in the moment between the handshake and this
            self._release()
            return
        ssl_object = tls.get_extra_info("ssl_object")
        certificate = certificate_key(None if ssl_object is None else ssl_object.getpeercert(binary_form=True))
        if not self._edge._admit_certificate(certificate):
            log.warning("refused a connection from %s: certificate %s already holds %d connections"
                        " (connections_per_certificate_max)", self._peer, certificate,
                        self._edge.limits.connections_per_certificate_max)
            self._transport = tls
            self.abort()
            self._release()
            return
        self._certificate = certificate
        self._serve(tls)

    def _serve(self, transport: asyncio.Transport) -> None:
        """Hand the connection to aiohttp, with whatever arrived before it could take it."""
        self._transport = transport
        http = self._edge._make_http_protocol()
        self._http = http
        http.connection_made(transport)
        early, self._early = self._early, []
        for data in early:
            if self._http is None:
                return
            self.data_received(data)
        if self._early_eof and self._http is not None and not self._http.eof_received():
            transport.close()

    def _headers_late(self) -> None:
        self._header_deadline = None
        if self._in_request or self._closed:
            return
        log.info("cut the connection of %s: request headers not complete within %d ms (header_timeout_ms)",
                 self._peer, self._edge.limits.header_timeout_ms)
        self.abort()

    def _body_late(self, request: web.BaseRequest) -> None:
        self._body_deadline = None
        if request.content.is_eof() or self._closed:
            return
        log.info("cut the connection of %s: request body not complete within %d ms (body_timeout_ms)",
                 self._peer, self._edge.limits.body_timeout_ms)
        self.abort()

    def _release(self) -> None:
        """Once per connection, however it ends: its place in the counts, its timers."""
        if self._closed:
            return
        self._closed = True
        for deadline in (self._header_deadline, self._body_deadline):
            if deadline is not None:
                deadline.cancel()
        self._header_deadline = self._body_deadline = None
        self._early = []
        self._transport = self._socket_transport = None
        if self._admitted:
            self._edge._release(self, self._certificate)


def _tls_reason(error: ssl.SSLError) -> str:
    """e.g. "PEER_DID_NOT_RETURN_A_CERTIFICATE", "CERTIFICATE_VERIFY_FAILED: unable to get local issuer certificate"."""
    reason = error.reason or type(error).__name__
    detail = getattr(error, "verify_message", None)
    return excerpt(f"{reason}: {detail}" if detail else reason)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def edge_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Tells the connection's EdgeConnection when a request's headers are complete and when its handler is done.
    Outermost of the app's middlewares; a no-op for connections that did not come through an Edge (test clients)."""
    transport = request.transport
    connection: Any = None if transport is None else transport.get_protocol()
    if not isinstance(connection, EdgeConnection):
        return await handler(request)
    connection.request_started(request)
    try:
        return await handler(request)
    finally:
        connection.request_finished()
