"""A storm of 2,000 slow TLS clients against a real `gateway serve` process: each is cut once header_timeout_ms has
passed since its first byte, the gateway answers other banks' messages throughout, and its memory comes back near
where it was before the storm (it used to keep 400 MB for good)."""

from __future__ import annotations

import asyncio
import contextlib
import resource
import signal
import socket
import ssl
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from gateway.config import load_config
from gateway.security.certs import client_ssl_context, parties_of, write_development_pki
from tests.conftest import write_config
from tests.corpus import in_ci
from tests.settlement.builders import SBER, VTB, pacs_028
from tests.settlement.conftest import status_report

storm_connections = 2_000
handshakes_at_once = 64
# Generous, and not a measure of speed: the server must do each of these at all, not fast.
start_within_seconds = 60.0
storm_cut_within_seconds = 120.0
memory_back_within_seconds = 60.0


@dataclass
class ServingGateway:
    process: subprocess.Popen[bytes]
    port: int
    certs: Path
    log: Path

    def context(self, bic: str) -> ssl.SSLContext:
        return client_ssl_context(self.certs / "ca.pem", self.certs / f"{bic}.pem", self.certs / f"{bic}.key")

    def rss_bytes(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS")


def _allow_open_files(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < needed:
        message = f"the storm needs {needed} open files; the hard limit is {hard}"
        if in_ci:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    if soft != resource.RLIM_INFINITY and soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def serving_gateway(tmp_path: Path) -> Iterator[ServingGateway]:
    """`gateway serve` on an embedded SQLite ledger, with room for the whole storm in its connection bounds (these
    tests are about time and memory; the bounds on counts have their own tests) and a 3-second header bound."""
    if not Path("/proc/self/status").exists():
        pytest.skip("reads the server's memory from /proc")
    _allow_open_files(storm_connections + 512)  # this process holds the storm's client ends, the server the others
    limits = (
        "header_timeout_ms = 3000\n"
        f"connections_max = {2 * storm_connections}\nconnections_per_certificate_max = {2 * storm_connections}\n"
    )
    config_file = write_config(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'ledger.sqlite3'}", limits_toml=limits)
    parties = parties_of(load_config(config_file, environ={}))
    certs = tmp_path / "certs"
    write_development_pki(certs, parties[0], parties, force=False)
    port = _free_port()
    log = tmp_path / "serve.log"
    command = [sys.executable, "-m", "gateway.cli.main", "--config", str(config_file), "serve",
               "--port", str(port), "--tls-dir", str(certs)]
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    gateway = ServingGateway(process, port, certs, log)
    try:
        asyncio.run(_until_ready(gateway))
        yield gateway
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def _until_ready(gateway: ServingGateway) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + start_within_seconds
    while loop.time() < deadline:
        if gateway.process.poll() is not None:
            pytest.fail(f"gateway serve exited:\n{gateway.log.read_text()}")
        with contextlib.suppress(aiohttp.ClientError, OSError):
            async with aiohttp.ClientSession() as session, session.get(
                f"https://localhost:{gateway.port}/readyz", ssl=gateway.context(SBER)
            ) as response:
                if response.status == 200:
                    return
        await asyncio.sleep(0.2)
    pytest.fail(f"gateway serve not ready within {start_within_seconds} s:\n{gateway.log.read_text()}")


async def _status_request(session: aiohttp.ClientSession, gateway: ServingGateway, bic: str) -> str:
    payload = pacs_028(bic, f"STORM-{uuid.uuid4().hex[:12]}", [uuid.uuid4()])
    async with session.post(
        f"https://localhost:{gateway.port}/v1/messages", data=payload, ssl=gateway.context(bic),
        headers={"Content-Type": "application/xml"},
    ) as response:
        assert response.status == 200, await response.text()
        return status_report(await response.read()).message.kind


async def _open_slow(gateway: ServingGateway, context: ssl.SSLContext, gate: asyncio.Semaphore
                     ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    async with gate:
        return await asyncio.open_connection("127.0.0.1", gateway.port, ssl=context, server_hostname="localhost")


async def _cut(reader: asyncio.StreamReader) -> bytes:
    with contextlib.suppress(ConnectionError, ssl.SSLError):
        return await reader.read()
    return b""


def test_a_storm_of_slow_clients_is_cut_the_gateway_serves_meanwhile_and_its_memory_comes_back(
    serving_gateway: ServingGateway,
) -> None:
    asyncio.run(_storm(serving_gateway))


async def _storm(gateway: ServingGateway) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(20):  # warm: every code path of a normal request has run, its imports and caches are loaded
            await _status_request(session, gateway, VTB)
        before = gateway.rss_bytes()

        # The storm: every connection completes its handshake, then sends half a request and nothing more.
        gate = asyncio.Semaphore(handshakes_at_once)
        context = gateway.context(SBER)
        storm = await asyncio.gather(*(_open_slow(gateway, context, gate) for _ in range(storm_connections)))
        for _, writer in storm:
            writer.write(b"POST /v1/messages HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/xml\r\n")
        during = gateway.rss_bytes()

        # Another bank is served while the storm holds its connections.
        cuts = [asyncio.ensure_future(_cut(reader)) for reader, _ in storm]
        assert await _status_request(session, gateway, VTB) == "pacs.002.001.10"
        assert not all(cut.done() for cut in cuts), "the storm was cut before the good client was served"

        answers = await asyncio.wait_for(asyncio.gather(*cuts), storm_cut_within_seconds)
        assert answers == [b""] * storm_connections, "a slow client got an answer instead of being cut"
        for _, writer in storm:
            writer.transport.abort()
        del storm, cuts, answers

        grown = during - before
        assert grown > 100 * 2**20, f"the storm took only {grown / 2**20:.0f} MB: this test would prove nothing"
        # Back near the baseline: within a quarter of what the storm took, or 48 MB, whichever is larger.
        allowed = before + max(grown // 4, 48 * 2**20)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + memory_back_within_seconds
        after = gateway.rss_bytes()
        while after > allowed and loop.time() < deadline:
            await asyncio.sleep(0.5)
            after = gateway.rss_bytes()
        figures = f"RSS before {before / 2**20:.0f} MB, during {during / 2**20:.0f} MB, after {after / 2**20:.0f} MB"
        assert after <= allowed, figures
        assert await _status_request(session, gateway, VTB) == "pacs.002.001.10"
    log = gateway.log.read_text()
    assert log.count("request headers not complete within 3000 ms") == storm_connections, log[-2000:]
    assert "Traceback" not in log, log[-5000:]
