"""The development PKI for mutual TLS, the TLS contexts that use it, and the BIC a client certificate authenticates.

`gateway certs init DIR` (write_development_pki) issues, all with EC P-256 keys (ECDSA over P-256 is the one
certificate type every TLS 1.2 and 1.3 stack speaks):
  ca.pem, ca.key            a CA of its own: the only issuer the gateway trusts for client certificates
  server.pem, server.key    the gateway's certificate; subjectAltName DNS localhost, IP 127.0.0.1 and every --host
  <BIC>.pem, <BIC>.key      one client certificate per party of the config: the central bank and each participant
  <BIC>.p12, <BIC>.p12-password
                            the same certificate and key (with the CA) as PKCS#12, what browsers import, for the
                            treasury page; encrypted (AES-256, PBKDF2) with a random password kept beside it (0600)
`gateway certs issue DIR BIC` (issue_client_certificate) adds a client certificate from that CA later, and
issue_signing_certificate a signing certificate, <BIC>.signing.pem and <BIC>.signing.key: the key a party signs
its messages' AppHdr with (gateway.messages.signatures); the central bank's is the gateway's own, for its answers.
Private keys are unencrypted PKCS#8 PEM files of mode 0600; certificates are PEM files of mode 0644. Nothing is
overwritten unless the caller says so: a re-run would otherwise silently replace the CA every bank trusts.

How a client certificate names its participant. The subject is CN=<BIC>, O=<name from the config>, for people who
read it. The gateway reads the subjectAltName instead, which carries exactly one URI urn:bic:<BIC>: a SAN entry is
typed, so the BIC cannot be confused with a host name or with free text in a distinguished name. "urn:bic" is not
a registered URN namespace; it is this gateway's convention, and safe because the gateway trusts only its own CA
for client certificates. bic_from_certificate insists on exactly one such URI and, when the subject has a CN, on
the CN saying the same BIC: a certificate that names two banks names none.

For development and tests only: a production CA keeps its key offline and issues from a certificate request.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from gateway import bounds
from gateway.config import Config, canonical_bic, is_bic

bic_uri_prefix = "urn:bic:"
# id-kp-documentSigning (RFC 9336): the purpose of a signing certificate, which is then no TLS certificate as well.
document_signing = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")
ca_file_names = ("ca.pem", "ca.key")
signing_file_suffixes = (".signing.pem", ".signing.key")
server_file_names = ("server.pem", "server.key")
default_server_names = ("localhost", "127.0.0.1")

# TLS 1.2 suites allowed: forward secrecy and AEAD only. TLS 1.3's suites are all of that kind and OpenSSL fixes them.
tls12_ciphers = "ECDHE+AESGCM:ECDHE+CHACHA20"

_dns_label = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_key_file_mode = 0o600
_certificate_file_mode = 0o644
_directory_mode = 0o700


class PkiError(Exception):
    """The PKI cannot be written as asked: files already there, or a host name no certificate can carry."""


@dataclass(frozen=True, slots=True)
class Party:
    """Whoever gets a client certificate: the central bank or a participant, by canonical BIC."""

    bic: str
    name: str

    def __post_init__(self) -> None:
        assert is_bic(self.bic), self.bic
        assert canonical_bic(self.bic) == self.bic, f"{self.bic} is not in its canonical 11-character form"
        assert self.name, "a party has a name"


@dataclass(frozen=True, slots=True)
class IssuedFiles:
    certificate: Path
    key: Path


@dataclass(frozen=True, slots=True)
class DevelopmentPki:
    """What write_development_pki wrote."""

    directory: Path
    ca: IssuedFiles
    server: IssuedFiles
    server_names: tuple[str, ...]  # the server certificate's subjectAltName entries, as text
    clients: tuple[tuple[str, IssuedFiles], ...]  # (canonical BIC, its files), the central bank first
    not_valid_after: datetime  # of the CA


def parties_of(config: Config) -> tuple[Party, ...]:
    """The central bank, then every participant of the config, each of which gets a client certificate."""
    central_bank = Party(config.central_bank.bic, config.central_bank.name)
    return (central_bank, *(Party(participant.bic, participant.name) for participant in config.participants))


def write_development_pki(
    directory: Path,
    central_bank: Party,
    parties: Sequence[Party],
    hosts: Sequence[str] = (),
    *,
    force: bool,
) -> DevelopmentPki:
    """Issue the CA, the server certificate and a client certificate for each party, and write them to `directory`.

    Raises PkiError, before writing anything, when a host cannot go into a certificate or when any of the files is
    already there and `force` is false. With `force`, existing files are replaced, each one atomically."""
    server_names = _server_names(hosts)
    bics = [party.bic for party in parties]
    assert len(set(bics)) == len(bics), f"each party once: {bics}"
    client_files = {bic: IssuedFiles(directory / f"{bic}.pem", directory / f"{bic}.key") for bic in bics}
    ca = IssuedFiles(*(directory / name for name in ca_file_names))
    server = IssuedFiles(*(directory / name for name in server_file_names))
    every_file = [path for files in (ca, server, *client_files.values()) for path in (files.certificate, files.key)]
    every_file += [path for bic in bics for path in pkcs12_files(directory, bic)]
    existing = [path.name for path in every_file if path.exists() or path.is_symlink()]
    if existing and not force:
        shown = ", ".join(existing[:5]) + (f" and {len(existing) - 5} more" if len(existing) > 5 else "")
        raise PkiError(f"{directory} already holds {shown}; refusing to replace them without --force")

    issued_at = datetime.now(UTC) - timedelta(seconds=bounds.certificate_clock_skew_seconds)
    ca_certificate, ca_key = development_ca(central_bank, issued_at)
    issuer = _Issuer(ca_certificate, ca_key)
    outputs: list[tuple[Path, bytes, int]] = [(ca.certificate, _pem(ca_certificate), _certificate_file_mode)]
    outputs.append((ca.key, _key_pem(ca_key), _key_file_mode))

    server_key = ec.generate_private_key(ec.SECP256R1())
    server_certificate = issuer.issue(
        _name("cryptoruble gateway", central_bank.name),
        server_key.public_key(),
        x509.SubjectAlternativeName([_general_name(name) for name in server_names]),
        ExtendedKeyUsageOID.SERVER_AUTH,
        issued_at,
    )
    outputs += [(server.certificate, _pem(server_certificate), _certificate_file_mode)]
    outputs += [(server.key, _key_pem(server_key), _key_file_mode)]

    for party in parties:
        outputs += _client_outputs(issuer, party, client_files[party.bic], issued_at, ca_certificate)

    try:
        directory.mkdir(mode=_directory_mode, parents=True, exist_ok=True)
        for path, data, mode in outputs:
            _write(path, data, mode, replace=force)
    except OSError as error:  # a file where the directory should be, no permission, a full disk
        raise PkiError(f"cannot write {error.filename or directory}: {error.strerror}") from None
    return DevelopmentPki(
        directory=directory,
        ca=ca,
        server=server,
        server_names=server_names,
        clients=tuple((bic, files) for bic, files in client_files.items()),
        not_valid_after=ca_certificate.not_valid_after_utc,
    )


def development_ca(
    central_bank: Party, issued_at: datetime | None = None
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A new development CA, self-signed, valid for development_ca_validity_days from `issued_at` (default: now, less the
    clock skew), with its key."""
    if issued_at is None:
        issued_at = datetime.now(UTC) - timedelta(seconds=bounds.certificate_clock_skew_seconds)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("cryptoruble gateway development CA", central_bank.name, "development only")
    ca_certificate = (
        _builder(ca_name, ca_name, ca_key.public_key(), issued_at, timedelta(days=bounds.development_ca_validity_days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(key_cert_sign=True), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return ca_certificate, ca_key


def signing_certificate(
    ca_certificate: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    party: Party,
    public_key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey,
    *,
    issued_at: datetime | None = None,
    lifetime: timedelta = timedelta(days=bounds.development_leaf_validity_days),
) -> x509.Certificate:
    """A certificate for `public_key` to sign `party`'s messages with (XML signatures in AppHdr/Sgntr), issued by the
    CA: subject CN=<BIC> and SAN URI urn:bic:<BIC> as on the party's client certificate (bic_from_certificate reads
    both alike), key usage digitalSignature and nonRepudiation, and documentSigning as its only purpose, so that it
    does not open a TLS connection. Valid from `issued_at` (default: now, less the clock skew) for `lifetime`, cut
    at the CA's own end."""
    if issued_at is None:
        issued_at = datetime.now(UTC) - timedelta(seconds=bounds.certificate_clock_skew_seconds)
    certificate = _Issuer(ca_certificate, ca_key).issue(
        _name(party.bic, party.name),
        public_key,
        x509.SubjectAlternativeName([x509.UniformResourceIdentifier(bic_uri_prefix + party.bic)]),
        document_signing,
        issued_at,
        lifetime=lifetime,
        usage=_key_usage(digital_signature=True, content_commitment=True),
    )
    assert bic_from_certificate(certificate.public_bytes(serialization.Encoding.DER)) == party.bic
    return certificate


def bic_from_certificate(der: bytes | None) -> str | None:
    """The canonical BIC a client certificate authenticates, from its DER bytes as
    ssl.SSLObject.getpeercert(binary_form=True) returns them; None when there is no certificate or it names no BIC
    unambiguously (see the module docstring). It checks no signature: call it only on the peer certificate of a
    handshake that verified the chain (server_ssl_context requires one)."""
    if not der:
        return None
    try:
        certificate = x509.load_der_x509_certificate(der)
        alternative_names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        common_names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    except (ValueError, x509.ExtensionNotFound):
        return None
    uris = alternative_names.get_values_for_type(x509.UniformResourceIdentifier)
    named = [uri[len(bic_uri_prefix) :] for uri in uris if uri.startswith(bic_uri_prefix)]
    if len(named) != 1 or not is_bic(named[0]):
        return None
    bic = canonical_bic(named[0])
    if any(not isinstance(cn.value, str) or canonical_bic(cn.value) != bic for cn in common_names):
        return None
    return bic


def server_ssl_context(certificate_file: Path, key_file: Path, client_ca_file: Path) -> ssl.SSLContext:
    """TLS 1.2 or newer, the gateway's certificate, and a client certificate required from every peer and verified
    against `client_ca_file` alone (not the system's CAs: they vouch for web sites, not for banks)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.maximum_version = ssl.TLSVersion.MAXIMUM_SUPPORTED
    context.verify_mode = ssl.CERT_REQUIRED
    context.check_hostname = False  # a server does not match its clients against a host name
    context.verify_flags = ssl.VERIFY_X509_STRICT | ssl.VERIFY_X509_TRUSTED_FIRST
    # No compression (CRIME), no renegotiation a client could start (a CPU sink); the server picks the suite.
    context.options |= (
        ssl.OP_NO_COMPRESSION | ssl.OP_NO_RENEGOTIATION | ssl.OP_CIPHER_SERVER_PREFERENCE | ssl.OP_SINGLE_ECDH_USE
    )
    context.set_ciphers(tls12_ciphers)
    context.load_cert_chain(certfile=certificate_file, keyfile=key_file)
    context.load_verify_locations(cafile=client_ca_file)
    return context


def client_ssl_context(
    ca_file: Path, certificate_file: Path | None = None, key_file: Path | None = None
) -> ssl.SSLContext:
    """TLS 1.2 or newer, the server verified against `ca_file` and its host name, and the participant's certificate
    presented when one is given."""
    assert (certificate_file is None) == (key_file is None), "a client certificate comes with its key"
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.maximum_version = ssl.TLSVersion.MAXIMUM_SUPPORTED
    context.verify_mode = ssl.CERT_REQUIRED
    context.check_hostname = True
    context.verify_flags = ssl.VERIFY_X509_STRICT | ssl.VERIFY_X509_TRUSTED_FIRST
    context.options |= ssl.OP_NO_COMPRESSION | ssl.OP_NO_RENEGOTIATION
    context.set_ciphers(tls12_ciphers)
    context.load_verify_locations(cafile=ca_file)
    if certificate_file is not None:
        context.load_cert_chain(certfile=certificate_file, keyfile=key_file)
    return context


# --- issuing -----------------------------------------------------------------------------------------------------


def issue_client_certificate(directory: Path, party: Party, *, force: bool) -> IssuedFiles:
    """A client certificate for one party, signed by the development CA that `certs init` wrote to `directory`: for a
    bank registered after it (`participants add`). The CA, the server's and the other parties' files stay as they are.

    Raises PkiError, before writing anything, when the directory holds no usable CA, the CA has expired, or the
    party's files are already there and `force` is false."""
    issued_at = datetime.now(UTC) - timedelta(seconds=bounds.certificate_clock_skew_seconds)
    issuer = _load_ca(directory, issued_at)
    files = IssuedFiles(directory / f"{party.bic}.pem", directory / f"{party.bic}.key")
    outputs = _client_outputs(issuer, party, files, issued_at, issuer.certificate)
    _write_party_files(directory, files, outputs, force=force)
    return files


def issue_signing_certificate(directory: Path, party: Party, *, force: bool) -> IssuedFiles:
    """A signing certificate (see signing_certificate) and a new EC P-256 key for one party, <BIC>.signing.pem and
    <BIC>.signing.key, from the development CA that `certs init` wrote to `directory`; for the central bank, the
    gateway's own. Raises PkiError, before writing anything, as issue_client_certificate does."""
    issued_at = datetime.now(UTC) - timedelta(seconds=bounds.certificate_clock_skew_seconds)
    issuer = _load_ca(directory, issued_at)
    files = IssuedFiles(*(directory / f"{party.bic}{suffix}" for suffix in signing_file_suffixes))
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = signing_certificate(issuer.certificate, issuer.key, party, key.public_key(), issued_at=issued_at)
    outputs = [(files.certificate, _pem(certificate), _certificate_file_mode)]
    outputs.append((files.key, _key_pem(key), _key_file_mode))
    _write_party_files(directory, files, outputs, force=force)
    return files


def _load_ca(directory: Path, issued_at: datetime) -> _Issuer:
    """The development CA that `certs init` wrote to `directory`, still valid at `issued_at`; PkiError if none is."""
    ca = IssuedFiles(*(directory / name for name in ca_file_names))
    try:
        ca_certificate = x509.load_pem_x509_certificate(ca.certificate.read_bytes())
        ca_key = serialization.load_pem_private_key(ca.key.read_bytes(), password=None)
    except OSError as error:
        raise PkiError(f"no development CA in {directory} ({error.strerror}): run `gateway certs init` first") from None
    except ValueError as error:
        what = f"{ca.certificate.name}, {ca.key.name} in {directory}"
        raise PkiError(f"{what}: not a PEM certificate and key ({error})") from None
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey) or ca_key.public_key() != ca_certificate.public_key():
        raise PkiError(f"{ca.key.name} in {directory} is not the key of {ca.certificate.name}")
    if ca_certificate.not_valid_after_utc <= issued_at:
        raise PkiError(f"the CA in {directory} expired on {ca_certificate.not_valid_after_utc:%Y-%m-%d}")
    return _Issuer(ca_certificate, ca_key)


def _write_party_files(
    directory: Path, files: IssuedFiles, outputs: list[tuple[Path, bytes, int]], *, force: bool
) -> None:
    existing = [path.name for path, _, _ in outputs if path.exists() or path.is_symlink()]
    if existing and not force:
        raise PkiError(f"{directory} already holds {', '.join(existing)}; refusing to replace them without --force")
    try:
        for path, data, mode in outputs:
            _write(path, data, mode, replace=force)
    except OSError as error:
        raise PkiError(f"cannot write {error.filename or directory}: {error.strerror}") from None


def pkcs12_files(directory: Path, bic: str) -> tuple[Path, Path]:
    """A client certificate as browsers import it (<BIC>.p12), and the password that opens it (<BIC>.p12-password)."""
    return directory / f"{bic}.p12", directory / f"{bic}.p12-password"


def _client_outputs(
    issuer: _Issuer, party: Party, files: IssuedFiles, issued_at: datetime, ca_certificate: x509.Certificate
) -> list[tuple[Path, bytes, int]]:
    """A party's client certificate, naming its BIC in the subject and as SAN URI urn:bic:<BIC>, and its key; and both
    again as PKCS#12 with the CA, under a random password (browsers refuse to import an empty one reliably)."""
    client_key = ec.generate_private_key(ec.SECP256R1())
    client_certificate = issuer.issue(
        _name(party.bic, party.name),
        client_key.public_key(),
        x509.SubjectAlternativeName([x509.UniformResourceIdentifier(bic_uri_prefix + party.bic)]),
        ExtendedKeyUsageOID.CLIENT_AUTH,
        issued_at,
    )
    assert bic_from_certificate(client_certificate.public_bytes(serialization.Encoding.DER)) == party.bic
    password = secrets.token_urlsafe(18)
    bundle = pkcs12.serialize_key_and_certificates(
        party.bic.encode(), client_key, client_certificate, [ca_certificate],
        serialization.BestAvailableEncryption(password.encode()),
    )
    bundle_file, password_file = pkcs12_files(files.certificate.parent, party.bic)
    return [
        (files.certificate, _pem(client_certificate), _certificate_file_mode),
        (files.key, _key_pem(client_key), _key_file_mode),
        (bundle_file, bundle, _key_file_mode),
        (password_file, (password + "\n").encode(), _key_file_mode),
    ]


@dataclass(frozen=True, slots=True)
class _Issuer:
    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    def issue(
        self,
        subject: x509.Name,
        public_key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey,
        alternative_names: x509.SubjectAlternativeName,
        purpose: x509.ObjectIdentifier,
        issued_at: datetime,
        *,
        lifetime: timedelta = timedelta(days=bounds.development_leaf_validity_days),
        usage: x509.KeyUsage | None = None,
    ) -> x509.Certificate:
        lifetime = min(lifetime, self.certificate.not_valid_after_utc - issued_at)
        authority = self.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        return (
            _builder(subject, self.certificate.subject, public_key, issued_at, lifetime)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(usage or _key_usage(digital_signature=True), critical=True)
            .add_extension(x509.ExtendedKeyUsage([purpose]), critical=False)
            .add_extension(alternative_names, critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(authority), critical=False)
            .sign(self.key, hashes.SHA256())
        )


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey,
    issued_at: datetime,
    lifetime: timedelta,
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(issued_at)
        .not_valid_after(issued_at + lifetime)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


def _name(common_name: str, organization: str, unit: str | None = None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization[:bounds.organization_name_chars_max]))
    if unit is not None:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit))
    return x509.Name(attributes)


def _key_usage(
    *, digital_signature: bool = False, content_commitment: bool = False, key_cert_sign: bool = False
) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=content_commitment,  # X.509's nonRepudiation
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=key_cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _server_names(hosts: Sequence[str]) -> tuple[str, ...]:
    """localhost, 127.0.0.1 and the hosts, each once, as IP addresses in their compressed form or DNS names in
    lower case. Raises PkiError for anything that is neither."""
    if len(hosts) > bounds.server_certificate_hosts_max:
        raise PkiError(f"{len(hosts)} hosts; a server certificate carries at most {bounds.server_certificate_hosts_max}")
    names: list[str] = []
    for host in (*default_server_names, *hosts):
        name = _server_name(host)
        if name not in names:
            names.append(name)
    return tuple(names)


def _server_name(host: str) -> str:
    try:
        return ipaddress.ip_address(host).compressed
    except ValueError:
        pass
    name = host.lower().removesuffix(".")
    labels = name.split(".")
    if not name or len(name) > bounds.dns_name_chars_max or not all(_dns_label.fullmatch(label) for label in labels):
        raise PkiError(f"{host!r} is neither an IP address nor a DNS host name (letters, digits, hyphens, dots)")
    return name


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    pkcs8 = serialization.PrivateFormat.PKCS8
    return key.private_bytes(serialization.Encoding.PEM, pkcs8, serialization.NoEncryption())


def _write(path: Path, data: bytes, mode: int, *, replace: bool) -> None:
    """Write a file with exactly `mode`, whatever the umask. Without `replace`, O_EXCL refuses a file that appeared
    since the check; with it, the data goes to a private temporary file first and is renamed over the old one, so
    that a key is never readable by others, not even for a moment, and a reader never sees half a file."""
    target = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp") if replace else path
    try:
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        raise PkiError(f"{path} appeared while the PKI was being written; refusing to replace it") from None
    try:
        with os.fdopen(descriptor, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
        if replace:
            os.replace(target, path)
    except BaseException:
        if replace:
            target.unlink(missing_ok=True)
        raise
