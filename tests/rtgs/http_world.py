"""An RTGS over HTTP for tests: a `rtgs-sim` subprocess (python -m gateway_adapters.rtgs.cli) on a database URL, the
HttpRtgs client that talks to it, and an RtgsSimulator opened on the same database for administration.

`http_rtgs_world(directory, database_url)` yields an HttpRtgsWorld, whose rtgs / admin / reserve_account are what the
contract suite's RtgsWorld holds (tests/rtgs/conftest.py), so that the contract runs over HTTP by adding a world kind:

    @asynccontextmanager
    async def http_sqlite(tmp_path):
        async with http_rtgs_world(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'rtgs.sqlite3'}") as world:
            yield RtgsWorld(rtgs=world.rtgs, admin=world.admin, reserve_account=world.reserve_account)
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from gateway_adapters.rtgs.http_client import HttpRtgs
from gateway_adapters.rtgs.simulator import RtgsSimulator
from gateway_adapters.sql.engine import make_engine

from gateway.config import Config, load_config
from gateway.security.certs import client_ssl_context
from tests.conftest import BANKS

CBR_BIC = "CBRFRUMMXXX"
RTGS_BIC = "CBRFRUMMRTG"
RESERVE_ACCOUNT = "30101810000000000001"  # as in tests/conftest.py

startup_seconds_max = 30.0  # a cold interpreter imports the gateway, SQLAlchemy and aiohttp, then opens the database
stop_seconds_max = 10.0
health_poll_seconds = 0.05
client_timeout_ms_default = 5_000  # generous: under a loaded CI machine a SQLite fsync can take a while


def free_port() -> int:
    """A loopback port free now (another process could take it before the server binds it; tests accept that)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def write_rtgs_config(directory: Path, *, participants: bool, opening_balance_rub: str | None = None) -> Path:
    """A config for rtgs-sim: the central bank (its reserve account), optionally the three test banks (their RTGS
    accounts opened with `opening_balance_rub`, none: zero), and the RTGS's BIC. The [database] is the gateway's,
    never used."""
    opening = "" if opening_balance_rub is None else f'opening_balance_rub = "{opening_balance_rub}"\n'
    banks = ""
    if participants:
        banks = "".join(
            f'[[participants]]\nbic = "{bic}"\nname = "{name}"\nclearing_code = "{clearing}"\n'
            f'rtgs_account = "{rtgs}"\nwallets = ["main"]\n\n'
            for bic, name, clearing, rtgs in BANKS
        )
    text = (
        f'[database]\nurl = "sqlite+aiosqlite:///{directory / "gateway-unused.sqlite3"}"\n\n'
        f'[central_bank]\nbic = "{CBR_BIC}"\nname = "Bank of Russia"\nsigning_key_file = "{directory / "unused-key.pem"}"\n'
        f'emission_cap_rub = "1000000000.00"\nreserve_rtgs_account = "{RESERVE_ACCOUNT}"\n\n'
        f"{banks}"
        f'[rtgs]\nbic = "{RTGS_BIC}"\n{opening}'
    )
    path = directory / "rtgs-sim.toml"
    path.write_text(text, encoding="utf-8")
    return path


@dataclass
class RtgsServer:
    """One `rtgs-sim` on a fixed port and database, which can be started again after it stops or is killed."""

    config_path: Path
    database_url: str
    port: int
    tls_dir: Path | None = None
    host: str = "127.0.0.1"
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)
    starts: int = field(default=0, init=False)

    @property
    def url(self) -> str:
        return f"{'https' if self.tls_dir is not None else 'http'}://{self.host}:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.config_path.parent / f"rtgs-sim-{self.port}.log"

    def command(self) -> list[str]:
        command = [sys.executable, "-m", "gateway_adapters.rtgs.cli", "--config", str(self.config_path),
                   "--host", self.host, "--port", str(self.port), "--database", self.database_url]  # fmt: skip
        if self.tls_dir is not None:
            command += ["--tls-dir", str(self.tls_dir)]
        return command

    async def start(self) -> None:
        """Start the subprocess and wait until GET /healthz answers; fail with its log if it exits or never does."""
        assert self.process is None or self.process.poll() is not None, "already running"
        self.starts += 1
        self._spawn()
        await self._wait_healthy()

    def _spawn(self) -> None:
        """Popen returns once the child is forked: no need to leave the event loop for it. The child gets no
        GATEWAY_* variable, so that no <SECTION>__<KEY> override in the test's environment changes its config."""
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command(), cwd=self.config_path.parent, stdout=log, stderr=subprocess.STDOUT,
                env={key: value for key, value in os.environ.items() if not key.startswith("GATEWAY_")},
            )  # fmt: skip

    async def _wait_healthy(self) -> None:
        assert self.process is not None
        ssl_context = None
        if self.tls_dir is not None:
            ssl_context = client_ssl_context(
                self.tls_dir / "ca.pem", self.tls_dir / f"{CBR_BIC}.pem", self.tls_dir / f"{CBR_BIC}.key"
            )
        deadline = time.monotonic() + startup_seconds_max
        timeout = aiohttp.ClientTimeout(total=1)
        connector = aiohttp.TCPConnector(ssl=True if ssl_context is None else ssl_context, force_close=True)
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise AssertionError(f"rtgs-sim exited with {self.process.returncode}:\n{self.log()}")
                try:
                    async with session.get(f"{self.url}/healthz") as response:
                        if response.status == 200:
                            return
                except (TimeoutError, aiohttp.ClientError, OSError):
                    pass
                await asyncio.sleep(health_poll_seconds)
        self.kill()
        raise AssertionError(f"rtgs-sim did not answer /healthz within {startup_seconds_max} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    async def stop(self) -> int:
        """SIGTERM, as an operator stops it; its exit status."""
        return await self._end(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL: no clean-up at all, as a crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=stop_seconds_max)

    async def _end(self, signal_number: int) -> int:
        process = self.process
        assert process is not None
        if process.poll() is None:
            process.send_signal(signal_number)
            try:
                await asyncio.to_thread(process.wait, stop_seconds_max)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=stop_seconds_max)
        return process.returncode


def client_for(server: RtgsServer, *, timeout_ms: int = client_timeout_ms_default, certificate_bic: str = CBR_BIC) -> HttpRtgs:
    """The gateway's client of `server`; over TLS with the client certificate of `certificate_bic`."""
    ssl_context = None
    if server.tls_dir is not None:
        tls = server.tls_dir
        ssl_context = client_ssl_context(tls / "ca.pem", tls / f"{certificate_bic}.pem", tls / f"{certificate_bic}.key")
    return HttpRtgs(server.url, CBR_BIC, RTGS_BIC, RESERVE_ACCOUNT, timeout_ms, ssl_context)


@asynccontextmanager
async def running_server(
    directory: Path,
    database_url: str,
    *,
    participants: bool = False,
    opening_balance_rub: str | None = None,
    tls_dir: Path | None = None,
) -> AsyncIterator[RtgsServer]:
    """A started rtgs-sim, stopped (or killed) when the block ends, however it ends."""
    config_path = write_rtgs_config(directory, participants=participants, opening_balance_rub=opening_balance_rub)
    server = RtgsServer(config_path, database_url, free_port(), tls_dir)
    await server.start()
    try:
        yield server
    finally:
        if server.process is not None and server.process.poll() is None:
            await server.stop()
        server.kill()


@dataclass(frozen=True, slots=True)
class HttpRtgsWorld:
    rtgs: HttpRtgs  # the client under test, open
    admin: RtgsSimulator  # the same database's simulator, in this process, for setup (open_account, set_blocked)
    reserve_account: str
    server: RtgsServer
    config: Config


@asynccontextmanager
async def http_rtgs_world(directory: Path, database_url: str) -> AsyncIterator[HttpRtgsWorld]:
    """rtgs-sim on `database_url` with only its reserve account (no participants), its client, and an admin
    simulator on the same database (opened after the server, which creates the tables)."""
    async with running_server(directory, database_url) as server:
        config = load_config(server.config_path, environ={})
        engine = make_engine(database_url, config.limits)
        try:
            admin = await RtgsSimulator.open(engine, RESERVE_ACCOUNT, CBR_BIC)
            async with client_for(server) as client:
                yield HttpRtgsWorld(client, admin, RESERVE_ACCOUNT, server, config)
        finally:
            await engine.dispose()
