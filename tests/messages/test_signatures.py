"""AppHdr signatures: sign() writes the ISO 20022 three-reference profile, which two other implementations verify;
verify() accepts exactly that profile and refuses each wrapping, tampering, algorithm and certificate case with its
DS code."""

from __future__ import annotations

import base64
import copy
import hashlib
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from lxml import etree

from gateway import bounds
from gateway.messages.envelope import Unwrapped
from gateway.messages.intake import Read, read_message
from gateway.messages.rejections import Layer, Rejection
from gateway.messages.signatures import (
    SignatureRefusal,
    SigningKey,
    TrustedCertificate,
    Verified,
    ecdsa_sha256,
    rsa_sha256,
    sign,
    verify,
)
from gateway.security.certs import Party, development_ca, signing_certificate
from tests.corpus import in_ci, require_corpus
from tests.message_layer.support import unwrapped

fixtures = Path(__file__).parent / "fixtures"
interop = Path(__file__).parent / "interop"
envelope_file = fixtures / "pacs.008.001.08-gateway-envelope.xml"
DS = "http://www.w3.org/2000/09/xmldsig#"
HEAD = "urn:iso:std:iso:20022:tech:xsd:head.001.001.02"
PACS = "urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
# The time every check is made at; every certificate is issued relative to it, so that no test depends on the clock.
AT = datetime(2026, 3, 16, 12, 0, tzinfo=UTC)
SBER, VTB = Party("SABRRUMMXXX", "Sberbank"), Party("VTBRRUMMXXX", "VTB Bank")
java_exports = "java.xml.crypto/org.jcp.xml.dsig.internal.dom=ALL-UNNAMED"


@dataclass(frozen=True)
class Signer:
    bic: str
    key: SigningKey
    certificate: x509.Certificate

    @property
    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def trusted(self) -> TrustedCertificate:
        return TrustedCertificate.load(self.bic, self.pem)


@dataclass(frozen=True)
class Pki:
    ca: x509.Certificate
    ca_key: ec.EllipticCurvePrivateKey

    def signer(
        self,
        party: Party,
        key: SigningKey | None = None,
        issued_at: datetime = AT - timedelta(days=30),
        lifetime: timedelta = timedelta(days=365),
    ) -> Signer:
        key = key or ec.generate_private_key(ec.SECP256R1())
        certificate = signing_certificate(
            self.ca, self.ca_key, party, key.public_key(), issued_at=issued_at, lifetime=lifetime
        )
        return Signer(party.bic, key, certificate)


@pytest.fixture(scope="module")
def pki() -> Pki:
    return Pki(*development_ca(Party("CBRFRUMMXXX", "Bank of Russia"), AT - timedelta(days=365)))


@pytest.fixture(scope="module")
def sber(pki: Pki) -> Signer:
    return pki.signer(SBER)


@pytest.fixture(scope="module")
def sber_rsa(pki: Pki) -> Signer:
    return pki.signer(SBER, rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture(scope="module")
def vtb(pki: Pki) -> Signer:
    return pki.signer(VTB)


# --- helpers -----------------------------------------------------------------------------------------------------


def signed(signer: Signer, data: bytes | None = None) -> bytes:
    message = unwrapped(envelope_file.read_bytes() if data is None else data)
    assert message.app_hdr is not None
    sign(message.app_hdr, message.document, signer.key, signer.certificate)
    return serialized(message)


def serialized(message: Unwrapped) -> bytes:
    return etree.tostring(message.document.getroottree(), xml_declaration=True, encoding="UTF-8")


def check(data: bytes, trusted: list[TrustedCertificate], at: datetime = AT) -> Verified | SignatureRefusal:
    message = unwrapped(data)
    assert message.app_hdr is not None
    return verify(message.app_hdr, message.document, trusted, at)


def refused(data: bytes, trusted: list[TrustedCertificate], code: str, at: datetime = AT) -> SignatureRefusal:
    result = check(data, trusted, at)
    assert isinstance(result, SignatureRefusal), result
    assert result.code == code, result
    return result


def edited(data: bytes, old: bytes, new: bytes) -> bytes:
    """`data` with one piece replaced; fails loudly if the piece is not there exactly once."""
    assert data.count(old) == 1, old
    return data.replace(old, new)


def ds(name: str) -> str:
    return f"{{{DS}}}{name}"


def parts(message: Unwrapped) -> tuple[etree._Element, etree._Element, list[etree._Element]]:
    """The message's ds:Signature, SignedInfo and its references (KeyInfo's, AppHdr's, Document's, as sign writes)."""
    signature = next(message.document.getroottree().getroot().iter(ds("Signature")))
    signed_info = signature.find(ds("SignedInfo"))
    assert signed_info is not None
    return signature, signed_info, signed_info.findall(ds("Reference"))


def canonical(element: etree._Element) -> bytes:
    return etree.tostring(element, method="c14n", exclusive=True, with_comments=False)


def without_signature(app_hdr: etree._Element) -> etree._Element:
    """A copy of the AppHdr as the enveloped-signature transform sees it: the ds:Signature gone, text kept."""
    copied = copy.deepcopy(app_hdr)
    signature = next(copied.iter(ds("Signature")))
    parent, previous = signature.getparent(), signature.getprevious()
    assert parent is not None
    if previous is None:
        parent.text = (parent.text or "") + (signature.tail or "")
    else:
        previous.tail = (previous.tail or "") + (signature.tail or "")
    parent.remove(signature)
    return copied


def reseal(message: Unwrapped, signer: Signer) -> bytes:
    """Sign an edited message again as a naive signer would: each reference's SHA-256 digest over what it names (no
    URI: the element after the AppHdr; "": the AppHdr without its Signature; "#x": the first element whose Id, ID or
    id is x), then the signature value over SignedInfo. An attack built with it is cryptographically sound, so only
    verify's checks of the profile can refuse it."""
    root = message.document.getroottree().getroot()
    signature, signed_info, references = parts(message)
    app_hdr = signature.getparent().getparent()  # type: ignore[union-attr]
    for reference in references:
        uri = reference.get("URI")
        if uri is None:
            target = canonical(app_hdr.getnext())  # type: ignore[arg-type]
        elif uri == "":
            target = canonical(without_signature(app_hdr))
        else:
            target = canonical(next(e for e in root.iter() if uri[1:] in {e.get(n) for n in ("Id", "ID", "id")}))
        digest_value = reference.find(ds("DigestValue"))
        assert digest_value is not None
        digest_value.text = base64.b64encode(hashlib.sha256(target).digest()).decode()
    if isinstance(signer.key, rsa.RSAPrivateKey):
        value = signer.key.sign(canonical(signed_info), padding.PKCS1v15(), hashes.SHA256())
    else:
        r, s = decode_dss_signature(signer.key.sign(canonical(signed_info), ec.ECDSA(hashes.SHA256())))
        value = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    signature_value = signature.find(ds("SignatureValue"))
    assert signature_value is not None
    signature_value.text = base64.b64encode(value).decode()
    return serialized(message)


def supplementary(document: etree._Element, content: etree._Element) -> None:
    """Put `content` into a SplmtryData/Envlp at the end of the message, where the schema takes any element."""
    message = document[0]
    data = etree.SubElement(message, f"{{{PACS}}}SplmtryData")
    etree.SubElement(data, f"{{{PACS}}}Envlp").append(content)


def tool_or_skip(name: str, why: str) -> str:
    found = shutil.which(name)
    if found is None:
        message = f"{name} is not installed ({why}); `bash .ci/run` installs it"
        if in_ci:
            pytest.fail(message + " -- under CI=true this independent check must run", pytrace=False)
        pytest.skip(message)
    return found


# --- what sign writes --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["ec", "rsa"])
def test_a_signed_message_is_read_and_verified(kind: str, sber: Signer, sber_rsa: Signer) -> None:
    signer = sber if kind == "ec" else sber_rsa
    data = signed(signer)
    read = read_message(data, allow_bare_document=False)
    assert isinstance(read, Read), read  # the project's own XSDs take the Sgntr where sign put it
    assert read.header is not None and read.header.from_bic == "SABRRUMMXXX"
    result = check(data, [signer.trusted()])
    assert result == Verified("SABRRUMMXXX", signer.trusted(), ecdsa_sha256 if kind == "ec" else rsa_sha256)


def test_the_signature_has_the_profiles_three_references(sber: Signer) -> None:
    message = unwrapped(signed(sber))
    signature, signed_info, references = parts(message)
    assert message.app_hdr is not None
    assert signature.getparent() is message.app_hdr[-1]
    assert message.app_hdr[-1].tag == f"{{{HEAD}}}Sgntr"
    assert [child.tag for child in signature] == [ds("SignedInfo"), ds("SignatureValue"), ds("KeyInfo")]
    key_info = signature[2]
    assert [reference.get("URI") for reference in references] == [f"#{key_info.get('Id')}", "", None]
    transforms = [[t.get("Algorithm") for t in r.iter(ds("Transform"))] for r in references]
    assert transforms == [[EXC_C14N], [ENVELOPED, EXC_C14N], [EXC_C14N]]
    certificate = key_info.findtext(f"{ds('X509Data')}/{ds('X509Certificate')}")
    assert base64.b64decode(certificate or "") == sber.certificate.public_bytes(serialization.Encoding.DER)


def test_sgntr_goes_before_related_headers(sber: Signer) -> None:
    """head.001.001.02 puts Sgntr after Prty and before the Rltd headers: the signed message stays valid against the
    project's XSD and the official one."""
    related = (
        f'<Rltd xmlns="{HEAD}"><Fr><FIId><FinInstnId><BICFI>VTBRRUMMXXX</BICFI></FinInstnId></FIId></Fr>'
        "<To><FIId><FinInstnId><BICFI>SABRRUMMXXX</BICFI></FinInstnId></FIId></To><BizMsgIdr>VTB-1</BizMsgIdr>"
        "<MsgDefIdr>pacs.008.001.08</MsgDefIdr><CreDt>2025-03-14T08:00:00Z</CreDt></Rltd>"
    ).encode()
    header_end = b"</CreDt><Prty>NORM</Prty>" + related + b"</AppHdr>"
    data = edited(envelope_file.read_bytes(), b"</CreDt>\n  </AppHdr>", header_end)
    data = signed(sber, data)
    message = unwrapped(data)
    assert message.app_hdr is not None
    names = [etree.QName(child).localname for child in message.app_hdr]
    assert names[-3:] == ["Prty", "Sgntr", "Rltd"]
    assert isinstance(read_message(data, allow_bare_document=False), Read)
    official = etree.XMLSchema(etree.parse(str(require_corpus() / "xsd" / "head.001.001.02.xsd")))
    assert official.validate(etree.fromstring(etree.tostring(message.app_hdr))), official.error_log
    assert isinstance(check(data, [sber.trusted()]), Verified)


@pytest.mark.parametrize("version", ["head.001.001.01", "head.001.001.03"])
def test_other_header_versions(sber: Signer, version: str) -> None:
    """sign and verify work in the AppHdr's own namespace, whichever head.001 version it is: the signed message is
    read as the gateway reads it (that version's project XSD), its header is valid against that version's official
    XSD, and a changed header fails its digest."""
    namespace = f"urn:iso:std:iso:20022:tech:xsd:{version}"
    data = signed(sber, edited(envelope_file.read_bytes(), HEAD.encode(), namespace.encode()))
    message = unwrapped(data)
    assert message.app_hdr is not None and str(message.app_hdr_version) == version
    assert message.app_hdr[-1].tag == f"{{{namespace}}}Sgntr"
    assert isinstance(read_message(data, allow_bare_document=False), Read)
    official = etree.XMLSchema(etree.parse(str(require_corpus() / "xsd" / f"{version}.xsd")))
    assert official.validate(etree.fromstring(etree.tostring(message.app_hdr))), official.error_log
    assert isinstance(check(data, [sber.trusted()]), Verified)
    changed = edited(data, b"<BizMsgIdr>SABR20250314-000117</BizMsgIdr>", b"<BizMsgIdr>SABR-OTHER-1</BizMsgIdr>")
    refused(changed, [sber.trusted()], "DS0B")


# --- certificates: registry, validity, rollover --------------------------------------------------------------------


def test_a_certificate_of_another_bank(sber: Signer, vtb: Signer) -> None:
    """VTB's registered key signs a message sent as Sberbank: named as another bank's when the registry is passed
    whole, unknown when only the sender's certificates are."""
    message = unwrapped(envelope_file.read_bytes())
    assert message.app_hdr is not None
    sign(message.app_hdr, message.document, vtb.key, vtb.certificate)
    data = serialized(message)
    refusal = refused(data, [sber.trusted(), vtb.trusted()], "DS0H")
    assert "registered for VTBRRUMMXXX, not for the sender SABRRUMMXXX" in refusal.text
    assert refusal.path.endswith("/KeyInfo/X509Data/X509Certificate")
    refused(data, [sber.trusted()], "DS0F")


def test_an_unregistered_certificate(pki: Pki, sber: Signer) -> None:
    stranger = pki.signer(SBER)  # the right BIC and CA, but nobody registered it
    refusal = refused(signed(stranger), [sber.trusted()], "DS0F")
    assert "not registered for SABRRUMMXXX" in refusal.text


@pytest.mark.parametrize(
    ("issued_at", "lifetime"),
    [(AT - timedelta(days=400), timedelta(days=30)), (AT + timedelta(days=1), timedelta(days=365))],
    ids=["expired", "not-yet-valid"],
)
def test_a_certificate_outside_its_validity(pki: Pki, issued_at: datetime, lifetime: timedelta) -> None:
    signer = pki.signer(SBER, issued_at=issued_at, lifetime=lifetime)
    refusal = refused(signed(signer), [signer.trusted()], "DS0D")
    assert AT.isoformat() in refusal.text
    assert isinstance(check(signed(signer), [signer.trusted()], at=issued_at + lifetime / 2), Verified)


def test_key_rollover(pki: Pki) -> None:
    """Two certificates registered for one bank at once: each verifies while it is valid, the old one no longer
    once it has expired; Verified names the one that was used."""
    old = pki.signer(SBER, issued_at=AT - timedelta(days=300), lifetime=timedelta(days=310))
    new = pki.signer(SBER, issued_at=AT - timedelta(days=5))
    registered = [old.trusted(), new.trusted()]
    by_old, by_new = signed(old), signed(new)
    for data, signer in ((by_old, old), (by_new, new)):
        result = check(data, registered)
        assert isinstance(result, Verified) and result.certificate == signer.trusted(), result
    later = AT + timedelta(days=20)  # the old certificate ended ten days before
    refused(by_old, registered, "DS0D", at=later)
    result = check(by_new, registered, at=later)
    assert isinstance(result, Verified) and result.certificate == new.trusted()


def test_a_renewed_certificate_for_a_registered_key(pki: Pki) -> None:
    """A certificate for the same key as a registered one matches it (no new registration for a renewal); the
    registered certificate is the one whose validity counts."""
    registered = pki.signer(SBER, issued_at=AT - timedelta(days=300), lifetime=timedelta(days=310))
    renewed = pki.signer(SBER, registered.key, issued_at=AT - timedelta(days=1))
    assert renewed.certificate != registered.certificate
    data = signed(renewed)
    result = check(data, [registered.trusted()])
    assert isinstance(result, Verified) and result.certificate == registered.trusted()
    refusal = refused(data, [registered.trusted()], "DS0D", at=AT + timedelta(days=20))
    assert "its registration is valid from" in refusal.text
    # The other way round: the registration is valid, the certificate presented for the same key has expired.
    lapsed = pki.signer(SBER, registered.key, issued_at=AT - timedelta(days=100), lifetime=timedelta(days=10))
    refusal = refused(signed(lapsed), [registered.trusted()], "DS0D")
    assert refusal.text.startswith("the certificate is valid from")


def test_a_certificate_for_a_registered_key_naming_another_bank(pki: Pki, sber: Signer) -> None:
    impostor = pki.signer(VTB, sber.key)  # Sberbank's key, in a certificate that names VTB
    refusal = refused(signed(Signer("SABRRUMMXXX", sber.key, impostor.certificate)), [sber.trusted()], "DS0H")
    assert "names VTBRRUMMXXX" in refusal.text


def test_a_sender_not_named_by_bic(sber: Signer) -> None:
    """A certificate names a BIC, so a sender named otherwise (Fr/OrgId) cannot be bound to one."""
    sender = b"<Fr><FIId><FinInstnId><BICFI>SABRRUMMXXX</BICFI></FinInstnId></FIId></Fr>"
    organisation = b"<Fr><OrgId><Nm>Sberbank treasury</Nm></OrgId></Fr>"
    data = signed(sber, edited(envelope_file.read_bytes(), sender, organisation))
    refusal = refused(data, [sber.trusted()], "DS0H")
    assert refusal.path == "/Envelope/AppHdr" and "named by BIC" in refusal.text


def test_registering_a_certificate_checks_what_the_profile_needs(pki: Pki, sber: Signer) -> None:
    assert TrustedCertificate.load("SABRRUMMXXX", sber.certificate.public_bytes(serialization.Encoding.DER))
    with pytest.raises(ValueError, match="not an X.509 certificate"):
        TrustedCertificate.load("SABRRUMMXXX", b"-----BEGIN CERTIFICATE-----\nnonsense\n-----END CERTIFICATE-----\n")
    with pytest.raises(ValueError, match="not SABRRUMMXXX"):
        TrustedCertificate.load("SABRRUMMXXX", pki.signer(VTB).pem)
    weak = pki.signer(SBER, rsa.generate_private_key(public_exponent=65537, key_size=1024))
    with pytest.raises(ValueError, match="key is not one that may sign"):
        TrustedCertificate.load("SABRRUMMXXX", weak.pem)
    with pytest.raises(ValueError, match="key usage"):  # the CA's certificate: keyCertSign and cRLSign only
        TrustedCertificate.load("SABRRUMMXXX", pki.ca.public_bytes(serialization.Encoding.PEM))


# --- tampering ---------------------------------------------------------------------------------------------------


def test_a_changed_amount(sber: Signer) -> None:
    data = edited(signed(sber), b">1250000.00</IntrBkSttlmAmt>", b">1250000.01</IntrBkSttlmAmt>")
    refusal = refused(data, [sber.trusted()], "DS0B")
    assert refusal.path.endswith("/Sgntr/Signature/SignedInfo/Reference[3]/DigestValue")
    assert "Document's digest does not match" in refusal.text
    assert refusal.rejection() == Rejection("DS0B", refusal.path, refusal.text, Layer.SIGNATURE)


def test_a_signature_taken_from_another_app_hdr(sber: Signer) -> None:
    """The signature of one message moved into the AppHdr of another with the same Document."""
    first = unwrapped(signed(sber))
    other_data = edited(envelope_file.read_bytes(), b"<BizMsgIdr>SABR20250314-000117<", b"<BizMsgIdr>SABR-OTHER-1<")
    other = unwrapped(other_data)
    assert first.app_hdr is not None and other.app_hdr is not None
    other.app_hdr.append(first.app_hdr[-1])  # its Sgntr
    refusal = refused(serialized(other), [sber.trusted()], "DS0B")
    assert refusal.path.endswith("/SignedInfo/Reference[2]/DigestValue")
    assert "AppHdr's digest does not match" in refusal.text


def test_a_wrong_signature_value(sber: Signer) -> None:
    message = unwrapped(signed(sber))
    signature, _, _ = parts(message)
    value = bytearray(base64.b64decode(signature[1].text or ""))
    value[5] ^= 0x01
    signature[1].text = base64.b64encode(bytes(value)).decode()
    refusal = refused(serialized(message), [sber.trusted()], "DS0B")
    assert refusal.path.endswith("/Signature/SignatureValue")


def test_a_message_without_signature(sber: Signer) -> None:
    refusal = refused(envelope_file.read_bytes(), [sber.trusted()], "DS0A")
    assert refusal.path == "/Envelope/AppHdr"
    empty = edited(envelope_file.read_bytes(), b"</CreDt>", f"</CreDt><Sgntr xmlns='{HEAD}'/>".encode())
    refused(empty, [sber.trusted()], "DS0B")


# --- wrapping: what is signed must be what is read ----------------------------------------------------------------


def test_the_signed_document_moved_into_a_ds_object(sber: Signer) -> None:
    """The classic wrapping attack: the signed Document kept inside the Signature (ds:Object), a changed one read
    in its place. The schema lets it through (Sgntr's content is lax); a verifier that looked for "the first
    Document" would find the signed one, since the AppHdr comes first."""
    message = unwrapped(signed(sber))
    signature, _, _ = parts(message)
    original = message.document
    changed = copy.deepcopy(original)
    amount = changed.find(f".//{{{PACS}}}IntrBkSttlmAmt")
    assert amount is not None
    amount.text = "9250000.00"
    original.addnext(changed)
    etree.SubElement(signature, ds("Object")).append(original)  # moves the signed Document into the Signature
    data = serialized(message)
    assert isinstance(read_message(data, allow_bare_document=False), Read)
    attacked = unwrapped(data)
    first_document = next(attacked.document.getroottree().getroot().iter(f"{{{PACS}}}Document"))
    assert first_document is not attacked.document  # what a search for "the Document" would have digested
    refusal = refused(data, [sber.trusted()], "DS0B")
    assert refusal.path.endswith("/Sgntr/Signature")
    assert "Object" in refusal.text


def test_the_document_reference_is_the_element_after_the_app_hdr(sber: Signer) -> None:
    """A signed copy of the Document earlier in the message (here inside the AppHdr, which the signer signed with
    it), the Document after the AppHdr then changed: a verifier that digested "the first Document" would check the
    copy. The reference without URI is the Document after the AppHdr, whose digest no longer matches."""
    message = unwrapped(signed(sber))
    assert message.app_hdr is not None
    message.app_hdr.append(copy.deepcopy(message.document))
    attacked = unwrapped(reseal(message, sber))
    assert isinstance(check(serialized(attacked), [sber.trusted()]), Verified)  # signed as it stands
    amount = attacked.document.find(f".//{{{PACS}}}IntrBkSttlmAmt")
    assert amount is not None
    amount.text = "9250000.00"
    refusal = refused(serialized(attacked), [sber.trusted()], "DS0B")
    assert refusal.path.endswith("/SignedInfo/Reference[3]/DigestValue")


@pytest.mark.parametrize("target", [2, 3], ids=["app-hdr-copy", "document-copy"])
def test_a_reference_pointing_at_a_copy(sber: Signer, target: int) -> None:
    """A signed copy of the AppHdr or the Document, given an Id and kept in SplmtryData, named by the reference
    instead of the element that is read (which is then changed): sound cryptography, refused for where it points."""
    message = unwrapped(signed(sber))
    assert message.app_hdr is not None
    _, _, references = parts(message)
    original = message.app_hdr if target == 2 else message.document
    holder = etree.Element("{urn:example:attacker}Copy", Id="signed-copy")
    holder.append(without_signature(original) if target == 2 else copy.deepcopy(original))
    supplementary(message.document, holder)
    biz_msg_idr = message.app_hdr.find(f"{{{HEAD}}}BizMsgIdr")
    assert biz_msg_idr is not None
    biz_msg_idr.text = "SABR-REPLAYED-1"
    references[target - 1].set("URI", "#signed-copy")
    refusal = refused(reseal(message, sber), [sber.trusted()], "DS0B")
    assert refusal.path.endswith(f"/SignedInfo/Reference[{target}]")
    assert "'#signed-copy'" in refusal.text


@pytest.mark.parametrize("attribute", ["Id", "ID", "id", "{http://www.w3.org/XML/1998/namespace}id"])
def test_a_duplicate_id(sber: Signer, attribute: str) -> None:
    """Another element carrying the KeyInfo's Id: a validly signed message still, but "#Id" is then ambiguous."""
    message = unwrapped(signed(sber))
    signature, _, _ = parts(message)
    key_info_id = signature[2].get("Id")
    assert key_info_id
    decoy = etree.Element("{urn:example:attacker}KeyInfo")
    decoy.set(attribute, key_info_id)
    supplementary(message.document, decoy)
    data = reseal(message, sber)
    refusal = refused(data, [sber.trusted()], "DS0B")
    assert refusal.path.endswith("/Sgntr/Signature/KeyInfo")
    assert "also carried by /Envelope/Document/FIToFICstmrCdtTrf/SplmtryData/Envlp/KeyInfo" in refusal.text


def test_a_second_signature(sber: Signer) -> None:
    message = unwrapped(signed(sber))
    signature, _, _ = parts(message)
    supplementary(message.document, copy.deepcopy(signature))
    refusal = refused(reseal(message, sber), [sber.trusted()], "DS0B")
    assert "a second ds:Signature" in refusal.text
    assert refusal.path.endswith("/SplmtryData/Envlp/Signature")


def test_a_signature_outside_sgntr(sber: Signer) -> None:
    message = unwrapped(signed(sber))
    signature, _, _ = parts(message)
    assert message.app_hdr is not None
    sgntr = signature.getparent()
    supplementary(message.document, signature)
    message.app_hdr.remove(sgntr)  # type: ignore[arg-type]
    refusal = refused(serialized(message), [sber.trusted()], "DS0B")
    assert "not in AppHdr/Sgntr" in refusal.text


# --- the profile: references, transforms, algorithms -------------------------------------------------------------


def _edit_reference(data: bytes, signer: Signer, change: Callable[[list[etree._Element]], None]) -> bytes:
    message = unwrapped(data)
    _, _, references = parts(message)
    change(references)
    return reseal(message, signer)


def _transforms(reference: etree._Element, *algorithms: str) -> etree._Element:
    transforms = reference.find(ds("Transforms"))
    assert transforms is not None
    for transform in list(transforms):
        transforms.remove(transform)
    for algorithm in algorithms:
        etree.SubElement(transforms, ds("Transform"), Algorithm=algorithm)
    return transforms


def _xpath_transform(references: list[etree._Element]) -> None:
    transforms = _transforms(references[2], "http://www.w3.org/TR/1999/REC-xpath-19991116", EXC_C14N)
    etree.SubElement(transforms[0], ds("XPath")).text = "not(ancestor-or-self::*[local-name()='Ntry'])"


def _inclusive_namespaces_transform(references: list[etree._Element]) -> None:
    transforms = _transforms(references[2], EXC_C14N)
    etree.SubElement(transforms[0], f"{{{EXC_C14N}}}InclusiveNamespaces", PrefixList="xsi")


@pytest.mark.parametrize(
    ("change", "path_end"),
    [
        (lambda refs: _transforms(refs[2], EXC_C14N, EXC_C14N), "/Reference[3]/Transforms"),
        (lambda refs: _transforms(refs[2], ENVELOPED, EXC_C14N), "/Reference[3]/Transforms"),
        (lambda refs: _transforms(refs[1], EXC_C14N), "/Reference[2]/Transforms"),
        (lambda refs: _transforms(refs[0]), "/SignedInfo/Reference/Transforms"),
        (lambda refs: _transforms(refs[2], "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"),
         "/Reference[3]/Transforms/Transform"),
        (_xpath_transform, "/Reference[3]/Transforms/Transform"),
        (_inclusive_namespaces_transform, "/Reference[3]/Transforms/Transform"),
        (lambda refs: _transforms(refs[2], "http://www.w3.org/TR/1999/REC-xslt-19991116"),
         "/Reference[3]/Transforms/Transform"),
    ],
    ids=["extra-exc-c14n", "enveloped-on-document", "no-enveloped-on-app-hdr", "none", "inclusive-c14n", "xpath",
         "exc-c14n-with-prefixes", "xslt"],
)  # fmt: skip
def test_a_reference_with_other_transforms(
    sber: Signer, change: Callable[[list[etree._Element]], None], path_end: str
) -> None:
    refusal = refused(_edit_reference(signed(sber), sber, change), [sber.trusted()], "DS0B")
    assert refusal.path.endswith(path_end), refusal


def _set(element: etree._Element | None, algorithm: str) -> etree._Element:
    assert element is not None
    element.set("Algorithm", algorithm)
    return element


def _hmac(signed_info: etree._Element) -> None:
    method = _set(signed_info.find(ds("SignatureMethod")), "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256")
    etree.SubElement(method, ds("HMACOutputLength")).text = "8"


def _inclusive_prefixes(signed_info: etree._Element) -> None:
    method = signed_info.find(ds("CanonicalizationMethod"))
    assert method is not None
    etree.SubElement(method, f"{{{EXC_C14N}}}InclusiveNamespaces", PrefixList="ds")


@pytest.mark.parametrize(
    ("change", "path_end"),
    [
        (lambda info: _set(info.find(ds("SignatureMethod")), "http://www.w3.org/2000/09/xmldsig#rsa-sha1"),
         "/SignedInfo/SignatureMethod"),
        (_hmac, "/SignedInfo/SignatureMethod"),
        (lambda info: _set(info.find(f"{ds('Reference')}/{ds('DigestMethod')}"), f"{DS}sha1"),
         "/SignedInfo/Reference/DigestMethod"),
        (lambda info: _set(info.find(ds("CanonicalizationMethod")), "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"),
         "/SignedInfo/CanonicalizationMethod"),
        (_inclusive_prefixes, "/SignedInfo/CanonicalizationMethod"),
    ],
    ids=["rsa-sha1", "hmac", "sha1-digest", "inclusive-c14n", "inclusive-prefixes"],
)  # fmt: skip
def test_an_algorithm_outside_the_profile(
    sber: Signer, change: Callable[[etree._Element], None], path_end: str
) -> None:
    message = unwrapped(signed(sber))
    _, signed_info, _ = parts(message)
    change(signed_info)
    refusal = refused(reseal(message, sber), [sber.trusted()], "DS0B")
    assert refusal.path.endswith(path_end), refusal


def test_a_signature_method_for_another_kind_of_key(sber: Signer) -> None:
    """An ECDSA key's signature declared as RSA-SHA256: refused for the mismatch, not tried with the wrong
    algorithm."""
    message = unwrapped(signed(sber))
    _, signed_info, _ = parts(message)
    _set(signed_info.find(ds("SignatureMethod")), rsa_sha256)
    refusal = refused(reseal(message, sber), [sber.trusted()], "DS0B")
    assert refusal.path.endswith("/SignedInfo/SignatureMethod") and "certificate's key" in refusal.text


def test_a_reference_missing_or_repeated(sber: Signer) -> None:
    def drop_key_info_reference(references: list[etree._Element]) -> None:
        references[0].getparent().remove(references[0])  # type: ignore[union-attr]

    def repeat_document_reference(references: list[etree._Element]) -> None:
        references[2].addnext(copy.deepcopy(references[2]))

    def add_fourth(references: list[etree._Element]) -> None:
        references[2].addnext(copy.deepcopy(references[0]))

    refusal = refused(_edit_reference(signed(sber), sber, drop_key_info_reference), [sber.trusted()], "DS0B")
    assert "no reference to the KeyInfo" in refusal.text
    refusal = refused(_edit_reference(signed(sber), sber, repeat_document_reference), [sber.trusted()], "DS0B")
    assert "more than 3 references" in refusal.text and refusal.path.endswith("/Reference[4]")
    refusal = refused(_edit_reference(signed(sber), sber, add_fourth), [sber.trusted()], "DS0B")
    assert "more than 3 references" in refusal.text


def test_text_between_the_signatures_elements(sber: Signer) -> None:
    message = unwrapped(signed(sber))
    _, signed_info, _ = parts(message)
    signed_info[1].tail = "see the attached"
    refusal = refused(reseal(message, sber), [sber.trusted()], "DS0B")
    assert refusal.path.endswith("/Signature/SignedInfo") and "text between" in refusal.text
    message = unwrapped(signed(sber))
    _, signed_info, _ = parts(message)
    signed_info[0].text = "exclusive, please"
    refusal = refused(reseal(message, sber), [sber.trusted()], "DS0B")
    assert refusal.path.endswith("/SignedInfo/CanonicalizationMethod") and "text inside" in refusal.text


def test_a_comment_or_instruction_in_a_tree_built_in_code(sber: Signer) -> None:
    """parse_bounded drops them; a tree built otherwise may hold them, and a PI inside SignedInfo is signed."""
    for node in (etree.Comment("note"), etree.ProcessingInstruction("note")):
        message = unwrapped(signed(sber))
        _, signed_info, _ = parts(message)
        signed_info.insert(2, node)
        assert message.app_hdr is not None
        result = verify(message.app_hdr, message.document, [sber.trusted()], AT)
        assert isinstance(result, SignatureRefusal) and result.code == "DS0B", result
        assert result.path.endswith("/Signature/SignedInfo")


def test_sgntr_holding_more_than_the_signature(sber: Signer) -> None:
    message = unwrapped(signed(sber))
    signature, _, _ = parts(message)
    signature.addnext(etree.Element(f"{{{HEAD}}}Note"))
    refusal = refused(reseal(message, sber), [sber.trusted()], "DS0B")
    assert refusal.path.endswith("/AppHdr/Sgntr") and "nothing else" in refusal.text


def test_a_digest_of_another_length(sber: Signer) -> None:
    message = unwrapped(signed(sber))
    _, _, references = parts(message)
    references[0][2].text = base64.b64encode(bytes(20)).decode()  # SHA-1's length
    refusal = refused(serialized(message), [sber.trusted()], "DS0B")
    assert refusal.path.endswith("/SignedInfo/Reference/DigestValue") and "32 bytes" in refusal.text


@pytest.mark.parametrize("text", ["MIIB\u00e9", "\u0416" * 8, "AAAA\u200b"])
def test_base64_with_characters_outside_ascii(sber: Signer, text: str) -> None:
    """Found by the receive fuzzer: base64 of a str outside ASCII raises ValueError, not binascii.Error. Refused,
    with the code of the element, like any text that is not base64."""
    message = unwrapped(signed(sber))
    _, _, references = parts(message)
    references[0][2].text = text
    refusal = refused(serialized(message), [sber.trusted()], "DS0B")
    assert refusal.path.endswith("/SignedInfo/Reference/DigestValue") and "not base64" in refusal.text
    message = unwrapped(signed(sber))
    certificate = next(message.app_hdr.iter(ds("X509Certificate")))  # type: ignore[union-attr]
    certificate.text = text
    refusal = refused(serialized(message), [sber.trusted()], "DS0E")
    assert "not base64" in refusal.text


@pytest.mark.parametrize("key_info_id", ["two words", "x')or('1", "k" * (bounds.signature_id_chars_max + 1)])
def test_a_key_info_id_that_is_no_identifier(sber: Signer, key_info_id: str) -> None:
    message = unwrapped(signed(sber))
    signature, _, references = parts(message)
    signature[2].set("Id", key_info_id)
    references[0].set("URI", f"#{key_info_id}")
    refusal = refused(reseal(message, sber), [sber.trusted()], "DS0B")
    assert refusal.path.endswith("/Signature/KeyInfo") and "identifier" in refusal.text


def test_a_reference_type_attribute(sber: Signer) -> None:
    def typed(references: list[etree._Element]) -> None:
        references[2].set("Type", "http://www.w3.org/2000/09/xmldsig#Object")

    refusal = refused(_edit_reference(signed(sber), sber, typed), [sber.trusted()], "DS0B")
    assert refusal.path.endswith("/Reference[3]") and "'Type'" in refusal.text


def test_a_signature_larger_than_the_profile(sber: Signer) -> None:
    message = unwrapped(signed(sber))
    _, _, references = parts(message)
    transforms = references[2][0]
    for _ in range(bounds.signature_elements_max):
        etree.SubElement(transforms, ds("Transform"), Algorithm=EXC_C14N)
    refusal = refused(serialized(message), [sber.trusted()], "DS0B")
    assert f"more than {bounds.signature_elements_max} elements" in refusal.text


@pytest.mark.parametrize(
    "x509_data",
    [
        "<ds:X509SKI>zl4IvE2Sjjfnmh1oQCrUNM9gy1M=</ds:X509SKI>",
        "<ds:X509Certificate>not base64!</ds:X509Certificate>",
        "<ds:X509Certificate>bm90IGEgY2VydGlmaWNhdGU=</ds:X509Certificate>",
        f"<ds:X509Certificate>{'A' * 4 * (bounds.signature_certificate_bytes_max // 3 + 2)}</ds:X509Certificate>",
    ],
    ids=["subject-key-identifier-only", "not-base64", "not-der", "too-long"],
)
def test_key_info_without_a_certificate(sber: Signer, x509_data: str) -> None:
    message = unwrapped(signed(sber))
    signature, _, _ = parts(message)
    data = signature[2][0]
    for child in list(data):
        data.remove(child)
    data.append(etree.fromstring(f'<ds:X509Data xmlns:ds="{DS}">{x509_data}</ds:X509Data>')[0])
    refused(reseal(message, sber), [sber.trusted()], "DS0E")


# --- independent implementations -----------------------------------------------------------------------------------


def _java(*arguments: str | Path) -> subprocess.CompletedProcess[str]:
    """Run interop/BahSignature.java as a source file: that takes a JDK (its compiler), which javac stands for."""
    tool_or_skip("javac", "the JDK's XML signature API checks our signatures with code of its own")
    java = tool_or_skip("java", "the JDK's XML signature API checks our signatures with code of its own")
    command = [java, "--add-exports", java_exports, str(interop / "BahSignature.java"), *map(str, arguments)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["ec", "rsa"])
def test_the_jdk_verifies_our_signatures(tmp_path: Path, kind: str, sber: Signer, sber_rsa: Signer) -> None:
    """All three references and the value, by Apache Santuario in the JDK: another parser, canonicalisation and
    cryptography. Its verdict on a changed amount is checked too, so that a verifier that accepts anything fails."""
    signer = sber if kind == "ec" else sber_rsa
    (tmp_path / "cert.pem").write_bytes(signer.pem)
    data = signed(signer)
    (tmp_path / "signed.xml").write_bytes(data)
    result = _java("verify", tmp_path / "signed.xml", tmp_path / "cert.pem")
    assert result.returncode == 0 and "VALID" in result.stdout, result.stdout + result.stderr
    (tmp_path / "changed.xml").write_bytes(edited(data, b">1250000.00<", b">1250000.01<"))
    result = _java("verify", tmp_path / "changed.xml", tmp_path / "cert.pem")
    assert result.returncode == 1 and "reference null: false" in result.stdout, result.stdout + result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["ec", "rsa"])
def test_we_verify_the_jdks_signatures(tmp_path: Path, kind: str, sber: Signer, sber_rsa: Signer) -> None:
    """The other way round: the JDK signs (its own layout: base64 in lines, its own prefixes), we verify."""
    signer = sber if kind == "ec" else sber_rsa
    (tmp_path / "cert.pem").write_bytes(signer.pem)
    pkcs8 = signer.key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (tmp_path / "key.pk8").write_bytes(pkcs8)
    result = _java("sign", envelope_file, tmp_path / "key.pk8", tmp_path / "cert.pem", tmp_path / "signed.xml")
    assert result.returncode == 0, result.stdout + result.stderr
    data = (tmp_path / "signed.xml").read_bytes()
    assert isinstance(read_message(data, allow_bare_document=False), Read)
    assert isinstance(check(data, [signer.trusted()]), Verified)
    refused(edited(data, b">1250000.00<", b">1250000.01<"), [signer.trusted()], "DS0B")


@pytest.mark.slow
def test_a_signature_laid_out_with_whitespace(tmp_path: Path, sber: Signer) -> None:
    """Indentation inside Sgntr and the Signature, as pretty-printing signers write it: the enveloped transform
    removes the Signature but keeps the text around it. We and the JDK agree on the resulting digests."""
    message = unwrapped(signed(sber))
    signature, _, _ = parts(message)
    sgntr = signature.getparent()
    assert sgntr is not None
    sgntr.text, signature.tail = "\n      ", "\n    "
    for depth, element in ((1, signature), (2, signature[0]), (2, signature[2])):
        element.text = "\n" + "  " * (depth + 3)
        for child in element:
            child.tail = "\n" + "  " * (depth + 3)
        element[-1].tail = "\n" + "  " * (depth + 2)
    data = reseal(message, sber)
    assert b"<Sgntr>\n      <ds:Signature" in data
    assert isinstance(check(data, [sber.trusted()]), Verified)
    (tmp_path / "cert.pem").write_bytes(sber.pem)
    (tmp_path / "signed.xml").write_bytes(data)
    result = _java("verify", tmp_path / "signed.xml", tmp_path / "cert.pem")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_xmlsec1_checks_the_key_info_and_app_hdr_references(tmp_path: Path, pki: Pki, sber: Signer) -> None:
    """Debian's xmlsec1 (libxmlsec1) reads a Reference without URI, like URI="", as the whole XML document, so it
    cannot resolve the Document reference. Given the AppHdr as a document of its own (where URI="" is the AppHdr,
    as the profile means it), it verifies the certificate's chain to the CA (OpenSSL), the KeyInfo digest and the
    AppHdr digest, and stops at the Document reference, the last one: 2 of 3 good. A changed AppHdr stops it at the
    second, 1 of 2."""
    xmlsec1 = tool_or_skip("xmlsec1", "libxmlsec1's command-line tool checks our digests with code of its own")
    (tmp_path / "ca.pem").write_bytes(pki.ca.public_bytes(serialization.Encoding.PEM))

    def xmlsec1_verify(data: bytes) -> str:
        message = unwrapped(data)
        assert message.app_hdr is not None
        (tmp_path / "app_hdr.xml").write_bytes(etree.tostring(message.app_hdr))
        command = [
            xmlsec1, "--verify", "--trusted-pem", str(tmp_path / "ca.pem"),
            "--id-attr:Id", f"{DS}:KeyInfo", "--verification-time", AT.strftime("%Y-%m-%d %H:%M:%S"),
            str(tmp_path / "app_hdr.xml"),
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        return result.stdout + result.stderr

    data = signed(sber)
    output = xmlsec1_verify(data)
    assert "SignedInfo References (ok/all): 2/3" in output, output
    assert "data and digest do not match" in output and "certificate verification failed" not in output, output
    changed = edited(data, b"<BizMsgIdr>SABR20250314-000117<", b"<BizMsgIdr>SABR20250314-000118<")
    output = xmlsec1_verify(changed)
    assert "SignedInfo References (ok/all): 1/2" in output, output  # it stops at the first that fails
