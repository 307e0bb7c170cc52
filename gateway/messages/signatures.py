"""XML signatures of business messages: one ds:Signature in AppHdr/Sgntr over the AppHdr, the Document and the key.

The pattern. ISO 20022 market infrastructures (SWIFT CBPR+, TARGET2/T2, PIX ...) sign a message with one XMLDSig
signature inside its Business Application Header; every head.001.001.0x schema reserves AppHdr/Sgntr for it, after
Prty and before any Rltd, holding exactly one element of the xmldsig namespace:

    <AppHdr> Fr To BizMsgIdr MsgDefIdr ... CreDt ... Prty?
      <Sgntr>
        <ds:Signature>
          <ds:SignedInfo>
            <ds:CanonicalizationMethod Algorithm=exc-c14n/>
            <ds:SignatureMethod Algorithm=rsa-sha256 | ecdsa-sha256/>
            <ds:Reference URI="#KI">   transforms: exc-c14n                        (1) the KeyInfo, by its Id
            <ds:Reference URI="">      transforms: enveloped-signature, exc-c14n   (2) the AppHdr, minus this Signature
            <ds:Reference>             transforms: exc-c14n                        (3) no URI: the Document
          </ds:SignedInfo>                                  (each Reference: DigestMethod sha256 and its DigestValue)
          <ds:SignatureValue/>
          <ds:KeyInfo Id="KI"><ds:X509Data><ds:X509Certificate/></ds:X509Data></ds:KeyInfo>
        </ds:Signature>
      </Sgntr>
      Rltd*
    </AppHdr>
    <Document> ... </Document>

The URIs follow the ISO 20022 convention, not XMLDSig's: there, URI="" is the whole XML document and a Reference
without URI is left to the application; here "" is the AppHdr (the envelope around it is transport, not signed) and
no URI is the Document that follows the AppHdr in the same envelope. General XMLDSig libraries resolve both to the
whole document (libxmlsec1, and so python-xmlsec and the xmlsec1 command) or refuse the second (signxml), so this
module does the little XMLDSig the profile needs with lxml's exclusive canonicalisation (libxml2's) and
`cryptography`, and nothing more.

Why verify checks what it checks. Signatures over XML are rarely broken by their cryptography; they are broken by a
verifier that checked one element while the application went on to read another ("signature wrapping"). So no
reference is resolved by searching the tree, and whatever the profile does not need is refused, not tolerated:
- Exactly one ds:Signature in the whole envelope, the only element of AppHdr/Sgntr: with a second one (in a Rltd
  header, in SplmtryData) it would be open which one counts.
- Exactly the three references above, each once. Each digest is computed over the element the gateway goes on to
  read: the AppHdr and the Document it was given (the Document beside the AppHdr, as unwrap found it) and the
  KeyInfo of this Signature, never over an element that a URI found. A URI naming anything else (a copy of the
  signed Document with an Id in a ds:Object or in SplmtryData, an XPointer) is refused, and so are ds:Object,
  ds:Manifest and any element or attribute the profile does not have.
- The KeyInfo's Id is carried by no other Id, ID or id attribute anywhere in the envelope: with a duplicate, another
  implementation (the sender's, an auditor's) could resolve "#Id" to an element other than the one checked here.
- Only the profile's algorithms: exc-c14n without an InclusiveNamespaces list, enveloped-signature only on the
  AppHdr's reference and only before exc-c14n, SHA-256 digests, RSA-SHA256 (PKCS #1 v1.5, 2048 to 4096 bits) or
  ECDSA-SHA256 on P-256. Refused: XPath and XSLT transforms (where wrapping attacks hide, at a cost the sender
  picks), SHA-1 (collisions), HMAC (a shared secret instead of a key of the sender's own, and HMACOutputLength
  truncation), inclusive c14n (a digest that depends on the envelope's namespace declarations).
- The certificate in KeyInfo: one of the certificates registered for the AppHdr's sender (the same DER, or a
  certificate for the same public key, so that a renewal of the same key needs no new registration), valid at the
  given time (notBefore, notAfter) both as presented and as registered, and naming the sender's BIC the way client
  certificates do (SAN URI urn:bic:<BIC>, gateway.security.certs.bic_from_certificate). Several certificates may be
  registered for one participant at once, for a key rollover; each verifies while it is valid. The registry is the
  trust anchor: no chain is built, as for client certificates the gateway trusts its own registry alone.
- The signature value, over SignedInfo in exclusive canonical form, with that key; then each digest.

Errors are data: verify returns a SignatureRefusal with an ExternalStatusReason1Code, never raises for a bad
signature. The codes are the ISO external code set's signature codes:
  DS0A DataSignRequested            no signature in the AppHdr (for the caller, where its policy requires one)
  DS0B UnknownDataSignFormat        "data signature for the format is not available or invalid": a signature
                                    that breaks the profile (structure, references, algorithms, duplicate Ids),
                                    a digest that does not match (the message was changed) or a wrong value
  DS0D SignerCertificateNotValid    the certificate is registered but not valid at the time of the check
  DS0E IncorrectSignerCertificate   "the signer certificate is not present": KeyInfo holds none that can be read
  DS0F SignerCertificationAuthoritySignerNotValid   a certificate nobody registered: its authority is unknown
  DS0H NotAllowedAccount            "signer not allowed to sign for this account": a certificate registered for
                                    another participant, or naming another BIC, than the AppHdr's sender
(DS01 ElectronicSignaturesCorrect is the code set's positive answer, not a refusal.)

What parse_bounded does to a message matters here: it keeps whitespace (it is signed), reads CDATA as text (as
canonicalisation does) and drops comments (not signed under exc-c14n without comments) and processing instructions.
A signer that put a PI inside the AppHdr or the Document signed it, so such a message fails its digest: refused,
never wrongly accepted.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import itertools
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NoReturn, TypeAlias

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from lxml import etree

from gateway import bounds
from gateway.config import canonical_bic, is_bic
from gateway.messages.codes import (
    certificate_missing,
    certificate_not_valid,
    certificate_unknown,
    signature_invalid,
    signature_required,
    signer_not_allowed,
)
from gateway.messages.rejections import Layer, Rejection, excerpt
from gateway.messages.safe_xml import element_path
from gateway.security.certs import bic_from_certificate

ds_namespace = "http://www.w3.org/2000/09/xmldsig#"
exclusive_c14n = "http://www.w3.org/2001/10/xml-exc-c14n#"
enveloped_signature = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
sha256_digest = "http://www.w3.org/2001/04/xmlenc#sha256"
rsa_sha256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
ecdsa_sha256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"

# The ExternalStatusReason1Code values a refusal carries (see the module docstring for when each is answered).
_codes = frozenset(
    {signature_required, signature_invalid, certificate_not_valid, certificate_missing, certificate_unknown,
     signer_not_allowed}
)  # fmt: skip

SigningKey: TypeAlias = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
PublicKey: TypeAlias = rsa.RSAPublicKey | ec.EllipticCurvePublicKey

# What each reference covers, named by how it points: (1) "#Id", (2) "", (3) no URI. The transforms each must list.
_key_info, _app_hdr, _document = "KeyInfo", "AppHdr", "Document"
_transforms_by_target = {
    _key_info: (exclusive_c14n,),
    _app_hdr: (enveloped_signature, exclusive_c14n),
    _document: (exclusive_c14n,),
}
_ecdsa_p256_half_bytes = 32  # XMLDSig's ECDSA value is r then s, each as wide as the curve's order (RFC 4050)
_sha256_bytes = 32
_xml_whitespace = " \t\r\n"
# KeyInfo Ids as signers write them: an NCName, or a bare UUID (not an NCName, yet common: some signers use one).
_id_value = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
# Every element of the tree carrying an identifier attribute (Id, ID, id in any namespace, xml:id too) of $value.
_carrying_id = etree.XPath(
    "//*[@*[(local-name() = 'Id' or local-name() = 'ID' or local-name() = 'id') and . = $value]]",
    regexp=False,
    smart_strings=False,
)
_transform_algorithms = (enveloped_signature, exclusive_c14n)
# The profile's elements that hold elements or nothing, never text. (An element the profile does not have is
# refused by name, with its text, where the structure is read.)
_structural = frozenset(
    f"{{{ds_namespace}}}{name}"
    for name in ("Signature", "SignedInfo", "CanonicalizationMethod", "SignatureMethod", "Reference", "Transforms",
                 "Transform", "DigestMethod", "KeyInfo", "X509Data")
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class TrustedCertificate:
    """A signing certificate registered for a participant. The registry, not the message, says whom it speaks for.
    Make one with load(), which checks what the profile needs of it."""

    bic: str  # canonical
    der: bytes = field(repr=False)
    public_key_der: bytes = field(repr=False)  # its SubjectPublicKeyInfo: a renewal for the same key matches too
    certificate: x509.Certificate = field(repr=False, compare=False)

    def __post_init__(self) -> None:
        assert is_bic(self.bic) and canonical_bic(self.bic) == self.bic, self.bic
        assert self.der == self.certificate.public_bytes(serialization.Encoding.DER)
        assert self.public_key_der == _public_key_der(self.certificate)
        assert _signature_method_for(self.certificate.public_key()) is not None, "load() checks the key"

    @classmethod
    def load(cls, bic: str, data: bytes) -> TrustedCertificate:
        """A participant's signing certificate from PEM or DER bytes. Raises ValueError saying why when it is not a
        certificate, its key is not one the profile signs with, its key usage excludes signing, or it does not name
        `bic` (a canonical BIC) as its SAN URI urn:bic:<BIC>."""
        assert is_bic(bic) and canonical_bic(bic) == bic, bic
        try:
            if data.lstrip().startswith(b"-----BEGIN"):
                certificate = x509.load_pem_x509_certificate(data)
            else:
                certificate = x509.load_der_x509_certificate(data)
        except ValueError as error:
            raise ValueError(f"not an X.509 certificate in PEM or DER ({error})") from None
        der = certificate.public_bytes(serialization.Encoding.DER)
        try:
            public_key = certificate.public_key()
        except (ValueError, UnsupportedAlgorithm):
            raise ValueError(f"its key cannot be read; keys that may sign: {_allowed_keys_text()}") from None
        if _signature_method_for(public_key) is None:
            raise ValueError(f"its key is not one that may sign: {_allowed_keys_text()}")
        if not _may_sign(certificate):
            raise ValueError("its key usage allows neither digitalSignature nor nonRepudiation")
        named = bic_from_certificate(der)
        if named != bic:
            raise ValueError(f"it names {named or 'no BIC'} (SAN URI urn:bic:<BIC>), not {bic}")
        return cls(bic, der, _public_key_der(certificate), certificate)


@dataclass(frozen=True, slots=True)
class Verified:
    """A signature that holds: the AppHdr's sender signed this AppHdr and this Document."""

    bic: str  # the sender, AppHdr/Fr, canonical
    certificate: TrustedCertificate  # the registered certificate that verified it (during a rollover, which one)
    signature_method: str  # rsa_sha256 or ecdsa_sha256


@dataclass(frozen=True, slots=True)
class SignatureRefusal:
    """Why a message's signature is refused: an ISO 20022 code, where, and for people."""

    code: str  # one of the DS codes above
    path: str  # the element refused, as element_path writes it
    text: str  # untrusted input appears only as an excerpt

    def __post_init__(self) -> None:
        assert self.code in _codes, self.code
        assert self.path.startswith("/"), self.path
        assert self.text, "a refusal says why"

    def rejection(self) -> Rejection:
        """The refusal as the message layer reports rejections."""
        return Rejection(self.code, self.path, self.text, Layer.SIGNATURE)


def sign(app_hdr: etree._Element, document: etree._Element, key: SigningKey, certificate: x509.Certificate) -> None:
    """Sign a message in place: a new AppHdr/Sgntr, at its schema position, holding a ds:Signature by `key` over
    the KeyInfo (carrying `certificate`), the AppHdr and `document`, which must be the element right after the AppHdr.

    The AppHdr must not hold a Sgntr yet, and the key must be one the profile allows (RSA of 2048 to 4096 bits, or
    P-256) and `certificate`'s. Nothing in the AppHdr or the Document may change afterwards: any change breaks the
    signature, which is the point."""
    assert _next_element(app_hdr) is document, "the Document is the element right after the AppHdr"
    namespace = etree.QName(app_hdr).namespace
    assert not any(True for _ in app_hdr.iterchildren(f"{{{namespace}}}Sgntr")), "the AppHdr is signed already"
    signature_method = _signature_method_for(key.public_key())
    assert signature_method is not None, f"the profile signs with {_allowed_keys_text()}"
    assert _public_key_der(certificate) == _key_der(key.public_key()), "the certificate is the key's"
    key_info_id = f"KeyInfo-{uuid.uuid4()}"

    sgntr = etree.SubElement(app_hdr, f"{{{namespace}}}Sgntr")  # in the AppHdr's namespace, with its prefix
    related = next(app_hdr.iterchildren(f"{{{namespace}}}Rltd"), None)
    if related is not None:
        related.addprevious(sgntr)  # the schema puts Sgntr after Prty and before the first Rltd
    signature = etree.SubElement(sgntr, _ds("Signature"), nsmap={"ds": ds_namespace})
    signed_info = etree.SubElement(signature, _ds("SignedInfo"))
    etree.SubElement(signed_info, _ds("CanonicalizationMethod"), Algorithm=exclusive_c14n)
    etree.SubElement(signed_info, _ds("SignatureMethod"), Algorithm=signature_method)
    digest_values = {
        target: _new_reference(signed_info, uri, _transforms_by_target[target])
        for target, uri in ((_key_info, f"#{key_info_id}"), (_app_hdr, ""), (_document, None))
    }
    signature_value = etree.SubElement(signature, _ds("SignatureValue"))
    key_info = etree.SubElement(signature, _ds("KeyInfo"), Id=key_info_id)
    x509_data = etree.SubElement(key_info, _ds("X509Data"))
    der = certificate.public_bytes(serialization.Encoding.DER)
    etree.SubElement(x509_data, _ds("X509Certificate")).text = base64.b64encode(der).decode("ascii")
    assert _carrying_id(app_hdr, value=key_info_id) == [key_info], "a fresh UUID names one element"

    digests = _digests(app_hdr, document, signature, key_info)
    for target, digest_value in digest_values.items():
        digest_value.text = base64.b64encode(digests[target]).decode("ascii")
    signature_value.text = base64.b64encode(_signature_value(key, _canonical(signed_info))).decode("ascii")


def verify(
    app_hdr: etree._Element,
    document: etree._Element,
    trusted: Sequence[TrustedCertificate],
    at: datetime,
) -> Verified | SignatureRefusal:
    """Check the signature in AppHdr/Sgntr (see the module docstring for every check and why), for `app_hdr` and
    `document` as unwrap found them (the Document is the element right after the AppHdr). `trusted` holds the
    registered signing certificates: the sender's, or every participant's (a certificate of another participant is
    then named as such); `at` is the time the certificates must be valid at, timezone-aware."""
    assert at.tzinfo is not None, "a point in time, not a wall-clock reading"
    assert _next_element(app_hdr) is document, "the Document is the element right after the AppHdr"
    try:
        signature = _the_signature(app_hdr)
        signed = _read_signature(signature)
        carrying = _carrying_id(app_hdr, value=signed.key_info_id)
        if carrying != [signed.key_info]:
            others = ", ".join(element_path(other) for other in carrying if other is not signed.key_info)
            _refuse(signed.key_info, f"its Id {excerpt(signed.key_info_id)} is also carried by {others}")
        sender = _sender(app_hdr)
        registered = _registered(signed, sender, trusted, at)
        public_key = registered.certificate.public_key()
        if _signature_method_for(public_key) != signed.signature_method:
            _refuse(signed.signature_method_element, "the signature method is not the one for the certificate's key")
        if not _holds(public_key, signed.signature_method, signed.signature_value, _canonical(signed.signed_info)):
            _refuse(signed.signature_value_element, "the signature value does not verify with the certificate's key")
        digests = _digests(app_hdr, document, signature, signed.key_info)
        for target in (_key_info, _app_hdr, _document):
            if not hmac.compare_digest(digests[target], signed.digests[target].value):
                text = f"the {target}'s digest does not match: the {target} is not what was signed"
                _refuse(signed.digests[target].element, text)
    except _Refused as refused:
        return refused.refusal
    return Verified(sender, registered, signed.signature_method)


# --- reading the signature ---------------------------------------------------------------------------------------


class _Refused(Exception):
    """Carries a refusal out of the nested checks below to verify, which returns it as data. Never leaves the
    module."""

    def __init__(self, refusal: SignatureRefusal) -> None:
        super().__init__(refusal.text)
        self.refusal = refusal


def _refuse(element: etree._Element, text: str, code: str = signature_invalid) -> NoReturn:
    raise _Refused(SignatureRefusal(code, element_path(element), text))


@dataclass(frozen=True, slots=True)
class _Digest:
    value: bytes
    element: etree._Element  # its DigestValue, to point at


@dataclass(frozen=True, slots=True)
class _Signed:
    """A ds:Signature that has the profile's shape, read."""

    signed_info: etree._Element
    signature_method: str
    signature_method_element: etree._Element
    digests: dict[str, _Digest]  # by target: _key_info, _app_hdr, _document
    signature_value: bytes
    signature_value_element: etree._Element
    key_info: etree._Element
    key_info_id: str
    certificate_der: bytes
    certificate_element: etree._Element


def _the_signature(app_hdr: etree._Element) -> etree._Element:
    """The envelope's one ds:Signature, the only element of the AppHdr's one Sgntr."""
    namespace = etree.QName(app_hdr).namespace
    sgntrs = list(app_hdr.iterchildren(f"{{{namespace}}}Sgntr"))
    envelope = app_hdr.getroottree().getroot()
    signatures = list(itertools.islice(envelope.iter(_ds("Signature")), 2))
    if not signatures:
        if not sgntrs:
            _refuse(app_hdr, "the AppHdr holds no signature (AppHdr/Sgntr)", signature_required)
        _refuse(sgntrs[0], "Sgntr holds no ds:Signature")
    if len(signatures) > 1:
        _refuse(signatures[1], "a second ds:Signature: a message carries exactly one, in AppHdr/Sgntr")
    signature = signatures[0]
    if len(sgntrs) > 1:
        _refuse(sgntrs[1], f"an AppHdr holds one Sgntr; this one holds {len(sgntrs)}")
    if not sgntrs or signature.getparent() is not sgntrs[0]:
        _refuse(signature, "the ds:Signature is not in AppHdr/Sgntr")
    sgntr = sgntrs[0]
    if len(sgntr) != 1 or _is_text(sgntr.text) or _is_text(signature.tail):
        _refuse(sgntr, "Sgntr holds one ds:Signature and nothing else")
    return signature


def _read_signature(signature: etree._Element) -> _Signed:
    _attributes(signature)
    signed_info, signature_value, key_info = _children(signature, "SignedInfo", "SignatureValue", "KeyInfo")
    _check_nodes(signature)
    _attributes(signed_info)
    children = list(signed_info)
    if len(children) > 2 + bounds.signature_references_max:
        text = f"more than {bounds.signature_references_max} references"
        _refuse(children[2 + bounds.signature_references_max], text)
    if len(children) < 2:
        _refuse(signed_info, "SignedInfo holds CanonicalizationMethod, SignatureMethod and three references")
    canonicalization, method = children[0], children[1]
    _named(canonicalization, "CanonicalizationMethod")
    _algorithm(canonicalization, (exclusive_c14n,), "canonicalization")
    _named(method, "SignatureMethod")
    signature_method = _algorithm(method, (rsa_sha256, ecdsa_sha256), "signature method")

    _attributes(key_info, "Id")
    key_info_id = key_info.get("Id", "")
    if not _id_value.fullmatch(key_info_id) or len(key_info_id) > bounds.signature_id_chars_max:
        _refuse(key_info, f"KeyInfo's Id {excerpt(key_info_id)} is not an identifier the profile accepts")
    (x509_data,) = _children(key_info, "X509Data", code=certificate_missing)
    _attributes(x509_data)
    (certificate_element,) = _children(x509_data, "X509Certificate", code=certificate_missing)
    _attributes(certificate_element)
    certificate_der = _base64(certificate_element, bounds.signature_certificate_bytes_max, certificate_missing)

    digests: dict[str, _Digest] = {}
    for reference in children[2:]:
        _named(reference, "Reference")
        target = _target(reference, key_info_id)
        if target in digests:
            _refuse(reference, f"a second reference to the {target}")
        digests[target] = _read_reference(reference, target)
    missing = [target for target in (_key_info, _app_hdr, _document) if target not in digests]
    if missing:
        _refuse(signed_info, f"no reference to the {' or the '.join(missing)}: the profile signs all three")

    _attributes(signature_value)
    value = _base64(signature_value, bounds.signature_rsa_key_bits_max // 8)
    return _Signed(
        signed_info, signature_method, method, digests, value, signature_value, key_info, key_info_id,
        certificate_der, certificate_element,
    )  # fmt: skip


def _target(reference: etree._Element, key_info_id: str) -> str:
    """What a reference covers, by how it points (the ISO 20022 convention); anything else is refused."""
    _attributes(reference, "URI")
    uri = reference.get("URI")
    if uri is None:
        return _document
    if uri == "":
        return _app_hdr
    if uri == f"#{key_info_id}":
        return _key_info
    text = f"URI {excerpt(uri)}: a reference points at the AppHdr (\"\"), the Document (no URI) or this signature's"
    _refuse(reference, text + " KeyInfo (by its Id), nothing else")


def _read_reference(reference: etree._Element, target: str) -> _Digest:
    transforms, digest_method, digest_value = _children(reference, "Transforms", "DigestMethod", "DigestValue")
    _attributes(transforms)
    listed = []
    for transform in transforms:
        _named(transform, "Transform")
        listed.append(_algorithm(transform, _transform_algorithms, "transform"))
    expected = _transforms_by_target[target]
    if tuple(listed) != expected:
        names = ", then ".join(algorithm.rpartition("#")[2] or algorithm for algorithm in expected)
        _refuse(transforms, f"the {target}'s reference must list exactly {names}")
    _algorithm(digest_method, (sha256_digest,), "digest method")
    _attributes(digest_value)
    value = _base64(digest_value, _sha256_bytes)
    if len(value) != _sha256_bytes:
        _refuse(digest_value, f"a SHA-256 digest is {_sha256_bytes} bytes, not {len(value)}")
    return _Digest(value, digest_value)


def _check_nodes(signature: etree._Element) -> None:
    """One pass over the whole Signature, cut short at its bound: no more elements than the profile's signature
    can have, no comments or processing instructions (parse_bounded drops them; a tree built otherwise may hold
    them, and a PI would be signed), and no text but whitespace in or between the profile's structural elements."""
    for count, node in enumerate(signature.iter(), start=1):
        if count > bounds.signature_elements_max:
            _refuse(signature, f"more than {bounds.signature_elements_max} elements: not the profile's signature")
        parent = node.getparent()
        assert parent is not None
        if not isinstance(node.tag, str):
            _refuse(parent, "a comment or processing instruction inside the signature")
        if node.tag in _structural and _is_text(node.text):
            _refuse(node, f"text inside {_shown(node)}")
        if parent.tag in _structural and _is_text(node.tail):
            _refuse(parent, "text between the signature's elements")


def _is_text(text: str | None) -> bool:
    """Whether `text` holds more than XML whitespace, which layout may put anywhere."""
    return bool(text) and bool(text.strip(_xml_whitespace))  # type: ignore[union-attr]


def _children(parent: etree._Element, *names: str, code: str = signature_invalid) -> tuple[etree._Element, ...]:
    """The element children of a ds element, which must be exactly `names` in that order (else refused with
    `code`: in KeyInfo, a certificate that is not there as the profile carries it)."""
    children = list(parent)
    found = [_shown(child) for child in children]
    if found != list(names):
        shown = excerpt(", ".join(found) or "nothing")
        text = f"{etree.QName(parent).localname} must hold exactly {', '.join(names)}; it holds {shown}"
        _refuse(parent, text, code)
    return tuple(children)


def _shown(node: etree._Element) -> str:
    """A node as a refusal names it: a ds element by its local name, any other element in Clark notation."""
    if not isinstance(node.tag, str):
        return "a comment or processing instruction"
    return node.tag[len(ds_namespace) + 2 :] if node.tag.startswith(f"{{{ds_namespace}}}") else node.tag


def _named(element: etree._Element, name: str) -> None:
    if element.tag != _ds(name):
        _refuse(element, f"expected ds:{name} here, found {excerpt(element.tag)}")


def _attributes(element: etree._Element, *allowed: str) -> None:
    """Refuse an attribute the profile does not give this element (Id on Signature, Type on Reference ...)."""
    extra = [name for name in element.keys() if name not in allowed]
    if extra:
        _refuse(element, f"attribute {excerpt(extra[0])} is not accepted on {etree.QName(element).localname}")


def _algorithm(element: etree._Element, accepted: tuple[str, ...], what: str) -> str:
    """The Algorithm of a CanonicalizationMethod, SignatureMethod, Transform or DigestMethod, which must be one of
    `accepted` and take no parameters (an XPath, an InclusiveNamespaces PrefixList, an HMACOutputLength)."""
    _attributes(element, "Algorithm")
    if len(element):
        _refuse(element, f"the {what} takes no parameters here")
    algorithm = element.get("Algorithm", "")
    if algorithm not in accepted:
        _refuse(element, f"{what} {excerpt(algorithm)} is not accepted; the profile allows {', '.join(accepted)}")
    return algorithm


def _base64(element: etree._Element, bytes_max: int, code: str = signature_invalid) -> bytes:
    text = element.text or ""
    for space in _xml_whitespace:  # lines of base64 are common; str.replace scans far faster than str.translate
        if space in text:
            text = text.replace(space, "")
    name = etree.QName(element).localname
    if len(text) > 4 * (bytes_max // 3 + 1):
        _refuse(element, f"{name} is longer than {bytes_max} bytes", code)
    try:
        value = base64.b64decode(text, validate=True)
    except ValueError:  # binascii.Error, or the ValueError b64decode raises for a str with a character outside ASCII
        _refuse(element, f"{name} is not base64", code)
    if not value:
        _refuse(element, f"{name} is empty", code)
    return value


# --- whose signature ---------------------------------------------------------------------------------------------


def _sender(app_hdr: etree._Element) -> str:
    """AppHdr/Fr/FIId/FinInstnId/BICFI, canonical: a certificate names a BIC, so only a BIC sender can sign."""
    namespace = etree.QName(app_hdr).namespace
    path = "/".join(f"{{{namespace}}}{name}" for name in ("Fr", "FIId", "FinInstnId", "BICFI"))
    found = app_hdr.find(path)
    text = "" if found is None or found.text is None else found.text
    if not is_bic(text):
        _refuse(app_hdr, "the AppHdr's sender (Fr) is not a financial institution named by BIC", signer_not_allowed)
    return canonical_bic(text)


def _registered(
    signed: _Signed, sender: str, trusted: Sequence[TrustedCertificate], at: datetime
) -> TrustedCertificate:
    """The registered certificate of `sender` that vouches for the certificate in KeyInfo at `at`."""
    element, der = signed.certificate_element, signed.certificate_der
    # The usual case, a certificate sent as registered, was read and checked when it was registered: not again.
    same = next((known for known in trusted if known.der == der), None)
    if same is not None:
        presented, public_key_der = same.certificate, same.public_key_der
    else:
        try:
            presented = x509.load_der_x509_certificate(der)
        except ValueError:
            _refuse(element, "X509Certificate is not a DER certificate", certificate_missing)
        readable = _readable_key_der(presented)
        if readable is None:
            _refuse(element, "the certificate's key cannot be read", certificate_missing)
        public_key_der = readable
    matching = [known for known in trusted if known.der == der or known.public_key_der == public_key_der]
    if not matching:
        _refuse(element, f"the certificate is not registered for {sender}", certificate_unknown)
    own = [known for known in matching if known.bic == sender]
    if not own:
        others = ", ".join(sorted({known.bic for known in matching}))
        text = f"the certificate is registered for {others}, not for the sender {sender}"
        _refuse(element, text, signer_not_allowed)
    named = same.bic if same is not None else bic_from_certificate(der)  # load() checked what `same` names
    if named != sender:
        text = f"the certificate names {named or 'no BIC'} (SAN URI urn:bic:<BIC>), not the sender {sender}"
        _refuse(element, text, signer_not_allowed)
    if not _valid_at(presented, at):
        text = f"the certificate is {_validity(presented)}, not at {at.isoformat()}"
        _refuse(element, text, certificate_not_valid)
    valid = [known for known in own if _valid_at(known.certificate, at)]
    if not valid:
        shown = "; ".join(_validity(known.certificate) for known in own)
        _refuse(element, f"its registration is {shown}, not at {at.isoformat()}", certificate_not_valid)
    return valid[0]


def _valid_at(certificate: x509.Certificate, at: datetime) -> bool:
    return certificate.not_valid_before_utc <= at <= certificate.not_valid_after_utc


def _validity(certificate: x509.Certificate) -> str:
    return f"valid from {certificate.not_valid_before_utc.isoformat()} to {certificate.not_valid_after_utc.isoformat()}"


def _may_sign(certificate: x509.Certificate) -> bool:
    """Whether the key usage, when the certificate restricts it, allows signatures (nonRepudiation is
    content_commitment in `cryptography`)."""
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return True
    return usage.digital_signature or usage.content_commitment


# --- canonical forms, digests, values ----------------------------------------------------------------------------


def _canonical(element: etree._Element) -> bytes:
    """Exclusive XML canonicalisation 1.0 of an element's subtree, without comments: namespace declarations appear
    where they are used, so the bytes do not depend on the envelope around the element."""
    return etree.tostring(element, method="c14n", exclusive=True, with_comments=False)


def _digests(
    app_hdr: etree._Element, document: etree._Element, signature: etree._Element, key_info: etree._Element
) -> dict[str, bytes]:
    """The SHA-256 digest of each reference's target in its canonical form: the KeyInfo, the AppHdr as the
    enveloped-signature transform leaves it (without `signature`; Sgntr stays, emptied), and the Document."""
    without_signature = copy.deepcopy(app_hdr)  # lxml copies the namespace declarations the AppHdr inherits
    sgntr = signature.getparent()
    copied_sgntr = without_signature[app_hdr.index(sgntr)]
    _remove_keeping_tail(copied_sgntr[sgntr.index(signature)])
    return {
        _key_info: hashlib.sha256(_canonical(key_info)).digest(),
        _app_hdr: hashlib.sha256(_canonical(without_signature)).digest(),
        _document: hashlib.sha256(_canonical(document)).digest(),
    }


def _remove_keeping_tail(element: etree._Element) -> None:
    """Remove an element but not the text after it, which lxml would remove with it: the enveloped-signature
    transform removes the Signature element alone."""
    parent = element.getparent()
    assert parent is not None
    if element.tail:
        previous = element.getprevious()
        if previous is None:
            parent.text = (parent.text or "") + element.tail
        else:
            previous.tail = (previous.tail or "") + element.tail
    parent.remove(element)


def _signature_value(key: SigningKey, data: bytes) -> bytes:
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(_ecdsa_p256_half_bytes, "big") + s.to_bytes(_ecdsa_p256_half_bytes, "big")


def _holds(public_key: PublicKey, signature_method: str, value: bytes, data: bytes) -> bool:
    """Whether `value` is a signature of `data` by `public_key` under `signature_method` (which is the key's)."""
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            assert signature_method == rsa_sha256
            public_key.verify(value, data, padding.PKCS1v15(), hashes.SHA256())
        else:
            assert signature_method == ecdsa_sha256
            r = int.from_bytes(value[:_ecdsa_p256_half_bytes], "big")
            s = int.from_bytes(value[_ecdsa_p256_half_bytes:], "big")
            public_key.verify(encode_dss_signature(r, s), data, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def _signature_method_for(public_key: object) -> str | None:
    """The signature method a key signs with under the profile; None for a key the profile does not allow."""
    if isinstance(public_key, rsa.RSAPublicKey):
        bits = public_key.key_size
        return rsa_sha256 if bounds.signature_rsa_key_bits_min <= bits <= bounds.signature_rsa_key_bits_max else None
    if isinstance(public_key, ec.EllipticCurvePublicKey) and isinstance(public_key.curve, ec.SECP256R1):
        return ecdsa_sha256
    return None


def _allowed_keys_text() -> str:
    rsa_bits = f"{bounds.signature_rsa_key_bits_min} to {bounds.signature_rsa_key_bits_max}"
    return f"RSA of {rsa_bits} bits, or EC on P-256"


def _public_key_der(certificate: x509.Certificate) -> bytes:
    return _key_der(certificate.public_key())


def _readable_key_der(certificate: x509.Certificate) -> bytes | None:
    """The SubjectPublicKeyInfo of any certificate whose key `cryptography` reads, of whatever type."""
    try:
        public_key = certificate.public_key()
    except (ValueError, UnsupportedAlgorithm):
        return None
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _key_der(public_key: object) -> bytes:
    assert isinstance(public_key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey), type(public_key)
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


# --- building ----------------------------------------------------------------------------------------------------


def _new_reference(signed_info: etree._Element, uri: str | None, transforms: tuple[str, ...]) -> etree._Element:
    """A Reference with its transforms and digest method; returns its DigestValue, to be filled in."""
    reference = etree.SubElement(signed_info, _ds("Reference"))
    if uri is not None:
        reference.set("URI", uri)
    listed = etree.SubElement(reference, _ds("Transforms"))
    for algorithm in transforms:
        etree.SubElement(listed, _ds("Transform"), Algorithm=algorithm)
    etree.SubElement(reference, _ds("DigestMethod"), Algorithm=sha256_digest)
    return etree.SubElement(reference, _ds("DigestValue"))


def _next_element(element: etree._Element) -> etree._Element | None:
    return next(element.itersiblings(etree.Element), None)


def _ds(name: str) -> str:
    return f"{{{ds_namespace}}}{name}"
