"""A gateway served through the real edge (gateway.http.listener.EdgeSite: TLS with client certificates, the
connection bounds) on an embedded SQLite ledger, with a development PKI that also holds a certificate for a bank the
gateway does not know, and raw TLS clients to send it exactly the bytes a test wants."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from gateway.app import make_app
from gateway.config import load_config
from gateway.domain.ledger import TransferKind, TransferRequest, TransferResult
from gateway.http.edge import EdgeLimits
from gateway.http.keys import gateway_key
from gateway.http.listener import EdgeSite, runner_options
from gateway.security.certs import Party, client_ssl_context, parties_of, server_ssl_context, write_development_pki
from tests.conftest import write_config
from tests.settlement.builders import ALFA, CBRF, SBER, VTB

UNKNOWN_BANK = "TESTRUMMXXX"  # a certificate from the gateway's CA for a BIC that is no participant
FUNDING = {SBER: 3_000_000_00, VTB: 2_000_000_00, ALFA: 1_000_000_00}

# How long a test waits for the server to cut a connection it must cut: many times any bound the tests configure, so
# that a loaded machine does not fail a test, while a connection held for good still does.
CUT_WITHIN_SECONDS = 15.0

test_limits = EdgeLimits(
    connections_max=64,
    connections_per_certificate_max=16,
    tls_handshake_timeout_ms=1_000,
    header_timeout_ms=1_000,
    body_timeout_ms=1_000,
)


@dataclass
class EdgeGateway:
    port: int
    certs: Path
    app: web.Application
    site: EdgeSite

    @property
    def url(self) -> str:
        return f"https://localhost:{self.port}"

    def context(self, bic: str | None, certs: Path | None = None) -> ssl.SSLContext:
        """A bank's client context, with its certificate from `certs` (the gateway's PKI by default), or none."""
        folder = certs or self.certs
        if bic is None:
            return client_ssl_context(self.certs / "ca.pem")
        return client_ssl_context(self.certs / "ca.pem", folder / f"{bic}.pem", folder / f"{bic}.key")

    async def connect(
        self, bic: str | None, certs: Path | None = None
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """A TLS connection, its handshake done as far as the client can tell."""
        return await asyncio.open_connection(
            "127.0.0.1", self.port, ssl=self.context(bic, certs), server_hostname="localhost"
        )

    async def request(self, method: str, path: str, bic: str, body: bytes = b"", content_type: str = "application/xml"
                      ) -> tuple[int, bytes]:
        async with aiohttp.ClientSession() as session, session.request(
            method, self.url + path, data=body or None, ssl=self.context(bic),
            headers={"Content-Type": content_type} if body else {},
        ) as response:
            return response.status, await response.read()


async def read_until_closed(reader: asyncio.StreamReader) -> bytes | BaseException:
    """Everything the server sends until it closes the connection, or the error that ended it (a TLS alert, a reset).
    Fails the test if the server holds the connection beyond CUT_WITHIN_SECONDS."""
    try:
        return await asyncio.wait_for(reader.read(), CUT_WITHIN_SECONDS)
    except TimeoutError:
        pytest.fail(f"the server still held the connection after {CUT_WITHIN_SECONDS} s")
    except (ssl.SSLError, ConnectionError) as error:
        return error


async def close_quietly(writer: asyncio.StreamWriter) -> None:
    writer.transport.abort()
    with contextlib.suppress(Exception):
        await writer.wait_closed()


EdgeFactory = Callable[..., Awaitable[EdgeGateway]]


@pytest.fixture
async def edge_gateway(tmp_path: Path) -> AsyncIterator[EdgeFactory]:
    """Builds the gateway behind an EdgeSite with the limits a test gives, and funds the banks' wallets."""
    runners: list[web.AppRunner] = []

    async def build(limits: EdgeLimits = test_limits, limits_toml: str = "", tls: bool = True) -> EdgeGateway:
        """`tls` False: the loopback development mode (plain HTTP, nobody authenticated)."""
        database_url = f"sqlite+aiosqlite:///{tmp_path / 'ledger.sqlite3'}"
        config = load_config(write_config(tmp_path, database_url, limits_toml=limits_toml), environ={})
        certs = tmp_path / "certs"
        if not certs.exists():
            parties = parties_of(config)
            write_development_pki(certs, parties[0], [*parties, Party(UNKNOWN_BANK, "Unknown Bank")], force=False)
        app = make_app(config, upgrade_database=True, plain_http=not tls)
        runner = web.AppRunner(app, **runner_options(config.limits))
        await runner.setup()
        runners.append(runner)
        context = server_ssl_context(certs / "server.pem", certs / "server.key", certs / "ca.pem") if tls else None
        site = EdgeSite(runner, "127.0.0.1", 0, ssl_context=context, limits=limits)
        await site.start()
        await _mint(app)
        return EdgeGateway(site.port, certs, app, site)

    yield build
    for runner in runners:
        await runner.cleanup()


async def _mint(app: web.Application) -> None:
    gateway = app[gateway_key]
    ids = {a.code: a.id for a in await gateway.store.accounts()}
    mints = [
        TransferRequest(uuid.uuid4(), ids[f"{CBRF}/issuance"], ids[f"{bic}/main"], kopecks, TransferKind.MINT, "mint")
        for bic, kopecks in FUNDING.items()
    ]
    assert await gateway.batcher.submit(mints) == [TransferResult.OK] * len(mints)
