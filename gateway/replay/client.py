"""The replay's side of the HTTP API: one bank's identity per request (its client certificate, over mutual TLS),
POST /v1/messages, and each bank's mailbox (GET /v1/messages?after=SEQ).

Every failure to talk to the gateway (no connection, a refused handshake, a certificate the gateway does not
trust or that does not trust the gateway, a timeout, a mailbox it will not show) is a TransportError with a
sentence saying what happened; the caller names the file it was sending.
"""

from __future__ import annotations

import base64
import binascii
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from lxml import etree

from gateway import bounds
from gateway.config import canonical_bic
from gateway.messages.envelope import Unwrapped, unwrap
from gateway.messages.rejections import Rejection
from gateway.messages.safe_xml import parse_bounded
from gateway.messages.signatures import SigningKey, sign
from gateway.security.certs import (
    bic_from_certificate,
    client_ssl_context,
    signing_file_suffixes,
)


class TransportError(Exception):
    """The gateway could not be asked, or would not answer: the text says which and why."""


class IdentityError(Exception):
    """No certificate to send as a bank, or one that cannot be loaded."""


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    outcome: str | None  # X-Gateway-Outcome
    content_type: str
    body: bytes


@dataclass(frozen=True, slots=True)
class MailboxMessage:
    bank: str
    seq: int
    message_type: str | None
    payload: bytes


@dataclass
class Identities:
    """Which certificate each bank sends with. Either a folder as `gateway certs init` writes it (ca.pem and
    <BIC>.pem, <BIC>.key per bank), optionally narrowed to one bank (`--as`), or one certificate for everything
    (`--cert/--key/--cacert`). With a plain http:// URL (a gateway serving --plain-http) nothing is presented and
    the AppHdr's sender stands, as the gateway takes it."""

    ca_file: Path | None
    certs_dir: Path | None = None
    forced_bic: str | None = None  # --as
    forced_files: tuple[Path, Path] | None = None  # --cert, --key
    # --sign: each message is signed (AppHdr/Sgntr) with its sender's <BIC>.signing.key and <BIC>.signing.pem from
    # this folder, as gateway.security.certs.issue_signing_certificate writes them; None: sent as it is.
    signing_dir: Path | None = None
    _contexts: dict[str, ssl.SSLContext] = field(default_factory=dict, init=False, repr=False)
    _signers: dict[str, tuple[SigningKey, x509.Certificate]] = field(default_factory=dict, init=False, repr=False)

    @property
    def plain(self) -> bool:
        return self.ca_file is None

    def check(self) -> None:
        """Refuse at once what cannot work: a missing CA, a --cert that names no bank."""
        if self.plain:
            return
        assert self.ca_file is not None
        if not self.ca_file.is_file():
            raise IdentityError(f"no CA certificate at {self.ca_file}: the gateway's certificate cannot be checked")
        if self.forced_files is not None:
            self.forced_bic = self._bic_of(self.forced_files[0])

    def sender_for(self, named: str | None) -> str | None:
        """The bank a file is sent as: the one forced for all, else the one it names."""
        if self.forced_bic is not None:
            return self.forced_bic
        return None if named is None else canonical_bic(named)

    def available(self, bic: str) -> bool:
        """Whether the replay can act as `bic` (send as it, read its mailbox)."""
        if self.plain:
            return True
        if self.forced_files is not None:
            return bic == self.forced_bic
        assert self.certs_dir is not None
        return (self.certs_dir / f"{bic}.pem").is_file() and (self.certs_dir / f"{bic}.key").is_file()

    def missing(self, bic: str) -> str:
        if self.forced_files is not None:
            return f"only {self.forced_bic}'s certificate was given (--cert)"
        return f"{self.certs_dir} holds no {bic}.pem and {bic}.key"

    def context(self, bic: str) -> ssl.SSLContext | None:
        if self.plain:
            return None
        known = self._contexts.get(bic)
        if known is not None:
            return known
        if not self.available(bic):
            raise IdentityError(f"cannot send as {bic}: {self.missing(bic)}")
        if self.forced_files is not None:
            certificate, key = self.forced_files
        else:
            assert self.certs_dir is not None
            certificate, key = self.certs_dir / f"{bic}.pem", self.certs_dir / f"{bic}.key"
        assert self.ca_file is not None
        try:
            context = client_ssl_context(self.ca_file, certificate, key)
        except (OSError, ssl.SSLError, ValueError) as error:
            raise IdentityError(f"cannot load {certificate}, {key} or {self.ca_file}: {error}") from None
        self._contexts[bic] = context
        return context

    def signed(self, data: bytes, bic: str) -> bytes:
        """`data` signed by `bic`'s signing key when the replay signs (--sign) and it is a message with an AppHdr
        not signed yet; else `data` as it is (a file meant to be refused is sent as it was written)."""
        if self.signing_dir is None:
            return data
        parsed = parse_bounded(data)
        unwrapped = None if isinstance(parsed, Rejection) else unwrap(parsed)
        if not isinstance(unwrapped, Unwrapped) or unwrapped.app_hdr is None:
            return data
        namespace = etree.QName(unwrapped.app_hdr).namespace
        if unwrapped.app_hdr.find(f"{{{namespace}}}Sgntr") is not None:
            return data
        key, certificate = self._signer(bic)
        sign(unwrapped.app_hdr, unwrapped.document, key, certificate)
        return etree.tostring(unwrapped.app_hdr.getroottree(), encoding="UTF-8", xml_declaration=True)

    def _signer(self, bic: str) -> tuple[SigningKey, x509.Certificate]:
        known = self._signers.get(bic)
        if known is not None:
            return known
        assert self.signing_dir is not None
        certificate_file, key_file = (self.signing_dir / f"{bic}{suffix}" for suffix in signing_file_suffixes)
        try:
            certificate = x509.load_pem_x509_certificate(certificate_file.read_bytes())
            key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
        except (OSError, ValueError, TypeError) as error:
            raise IdentityError(f"cannot sign as {bic} with {key_file} and {certificate_file}: {error}") from None
        if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise IdentityError(f"{key_file} is not an RSA or EC key, which the profile signs with")
        self._signers[bic] = key, certificate
        return key, certificate

    @staticmethod
    def _bic_of(certificate: Path) -> str:
        from cryptography import x509
        from cryptography.hazmat.primitives.serialization import Encoding

        try:
            der = x509.load_pem_x509_certificate(certificate.read_bytes()).public_bytes(Encoding.DER)
        except (OSError, ValueError) as error:
            raise IdentityError(f"cannot read the client certificate {certificate}: {error}") from None
        bic = bic_from_certificate(der)
        if bic is None:
            raise IdentityError(f"{certificate} names no bank: its subjectAltName holds no single urn:bic:<BIC>")
        return bic


class GatewayClient:
    """One HTTP session for the whole replay (connections kept alive per bank)."""

    def __init__(self, url: str, identities: Identities, connections_max: int) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise TransportError(f"--url {url!r}: an https:// URL (http:// only for a gateway serving --plain-http)")
        if (parts.scheme == "http") != identities.plain:
            raise TransportError(f"--url {url}: https needs client certificates, and plain http takes none")
        self.url = url.rstrip("/")
        self.identities = identities
        self._connections_max = connections_max
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> GatewayClient:
        timeout = aiohttp.ClientTimeout(total=bounds.replay_request_timeout_ms / 1000)
        connector = aiohttp.TCPConnector(limit=self._connections_max, force_close=False)
        self._session = aiohttp.ClientSession(timeout=timeout, connector=connector)
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._session is not None
        await self._session.close()

    async def post(self, data: bytes, bic: str) -> Answer:
        """POST one message as `bic`."""
        session = self._open()
        headers = {"Content-Type": "application/xml"}
        try:
            async with session.post(f"{self.url}/v1/messages", data=data, headers=headers,
                                    ssl=self._ssl(bic)) as response:
                body = await response.read()
                return Answer(response.status, response.headers.get("X-Gateway-Outcome"),
                              response.content_type, body)
        except (aiohttp.ClientError, TimeoutError, ssl.SSLError, OSError) as error:
            raise TransportError(self._explain(error, bic)) from None

    async def mailbox(self, bic: str, after: int, limit: int) -> tuple[list[MailboxMessage], int]:
        """`bic`'s mailbox messages after the cursor `after` (at most `limit`), and the next cursor."""
        session = self._open()
        params = {"after": str(after), "limit": str(limit), "participant": bic}
        try:
            async with session.get(f"{self.url}/v1/messages", params=params, ssl=self._ssl(bic)) as response:
                if response.status != 200:
                    text = (await response.text(errors="replace"))[:200]
                    raise TransportError(f"the gateway would not show {bic}'s mailbox: HTTP {response.status} {text}")
                page = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ssl.SSLError, OSError) as error:
            raise TransportError(self._explain(error, bic)) from None
        except ValueError:
            raise TransportError(f"{bic}'s mailbox answered something that is not JSON") from None
        return _page(bic, page)

    async def cursor(self, bic: str) -> int:
        """The sequence number of the newest message in `bic`'s mailbox (0 when empty): what is after it is new.
        A short mailbox is read in one page; a long one is searched for its end, ~63 requests of one message."""
        messages, after = await self.mailbox(bic, 0, bounds.mailbox_page_max)
        if len(messages) < bounds.mailbox_page_max:
            return after
        known, none_after = after, bounds.mailbox_cursor_max  # a message at `known`; nothing after `none_after`
        for _ in range(bounds.replay_cursor_probes_max):
            if known >= none_after:
                return known
            middle = (known + none_after) // 2
            found, _ = await self.mailbox(bic, middle, 1)
            if found:
                known = found[0].seq
            else:
                none_after = middle
        raise TransportError(f"{bic}'s mailbox: its end not found in {bounds.replay_cursor_probes_max} requests")

    def _open(self) -> aiohttp.ClientSession:
        assert self._session is not None, "used inside `async with`"
        return self._session

    def _ssl(self, bic: str) -> ssl.SSLContext | bool:
        context = self.identities.context(bic)
        return False if context is None else context

    def _explain(self, error: BaseException, bic: str) -> str:
        if isinstance(error, aiohttp.ClientConnectorCertificateError):
            return (f"the gateway's server certificate at {self.url} is not one {self.identities.ca_file} vouches for"
                    f" ({error.certificate_error})")
        if isinstance(error, aiohttp.ClientSSLError | ssl.SSLError):
            return (f"the TLS handshake with {self.url} as {bic} failed: {error} (is {bic}'s certificate issued by"
                    " the CA the gateway trusts?)")
        if isinstance(error, aiohttp.ServerDisconnectedError):
            return (f"{self.url} closed the connection as {bic} without answering (a client certificate the gateway"
                    " does not trust?)")
        if isinstance(error, aiohttp.ClientConnectorError):
            return f"cannot connect to {self.url}: {error.os_error.strerror or error.os_error}"
        if isinstance(error, TimeoutError):
            return f"{self.url} did not answer within {bounds.replay_request_timeout_ms} ms"
        return f"{self.url}: {type(error).__name__}: {error}"


def _page(bic: str, page: Any) -> tuple[list[MailboxMessage], int]:
    try:
        messages = [
            MailboxMessage(bic, int(item["seq"]), item.get("message_type"),
                           base64.b64decode(item["payload_base64"], validate=True))
            for item in page["messages"]
        ]
        return messages, int(page["next_after"])
    except (KeyError, TypeError, ValueError, binascii.Error):
        raise TransportError(f"{bic}'s mailbox page is not what GET /v1/messages answers") from None
