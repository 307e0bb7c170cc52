"""The compose deployment run as processes (tests/deploy/twin.py): the migration job, then two gateways on one
PostgreSQL through compose/entrypoint.sh settle payments sent to either exactly once, sign their answers with the
certificate they publish, and stop cleanly on SIGTERM; a missing secret, an un-migrated database or a bad server
certificate stops a service with a clear message."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from gateway.domain.money import text_from_kopecks
from gateway.messages.envelope import Unwrapped, unwrap
from gateway.messages.rejections import Rejection
from gateway.messages.safe_xml import parse_bounded
from gateway.messages.signatures import TrustedCertificate, Verified, verify
from tests.deploy.twin import Process, Twin, camt_050_mint, ops_listener_known
from tests.settlement.builders import SBER, VTB, Tx, pacs_008, today_in_moscow

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

mint_kopecks = 250_000_00  # what the shipped camt.050-mint example converts
central_bank = "CBRFRUMMXXX"  # compose/gateway.toml's central_bank.bic: the gateway signs as it
payments_count = 12


def refused_cleanly(result, *expected: str) -> str:  # type: ignore[no-untyped-def]
    """A service that must not start: exit status 2, the expected words in one `entrypoint:` or `gateway:` line, no
    traceback."""
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "Traceback" not in output, output
    lines = [line for line in output.splitlines() if all(word in line for word in expected)]
    assert lines and lines[0].startswith(("entrypoint: ", "gateway: ")), output
    return lines[0]


def test_two_gateways_from_the_compose_file_settle_each_payment_once_and_stop_on_sigterm(twin: Twin) -> None:
    migrated = twin.run("migrate")
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    assert "entrypoint: checked: config" in migrated.stderr and "database at schema" in migrated.stdout

    a, b = twin.start("gateway-a"), twin.start("gateway-b")
    health = twin.run("gateway-a", *twin.service("gateway-a")["healthcheck"]["test"][2:], beside=a)
    if ops_listener_known:
        assert health.returncode == 0, health.stderr
    else:
        assert health.returncode == 1 and "no ops listener" in health.stderr, health.stderr

    # A conversion to each instance: each answers it, signed with the key compose.yaml mounts for it.
    for process in (a, b):
        outcome, answer = twin.post(process, SBER, camt_050_mint())
        assert outcome == "accepted" and b"<StsCd>ACSC</StsCd>" in answer, answer[-2000:]
        assert_signed_by_the_published_certificate(twin, process, answer)

    # Every payment goes to both instances at once, as a bank retrying on the other instance would: one settles it,
    # the other answers with the stored answer.
    payments = [Tx(SBER, VTB, 1_000_00 + i) for i in range(payments_count)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        for i, payment in enumerate(payments):
            message = pacs_008(SBER, f"TWIN-{i}-{uuid.uuid4().hex[:8]}", [payment], today_in_moscow())
            answers = list(pool.map(twin.post, (a, b), (SBER, SBER), (message, message)))
            assert sorted(outcome for outcome, _ in answers) == ["accepted", "replayed"], answers
            assert answers[0][1] == answers[1][1]
            settled_here = f"<OrgnlUETR>{payment.uetr}</OrgnlUETR><TxSts>ACSC</TxSts>".encode()
            assert settled_here in answers[0][1], answers[0][1]

    paid = sum(p.kopecks for p in payments)
    balances, settled = asyncio.run(twin.balances_and_payments())
    assert balances[f"{SBER}/main"] == 2 * mint_kopecks - paid, text_from_kopecks(balances[f"{SBER}/main"])
    assert balances[f"{VTB}/main"] == paid
    assert settled == Counter({p.uetr: 1 for p in payments}), "each payment settled exactly once"

    verified = twin.run("gateway-a", "ledger", "verify")
    assert verified.returncode == 0 and "ledger verified" in verified.stdout, verified.stdout + verified.stderr

    for process in (a, b):
        assert twin.stop(process) == 0, process.output()[-4000:]
        assert "Traceback" not in process.output(), process.output()


def assert_signed_by_the_published_certificate(twin: Twin, process: Process, answer: bytes) -> None:
    """The answer carries AppHdr/Sgntr, and it verifies against what the instance publishes, as a bank that
    registered that certificate would check it; the certificate is the one mounted as the message-signing secret."""
    published = twin.signing_certificates(process, SBER)
    assert published == (twin.secrets_dir / "message-signing.pem").read_bytes(), published
    parsed = parse_bounded(answer)
    assert not isinstance(parsed, Rejection), parsed
    message = unwrap(parsed)
    assert isinstance(message, Unwrapped) and message.app_hdr is not None, answer[:2000]
    assert message.app_hdr.find("{*}Sgntr") is not None, f"{process.service}'s answer is not signed"
    registered = TrustedCertificate.load(central_bank, published)
    outcome = verify(message.app_hdr, message.document, [registered], datetime.now(UTC))
    assert isinstance(outcome, Verified) and outcome.bic == central_bank, outcome


@pytest.mark.parametrize(
    ("service", "secret"),
    [("migrate", "postgres_password"), ("gateway-a", "cb_signing_key"), ("gateway-a", "tls_server_key"),
     ("gateway-a", "message_signing_key"), ("gateway-b", "message_signing_certificate")],
)
def test_a_missing_secret_stops_the_service_with_a_message_naming_it(twin: Twin, service: str, secret: str) -> None:
    twin.mount(service, leave_out=secret)
    entry = next(e for e in twin.service(service)["secrets"] if (e if isinstance(e, str) else e["source"]) == secret)
    target = entry if isinstance(entry, str) else entry.get("target", secret)
    result = twin.run(service, mount=False)
    refused_cleanly(result, "does not exist", target.rsplit("/", 1)[-1])


def test_a_gateway_on_an_unmigrated_database_says_to_migrate_it(twin: Twin) -> None:
    line = refused_cleanly(twin.run("gateway-a"), "gateway db upgrade")
    assert "no gateway schema" in line


def _issue_server_certificate(pki: Path, not_before: datetime, not_after: datetime, key_file: Path | None) -> None:
    """Replace pki/server.pem by one from the same CA for pki/server.key (or a new key when `key_file` is None)."""
    ca = x509.load_pem_x509_certificate((pki / "ca.pem").read_bytes())
    ca_key = serialization.load_pem_private_key((pki / "ca.key").read_bytes(), password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    if key_file is None:
        public_key = ec.generate_private_key(ec.SECP256R1()).public_key()
    else:
        private_key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
        assert isinstance(private_key, ec.EllipticCurvePrivateKey)
        public_key = private_key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "cryptoruble gateway")]))
        .issuer_name(ca.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    (pki / "server.pem").unlink()  # the guide leaves it read-only
    (pki / "server.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))


@pytest.mark.parametrize(
    ("case", "expected"),
    [("expired", ("expired on", "server.pem")), ("not yet valid", ("not valid before", "server.pem")),
     ("another key", ("is the key the certificate's?",))],
)
def test_a_bad_server_certificate_stops_the_gateway_with_a_message(
    twin: Twin, case: str, expected: tuple[str, ...]
) -> None:
    now = datetime.now(UTC)
    pki = twin.secrets_dir / "pki"
    if case == "expired":
        _issue_server_certificate(pki, now - timedelta(days=400), now - timedelta(days=1), pki / "server.key")
    elif case == "not yet valid":
        _issue_server_certificate(pki, now + timedelta(days=1), now + timedelta(days=400), pki / "server.key")
    else:
        _issue_server_certificate(pki, now - timedelta(days=1), now + timedelta(days=400), None)
    refused_cleanly(twin.run("gateway-a"), *expected)


def _self_signed_signing_certificate(
    path: Path, private_key: ec.EllipticCurvePrivateKey, not_before: datetime, not_after: datetime
) -> None:
    """Replace `path` by a certificate for `private_key`'s public key, made as docs/deploy.md's openssl line makes one."""
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, central_bank)])
    usage = x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                          encipher_only=False, decipher_only=False)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName([x509.UniformResourceIdentifier(f"urn:bic:{central_bank}")]),
                       critical=False)
        .add_extension(usage, critical=True)
        .sign(private_key, hashes.SHA256())
    )
    path.unlink()  # the guide leaves it read-only
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))


@pytest.mark.parametrize(
    ("case", "expected"),
    [("another key", ("message_signing.certificate_file", "is not the certificate of")),
     ("expired", ("message_signing.certificate_file", "not now"))],
)
def test_a_bad_message_signing_certificate_stops_the_gateway_with_a_message(
    twin: Twin, case: str, expected: tuple[str, ...]
) -> None:
    now = datetime.now(UTC)
    key_file, certificate_file = twin.secrets_dir / "message-signing.key", twin.secrets_dir / "message-signing.pem"
    if case == "another key":
        _self_signed_signing_certificate(certificate_file, ec.generate_private_key(ec.SECP256R1()),
                                         now - timedelta(days=1), now + timedelta(days=365))
    else:
        private_key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
        assert isinstance(private_key, ec.EllipticCurvePrivateKey)
        _self_signed_signing_certificate(certificate_file, private_key, now - timedelta(days=400),
                                         now - timedelta(days=1))
    refused_cleanly(twin.run("gateway-b"), *expected)
