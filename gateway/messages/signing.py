"""The gateway's use of signed business headers (gateway.messages.signatures): whom it asks for a signature, whose
certificates it trusts, and the key it signs its own messages with. Loaded from the config once, at start-up.

Each participant has a signature_policy:
- "required": every message it sends carries a signature in AppHdr/Sgntr that verifies against one of its registered
  certificates (signing_certificates); an unsigned one is refused DS0A, a bad one with the code verify gives.
- "optional" (the default): an unsigned message is taken; a signed one is verified exactly as under "required".
- "off": its messages are not verified (a signature it sends is left unread: neither checked nor refused), and the
  gateway does not sign what it sends it.
Every message the gateway sends a participant whose policy is not "off" is signed with the gateway's key, when
[message_signing] names one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import MappingProxyType

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from lxml import etree

from gateway import bounds
from gateway.config import Config, ConfigError, signature_policy_default
from gateway.messages.envelope import Unwrapped
from gateway.messages.rejections import Rejection
from gateway.messages.signatures import (
    SignatureRefusal,
    SigningKey,
    TrustedCertificate,
    sign,
    verify,
)

optional, off = "optional", "off"  # the signature_policy values that spare a check ("required" spares none)


@dataclass(frozen=True, slots=True)
class GatewaySigner:
    """The gateway's message-signing key and its certificate, which names the central bank's BIC."""

    key: SigningKey = field(repr=False)
    certificate: x509.Certificate = field(repr=False)

    def sign(self, app_hdr: etree._Element, document: etree._Element) -> None:
        """Sign a message the gateway wrote, in place (see signatures.sign)."""
        sign(app_hdr, document, self.key, self.certificate)


@dataclass(frozen=True, slots=True)
class MessageSigning:
    """Signatures as this gateway's config asks for them."""

    signer: GatewaySigner | None  # None: the gateway signs nothing
    # What GET /v1/signing-certificates publishes: the certificate in use, then the next one during a rotation.
    published: tuple[x509.Certificate, ...]
    policies: Mapping[str, str]  # each participant's signature_policy, by BIC
    trusted: tuple[TrustedCertificate, ...]  # every participant's registered certificates

    def policy(self, bic: str) -> str:
        """A participant's signature_policy; a sender that is not one (the central bank's own client) gets the
        default's."""
        return self.policies.get(bic, signature_policy_default)

    def signer_for(self, receiver_bic: str) -> GatewaySigner | None:
        """Who signs the messages to `receiver_bic`: the gateway's signer, unless the receiver's policy is off."""
        return None if self.policy(receiver_bic) == off else self.signer

    def check(self, sender_bic: str, unwrapped: Unwrapped, at: datetime) -> Rejection | None:
        """Whether a message the sender sent passes its policy, checked on the very AppHdr and Document the readers
        read (`unwrapped`): None when it does, else the refusal's rejection (a DS code)."""
        policy = self.policy(sender_bic)
        app_hdr = unwrapped.app_hdr
        assert app_hdr is not None, "the inbound path reads only messages with an AppHdr"
        if policy == off:
            return None
        if policy == optional and not _holds_sgntr(app_hdr):
            return None
        outcome = verify(app_hdr, unwrapped.document, self.trusted, at)
        return outcome.rejection() if isinstance(outcome, SignatureRefusal) else None


def load_message_signing(config: Config, at: datetime) -> MessageSigning:
    """Read and check the config's message-signing key and certificates at `at` (start-up). Raises ConfigError naming
    the key for a file that is missing or unreadable, a key its certificate is not for, a gateway certificate not
    valid at `at` or not naming the central bank, or a participant's certificate that cannot verify its messages."""
    signer, published = None, ()
    settings = config.message_signing
    if settings is not None:
        key = _private_key(settings.key_file, "message_signing.key_file")
        certificate = _certificate(settings.certificate_file, "message_signing.certificate_file")
        _own(config.central_bank.bic, certificate, "message_signing.certificate_file", at)
        if _public_der(certificate.public_key()) != _public_der(key.public_key()):
            raise ConfigError("message_signing.certificate_file",
                              f"{settings.certificate_file} is not the certificate of message_signing.key_file's key")
        signer = GatewaySigner(key, certificate)
        published = (certificate,)
        if settings.next_certificate_file is not None:
            name = "message_signing.next_certificate_file"
            following = _certificate(settings.next_certificate_file, name)
            _own(config.central_bank.bic, following, name, None)
            published = (certificate, following)
    trusted = []
    for index, participant in enumerate(config.participants):
        for position, path in enumerate(participant.signing_certificates):
            name = f"participants[{index}].signing_certificates[{position}]"
            trusted.append(_registered(participant.bic, path, name))
    policies = MappingProxyType({p.bic: p.signature_policy for p in config.participants})
    return MessageSigning(signer, published, policies, tuple(trusted))


def published_pem(certificates: Sequence[x509.Certificate]) -> bytes:
    """Certificates as one PEM bundle, in order."""
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificates)


def _holds_sgntr(app_hdr: etree._Element) -> bool:
    namespace = etree.QName(app_hdr).namespace
    return next(app_hdr.iterchildren(f"{{{namespace}}}Sgntr"), None) is not None


def _read(path: Path, key: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(key, f"{path} does not exist") from None
    except OSError as error:
        raise ConfigError(key, f"{path} cannot be read: {error.strerror}") from None


def _private_key(path: Path, key: str) -> SigningKey:
    data = _read(path, key)
    try:
        loaded = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ConfigError(key, f"{path} is not an unencrypted PEM private key") from None
    if not _allowed(loaded.public_key()):
        raise ConfigError(key, f"{path} holds a key the profile does not sign with (RSA of 2048 to 4096 bits, or P-256)")
    assert isinstance(loaded, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey)
    return loaded


def _certificate(path: Path, key: str) -> x509.Certificate:
    data = _read(path, key)
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError:
        raise ConfigError(key, f"{path} is not an X.509 certificate in PEM or DER") from None


def _own(bic: str, certificate: x509.Certificate, key: str, at: datetime | None) -> None:
    """A certificate of the gateway's: one that verifies as the central bank's (TrustedCertificate.load checks its key,
    key usage and BIC) and, when `at` is given, valid then."""
    try:
        TrustedCertificate.load(bic, certificate.public_bytes(serialization.Encoding.DER))
    except ValueError as error:
        raise ConfigError(key, f"cannot sign the gateway's messages: {error}") from None
    if at is not None and not certificate.not_valid_before_utc <= at <= certificate.not_valid_after_utc:
        raise ConfigError(key, f"the gateway's signing certificate is valid from "
                               f"{certificate.not_valid_before_utc.isoformat()} to "
                               f"{certificate.not_valid_after_utc.isoformat()}, not now ({at.isoformat()})")


def _registered(bic: str, path: Path, key: str) -> TrustedCertificate:
    """A participant's signing certificate. An expired one is still registered (it is refused DS0D, which says why,
    rather than DS0F, unknown), so a rotation can leave the old file listed past its end."""
    try:
        return TrustedCertificate.load(bic, _read(path, key))
    except ValueError as error:
        raise ConfigError(key, f"{path}: {error}") from None


def _allowed(public_key: object) -> bool:
    """Whether signatures.sign signs with the key: RSA of the bounds' sizes, or EC on P-256."""
    if isinstance(public_key, rsa.RSAPublicKey):
        return bounds.signature_rsa_key_bits_min <= public_key.key_size <= bounds.signature_rsa_key_bits_max
    return isinstance(public_key, ec.EllipticCurvePublicKey) and isinstance(public_key.curve, ec.SECP256R1)


def _public_der(public_key: object) -> bytes:
    return public_key.public_bytes(  # type: ignore[attr-defined, no-any-return]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
