"""A gateway with message signing configured: a development CA, the gateway's signing key and certificate, and each
bank's signing certificates registered as a test asks, all relative to the real clock (the gateway reads it)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from lxml import etree

from gateway.app import make_app
from gateway.config import load_config
from gateway.messages.signatures import SigningKey, TrustedCertificate, sign
from gateway.security.certs import Party, development_ca, signing_certificate
from tests.conftest import write_config
from tests.message_layer.support import unwrapped
from tests.settlement.builders import ALFA, CBRF, SBER, VTB
from tests.settlement.conftest import FUNDING, GatewayUnderTest

names = {CBRF: "Bank of Russia", SBER: "Sberbank", VTB: "VTB Bank", ALFA: "Alfa-Bank"}


@dataclass(frozen=True)
class Signer:
    """A party's signing key and certificate, and the file the certificate is registered from."""

    bic: str
    key: SigningKey
    certificate: x509.Certificate
    file: Path

    def sign(self, data: bytes) -> bytes:
        """The message `data` (an envelope holding an AppHdr without Sgntr) signed by this key."""
        message = unwrapped(data)
        assert message.app_hdr is not None
        sign(message.app_hdr, message.document, self.key, self.certificate)
        return etree.tostring(message.app_hdr.getroottree(), encoding="UTF-8", xml_declaration=True)

    def trusted(self) -> TrustedCertificate:
        return TrustedCertificate.load(self.bic, self.certificate.public_bytes(serialization.Encoding.PEM))


@dataclass(frozen=True)
class Pki:
    directory: Path
    ca: x509.Certificate
    ca_key: ec.EllipticCurvePrivateKey

    def signer(self, bic: str, name: str, valid_from: timedelta = -timedelta(days=30),
               lifetime: timedelta = timedelta(days=365)) -> Signer:
        """A new P-256 key and its certificate for `bic`, valid from now + `valid_from` for `lifetime`, written as
        <name>.pem with its key beside it."""
        key = ec.generate_private_key(ec.SECP256R1())
        certificate = signing_certificate(
            self.ca, self.ca_key, Party(bic, names[bic]), key.public_key(),
            issued_at=datetime.now(UTC) + valid_from, lifetime=lifetime,
        )
        file = self.directory / f"{name}.pem"
        file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        key_file = self.directory / f"{name}.key"
        key_file.write_bytes(
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption())
        )
        return Signer(bic, key, certificate, file)


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    directory = tmp_path / "pki"
    directory.mkdir()
    ca, ca_key = development_ca(Party(CBRF, names[CBRF]), datetime.now(UTC) - timedelta(days=365))
    (directory / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    return Pki(directory, ca, ca_key)


@pytest.fixture
def gateway_signer(pki: Pki) -> Signer:
    return pki.signer(CBRF, "gateway-signing")


def message_signing_toml(gateway: Signer | None, next_certificate: Path | None = None) -> str:
    if gateway is None:
        return ""
    text = (f'\n[message_signing]\nkey_file = "{gateway.file.with_suffix(".key")}"\n'
            f'certificate_file = "{gateway.file}"\n')
    return text + (f'next_certificate_file = "{next_certificate}"\n' if next_certificate else "")


def participant_signing_toml(policy: str, certificates: list[Signer] = ()) -> str:  # type: ignore[assignment]
    files = ", ".join(f'"{signer.file}"' for signer in certificates)
    return f'signature_policy = "{policy}"\nsigning_certificates = [{files}]\n'


SigningGatewayFactory = Callable[..., Awaitable[GatewayUnderTest]]


@pytest.fixture
def signing_gateway(aiohttp_client, database_url: str, tmp_path: Path) -> SigningGatewayFactory:  # type: ignore[no-untyped-def]
    """Builds the app as tests/settlement does (plain HTTP, migrating, funded), with [message_signing] for
    `gateway` (None: none) and each bank's `participants` keys (participant_signing_toml)."""
    async def build(gateway: Signer | None, participants: dict[str, str], next_certificate: Path | None = None
                    ) -> GatewayUnderTest:
        path = write_config(tmp_path, database_url, participant_toml=participants)
        with path.open("a", encoding="utf-8") as file:
            file.write(message_signing_toml(gateway, next_certificate))
        config = load_config(path, environ={})
        client = await aiohttp_client(make_app(config, upgrade_database=True, plain_http=True))
        under_test = GatewayUnderTest(client, config)
        await under_test.mint(FUNDING)
        return under_test

    return build
