"""`gateway demo`: a scripted business day on the embedded default, for someone who has never seen the gateway
(gateway/demo/ says what the day is, and why it is yesterday's).

The gateway runs in this process: the same server `gateway serve` runs (make_app, the hardened listener, mutual TLS
with the demo's development PKI under ./var/certs, the embedded RTGS simulator, the background work), with the
demo's day played beside it in the same event loop. In-process because the demo's clock is one value the gateway
and the script share (a child would need it passed and switched across processes), the summary reads the ledger
and the RTGS as the central bank does, and one Ctrl-C ends everything with no child process left behind.

Each run plays its day on a new ledger: ./var/gateway.sqlite3 is replaced, since the day played is yesterday's and
a ledger that already holds today cannot be given yesterday again (the demo's data: the packaged demo config's,
which `gateway serve` without a config uses too). The signing key and the development PKI are kept, so that
certificates a newcomer has pointed curl at stay valid; --fresh removes all of ./var first.

Before anything is removed: the port must be free, and what is kept must be usable (the key, every certificate);
otherwise a message saying what to do, exit status 2, and ./var as it was.
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import shutil
import socket
import sys
from dataclasses import replace
from pathlib import Path

from rich.console import Console

from gateway import bounds
from gateway.app import make_app
from gateway.cli.serve import (
    allow_open_files,
    demo_message_signing,
    demo_signing_key,
    server_tls,
)
from gateway.cli.usage import UsageError
from gateway.config import Config, demo_found_by, load_demo_config
from gateway.demo.clock import DemoClock
from gateway.demo.day import DemoDay, DemoFailed
from gateway.demo.report import Explore
from gateway.http import heap
from gateway.http.listener import serve_forever
from gateway.ledger.signing import KeyFileError, load_private_key
from gateway.replay.client import Identities
from gateway.replay.examples import examples_dir
from gateway.runtime import clock_us
from gateway.security.certs import ca_file_names, parties_of, server_file_names

fresh_hint = "`gateway demo --fresh` starts over with a new ./var"


def demo(config: Config, args: argparse.Namespace) -> int:
    if config.found_by != demo_found_by:
        print(f"gateway demo: runs the packaged demo config under ./var; {config.source} ({config.found_by}) is not"
              " used", file=sys.stderr)
    demo_config = load_demo_config()
    if args.port is not None and not 1 <= args.port <= 65535:
        raise UsageError(f"--port {args.port}: a TCP port is within 1..65535")
    http = replace(demo_config.http, port=args.port or demo_config.http.port)
    demo_config = replace(demo_config, http=http)
    _require_free_port(http.host, http.port)
    var_dir = _var_dir(demo_config)
    if args.fresh:
        _remove(var_dir, "the demo's folder")
    key_file = demo_config.central_bank.signing_key_file
    if key_file.exists():
        try:
            load_private_key(key_file)
        except KeyFileError as error:
            raise UsageError(f"{error}: {fresh_hint}") from None
    _require_certificates(demo_config)
    _remove_ledger(demo_config)

    # Quiet: the demo says what happens; the gateway's own log lines would bury it. Warnings and errors still show,
    # but for the two the demo says itself.
    logging.getLogger().setLevel(logging.WARNING)
    made = [what for path, what in ((key_file, "a throw-away signing key"), (http.tls_dir, "a development PKI"))
            if not path.exists()]
    logging.getLogger("gateway").setLevel(logging.ERROR)
    try:
        demo_signing_key(demo_config)
        ssl_context = server_tls(demo_config, http.tls_dir, fresh_hint)
        demo_message_signing(demo_config)
    finally:
        logging.getLogger("gateway").setLevel(logging.NOTSET)
    calendar = demo_config.business_days.calendar
    clock = DemoClock(calendar.previous_business_day(calendar.business_date_at(clock_us())), clock_us)
    identities = Identities(ca_file=http.tls_dir / ca_file_names[0], certs_dir=http.tls_dir)
    console = Console(highlight=False, width=None if sys.stdout.isatty() else bounds.demo_piped_width_chars)
    url = f"https://{http.host}:{http.port}"
    day = DemoDay(clock, identities, console, serve=not args.no_serve, explore=_explore(url, http.tls_dir))
    var_shown = os.path.relpath(var_dir, Path.cwd()) if var_dir.is_relative_to(Path.cwd()) else str(var_dir)
    console.print(f"gateway demo: a new ledger in {var_shown}/" + (f", with {' and '.join(made)}" if made else
                  ", with the signing key and development PKI kept from before") + f"; the gateway on {url}")
    heap.map_large_blocks()
    allow_open_files(demo_config.limits.connections_max + bounds.open_files_besides_connections)
    try:
        serve_forever(
            make_app(demo_config, upgrade_database=True, clock=clock),
            host=http.host,
            port=http.port,
            ssl_context=ssl_context,
            limits=demo_config.limits,
            reuse_port=False,
            announce=lambda line: None,  # the demo prints its own URL once its day is over
            alongside=day,
        )
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise UsageError(_port_in_use(http.host, http.port)) from None
        raise
    except DemoFailed as error:
        print(f"gateway demo: {error}", file=sys.stderr)
        return 1
    if day.closed_day is None:
        print("gateway demo: stopped before the day was over", file=sys.stderr)
        return 130
    return 1 if day.not_as_scripted else 0


def _var_dir(config: Config) -> Path:
    database = config.sqlite_path
    assert database is not None, "the packaged demo runs on SQLite"
    return database.parent


def _require_free_port(host: str, port: int) -> None:
    """Refuse at once, before ./var is touched, a port another process listens on (a `gateway serve` left running
    in another terminal, most likely). Bound as the listener binds (SO_REUSEADDR), so a port in TIME_WAIT is free."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise UsageError(_port_in_use(host, port)) from None
            raise UsageError(f"cannot listen on {host}:{port}: {error.strerror}") from None


def _port_in_use(host: str, port: int) -> str:
    return (f"port {port} on {host} is in use (a `gateway serve` or another demo still running? stop it with Ctrl-C,"
            " or give the demo another one with --port)")


def _require_certificates(config: Config) -> None:
    """The PKI under ./var/certs is kept from run to run: either none of it is there yet (it is written), or every
    file the demo uses is (the server's, the CA's certificate, each party's client certificate and key)."""
    tls_dir = config.http.tls_dir
    needed = [tls_dir / name for name in (*server_file_names, ca_file_names[0])]
    for party in parties_of(config):
        needed += [tls_dir / f"{party.bic}.pem", tls_dir / f"{party.bic}.key"]
    present = tls_dir.is_dir() and any(tls_dir.iterdir())
    if tls_dir.exists() and not tls_dir.is_dir():
        raise UsageError(f"{tls_dir} is not a folder of certificates: {fresh_hint}")
    missing = [str(path) for path in needed if not path.is_file()]
    if present and missing:
        shown = ", ".join(missing[:4]) + (f" and {len(missing) - 4} more" if len(missing) > 4 else "")
        raise UsageError(f"certificates missing: {shown}; {fresh_hint} (a new development PKI)")


def _remove_ledger(config: Config) -> None:
    """The database and SQLite's files beside it: the demo's day goes on a new ledger."""
    database = config.sqlite_path
    assert database is not None
    for path in (database, *(database.with_name(database.name + suffix) for suffix in ("-wal", "-shm", "-journal"))):
        _remove(path, "the demo's ledger")


def _remove(path: Path, what: str) -> None:
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
    except OSError as error:
        raise UsageError(f"cannot remove {path} ({what}): {error.strerror}") from None


def _explore(url: str, tls_dir: Path) -> Explore:
    """The commands to try next, written as they must be typed in this directory."""
    cwd = Path.cwd()
    certs = os.path.relpath(tls_dir, cwd) if tls_dir.is_relative_to(cwd) else str(tls_dir)
    local = cwd / "gateway" / "examples"  # in a checkout: the README's own words
    examples = "gateway/examples" if local.resolve() == examples_dir.resolve() else str(examples_dir)
    called = Path(sys.argv[0])
    program = "gateway"
    if called.name == "gateway" and called.parent != Path("."):
        program = os.path.relpath(called, cwd) if called.resolve().is_relative_to(cwd) else str(called)
        if not program.startswith(("/", ".")):
            program = f"./{program}" if "/" not in program else program
    return Explore(program=program, url=url, certs=certs, examples=examples)
