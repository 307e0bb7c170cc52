"""`gateway serve`: TLS with client certificates by default; plain HTTP only with --plain-http, only on loopback.
The packaged demo creates its own throw-away signing key, development PKI and message-signing certificate under ./var
on first start."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import resource
import ssl
import sys
from pathlib import Path

from aiohttp import web

from gateway import bounds
from gateway.app import make_app
from gateway.cli.supervise import die_with_supervisor, supervise, worker_command
from gateway.cli.usage import UsageError
from gateway.config import Config
from gateway.http import heap
from gateway.http.listener import CannotListen, serve_forever
from gateway.ledger.ports import SchemaOutOfDate
from gateway.ledger.signing import generate_key_file
from gateway.runtime import schema_revisions
from gateway.security.certs import (
    PkiError,
    ca_file_names,
    issue_signing_certificate,
    parties_of,
    server_ssl_context,
    write_development_pki,
)

log = logging.getLogger("gateway")


def serve(config: Config, args: argparse.Namespace) -> int:
    """One process serving (the default), a supervisor of --workers N processes, or one of its workers (--worker)."""
    host = args.host or config.http.host
    port = args.port or config.http.port
    worker = args.worker is not None
    if worker:
        if args.supervisor_pid is None or args.ops_socket is None:
            raise UsageError("--worker is given by the supervisor of `serve --workers N` only")
        die_with_supervisor(args.supervisor_pid)
    if not 1 <= args.workers <= 64:
        raise UsageError("--workers must be within 1..64")
    if args.workers > 1 and config.database.url.startswith("sqlite"):
        raise UsageError("--workers needs PostgreSQL: SQLite has one writer, so more processes would only queue")
    demo_signing_key(config)
    ssl_context = None
    if args.plain_http:
        if not ipaddress.ip_address(host if host != "localhost" else "127.0.0.1").is_loopback:
            raise UsageError(f"refusing plain HTTP on {host}: without TLS the gateway serves on a loopback address only")
        for _ in range(0 if worker else 3):
            log.warning("PLAIN HTTP on %s:%d: NO TLS, NO CLIENT CERTIFICATES, the AppHdr sender is taken at its word."
                        " For development on this machine only, never for banks' traffic.", host, port)
    else:
        ssl_context = server_tls(config, args.tls_dir or config.http.tls_dir,
                                 "or serve --plain-http on loopback for development")
    demo_message_signing(config)
    # The embedded SQLite default migrates itself; a shared PostgreSQL is migrated deliberately with `db upgrade`.
    upgrade = config.database.url.startswith("sqlite")
    scheme = "http" if ssl_context is None else "https (client certificates required)"
    if not worker:
        log.info("config %s, database %s, %s on %s:%d", config.source, _redacted(config.database.url), scheme, host,
                 port)
    if args.workers > 1 and not worker:
        _require_schema(config)
        return supervise(config, args.workers, worker_command(sys.argv[1:]))
    # Before the first connection: large blocks (the TLS layer's buffers) then leave the heap unfragmented.
    heap.map_large_blocks()
    allow_open_files(config.limits.connections_max + bounds.open_files_besides_connections)

    def ops_site(runner: web.AppRunner) -> web.BaseSite:
        if worker:  # its ops routes on the unix socket its supervisor asks; the supervisor serves the ops port
            return web.UnixSite(runner, str(args.ops_socket))
        return web.TCPSite(runner, config.http.ops_host, config.http.ops_port)

    try:
        serve_forever(
            make_app(config, upgrade_database=upgrade, plain_http=args.plain_http),
            host=host,
            port=port,
            ssl_context=ssl_context,
            limits=config.limits,
            reuse_port=worker,
            announce=lambda line: log.info("%s%s", f"worker {args.worker}: " if worker else "", line),
            ops_site=ops_site,
        )
    except CannotListen as error:
        raise UsageError(str(error)) from None
    return 0


def _require_schema(config: Config) -> None:
    """The supervisor's check, once, of what every worker would refuse: a database without the newest schema. A
    database that does not answer yet is the workers' to wait for (they are restarted until it does)."""
    try:
        current, newest = asyncio.run(schema_revisions(config))
    except Exception as error:  # noqa: BLE001 - not answering yet: said, and left to the workers
        log.warning("could not read the database's schema revision (%s): the workers will try", type(error).__name__)
        return
    if current is None:
        raise SchemaOutOfDate("the database holds no gateway schema yet: run `gateway db upgrade`")
    if current != newest:
        raise SchemaOutOfDate(f"the database schema is at revision {current}, this gateway needs {newest}:"
                              " run `gateway db upgrade`")


def demo_signing_key(config: Config) -> None:
    """The packaged demo makes its own throw-away central bank signing key on first start."""
    key_file = config.central_bank.signing_key_file
    if config.is_demo and not key_file.exists():
        generate_key_file(key_file)
        log.warning("DEMO: generated a throw-away central bank signing key at %s", key_file)


def demo_message_signing(config: Config) -> None:
    """The packaged demo signs what it sends with a development key: issued on first start by the development CA in
    http.tls_dir (written first if absent, as server_tls would), where demo.toml's [message_signing] names it."""
    settings = config.message_signing
    if not config.is_demo or settings is None or settings.key_file.exists() or settings.certificate_file.exists():
        return
    tls_dir = config.http.tls_dir
    parties = parties_of(config)
    if not (tls_dir / ca_file_names[1]).exists():
        write_development_pki(tls_dir, parties[0], parties, force=False)
        log.warning("DEMO: created a development PKI in %s (client certificates for every participant)", tls_dir)
    try:
        issued = issue_signing_certificate(tls_dir, parties[0], force=False)
    except PkiError as error:  # an expired development CA kept from long ago
        raise UsageError(f"cannot issue the demo's message-signing certificate: {error}") from None
    assert (issued.key, issued.certificate) == (settings.key_file, settings.certificate_file), "demo.toml names them"
    log.warning("DEMO: issued the gateway a development message-signing key and certificate, %s", issued.certificate)


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


def _redacted(url: str) -> str:
    scheme, _, rest = url.partition("://")
    credentials, at, location = rest.rpartition("@")
    return f"{scheme}://***@{location}" if at else url
