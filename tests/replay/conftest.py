"""Shared by the replay tests: a fresh gateway over real mutual TLS on each kind of database (as
tests/settlement/test_http_mtls.py starts one), and `gateway replay` run in the same event loop against it."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web
from rich.console import Console

from gateway.app import make_app
from gateway.config import load_config
from gateway.replay.client import Identities
from gateway.replay.run import Options, run_replay
from gateway.security.certs import parties_of, server_ssl_context, write_development_pki
from tests.conftest import write_config

here = Path(__file__).resolve().parent
day_folder = here / "day"
day_goldens = here / "day-goldens"
# Each bank's RTGS account at the embedded simulator opens with this (the day's conversions need it; 04 asks more).
rtgs_opening_rub = "10000000.00"


@dataclass
class TlsGateway:
    url: str
    certs: Path


@dataclass
class ReplayRun:
    status: int
    output: str  # the summary, differences and throughput line
    errors: str  # progress and "could not run" messages


@pytest.fixture
async def tls_gateway(database_url: str, tmp_path: Path) -> AsyncIterator[TlsGateway]:
    """The gateway as `gateway serve` runs it, on a free port, with a development PKI of its participants."""
    config = load_config(
        write_config(tmp_path, database_url, rtgs_toml=f'opening_balance_rub = "{rtgs_opening_rub}"'), environ={}
    )
    certs = tmp_path / "certs"
    parties = parties_of(config)
    write_development_pki(certs, parties[0], parties, force=False)
    runner = web.AppRunner(make_app(config, upgrade_database=True, plain_http=False))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_ssl_context(
        certs / "server.pem", certs / "server.key", certs / "ca.pem"))
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield TlsGateway(f"https://127.0.0.1:{port}", certs)
    finally:
        await runner.cleanup()


async def replay(
    folder: Path, url: str, certs: Path, *, expect: Path | None = None, record: Path | None = None,
    concurrency: int = 1, identities: Identities | None = None,
) -> ReplayRun:
    """`gateway replay FOLDER --url URL --certs CERTS [...]`, in this event loop, its output captured."""
    output, errors = io.StringIO(), io.StringIO()
    options = Options(
        folder=folder,
        url=url,
        identities=identities or Identities(ca_file=certs / "ca.pem", certs_dir=certs),
        expect_dir=expect,
        record_dir=record,
        concurrency=concurrency,
    )
    status = await run_replay(
        options,
        Console(file=output, width=200, soft_wrap=True, highlight=False, color_system=None),
        Console(file=errors, width=200, soft_wrap=True, highlight=False, color_system=None),
    )
    return ReplayRun(status, output.getvalue(), errors.getvalue())
