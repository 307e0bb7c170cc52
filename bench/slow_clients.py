"""A storm of slow clients against `gateway serve`: the server's memory before, during and after, and how it kept
answering a bank's normal requests meanwhile.

Run (from the repository root, with the gateway installed):

    python bench/slow_clients.py                          # 2,000 slow clients from 20 certificates
    python bench/slow_clients.py --connections 500 --certificates 5 --header-timeout-ms 3000

It writes a config and a development PKI to a temporary directory and starts `gateway serve` on an embedded SQLite
ledger, with `connections_max` raised to twice the storm (so that all of it gets in; the bound on the count has its
own tests) and everything else at its default, header_timeout_ms included unless --header-timeout-ms says otherwise.

What it does:
  good client  another process posts pacs.028 status requests as VTB Bank, one after the other on one keep-alive
               connection (each is a journal write and a pacs.002 answer), before, during and after the storm.
  storm        --connections TLS connections spread over --certificates client certificates of made-up banks (issued
               by the gateway's CA: they pass the handshake, and would be answered 401), each completing its
               handshake, then sending half a request's headers and nothing more. The gateway must cut every one
               header_timeout_ms after its first byte, and give the memory back.
Printed: the server's RSS before the storm, at its height, and after (once the storm is cut and the memory handed
back: the next few seconds); when the storm was cut; the good client's answers and latency (p50/p99/max) before
and during the storm. The load generators share the machine's cores with the gateway. Exit status 0 either way
(the figures are the result); non-zero if the gateway fails to cut the storm or a good request fails.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from gateway.security.certs import Party, client_ssl_context, write_development_pki

central_bank = "CBRFRUMMXXX"
good_bank = "VTBRRUMMXXX"
handshakes_at_once = 64
start_within_seconds = 60.0


def storm_banks(count: int) -> list[str]:
    """SAAKRUMMXXX, SABKRUMMXXX, ...: well-formed BICs that no participant has."""
    return [f"S{chr(65 + i // 26)}{chr(65 + i % 26)}KRUMMXXX" for i in range(count)]


def config_text(directory: Path, connections: int, header_timeout_ms: int | None) -> str:
    banks = [("SABRRUMMXXX", "Sberbank", "044525225", "30101810400000000225"),
             (good_bank, "VTB Bank", "044525187", "30101810700000000187")]
    participants = "".join(
        f'[[participants]]\nbic = "{bic}"\nname = "{name}"\nclearing_code = "{clearing}"\n'
        f'rtgs_account = "{rtgs}"\nwallets = ["main"]\n\n'
        for bic, name, clearing, rtgs in banks
    )
    limits = f"connections_max = {2 * connections + 64}\n"
    if header_timeout_ms is not None:
        limits += f"header_timeout_ms = {header_timeout_ms}\n"
    return (
        f'[database]\nurl = "sqlite+aiosqlite:///{directory / "ledger.sqlite3"}"\n\n'
        f'[central_bank]\nbic = "{central_bank}"\nname = "Bank of Russia"\n'
        f'signing_key_file = "{directory / "cb-key.pem"}"\nemission_cap_rub = "1000000000.00"\n'
        'reserve_rtgs_account = "30101810000000000001"\n\n'
        + participants + "[limits]\n" + limits
    )


def status_request(message_id: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Envelope xmlns="urn:cryptoruble:gateway:envelope:1">'
        '<AppHdr xmlns="urn:iso:std:iso:20022:tech:xsd:head.001.001.02">'
        f"<Fr><FIId><FinInstnId><BICFI>{good_bank}</BICFI></FinInstnId></FIId></Fr>"
        f"<To><FIId><FinInstnId><BICFI>{central_bank}</BICFI></FinInstnId></FIId></To>"
        f"<BizMsgIdr>{message_id}</BizMsgIdr><MsgDefIdr>pacs.028.001.03</MsgDefIdr>"
        "<CreDt>2026-11-24T09:00:00Z</CreDt></AppHdr>"
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.028.001.03"><FIToFIPmtStsReq><GrpHdr>'
        f"<MsgId>{message_id}</MsgId><CreDtTm>2026-11-24T12:00:00+03:00</CreDtTm></GrpHdr>"
        f"<TxInf><OrgnlUETR>{uuid.uuid4()}</OrgnlUETR></TxInf></FIToFIPmtStsReq></Document></Envelope>"
    ).encode()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


# --- the good client, in a process of its own ------------------------------------------------------------------


async def _read_answer(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    lengths = [line.split(b":", 1)[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")]
    length = int(lengths[0])
    await reader.readexactly(length)
    return status


def good_client(port: int, certs: str, stop: Any, results: Any) -> None:
    """Closed loop of status requests until `stop` is set; puts (sent at, seconds, status) for each on `results`."""

    async def main() -> None:
        context = client_ssl_context(Path(certs) / "ca.pem", Path(certs) / f"{good_bank}.pem",
                                     Path(certs) / f"{good_bank}.key")
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context, server_hostname="localhost")
        while not stop.is_set():
            body = status_request(f"GOOD-{uuid.uuid4().hex[:16]}")
            started = time.monotonic()
            writer.write(
                (f"POST /v1/messages HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/xml\r\n"
                 f"Content-Length: {len(body)}\r\n\r\n").encode() + body
            )
            try:
                status = await asyncio.wait_for(_read_answer(reader), 30)
            except (OSError, asyncio.IncompleteReadError, TimeoutError):
                status = 0
                writer.transport.abort()
                reader, writer = await asyncio.open_connection(
                    "127.0.0.1", port, ssl=context, server_hostname="localhost"
                )
            results.put((time.time(), time.monotonic() - started, status))
        writer.close()

    asyncio.run(main())


# --- the storm -----------------------------------------------------------------------------------------------------


async def storm(port: int, certs: Path, banks: list[str], connections: int) -> tuple[list[Any], float]:
    """Open the storm's connections, then send each half a request; returns them and when the halves were sent."""
    contexts = [client_ssl_context(certs / "ca.pem", certs / f"{bic}.pem", certs / f"{bic}.key") for bic in banks]
    gate = asyncio.Semaphore(handshakes_at_once)

    async def open_one(i: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        async with gate:
            return await asyncio.open_connection(
                "127.0.0.1", port, ssl=contexts[i % len(contexts)], server_hostname="localhost"
            )

    opened = await asyncio.gather(*(open_one(i) for i in range(connections)))
    for _, writer in opened:
        writer.write(b"POST /v1/messages HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/xml\r\nX-Slow: ")
    return opened, time.time()


async def until_cut(reader: asyncio.StreamReader) -> tuple[float, bytes]:
    data = b""
    with contextlib.suppress(ConnectionError, ssl.SSLError):
        data = await reader.read()
    return time.time(), data


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


def latency_line(samples: list[tuple[float, float, int]]) -> str:
    seconds = [s for _, s, _ in samples]
    failed = sum(1 for _, _, status in samples if status != 200)
    return (f"{len(samples)} answered ({failed} not 200), p50 {percentile(seconds, 0.5) * 1000:.1f} ms, "
            f"p99 {percentile(seconds, 0.99) * 1000:.1f} ms, max {max(seconds, default=float('nan')) * 1000:.1f} ms")


async def run(arguments: argparse.Namespace, directory: Path) -> int:
    certs = directory / "certs"
    banks = storm_banks(arguments.certificates)
    config = directory / "gateway.toml"
    config.write_text(config_text(directory, arguments.connections, arguments.header_timeout_ms), encoding="utf-8")
    parties = [Party(central_bank, "Bank of Russia"), Party("SABRRUMMXXX", "Sberbank"), Party(good_bank, "VTB Bank")]
    write_development_pki(certs, parties[0], parties + [Party(bic, f"Storm {bic}") for bic in banks], force=False)
    subprocess.run([sys.executable, "-m", "gateway.cli.main", "--config", str(config), "keys", "init"],
                   check=True, capture_output=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = (directory / "serve.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli.main", "--config", str(config), "serve", "--port", str(port),
         "--tls-dir", str(certs)], stdout=log, stderr=subprocess.STDOUT,
    )
    context = multiprocessing.get_context("spawn")
    stop, results = context.Event(), context.Queue()
    client = None
    try:
        deadline = time.monotonic() + start_within_seconds
        while b"serving on" not in (directory / "serve.log").read_bytes():
            if server.poll() is not None or time.monotonic() > deadline:
                print((directory / "serve.log").read_text(), file=sys.stderr)
                return 1
            await asyncio.sleep(0.2)
        client = context.Process(target=good_client, args=(port, str(certs), stop, results))
        client.start()
        await asyncio.sleep(arguments.calm_seconds)  # the good client alone: its latency before the storm
        before = rss_mb(server.pid)
        storm_started = time.time()
        opened, halves_sent = await storm(port, certs, banks, arguments.connections)
        peak = rss_mb(server.pid)
        cuts = [asyncio.ensure_future(until_cut(reader)) for reader, _ in opened]
        while not all(cut.done() for cut in cuts):
            peak = max(peak, rss_mb(server.pid))
            await asyncio.sleep(0.25)
            if time.time() - halves_sent > 10 * (arguments.header_timeout_ms or 10_000) / 1000 + 60:
                print("the gateway did not cut the storm", file=sys.stderr)
                return 1
        storm_cut = max(cut.result()[0] for cut in cuts)
        answered = sum(1 for cut in cuts if cut.result()[1])
        for _, writer in opened:
            writer.transport.abort()
        del opened, cuts
        await asyncio.sleep(arguments.calm_seconds)  # the trim runs every few seconds
        after = rss_mb(server.pid)
        stop.set()
        client.join(30)
        samples = []
        while not results.empty():
            samples.append(results.get())
        calm = [s for s in samples if s[0] < storm_started]
        stormy = [s for s in samples if storm_started <= s[0] <= storm_cut]
        print(f"storm: {arguments.connections} slow TLS connections from {len(banks)} certificates,"
              f" header_timeout_ms {arguments.header_timeout_ms or 'default (10000)'}")
        print(f"  handshakes done and half-requests sent {halves_sent - storm_started:.1f} s after the storm began;"
              f" all cut {storm_cut - halves_sent:.1f} s after that; {answered} got any bytes back")
        print(f"server RSS: before {before:.0f} MB, at the height of the storm {peak:.0f} MB,"
              f" after {after:.0f} MB ({after - before:+.0f} MB)")
        print(f"good client before the storm: {latency_line(calm)}")
        print(f"good client during the storm ({storm_cut - storm_started:.1f} s): {latency_line(stormy)}")
        return 0 if answered == 0 and all(status == 200 for _, _, status in samples) and stormy else 1
    finally:
        stop.set()
        if client is not None and client.is_alive():
            client.terminate()
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, default=2_000, help="slow connections in the storm")
    parser.add_argument("--certificates", type=int, default=20, help="client certificates they are spread over")
    parser.add_argument("--header-timeout-ms", type=int, default=None, help="the gateway's header_timeout_ms")
    parser.add_argument("--calm-seconds", type=float, default=5.0, help="measured before and after the storm")
    arguments = parser.parse_args()
    if not Path("/proc/self/status").exists():
        print("reads the server's memory from /proc: Linux only", file=sys.stderr)
        return 2
    directory = Path(tempfile.mkdtemp(prefix="bench-slow-clients-"))
    try:
        return asyncio.run(run(arguments, directory))
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
