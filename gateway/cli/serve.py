"""`gateway serve`: TLS with client certificates by default; plain HTTP only with --plain-http, only on loopback.
The packaged demo creates its own throw-away signing key and development PKI under ./var on first start."""

from __future__ import annotations

import argparse
import errno
import ipaddress
import logging
import os
import resource
import signal
import ssl
import subprocess
import sys
from pathlib import Path

from gateway import bounds
from gateway.app import make_app
from gateway.cli.usage import UsageError
from gateway.config import Config
from gateway.http import heap
from gateway.http.listener import serve_forever
from gateway.ledger.signing import generate_key_file
from gateway.security.certs import parties_of, server_ssl_context, write_development_pki

log = logging.getLogger("gateway")


def serve(config: Config, args: argparse.Namespace) -> int:
    host = args.host or config.http.host
    port = args.port or config.http.port
    if args.workers is None:
        args.workers = default_workers(config)
    if not 1 <= args.workers <= 64:
        raise UsageError("--workers must be within 1..64")
    if args.workers > 1 and config.database.url.startswith("sqlite"):
        raise UsageError("--workers needs PostgreSQL: SQLite has one writer, so more processes would only queue")
    demo_signing_key(config)
    ssl_context = None
    if args.plain_http:
        if not ipaddress.ip_address(host if host != "localhost" else "127.0.0.1").is_loopback:
            raise UsageError(f"refusing plain HTTP on {host}: without TLS the gateway serves on a loopback address only")
        for _ in range(3):
            log.warning("PLAIN HTTP on %s:%d: NO TLS, NO CLIENT CERTIFICATES, the AppHdr sender is taken at its word."
                        " For development on this machine only, never for banks' traffic.", host, port)
    else:
        ssl_context = server_tls(config, args.tls_dir or config.http.tls_dir,
                                 "or serve --plain-http on loopback for development")
    # The embedded SQLite default migrates itself; a shared PostgreSQL is migrated deliberately with `db upgrade`.
    upgrade = config.database.url.startswith("sqlite")
    scheme = "http" if ssl_context is None else "https (client certificates required)"
    log.info("config %s, database %s, %s on %s:%d", config.source, _redacted(config.database.url), scheme, host, port)
    workers = _start_extra_workers(args) if args.workers > 1 else []
    # Before the first connection: large blocks (the TLS layer's buffers) then leave the heap unfragmented.
    heap.map_large_blocks()
    allow_open_files(config.limits.connections_max + bounds.open_files_besides_connections)
    try:
        serve_forever(
            make_app(config, upgrade_database=upgrade, plain_http=args.plain_http),
            host=host,
            port=port,
            ssl_context=ssl_context,
            limits=config.limits,
            reuse_port=args.workers > 1 or args.reuse_port,
            announce=lambda line: log.info("%s", line),
        )
    except OSError as error:
        if error.errno not in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
            raise
        reason = "in use by another process" if error.errno == errno.EADDRINUSE else error.strerror
        raise UsageError(f"cannot listen on {host}:{port}: {reason} (serve --port P, or [http] port)") from None
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGINT)
        for worker in workers:
            try:
                worker.wait(timeout=config.limits.shutdown_timeout_ms / 1000 + 5)
            except subprocess.TimeoutExpired:
                worker.kill()
    return 0


def default_workers(config: Config) -> int:
    """One worker per CPU core this process may run on (measured: 2 workers settle about 1.6 times the single
    payments of one on 2 cores, docs/performance.md); 1 on SQLite, which has one writer."""
    if config.database.url.startswith("sqlite"):
        return 1
    return min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1, 64)


def demo_signing_key(config: Config) -> None:
    """The packaged demo makes its own throw-away central bank signing key on first start."""
    key_file = config.central_bank.signing_key_file
    if config.is_demo and not key_file.exists():
        generate_key_file(key_file)
        log.warning("DEMO: generated a throw-away central bank signing key at %s", key_file)


def server_tls(config: Config, tls_dir: Path, otherwise: str) -> ssl.SSLContext:
    """The server's TLS context from tls_dir (server.pem, server.key, the client CA ca.pem). The packaged demo
    writes a development PKI there first when none of the three is there; otherwise a missing file is a UsageError,
    which ends with `otherwise` (what else the command could do)."""
    files = [tls_dir / "server.pem", tls_dir / "server.key", tls_dir / "ca.pem"]
    if config.is_demo and not any(f.exists() for f in files):
        parties = parties_of(config)
        write_development_pki(tls_dir, parties[0], parties, force=False)
        log.warning("DEMO: created a development PKI in %s (client certificates for every participant)", tls_dir)
    missing = [str(f) for f in files if not f.exists()]
    if missing:
        raise UsageError(f"TLS files missing: {', '.join(missing)} (create a development set with"
                         f" `gateway certs init {tls_dir}`, {otherwise})")
    return server_ssl_context(*files)


def allow_open_files(needed: int) -> None:
    """Each connection is a file descriptor, and the usual soft limit (1,024) is below what connections_max may ask
    for: raise it towards the hard limit, and say so when even that is too low."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    if target < needed:
        log.warning("open files are limited to %d: fewer than limits.connections_max and the files beside them (%d)",
                    target, needed)


def _start_extra_workers(args: argparse.Namespace) -> list[subprocess.Popen[bytes]]:
    """The other worker processes: this same command, one worker each, on the same port (SO_REUSEPORT lets the
    kernel spread connections). They coordinate only through PostgreSQL, as separate gateway hosts would."""
    argv, skip_next = [], False
    for arg in sys.argv[1:]:
        if skip_next:
            skip_next = False
        elif arg == "--workers":
            skip_next = True
        elif not arg.startswith("--workers="):
            argv.append(arg)
    command = [sys.executable, "-m", "gateway.cli.main", *argv, "--workers", "1", "--reuse-port"]
    return [subprocess.Popen(command) for _ in range(args.workers - 1)]


def _redacted(url: str) -> str:
    scheme, _, rest = url.partition("://")
    credentials, at, location = rest.rpartition("@")
    return f"{scheme}://***@{location}" if at else url
