"""What compose/entrypoint.sh checks before it starts the gateway, and the container healthcheck.

    python3 preflight.py migrate   the config, and the database accepting the gateway's connection
    python3 preflight.py serve     the same, and the chain-signing key, the message-signing key and certificate
                                   (and every bank's registered signing certificate) and the TLS files: readable,
                                   the certificates valid today, each key its certificate's
    python3 preflight.py health    GET /readyz on the gateway's ops port (the container's HEALTHCHECK)

Every problem is one line on stderr saying what is wrong and what to do, never a traceback. Exit status: 0 go on,
2 the deployment is wrong (a missing or unreadable file, a bad config, an expired certificate, a password refused),
3 the database did not accept a connection within DATABASE_WAIT_SECONDS (default bounds.startup_database_wait_seconds),
1 health: not ready. It reads the config exactly as the gateway will (gateway.config.load_config: GATEWAY_CONFIG and
the GATEWAY_<SECTION>__<KEY> overrides), so the files it checks are the files the gateway opens.
"""

from __future__ import annotations

import asyncio
import os
import ssl
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from cryptography import x509
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg as AsyncpgDialect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from gateway import bounds
from gateway.config import Config, ConfigError, HttpConfig, load_config
from gateway.ledger.signing import KeyFileError, key_id_of, load_private_key
from gateway.messages.signing import load_message_signing
from gateway.security.certs import server_ssl_context

exit_deployment_wrong = 2
exit_database_unreachable = 3
exit_not_ready = 1
ops_listener_known = "ops_port" in {f.name for f in fields(HttpConfig)}  # the gateway's ops port, once it has one


class Refusal(Exception):
    """The deployment cannot start as it is: said in one line, exit status `status`."""

    def __init__(self, message: str, status: int = exit_deployment_wrong) -> None:
        super().__init__(message)
        self.status = status


def say(line: str) -> None:
    print(f"entrypoint: {line}", file=sys.stderr, flush=True)


def main(argv: Sequence[str]) -> int:
    if len(argv) != 1 or argv[0] not in ("migrate", "serve", "health"):
        say("usage: preflight.py migrate|serve|health")
        return exit_deployment_wrong
    try:
        config = checked_config()
        if argv[0] == "health":
            return health(config)
        checked = [f"config {config.source}"]
        if argv[0] == "serve":
            now = datetime.now(UTC)
            checked.append(f"chain-signing key {checked_signing_key(config)}")
            checked.append(checked_message_signing(config, now))
            valid_until = checked_tls(config.http.tls_dir, now)
            checked.append(f"server certificate valid until {valid_until:%Y-%m-%d}")
        asyncio.run(wait_for_database(config.database.url, database_wait_seconds()))
        checked.append("database reachable")
    except Refusal as refusal:
        say(str(refusal))
        return refusal.status
    say(f"checked: {', '.join(checked)}")
    return 0


def checked_config() -> Config:
    """The config the gateway will read. A deployment names its file: the packaged demo (a SQLite file and keys
    created on the spot) never starts in a container by accident."""
    named = os.environ.get("GATEWAY_CONFIG", "")
    if not named:
        raise Refusal("GATEWAY_CONFIG is not set: name the mounted config file (compose/gateway.toml)")
    path = Path(named)
    if not path.is_file():
        raise Refusal(f"GATEWAY_CONFIG={named}: no such file (is the config file mounted there?)")
    readable(path, "the config file (GATEWAY_CONFIG)")
    try:
        config = load_config()
    except ConfigError as error:
        raise Refusal(f"{named}: {error}") from None
    if config.sqlite_path is not None:
        raise Refusal("database.url names a SQLite file: a deployment's gateways share one PostgreSQL; set"
                      " GATEWAY_DATABASE__URL=postgresql+asyncpg://USER@HOST:PORT/DATABASE")
    return config


def readable(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise Refusal(f"{what}: {path} does not exist (is the secret or file defined and mounted?)") from None
    except OSError as error:
        raise Refusal(f"{what}: cannot read {path} as uid {os.getuid()}: {error.strerror} (Compose mounts a secret"
                      " file with its mode on the host: make it readable, see docs/deploy.md)") from None


def checked_signing_key(config: Config) -> str:
    """The central bank's chain-signing key: the gateway signs every chain head with it, so it must load."""
    path = config.central_bank.signing_key_file
    readable(path, "the chain-signing key (central_bank.signing_key_file)")
    try:
        return key_id_of(load_private_key(path).public_key())
    except KeyFileError as error:
        raise Refusal(f"the chain-signing key: {error}") from None


def checked_message_signing(config: Config, now: datetime) -> str:
    """The key the gateway signs its messages with, its certificate, and the banks' registered signing certificates,
    loaded as `gateway serve` loads them; what was checked, for the `checked:` line."""
    settings = config.message_signing
    if settings is None:
        say("warning: no [message_signing] key: the gateway signs none of the messages it sends")
        return "message signing off"
    # A missing secret is named as the other secrets are; the rest is the gateway's own start-up check.
    readable(settings.key_file, "the message-signing key (message_signing.key_file)")
    readable(settings.certificate_file, "the message-signing certificate (message_signing.certificate_file)")
    try:
        signing = load_message_signing(config, now)
    except ConfigError as error:
        raise Refusal(str(error)) from None
    assert signing.signer is not None, "message_signing names a key"
    valid_until = signing.signer.certificate.not_valid_after_utc
    if valid_until - now < timedelta(days=bounds.certificate_expiry_warning_days):
        say(f"warning: the message-signing certificate {settings.certificate_file} expires on"
            f" {valid_until:%Y-%m-%d %H:%M} UTC: rotate it (docs/deploy.md, rotating the message-signing key)")
    return f"message-signing certificate valid until {valid_until:%Y-%m-%d}"


def checked_tls(tls_dir: Path, now: datetime) -> datetime:
    """server.pem, server.key and ca.pem (the client CA, which may hold an old and a new CA while banks move from one
    to the other): each readable; the server certificate and at least one CA valid now; the key the certificate's.
    Returns when the server certificate expires."""
    certificate_file, key_file, ca_file = tls_dir / "server.pem", tls_dir / "server.key", tls_dir / "ca.pem"
    server_pem = readable(certificate_file, "the server certificate")
    readable(key_file, "the server key")
    ca_pem = readable(ca_file, "the client CA")
    server = _certificates(server_pem, certificate_file)[0]  # the leaf first, as load_cert_chain reads it
    _valid_now(server, certificate_file, "the server certificate", now)
    authorities = _certificates(ca_pem, ca_file)
    current = [ca for ca in authorities if ca.not_valid_before_utc <= now < ca.not_valid_after_utc]
    if not current:
        _valid_now(authorities[0], ca_file, "the client CA", now)  # raises, saying when it expired
    for ca in authorities:
        if ca not in current:
            say(f"warning: {ca_file} also holds a CA valid only {_validity(ca)}: no bank's certificate from it is"
                " accepted now; remove it")
    try:
        server_ssl_context(certificate_file, key_file, ca_file)  # exactly as `gateway serve` loads them
    except ssl.SSLError as error:
        raise Refusal(f"{certificate_file}, {key_file}: {error.reason or error} (is the key the certificate's?)"
                      ) from None
    return server.not_valid_after_utc


def _certificates(pem: bytes, path: Path) -> list[x509.Certificate]:
    try:
        certificates = x509.load_pem_x509_certificates(pem)
    except ValueError as error:
        raise Refusal(f"{path}: not a PEM certificate ({error})") from None
    return certificates


def _validity(certificate: x509.Certificate) -> str:
    before, after = certificate.not_valid_before_utc, certificate.not_valid_after_utc
    return f"from {before:%Y-%m-%d %H:%M} to {after:%Y-%m-%d %H:%M} UTC"


def _valid_now(certificate: x509.Certificate, path: Path, what: str, now: datetime) -> None:
    subject = certificate.subject.rfc4514_string()
    if now >= certificate.not_valid_after_utc:
        raise Refusal(f"{what} {path} ({subject}) expired on {certificate.not_valid_after_utc:%Y-%m-%d %H:%M} UTC:"
                      " banks would refuse it; install a new one (docs/deploy.md, rotating certificates)")
    if now < certificate.not_valid_before_utc:
        raise Refusal(f"{what} {path} ({subject}) is not valid before"
                      f" {certificate.not_valid_before_utc:%Y-%m-%d %H:%M} UTC: is this machine's clock right?")
    if certificate.not_valid_after_utc - now < timedelta(days=bounds.certificate_expiry_warning_days):
        say(f"warning: {what} {path} expires on {certificate.not_valid_after_utc:%Y-%m-%d %H:%M} UTC: rotate it")


def database_wait_seconds() -> int:
    text = os.environ.get("DATABASE_WAIT_SECONDS", str(bounds.startup_database_wait_seconds))
    if not text.isdigit() or not 0 <= int(text) <= bounds.startup_database_wait_seconds_max:
        raise Refusal(f"DATABASE_WAIT_SECONDS={text!r}: seconds, 0 to {bounds.startup_database_wait_seconds_max}")
    return int(text)


async def wait_for_database(url: str, wait_seconds: int) -> None:
    """Connect as the gateway will (the URL's user and database; the password from the URL or PGPASSWORD, which
    the entrypoint reads from DATABASE_PASSWORD_FILE). A server not yet accepting connections is waited for; a
    server that answers with a refusal (password, unknown database) is a deployment error at once."""
    try:
        parsed = make_url(url)
        # The driver's arguments as SQLAlchemy makes them for the gateway: several hosts (?host=a:5432&host=b:5432,
        # target_session_attrs=read-write, docs/deploy.md) included.
        _, arguments = AsyncpgDialect().create_connect_args(parsed)
    except ArgumentError as error:
        raise Refusal(f"database.url: {error}") from None
    hosts = arguments.get("host") or "localhost"
    ports = arguments.get("port") or 5432
    hosts, ports = (hosts, ports) if isinstance(hosts, list) else ([hosts], [ports])
    where = ", ".join(f"{host}:{port}" for host, port in zip(hosts, ports, strict=True))
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            connection = await asyncpg.connect(**arguments, timeout=bounds.health_timeout_seconds)
        except (OSError, TimeoutError, asyncpg.CannotConnectNowError) as error:
            # Not up yet (refused, no route, still starting or recovering): wait, within the bound.
            if time.monotonic() >= deadline:
                raise Refusal(f"the database at {where} did not accept a connection within {wait_seconds} s"
                              f" ({type(error).__name__}: {error})", exit_database_unreachable) from None
            await asyncio.sleep(1)
            continue
        except asyncpg.InvalidPasswordError:
            raise Refusal(f"the database at {where} refused the password of user {parsed.username!r}: check"
                          " DATABASE_PASSWORD_FILE against the password the database was created with") from None
        except asyncpg.InvalidCatalogNameError:
            raise Refusal(f"the database at {where} has no database {parsed.database!r}") from None
        except (asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            raise Refusal(f"the database at {where} refused the connection: {error}") from None
        await connection.close()
        return


def health(config: Config) -> int:
    """The container's healthcheck: ready is what the gateway's /readyz says on its ops port (no client certificate
    there). A gateway without an ops listener cannot be asked without a bank's certificate: said so, not ready."""
    if not ops_listener_known:
        say("this gateway has no ops listener ([http] ops_port): its /readyz needs a client certificate")
        return exit_not_ready
    host = config.http.ops_host  # type: ignore[attr-defined]
    host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # listening everywhere: ask on loopback
    url = f"http://{host}:{config.http.ops_port}/readyz"  # type: ignore[attr-defined]
    try:
        with urllib.request.urlopen(url, timeout=bounds.health_timeout_seconds) as response:
            response.read()
    except urllib.error.HTTPError as error:
        say(f"{url}: {error.code} {error.read(500).decode(errors='replace')}")
        return exit_not_ready
    except (OSError, TimeoutError) as error:
        say(f"{url}: {error}")
        return exit_not_ready
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
