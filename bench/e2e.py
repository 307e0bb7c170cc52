"""End-to-end throughput and latency: the gateway on PostgreSQL, driven over HTTP by a keep-alive load generator.

Run (from the repository root, with the gateway installed):

    python bench/e2e.py                      # single-transaction pacs.008, then 1,000-transaction pacs.008
    python bench/e2e.py --seconds 20         # longer measurements
    python bench/e2e.py --connections 64 --load-processes 2 --workers 2
    python bench/e2e.py --plain-http         # without TLS (the loopback development mode), to see TLS's share
    python bench/e2e.py --only bulk          # one scenario, on a fresh database

--pg-url (default $GATEWAY_BENCH_PG_URL, else the local trust-auth server) names a server where the bench may
CREATE DATABASE: it creates bench_e2e_<random>, migrates it (`gateway db upgrade`), funds every bank's wallet with
MINT transfers, and drops it at the end. It writes its own config (the central bank and 20 banks), and with TLS
creates a development PKI (`gateway certs init`): every load connection presents the client certificate of the
bank whose messages it sends, as a bank's payment system would.

What it measures:
  single   pacs.008 with one transaction, each from a random bank to another, on `--connections` keep-alive
           connections spread over `--load-processes` processes; each connection sends its next message when the
           previous answer arrived (closed loop). Messages/s over the measured seconds, and p50/p99/max latency
           from the request's first byte written to the answer's last byte read.
  bulk     pacs.008 with 1,000 transactions, on 4 connections: transfers/s.
Every answer is checked: HTTP 200 and a pacs.002 whose group status is ACSC. Every load process builds all its
messages before any of them sends (a barrier), so building never competes with the gateway during a measurement. The load generator shares the 2 cores with the gateway and PostgreSQL, as the issue asks.

Targets (issue 4): single >= 3,000 messages/s with p99 <= 50 ms; bulk >= 50,000 transfers/s. Exit status 0 either
way (the figures are the result); non-zero on any error or unexpected answer.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import platform
import random
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import asyncpg

pg_url_default = "postgresql://postgres@127.0.0.1:5432/postgres"
central_bank = "CBRFRUMMXXX"
moscow = timezone(timedelta(hours=3))
bank_count = 20
# 10^13 roubles each: no payment in the bench runs short of funds, and the twenty together stay within what the
# RTGS simulator opens the central bank's reserve account with (one transfer's maximum, 10^15 roubles).
mint_kopecks_per_bank = 10**15


def banks() -> list[str]:
    """BAAKRUMMXXX, BABKRUMMXXX, ...: well-formed BICs of made-up banks."""
    return [f"B{chr(65 + i // 26)}{chr(65 + i % 26)}KRUMMXXX" for i in range(bank_count)]


# --- messages ----------------------------------------------------------------------------------------------------


def pacs_008(sender: str, message_id: str, creditors: list[str], today: str) -> bytes:
    transactions = "".join(
        "<CdtTrfTxInf>"
        f"<PmtId><EndToEndId>{message_id}-{i}</EndToEndId><UETR>{uuid.uuid4()}</UETR></PmtId>"
        f'<IntrBkSttlmAmt Ccy="RUB">{random.randint(1, 5_000_000)}.{random.randint(0, 99):02d}</IntrBkSttlmAmt>'
        "<ChrgBr>SLEV</ChrgBr><Dbtr><Nm>OOO Severny Veter</Nm></Dbtr>"
        "<DbtrAcct><Id><Othr><Id>40702810938000012345</Id></Othr></Id></DbtrAcct>"
        f"<DbtrAgt><FinInstnId><BICFI>{sender}</BICFI></FinInstnId></DbtrAgt>"
        f"<CdtrAgt><FinInstnId><BICFI>{creditor}</BICFI></FinInstnId></CdtrAgt>"
        "<Cdtr><Nm>AO Uralskaya Stal</Nm></Cdtr>"
        "<CdtrAcct><Id><Othr><Id>40702810700000004567</Id></Othr></Id></CdtrAcct>"
        "<RmtInf><Ustrd>Invoice 311 of 11.03.2026, VAT exempt</Ustrd></RmtInf>"
        "</CdtTrfTxInf>"
        for i, creditor in enumerate(creditors, start=1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><Envelope xmlns="urn:cryptoruble:gateway:envelope:1">'
        '<AppHdr xmlns="urn:iso:std:iso:20022:tech:xsd:head.001.001.02">'
        f"<Fr><FIId><FinInstnId><BICFI>{sender}</BICFI></FinInstnId></FIId></Fr>"
        f"<To><FIId><FinInstnId><BICFI>{central_bank}</BICFI></FinInstnId></FIId></To>"
        f"<BizMsgIdr>{message_id}</BizMsgIdr><MsgDefIdr>pacs.008.001.08</MsgDefIdr>"
        "<CreDt>2026-11-24T09:00:00Z</CreDt></AppHdr>"
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"><FIToFICstmrCdtTrf><GrpHdr>'
        f"<MsgId>{message_id}</MsgId><CreDtTm>2026-11-24T12:00:00+03:00</CreDtTm><NbOfTxs>{len(creditors)}</NbOfTxs>"
        f"<IntrBkSttlmDt>{today}</IntrBkSttlmDt><SttlmInf><SttlmMtd>CLRG</SttlmMtd></SttlmInf>"
        f"<InstgAgt><FinInstnId><BICFI>{sender}</BICFI></FinInstnId></InstgAgt>"
        f"<InstdAgt><FinInstnId><BICFI>{central_bank}</BICFI></FinInstnId></InstdAgt>"
        "</GrpHdr>" + transactions + "</FIToFICstmrCdtTrf></Document></Envelope>"
    ).encode()


def request_bytes(host: str, port: int, body: bytes) -> bytes:
    head = (
        f"POST /v1/messages HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/xml\r\n"
        f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n"
    )
    return head.encode() + body


# --- the load generator (runs in child processes) ----------------------------------------------------------------


@dataclass(frozen=True)
class LoadPlan:
    host: str
    port: int
    connections: int
    transactions_per_message: int
    messages_per_connection: int
    seconds: float
    warmup_seconds: float
    certs_dir: str | None  # None: plain HTTP
    seed: int
    today: str


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    return status, await reader.readexactly(length)


async def _connection(plan: LoadPlan, bank: str, messages: list[bytes], start_at: float, stop_at: float,
                      warm_until: float, latencies: list[float], failures: list[str]) -> int:
    context = None
    if plan.certs_dir is not None:
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=f"{plan.certs_dir}/ca.pem")
        context.load_cert_chain(f"{plan.certs_dir}/{bank}.pem", f"{plan.certs_dir}/{bank}.key")
    reader, writer = await asyncio.open_connection(plan.host, plan.port, ssl=context)
    done = 0
    try:
        while time.perf_counter() < start_at:
            await asyncio.sleep(0.001)
        for message in messages:
            now = time.perf_counter()
            if now >= stop_at:
                break
            writer.write(message)
            status, body = await _read_answer(reader)
            elapsed = time.perf_counter() - now
            if status != 200 or b"<GrpSts>ACSC</GrpSts>" not in body:
                failures.append(f"HTTP {status}: {body[-700:]!r}")
                break
            if now >= warm_until:
                latencies.append(elapsed)
                done += 1
    finally:
        writer.close()
    return done


def run_load(plan: LoadPlan, ready: Any, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    random.seed(plan.seed)
    all_banks = banks()
    work = []
    for c in range(plan.connections):
        bank = all_banks[(plan.seed * 7 + c) % len(all_banks)]
        others = [b for b in all_banks if b != bank]
        messages = [
            request_bytes(plan.host, plan.port, pacs_008(
                bank, f"M{plan.transactions_per_message}-{plan.seed:02d}{c:03d}{i:07d}",
                [random.choice(others) for _ in range(plan.transactions_per_message)], plan.today,
            ))
            for i in range(plan.messages_per_connection)
        ]
        work.append((bank, messages))

    # Every load process has built all its messages before any sends: building them must not compete with the
    # gateway for the CPUs during the measurement.
    ready.wait()

    async def main() -> tuple[int, list[float], list[str]]:
        start_at = time.perf_counter() + 0.5  # connections open first
        latencies: list[float] = []
        failures: list[str] = []
        counts = await asyncio.gather(*(
            _connection(plan, bank, messages, start_at, start_at + plan.warmup_seconds + plan.seconds,
                        start_at + plan.warmup_seconds, latencies, failures)
            for bank, messages in work
        ))
        return sum(counts), latencies, failures

    queue.put(asyncio.run(main()))


# --- the gateway under test ----------------------------------------------------------------------------------------


def write_config(directory: Path, database_url: str, batch_transfers_max: int) -> Path:
    participants = "".join(
        f'[[participants]]\nbic = "{bic}"\nname = "Bank {bic[:4]}"\nrtgs_account = "3010181{i + 2:013d}"\nwallets = ["main"]\n\n'
        for i, bic in enumerate(banks())
    )
    text = (
        f'[database]\nurl = "{database_url}"\n\n[http]\nhost = "127.0.0.1"\n\n'
        f'[central_bank]\nbic = "{central_bank}"\nname = "Bank of Russia"\nsigning_key_file = "cb-key.pem"\n'
        'emission_cap_rub = "90000000000000000.00"\nreserve_rtgs_account = "30101810000000000001"\n\n'
        + participants
        + f"[limits]\nbatch_transfers_max = {batch_transfers_max}\ndb_pool_connections_max = 8\n"
    )
    path = directory / "gateway.toml"
    path.write_text(text, encoding="utf-8")
    return path


def gateway_command() -> list[str]:
    found = shutil.which("gateway", path=str(Path(sys.executable).parent)) or shutil.which("gateway")
    if found is None:
        raise SystemExit("the `gateway` command is not installed: pip install the project first")
    return [found]


async def fund(config_path: Path) -> None:
    from gateway.config import load_config
    from gateway.domain.ledger import (
        AccountKind,
        TransferKind,
        TransferRequest,
        TransferResult,
    )
    from gateway.runtime import running_gateway

    config = load_config(config_path, environ={})
    async with running_gateway(config, upgrade=False) as gateway:
        accounts = await gateway.store.accounts()
        issuance = next(a for a in accounts if a.kind is AccountKind.ISSUANCE)
        wallets = [a for a in accounts if a.kind is AccountKind.WALLET and a.owner_bic != central_bank]
        mints = [
            TransferRequest(uuid.uuid4(), issuance.id, wallet.id, mint_kopecks_per_bank, TransferKind.MINT,
                            f"{central_bank}:BENCH-MINT")
            for wallet in wallets
        ]
        results = await gateway.batcher.submit(mints)
        assert all(r is TransferResult.OK for r in results), results


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_ready(port: int, certs_dir: Path | None, process: subprocess.Popen[bytes]) -> None:
    import http.client

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the gateway exited with {process.returncode} while starting")
        try:
            if certs_dir is None:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            else:
                context = ssl.create_default_context(cafile=str(certs_dir / "ca.pem"))
                context.load_cert_chain(certs_dir / f"{central_bank}.pem", certs_dir / f"{central_bank}.key")
                connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=2, context=context)
            connection.request("GET", "/readyz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("the gateway did not become ready within 60 s")


def wait_listening(port: int, workers: int, process: subprocess.Popen[bytes]) -> None:
    """Wait until every worker listens on the port. The load's keep-alive connections are opened once, and the
    kernel (SO_REUSEPORT) hands each to one of the sockets listening when it arrives: a worker that binds later
    would get none of them."""
    deadline = time.monotonic() + 60
    while listening_sockets(port) < workers:
        if process.poll() is not None:
            raise SystemExit(f"the gateway exited with {process.returncode} while starting")
        if time.monotonic() > deadline:
            raise SystemExit(f"only {listening_sockets(port)} of {workers} workers listen after 60 s")
        time.sleep(0.2)


def listening_sockets(port: int) -> int:
    """Sockets in LISTEN state on the port, from /proc/net/tcp and tcp6 (Linux): one per worker."""
    count = 0
    for table in (Path("/proc/net/tcp"), Path("/proc/net/tcp6")):
        if not table.exists():
            continue
        for line in table.read_text().splitlines()[1:]:
            fields = line.split()
            local, state = fields[1], fields[3]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                count += 1
    return count


def measure(args: argparse.Namespace, port: int, certs_dir: Path | None, transactions: int, connections: int,
            processes: int, messages_per_connection: int, seconds: float) -> tuple[float, list[float]]:
    today = datetime.now(moscow).date().isoformat()
    queue: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    per_process = max(1, connections // processes)
    ready = multiprocessing.Barrier(processes + 1)
    children = []
    for p in range(processes):
        plan = LoadPlan("127.0.0.1", port, per_process, transactions, messages_per_connection, seconds,
                        args.warmup_seconds, None if certs_dir is None else str(certs_dir), args.seed + p, today)
        child = multiprocessing.Process(target=run_load, args=(plan, ready, queue))
        child.start()
        children.append(child)
    ready.wait()
    done, latencies, failures = 0, [], []
    for _ in children:
        count, lat, fail = queue.get()
        done += count
        latencies.extend(lat)
        failures.extend(fail)
    for child in children:
        child.join()
    if failures:
        raise SystemExit(f"{len(failures)} unexpected answers; first: {failures[0]}")
    return done / seconds, sorted(latencies)


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg-url", default=os.environ.get("GATEWAY_BENCH_PG_URL", pg_url_default))
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per scenario")
    parser.add_argument("--warmup-seconds", type=float, default=2.0)
    parser.add_argument("--connections", type=int, default=64, help="keep-alive connections, single scenario")
    parser.add_argument("--load-processes", type=int, default=2)
    parser.add_argument("--workers", type=int, default=1, help="gateway serve --workers")
    parser.add_argument("--batch-transfers-max", type=int, default=1000)
    parser.add_argument("--plain-http", action="store_true", help="no TLS (the loopback development mode)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", choices=("single", "bulk"), help="run one scenario (on a fresh database)")
    args = parser.parse_args()

    database = f"bench_e2e_{uuid.uuid4().hex[:8]}"
    admin = args.pg_url

    async def create() -> None:
        connection = await asyncpg.connect(admin)
        try:
            await connection.execute(f'CREATE DATABASE "{database}"')
        finally:
            await connection.close()

    async def drop() -> None:
        connection = await asyncpg.connect(admin)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        finally:
            await connection.close()

    asyncio.run(create())
    workdir = Path(tempfile.mkdtemp(prefix="bench-e2e-"))
    server = None
    try:
        base = admin.rsplit("/", 1)[0]
        database_url = base.replace("postgresql://", "postgresql+asyncpg://", 1) + "/" + database
        config_path = write_config(workdir, database_url, args.batch_transfers_max)
        command = gateway_command()
        environment = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
        subprocess.run([*command, "--config", str(config_path), "keys", "init"], check=True, env=environment,
                       capture_output=True)
        subprocess.run([*command, "--config", str(config_path), "db", "upgrade"], check=True, env=environment,
                       capture_output=True)
        asyncio.run(fund(config_path))
        certs_dir = None
        if not args.plain_http:
            certs_dir = workdir / "certs"
            subprocess.run([*command, "--config", str(config_path), "certs", "init", str(certs_dir)], check=True,
                           env=environment, capture_output=True)
        port = free_port()
        serve = [*command, "--config", str(config_path), "serve", "--port", str(port), "--workers", str(args.workers)]
        serve += ["--plain-http"] if args.plain_http else ["--tls-dir", str(certs_dir)]
        # The gateway's log (an access line per request) goes to a file: a pipe nobody reads would fill and stall it.
        server_log = (workdir / "gateway.log").open("wb")
        server = subprocess.Popen(serve, env=environment, stdout=server_log, stderr=subprocess.STDOUT)
        try:
            wait_ready(port, certs_dir, server)
            wait_listening(port, args.workers, server)
        except SystemExit:
            print((workdir / "gateway.log").read_text(errors="replace")[-4000:], file=sys.stderr)
            raise

        print(f"machine: {platform.machine()} {os.cpu_count()} CPUs, {platform.python_implementation()} "
              f"{platform.python_version()}, PostgreSQL at {admin.split('@')[-1]}")
        print(f"settings: {'plain HTTP' if args.plain_http else 'TLS 1.3 with client certificates'}, "
              f"gateway workers {args.workers}, batch_transfers_max {args.batch_transfers_max}, "
              f"{bank_count} banks, load processes {args.load_processes}, measured {args.seconds:.0f} s "
              f"after {args.warmup_seconds:.0f} s warm-up")
        rate, p99 = None, None
        if args.only != "bulk":
            rate, latencies = measure(
                args, port, certs_dir, 1, args.connections, args.load_processes,
                messages_per_connection=int(6000 * (args.seconds + args.warmup_seconds) / args.connections) + 10,
                seconds=args.seconds,
            )
            p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
            worst = latencies[-1] if latencies else 0
            print(f"single  pacs.008 x1     {args.connections:>3} connections  {rate:>9,.0f} messages/s   "
                  f"p50 {p50 * 1000:6.1f} ms  p99 {p99 * 1000:6.1f} ms  max {worst * 1000:7.1f} ms")
        bulk_rate = None
        if args.only != "single":
            # Enough 1,000-transaction messages for 10,000 transfers/s per connection, at most 60 each.
            bulk_messages = min(60, int(10 * (args.seconds + args.warmup_seconds)) + 5)
            bulk_rate, bulk_latencies = measure(args, port, certs_dir, 1000, 4, 1,
                                                messages_per_connection=bulk_messages, seconds=args.seconds)
            print(f"bulk    pacs.008 x1000    4 connections  {bulk_rate * 1000:>9,.0f} transfers/s  "
                  f"p50 {percentile(bulk_latencies, 0.5) * 1000:6.1f} ms per message")
        if rate is not None and p99 is not None:
            verdict = "PASS" if rate >= 3000 and p99 <= 0.050 else "MISS"
            print(f"{verdict}: single-transaction target >= 3,000 messages/s with p99 <= 50 ms")
        if bulk_rate is not None:
            print(f"{'PASS' if bulk_rate * 1000 >= 50_000 else 'MISS'}: bulk target >= 50,000 transfers/s")
        return 0
    finally:
        if server is not None:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        asyncio.run(drop())
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
