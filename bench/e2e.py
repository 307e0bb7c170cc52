"""End-to-end throughput and latency: the gateway on PostgreSQL, driven over HTTP by a keep-alive load generator.

Run (from the repository root, with the gateway installed):

    python bench/e2e.py                      # single-transaction pacs.008, then 1,000-transaction pacs.008
    python bench/e2e.py --seconds 20         # longer measurements
    python bench/e2e.py --connections 64 --load-processes 2 --workers 1
    python bench/e2e.py --plain-http         # without TLS (the loopback development mode), to see TLS's share
    python bench/e2e.py --status-reports exceptions   # every bank answered exceptions-only (not the default)
    python bench/e2e.py --only bulk          # one scenario, on a fresh database
    python bench/e2e.py --profile profiles   # py-spy records the gateway: profiles/single.txt, profiles/bulk.txt
    python bench/profile_top.py profiles/single.txt   # the top of that profile

Without --workers the gateway runs one worker, its default; with --workers N, N workers under its supervisor, and
the transport limit as many server processes.

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

The limits, measured in the same run (the machine's speed varies from day to day, so the targets are ratios):
  transport  a bare aiohttp server (as many processes as gateway workers, SO_REUSEPORT) with the gateway's TLS
             context (gateway.security.certs.server_ssl_context, the same certificates, client certificates
             required) answering every POST with a canned body: a pacs.002 the gateway itself gave to a
             single-transaction pacs.008 in this run. Driven by the same load generator, connections and processes
             as the single scenario.
  ledger     `ledger.apply` at batch 1,000 with 2 in flight, on a scratch database of the same PostgreSQL server
             (bench/ledger.py's setup; the full comparison with raw COPY is that bench's job).

Targets (issue 16): single >= 0.20 of the transport limit with p99 <= 50 ms; bulk >= 0.50 of the ledger limit in
transfers/s. Exit status 0 either way (the figures are the result); non-zero on any error or unexpected answer.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
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
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import asyncpg

single_ratio_target = 0.20  # of the transport limit, with p99 within single_p99_target_seconds
single_p99_target_seconds = 0.050
bulk_ratio_target = 0.50  # of the ledger limit
ledger_limit_batches = 100  # measured batches of 1,000 for the ledger limit, after ledger_limit_warm_up_batches
ledger_limit_warm_up_batches = 5

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
    repeat: bool = False  # send the same few messages over and over (only a server that settles nothing accepts that)


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
    try:
        reader, writer = await asyncio.open_connection(plan.host, plan.port, ssl=context)
    except OSError as error:  # ssl.SSLError is one: a handshake the server cut
        failures.append(f"connecting: {type(error).__name__}: {error}")
        return 0
    done = 0
    try:
        while time.perf_counter() < start_at:
            await asyncio.sleep(0.001)
        for message in itertools.cycle(messages) if plan.repeat else messages:
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
        else:
            failures.append("a connection sent all its prebuilt messages before the end: the figure would be low")
    except (OSError, asyncio.IncompleteReadError) as error:  # reported by the parent rather than hanging it
        failures.append(f"{type(error).__name__}: {error}")
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


def write_config(directory: Path, database_url: str, batch_transfers_max: int, status_reports: str = "full") -> Path:
    participants = "".join(
        f'[[participants]]\nbic = "{bic}"\nname = "Bank {bic[:4]}"\nrtgs_account = "3010181{i + 2:013d}"\nwallets = ["main"]\n'
        f'status_reports = "{status_reports}"\n\n'
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


@dataclass(frozen=True)
class BenchGateway:
    port: int
    certs_dir: Path | None  # None: plain HTTP
    process: subprocess.Popen[bytes]


@contextlib.contextmanager
def bench_gateway(
    pg_url: str, workers: int, batch_transfers_max: int, plain_http: bool, status_reports: str = "full"
) -> Iterator[BenchGateway]:
    """A gateway serving on a scratch database of the server at `pg_url` (created, migrated, funded; dropped after)
    with its own config and, unless `plain_http`, a development PKI; yielded once every worker listens."""
    database = f"bench_e2e_{uuid.uuid4().hex[:8]}"

    async def on_server(statement: str) -> None:
        connection = await asyncpg.connect(pg_url)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(on_server(f'CREATE DATABASE "{database}"'))
    workdir = Path(tempfile.mkdtemp(prefix="bench-e2e-"))
    server = None
    try:
        base = pg_url.rsplit("/", 1)[0]
        database_url = base.replace("postgresql://", "postgresql+asyncpg://", 1) + "/" + database
        config_path = write_config(workdir, database_url, batch_transfers_max, status_reports)
        command = gateway_command()
        environment = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
        subprocess.run([*command, "--config", str(config_path), "keys", "init"], check=True, env=environment,
                       capture_output=True)
        subprocess.run([*command, "--config", str(config_path), "db", "upgrade"], check=True, env=environment,
                       capture_output=True)
        asyncio.run(fund(config_path))
        certs_dir = None
        if not plain_http:
            certs_dir = workdir / "certs"
            subprocess.run([*command, "--config", str(config_path), "certs", "init", str(certs_dir)], check=True,
                           env=environment, capture_output=True)
        port = free_port()
        serve = [*command, "--config", str(config_path), "serve", "--port", str(port), "--workers", str(workers)]
        serve += ["--plain-http"] if plain_http else ["--tls-dir", str(certs_dir)]
        # The gateway's log (an access line per request) goes to a file: a pipe nobody reads would fill and stall it.
        server_log = (workdir / "gateway.log").open("wb")
        server = subprocess.Popen(serve, env=environment, stdout=server_log, stderr=subprocess.STDOUT)
        try:
            wait_ready(port, certs_dir, server)
            wait_listening(port, workers, server)
        except SystemExit:
            print((workdir / "gateway.log").read_text(errors="replace")[-4000:], file=sys.stderr)
            raise
        yield BenchGateway(port, certs_dir, server)
    finally:
        if server is not None:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        asyncio.run(on_server(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        shutil.rmtree(workdir, ignore_errors=True)


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
            processes: int, messages_per_connection: int, seconds: float,
            repeat: bool = False, profile: tuple[int, Path] | None = None) -> tuple[float, list[float]]:
    """Run the load; with `profile` (a process id and a file), py-spy records that process and its children over
    the measured seconds."""
    today = datetime.now(moscow).date().isoformat()
    queue: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    per_process = max(1, connections // processes)
    ready = multiprocessing.Barrier(processes + 1)
    children = []
    for p in range(processes):
        plan = LoadPlan("127.0.0.1", port, per_process, transactions, messages_per_connection, seconds,
                        args.warmup_seconds, None if certs_dir is None else str(certs_dir), args.seed + p, today,
                        repeat)
        child = multiprocessing.Process(target=run_load, args=(plan, ready, queue))
        child.start()
        children.append(child)
    ready.wait()
    recorder = None
    if profile is not None:
        time.sleep(0.5 + args.warmup_seconds)  # the load starts 0.5 s after the barrier, then warms up
        pid, output = profile
        recorder = subprocess.Popen(
            [py_spy(), "record", "--pid", str(pid), "--subprocesses", "--duration", str(int(seconds)), "--rate", "200",
             "--format", "raw", "--output", str(output)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    done, latencies, failures = 0, [], []
    for _ in children:
        count, lat, fail = queue.get()
        done += count
        latencies.extend(lat)
        failures.extend(fail)
    for child in children:
        child.join()
    if recorder is not None and recorder.wait() != 0:
        raise SystemExit(f"py-spy exited with {recorder.returncode} (it needs ptrace: root, or CAP_SYS_PTRACE)")
    if failures:
        raise SystemExit(f"{len(failures)} unexpected answers; first: {failures[0]}")
    return done / seconds, sorted(latencies)


def probe_answer(port: int, certs_dir: Path | None, today: str) -> bytes:
    """The gateway's answer to one single-transaction pacs.008 (a pacs.002 with group status ACSC): the transport
    limit's server answers with exactly these bytes."""
    import http.client

    sender, creditor = banks()[0], banks()[1]
    body = pacs_008(sender, "PROBE-0000001", [creditor], today)
    if certs_dir is None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    else:
        context = ssl.create_default_context(cafile=str(certs_dir / "ca.pem"))
        context.load_cert_chain(certs_dir / f"{sender}.pem", certs_dir / f"{sender}.key")
        connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=30, context=context)
    connection.request("POST", "/v1/messages", body=body, headers={"Content-Type": "application/xml"})
    answer = connection.getresponse()
    data = answer.read()
    if answer.status != 200 or b"<GrpSts>ACSC</GrpSts>" not in data:
        raise SystemExit(f"the probe payment was answered HTTP {answer.status}: {data[-700:]!r}")
    return data


def serve_canned(port: int, certs_dir: str | None, body: bytes, reuse_port: bool) -> None:
    """The transport limit's server (runs in a child process): aiohttp with the gateway's TLS context, answering
    every POST /v1/messages with `body`, as the gateway answers (application/xml, an X-Gateway-Outcome header)."""
    from aiohttp import web

    from gateway.security.certs import server_ssl_context

    async def answer(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=body, content_type="application/xml", charset="utf-8",
                            headers={"X-Gateway-Outcome": "settled"})

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/v1/messages", answer)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        context = None
        if certs_dir is not None:
            directory = Path(certs_dir)
            context = server_ssl_context(directory / "server.pem", directory / "server.key", directory / "ca.pem")
        await web.TCPSite(runner, "127.0.0.1", port, ssl_context=context, reuse_port=reuse_port).start()
        await asyncio.Event().wait()

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    asyncio.run(main())


def transport_limit(args: argparse.Namespace, certs_dir: Path | None, body: bytes) -> tuple[float, list[float]]:
    """Messages/s and latencies of the single scenario's load against serve_canned, in as many processes as the
    gateway has workers."""
    port = free_port()
    servers = [
        multiprocessing.Process(target=serve_canned, args=(port, None if certs_dir is None else str(certs_dir), body,
                                                           args.workers > 1))
        for _ in range(args.workers)
    ]
    for server in servers:
        server.start()
    try:
        deadline = time.monotonic() + 30
        while listening_sockets(port) < args.workers:
            if time.monotonic() > deadline or any(not s.is_alive() for s in servers):
                raise SystemExit("the transport limit's server did not start")
            time.sleep(0.1)
        return measure(args, port, certs_dir, 1, args.connections, args.load_processes,
                       messages_per_connection=100, seconds=args.seconds, repeat=True)
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.join()


def single_messages_per_connection(args: argparse.Namespace) -> int:
    """Enough distinct messages for 6,000 messages/s on every connection together (each is settled once)."""
    return int(6000 * (args.seconds + args.warmup_seconds) / args.connections) + 10


def ledger_limit(admin_url: str) -> float:
    """Transfers/s of ledger.apply at batch 1,000 with 2 in flight on a scratch database of the same server, set up
    as bench/ledger.py does (and with its helpers: that bench is where the ledger is measured in full)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_ledger", Path(__file__).with_name("ledger.py"))
    assert spec is not None and spec.loader is not None
    bench_ledger = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = bench_ledger
    spec.loader.exec_module(bench_ledger)

    from gateway_adapters.sql.outages import is_transient
    from gateway_adapters.sql.store import now_us

    from gateway.domain.ledger import AccountKind
    from gateway.ledger.service import Ledger
    from gateway.ledger.signing import ChainSigner, load_private_key
    from gateway.runtime import open_store

    batch = 1000

    async def run() -> float:
        async with bench_ledger.scratch_database(admin_url) as database:
            with tempfile.TemporaryDirectory(prefix="bench-e2e-ledger-") as directory:
                url = bench_ledger.with_database(admin_url, database, "postgresql+asyncpg")
                config = bench_ledger.write_config(Path(directory), url)
                store = await open_store(config, upgrade=True)
                try:
                    signer = ChainSigner(load_private_key(config.central_bank.signing_key_file))
                    ledger = Ledger(store, signer, config.limits, clock_us=now_us, is_transient=is_transient)
                    accounts = await store.accounts()
                    (issuance,) = [a for a in accounts if a.kind is AccountKind.ISSUANCE]
                    wallets = [bench_ledger.Wallet(a.id, a.owner_bic) for a in accounts
                               if a.kind is AccountKind.WALLET]
                    await bench_ledger.fund_wallets(ledger, issuance, wallets)
                    source = bench_ledger.PaymentSource(wallets, seed=2026)
                    warm_up = bench_ledger.in_batches(source.take(ledger_limit_warm_up_batches * batch), batch)
                    measured = bench_ledger.in_batches(source.take(ledger_limit_batches * batch), batch)
                    with bench_ledger.prebuilt_work_frozen():
                        await bench_ledger.apply_in_flight(ledger, warm_up, 2, "ledger limit warm-up")
                        seconds = await bench_ledger.apply_in_flight(ledger, measured, 2, "ledger limit")
                    return ledger_limit_batches * batch / seconds
                finally:
                    await store.close()

    return asyncio.run(run())


def print_single(what: str, args: argparse.Namespace, rate: float, latencies: list[float]) -> None:
    worst = latencies[-1] if latencies else float("nan")
    print(f"{what:<28} {args.connections:>3} connections  {rate:>9,.0f} messages/s   "
          f"p50 {percentile(latencies, 0.5) * 1000:6.1f} ms  p99 {percentile(latencies, 0.99) * 1000:6.1f} ms  "
          f"max {worst * 1000:7.1f} ms", flush=True)


def py_spy() -> str:
    found = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if found is None:
        raise SystemExit("--profile needs py-spy: pip install py-spy")
    return found


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
    parser.add_argument("--workers", type=int, default=1,
                        help="gateway serve --workers (default: 1, the gateway's own)")
    parser.add_argument("--batch-transfers-max", type=int, default=1000)
    parser.add_argument("--plain-http", action="store_true", help="no TLS (the loopback development mode)")
    parser.add_argument("--status-reports", choices=("full", "exceptions"), default="full",
                        help="every bank's status_reports (default: the gateway's default, full)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", choices=("single", "bulk"), help="run one scenario (on a fresh database)")
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="record the gateway with py-spy during each scenario: DIR/single.txt, DIR/bulk.txt "
                             "(collapsed stacks, as `py-spy record --format raw` writes them)")
    args = parser.parse_args()

    with bench_gateway(
        args.pg_url, args.workers, args.batch_transfers_max, args.plain_http, args.status_reports
    ) as gateway:
        port, certs_dir, server, admin = gateway.port, gateway.certs_dir, gateway.process, args.pg_url
        print(f"machine: {platform.machine()} {os.cpu_count()} CPUs, {platform.python_implementation()} "
              f"{platform.python_version()}, PostgreSQL at {admin.split('@')[-1]}")
        print(f"settings: {'plain HTTP' if args.plain_http else 'TLS 1.3 with client certificates'}, "
              f"gateway workers {args.workers}, batch_transfers_max {args.batch_transfers_max}, "
              f"status_reports {args.status_reports}, "
              f"{bank_count} banks, load processes {args.load_processes}, measured {args.seconds:.0f} s "
              f"after {args.warmup_seconds:.0f} s warm-up")
        today = datetime.now(moscow).date().isoformat()
        canned = probe_answer(port, certs_dir, today)
        if args.profile is not None:
            args.profile.mkdir(parents=True, exist_ok=True)

        def profile_of(scenario: str) -> tuple[int, Path] | None:
            return None if args.profile is None else (server.pid, args.profile / f"{scenario}.txt")

        single, bulk = None, None
        if args.only != "bulk":
            rate, latencies = measure(args, port, certs_dir, 1, args.connections, args.load_processes,
                                      messages_per_connection=single_messages_per_connection(args),
                                      seconds=args.seconds, profile=profile_of("single"))
            print_single("single  pacs.008 x1", args, rate, latencies)
            limit, limit_latencies = transport_limit(args, certs_dir, canned)
            print_single(f"transport limit ({len(canned):,} B)", args, limit, limit_latencies)
            single = (rate, percentile(latencies, 0.99), limit)
        if args.only != "single":
            # Enough 1,000-transaction messages for 10,000 transfers/s per connection, at most 60 each.
            bulk_messages = min(60, int(10 * (args.seconds + args.warmup_seconds)) + 5)
            bulk_rate, bulk_latencies = measure(args, port, certs_dir, 1000, 4, 1,
                                                messages_per_connection=bulk_messages, seconds=args.seconds,
                                                profile=profile_of("bulk"))
            print(f"{'bulk    pacs.008 x1000':<28}   4 connections  {bulk_rate * 1000:>9,.0f} transfers/s  "
                  f"p50 {percentile(bulk_latencies, 0.5) * 1000:6.1f} ms per message")
            ledger = ledger_limit(admin)
            print(f"{'ledger limit':<28}  ledger.apply at batch 1,000, 2 in flight  {ledger:>9,.0f} transfers/s")
            bulk = (bulk_rate * 1000, ledger)
        if single is not None:
            rate, p99, limit = single
            ratio = rate / limit
            verdict = "PASS" if ratio >= single_ratio_target and p99 <= single_p99_target_seconds else "MISS"
            print(f"{verdict}: single {ratio:.3f} of the transport limit with p99 {p99 * 1000:.1f} ms "
                  f"(target >= {single_ratio_target:.2f} with p99 <= {single_p99_target_seconds * 1000:.0f} ms)")
        if bulk is not None:
            ratio = bulk[0] / bulk[1]
            print(f"{'PASS' if ratio >= bulk_ratio_target else 'MISS'}: bulk {ratio:.3f} of the ledger limit "
                  f"(target >= {bulk_ratio_target:.2f})")
        return 0


if __name__ == "__main__":
    sys.exit(main())
