"""`gateway certs init` writes a development PKI whose certificates carry each bank's BIC, and mutual TLS on
loopback with it lets in exactly the clients that CA vouched for, each recognised by its BIC."""

from __future__ import annotations

import ipaddress
import socket
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from gateway.config import Config, load_config
from gateway.security.certs import (
    DevelopmentPki,
    Party,
    PkiError,
    bic_from_certificate,
    client_ssl_context,
    document_signing,
    issue_client_certificate,
    issue_signing_certificate,
    parties_of,
    pkcs12_files,
    server_ssl_context,
    write_development_pki,
)
from tests.conftest import write_config

# The config tests/conftest.py writes: the central bank and three banks, by the names it gives them.
expected_subjects = {
    "CBRFRUMMXXX": "Bank of Russia",
    "SABRRUMMXXX": "Sberbank",
    "VTBRRUMMXXX": "VTB Bank",
    "ALFARUMMXXX": "Alfa-Bank",
}
extra_hosts = ("gateway.cbr.example", "10.20.30.40")


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return load_config(write_config(tmp_path, "sqlite+aiosqlite:///unused.sqlite3"), environ={})


def init(directory: Path, config: Config, hosts: tuple[str, ...] = extra_hosts, force: bool = False) -> DevelopmentPki:
    parties = parties_of(config)
    return write_development_pki(directory, parties[0], parties, hosts, force=force)


@pytest.fixture
def pki(tmp_path: Path, config: Config) -> DevelopmentPki:
    return init(tmp_path / "pki", config)


def certificate(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def der(path: Path) -> bytes:
    return certificate(path).public_bytes(serialization.Encoding.DER)


def test_init_writes_every_file_and_keeps_keys_private(pki: DevelopmentPki) -> None:
    written = {path.name for path in pki.directory.iterdir()}
    bics = ("CBRFRUMMXXX", "SABRRUMMXXX", "VTBRRUMMXXX", "ALFARUMMXXX")
    assert written == {
        "ca.pem", "ca.key", "server.pem", "server.key",
        *(f"{bic}{suffix}" for bic in bics for suffix in (".pem", ".key", ".p12", ".p12-password")),
    }  # fmt: skip
    for path in pki.directory.iterdir():
        assert path.stat().st_mode & 0o777 == (0o644 if path.suffix == ".pem" else 0o600), path.name
    assert pki.directory.stat().st_mode & 0o777 == 0o700
    assert [bic for bic, _ in pki.clients] == list(expected_subjects)  # the central bank first


def test_every_certificate_chains_to_the_ca_and_matches_its_key(pki: DevelopmentPki) -> None:
    ca = certificate(pki.ca.certificate)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    ca.verify_directly_issued_by(ca)  # self-signed
    for files in (pki.server, *(files for _, files in pki.clients)):
        issued = certificate(files.certificate)
        issued.verify_directly_issued_by(ca)  # raises unless the CA's key signed it
        assert not issued.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        key = serialization.load_pem_private_key(files.key.read_bytes(), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1"
        assert key.public_key() == issued.public_key()
        assert issued.not_valid_after_utc <= ca.not_valid_after_utc
        assert issued.not_valid_before_utc <= datetime.now(UTC) < issued.not_valid_after_utc


def test_server_certificate_names_loopback_and_the_hosts_given(pki: DevelopmentPki) -> None:
    server = certificate(pki.server.certificate)
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost", "gateway.cbr.example"]
    assert names.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("10.20.30.40"),
    ]
    usage = server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert bic_from_certificate(der(pki.server.certificate)) is None  # it names no bank


def test_client_certificates_carry_the_bic_in_subject_and_san(pki: DevelopmentPki) -> None:
    for bic, files in pki.clients:
        issued = certificate(files.certificate)
        assert [a.value for a in issued.subject.get_attributes_for_oid(NameOID.COMMON_NAME)] == [bic]
        assert [a.value for a in issued.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)] == [
            expected_subjects[bic]
        ]
        names = issued.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert list(names) == [x509.UniformResourceIdentifier(f"urn:bic:{bic}")]
        usage = issued.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        assert list(usage) == [ExtendedKeyUsageOID.CLIENT_AUTH]
        assert bic_from_certificate(der(files.certificate)) == bic


@dataclass(frozen=True, slots=True)
class Crafted:
    """A client certificate issued by the test's CA with the given subject CN and SAN URIs."""

    common_name: str | None
    uris: tuple[str, ...]


def crafted_der(pki: DevelopmentPki, crafted: Crafted) -> bytes:
    ca = certificate(pki.ca.certificate)
    ca_key = serialization.load_pem_private_key(pki.ca.key.read_bytes(), password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Crafted")]
    if crafted.common_name is not None:
        subject.insert(0, x509.NameAttribute(NameOID.COMMON_NAME, crafted.common_name))
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name(subject))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(days=1))
    )
    if crafted.uris:
        uris = [x509.UniformResourceIdentifier(uri) for uri in crafted.uris]
        builder = builder.add_extension(x509.SubjectAlternativeName(uris), critical=False)
    return builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


@pytest.mark.parametrize(
    ("crafted", "expected"),
    [
        (Crafted("SABRRUMMXXX", ("urn:bic:SABRRUMMXXX",)), "SABRRUMMXXX"),
        (Crafted(None, ("urn:bic:VTBRRUMMXXX",)), "VTBRRUMMXXX"),  # the SAN alone suffices
        (Crafted("SABRRUMM", ("urn:bic:SABRRUMM",)), "SABRRUMMXXX"),  # an 8-character BIC names the head office
        (Crafted("SABRRUMMXXX", ("https://sberbank.example/", "urn:bic:SABRRUMMXXX")), "SABRRUMMXXX"),
        (Crafted("SABRRUMMXXX", ()), None),  # a CN alone is not enough
        (Crafted("SABRRUMMXXX", ("urn:bic:SABRRUMMXXX", "urn:bic:VTBRRUMMXXX")), None),  # two banks
        (Crafted("VTBRRUMMXXX", ("urn:bic:SABRRUMMXXX",)), None),  # subject and SAN disagree
        (Crafted("sabrrummxxx", ("urn:bic:sabrrummxxx",)), None),  # not a BIC as ISO 9362 writes it
        (Crafted("SABRRUMMXXX", ("urn:bic:SABRRUMMXXX-1",)), None),
        (Crafted("SABRRUMMXXX", ("URN:BIC:SABRRUMMXXX",)), None),  # the prefix is matched exactly
    ],
    ids=str,
)
def test_bic_from_certificate_reads_one_unambiguous_bic(
    pki: DevelopmentPki, crafted: Crafted, expected: str | None
) -> None:
    assert bic_from_certificate(crafted_der(pki, crafted)) == expected


def test_bic_from_certificate_without_a_certificate_is_none(pki: DevelopmentPki) -> None:
    assert bic_from_certificate(None) is None
    assert bic_from_certificate(b"") is None
    assert bic_from_certificate(b"\x30\x03\x02\x01\x01") is None  # DER, but not a certificate
    pem = pki.clients[1][1].certificate.read_bytes()
    assert bic_from_certificate(pem) is None  # PEM is not what getpeercert(binary_form=True) returns


# --- mutual TLS on loopback ---------------------------------------------------------------------------------------


@dataclass
class Served:
    port: int
    seen: list[str | None]  # the BIC each request's peer certificate named, in order


@asynccontextmanager
async def tls_server(pki: DevelopmentPki) -> AsyncIterator[Served]:
    """An aiohttp server on a free loopback port, TLS with server_ssl_context, answering each request with the BIC
    that bic_from_certificate reads from the peer certificate, as the HTTP layer will."""
    served = Served(0, [])

    async def whoami(request: web.Request) -> web.Response:
        assert request.transport is not None
        ssl_object = request.transport.get_extra_info("ssl_object")
        bic = bic_from_certificate(ssl_object.getpeercert(binary_form=True))
        served.seen.append(bic)
        return web.Response(text=bic or "-")

    app = web.Application()
    app.router.add_get("/whoami", whoami)
    runner = web.AppRunner(app)
    await runner.setup()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    served.port = listener.getsockname()[1]
    context = server_ssl_context(pki.server.certificate, pki.server.key, pki.ca.certificate)
    try:
        await web.SockSite(runner, listener, ssl_context=context).start()
        yield served
    finally:
        await runner.cleanup()
        listener.close()


async def whoami(port: int, context: ssl.SSLContext, host: str = "127.0.0.1") -> str:
    connector = aiohttp.TCPConnector(ssl=context, force_close=True)
    timeout = aiohttp.ClientTimeout(total=10)
    async with (
        aiohttp.ClientSession(connector=connector, timeout=timeout) as session,
        session.get(f"https://{host}:{port}/whoami") as response,
    ):
        assert response.status == 200
        return await response.text()


async def test_handshake_authenticates_each_participant_by_its_bic(pki: DevelopmentPki) -> None:
    async with tls_server(pki) as served:
        for bic, files in pki.clients:
            context = client_ssl_context(pki.ca.certificate, files.certificate, files.key)
            assert await whoami(served.port, context) == bic
        # By name too: the server certificate's DNS SAN covers localhost.
        sberbank = dict(pki.clients)["SABRRUMMXXX"]
        context = client_ssl_context(pki.ca.certificate, sberbank.certificate, sberbank.key)
        assert await whoami(served.port, context, host="localhost") == "SABRRUMMXXX"
    assert served.seen == [*expected_subjects, "SABRRUMMXXX"]


@pytest.mark.parametrize("client", ["no certificate", "another CA's certificate", "the server's certificate"])
async def test_the_server_refuses_clients_its_ca_did_not_vouch_for(
    tmp_path: Path, config: Config, pki: DevelopmentPki, client: str
) -> None:
    other = init(tmp_path / "other", config)  # the same banks, another CA
    sberbank = dict(other.clients)["SABRRUMMXXX"]
    presented = {
        "no certificate": None,
        "another CA's certificate": (sberbank.certificate, sberbank.key),
        "the server's certificate": (pki.server.certificate, pki.server.key),  # not for client authentication
    }[client]
    context = client_ssl_context(pki.ca.certificate, *(presented or (None, None)))
    async with tls_server(pki) as served:
        with pytest.raises((aiohttp.ClientError, ssl.SSLError, ConnectionError)):
            await whoami(served.port, context)
    assert served.seen == []  # no request reached a handler


async def test_a_client_refuses_a_gateway_its_ca_did_not_sign(
    tmp_path: Path, config: Config, pki: DevelopmentPki
) -> None:
    other = init(tmp_path / "other", config)
    sberbank = dict(pki.clients)["SABRRUMMXXX"]
    trusting_the_other_ca = client_ssl_context(other.ca.certificate, sberbank.certificate, sberbank.key)
    async with tls_server(pki) as served:
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            await whoami(served.port, trusting_the_other_ca)
    assert served.seen == []


def test_contexts_require_tls_1_2_and_a_verified_peer(pki: DevelopmentPki) -> None:
    server = server_ssl_context(pki.server.certificate, pki.server.key, pki.ca.certificate)
    client = client_ssl_context(pki.ca.certificate)
    for context in (server, client):
        assert context.minimum_version == ssl.TLSVersion.TLSv1_2
        assert context.verify_mode == ssl.CERT_REQUIRED
        assert context.options & ssl.OP_NO_COMPRESSION
    assert client.check_hostname and not server.check_hostname


def test_each_client_certificate_is_also_a_pkcs12_file_for_browsers(pki: DevelopmentPki) -> None:
    """<BIC>.p12 opens with the password in <BIC>.p12-password (and with no other), holding the same certificate and
    key as the PEM files and the CA; each file has a password of its own."""
    passwords = set()
    for bic, files in pki.clients:
        bundle, password_file = pkcs12_files(pki.directory, bic)
        password = password_file.read_text().strip()
        assert len(password) >= 24
        passwords.add(password)
        loaded = pkcs12.load_pkcs12(bundle.read_bytes(), password.encode())
        assert loaded.cert is not None and loaded.cert.certificate.public_bytes(serialization.Encoding.DER) == der(
            files.certificate
        )
        key = serialization.load_pem_private_key(files.key.read_bytes(), password=None)
        assert loaded.key is not None and loaded.key.private_numbers() == key.private_numbers()  # type: ignore[union-attr]
        assert [c.certificate for c in loaded.additional_certs] == [certificate(pki.ca.certificate)]
        with pytest.raises(ValueError):
            pkcs12.load_pkcs12(bundle.read_bytes(), b"not the password")
    assert len(passwords) == len(pki.clients)


# --- overwriting --------------------------------------------------------------------------------------------------


def contents(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


def test_init_refuses_to_overwrite_and_replaces_everything_with_force(config: Config, pki: DevelopmentPki) -> None:
    before = contents(pki.directory)
    with pytest.raises(PkiError, match="without --force"):
        init(pki.directory, config)
    assert contents(pki.directory) == before
    # One file left is enough to refuse, and nothing else is written meanwhile.
    for path in pki.directory.iterdir():
        if path.name != "VTBRRUMMXXX.key":
            path.unlink()
    with pytest.raises(PkiError, match="VTBRRUMMXXX.key"):
        init(pki.directory, config)
    assert list(contents(pki.directory)) == ["VTBRRUMMXXX.key"]

    replaced = init(pki.directory, config, force=True)
    after = contents(replaced.directory)
    assert set(after) == set(before)  # every file back, no temporary file left behind
    assert after["ca.pem"] != before["ca.pem"] and after["VTBRRUMMXXX.key"] != before["VTBRRUMMXXX.key"]
    for path in replaced.directory.iterdir():
        assert path.stat().st_mode & 0o777 == (0o644 if path.suffix == ".pem" else 0o600), path.name
    vtb = dict(replaced.clients)["VTBRRUMMXXX"]
    certificate(vtb.certificate).verify_directly_issued_by(certificate(replaced.ca.certificate))


def test_init_refuses_a_host_no_certificate_can_carry(tmp_path: Path, config: Config) -> None:
    for host in ("bad host", "-gateway.example", "gateway..example", "", "a" * 64 + ".example"):
        with pytest.raises(PkiError, match="neither an IP address nor a DNS host name"):
            init(tmp_path / "pki", config, hosts=(host,))
    assert not (tmp_path / "pki").exists()


# --- the command --------------------------------------------------------------------------------------------------


def gateway(config_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli.main", "--config", str(config_file), *args],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.slow
def test_certs_init_command_end_to_end(tmp_path: Path) -> None:
    config_file = write_config(tmp_path, "sqlite+aiosqlite:///unused.sqlite3")
    directory = tmp_path / "tls"
    done = gateway(config_file, "certs", "init", str(directory), "--host", "gw.cbr.example", "--host", "10.1.2.3")
    assert done.returncode == 0, done.stderr
    assert "SABRRUMMXXX.pem, SABRRUMMXXX.key  client CN=SABRRUMMXXX, SAN URI urn:bic:SABRRUMMXXX" in done.stdout
    assert "the gateway: localhost, 127.0.0.1, gw.cbr.example, 10.1.2.3" in done.stdout
    assert (directory / "ca.key").stat().st_mode & 0o777 == 0o600
    assert bic_from_certificate(der(directory / "ALFARUMMXXX.pem")) == "ALFARUMMXXX"
    ca_before = (directory / "ca.pem").read_bytes()

    again = gateway(config_file, "certs", "init", str(directory))
    assert again.returncode == 2 and "refusing to replace them without --force" in again.stderr
    assert (directory / "ca.pem").read_bytes() == ca_before
    bad_host = gateway(config_file, "certs", "init", str(tmp_path / "elsewhere"), "--host", "not a host")
    assert bad_host.returncode == 2 and "not a host" in bad_host.stderr
    forced = gateway(config_file, "certs", "init", str(directory), "--force")
    assert forced.returncode == 0, forced.stderr
    assert (directory / "ca.pem").read_bytes() != ca_before
    names = certificate(directory / "server.pem").extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert names.value.get_values_for_type(x509.DNSName) == ["localhost"]  # a forced run takes only its own hosts


async def test_a_bank_registered_later_gets_a_certificate_from_the_same_ca(pki: DevelopmentPki, tmp_path: Path) -> None:
    """`certs issue`: one more client certificate, signed by the CA already there, which the gateway then accepts;
    nothing else in the directory changes."""
    before = {path.name: path.read_bytes() for path in pki.directory.iterdir()}
    gazprombank = Party("GAZPRUMMXXX", "Gazprombank")
    files = issue_client_certificate(pki.directory, gazprombank, force=False)
    issued = certificate(files.certificate)
    issued.verify_directly_issued_by(certificate(pki.ca.certificate))
    assert bic_from_certificate(der(files.certificate)) == "GAZPRUMMXXX"
    assert files.key.stat().st_mode & 0o777 == 0o600
    assert {path.name: path.read_bytes() for path in pki.directory.iterdir() if path.name in before} == before
    async with tls_server(pki) as served:
        context = client_ssl_context(pki.ca.certificate, files.certificate, files.key)
        assert await whoami(served.port, context) == "GAZPRUMMXXX"
    with pytest.raises(PkiError, match="refusing to replace"):
        issue_client_certificate(pki.directory, gazprombank, force=False)
    assert issue_client_certificate(pki.directory, gazprombank, force=True) == files
    with pytest.raises(PkiError, match="certs init"):
        issue_client_certificate(tmp_path / "empty", gazprombank, force=False)


async def test_a_signing_certificate_from_the_same_ca(pki: DevelopmentPki, tmp_path: Path) -> None:
    """issue_signing_certificate: a key for a party's XML signatures (the central bank's: the gateway's own), from
    the CA already there, naming the BIC as client certificates do, for documentSigning only: the gateway does not
    take it as a client certificate. Nothing else in the directory changes."""
    before = {path.name: path.read_bytes() for path in pki.directory.iterdir()}
    central_bank = Party("CBRFRUMMXXX", "Bank of Russia")
    files = issue_signing_certificate(pki.directory, central_bank, force=False)
    assert (files.certificate.name, files.key.name) == ("CBRFRUMMXXX.signing.pem", "CBRFRUMMXXX.signing.key")
    issued = certificate(files.certificate)
    issued.verify_directly_issued_by(certificate(pki.ca.certificate))
    assert bic_from_certificate(der(files.certificate)) == "CBRFRUMMXXX"
    usage = issued.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment and not usage.key_cert_sign
    assert list(issued.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [document_signing]
    assert not issued.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    key = serialization.load_pem_private_key(files.key.read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey) and key.public_key() == issued.public_key()
    assert files.key.stat().st_mode & 0o777 == 0o600
    assert {path.name: path.read_bytes() for path in pki.directory.iterdir() if path.name in before} == before
    async with tls_server(pki) as served:
        context = client_ssl_context(pki.ca.certificate, files.certificate, files.key)
        with pytest.raises((aiohttp.ClientError, ssl.SSLError, ConnectionError)):
            await whoami(served.port, context)
    assert served.seen == []
    with pytest.raises(PkiError, match="refusing to replace"):
        issue_signing_certificate(pki.directory, central_bank, force=False)
    assert issue_signing_certificate(pki.directory, central_bank, force=True) == files
    with pytest.raises(PkiError, match="certs init"):
        issue_signing_certificate(tmp_path / "empty", central_bank, force=False)
