"""A message file as the replay sees it: its envelope, the AppHdr that says which bank sends it, and the same
AppHdr and Document written into another envelope.

Lenient on purpose where the gateway is strict: a file whose Document the gateway would refuse (an unknown
namespace, a missing UETR) is still a message to send, and its answer is the point. What the replay needs is an
envelope the gateway knows and an AppHdr naming the sender; gateway.messages.envelope.unwrap decides everything
else when the gateway receives it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from lxml import etree

from gateway.messages.envelope import (
    gateway_envelope_namespace,
    saa_namespace,
    swift_envelope_names,
)
from gateway.messages.identity import app_hdr_message_ids, iso_namespace_prefix
from gateway.messages.rejections import Rejection
from gateway.messages.safe_xml import parse_bounded

# An AppHdr in any version the gateway reads: a file's header is looked up in its own version's namespace.
_heads = frozenset(version.namespace for version in app_hdr_message_ids)
_app_hdr_versions = ", ".join(sorted(map(str, app_hdr_message_ids)))
swift_envelope_namespace = "urn:swift:xsd:envelope"  # SWIFT's business envelope (ISO 20022 messages over FINplus)


class EnvelopeKind(enum.Enum):
    """The envelopes a tester may ask for (`gateway example --envelope`, a manifest's `envelope`)."""

    GATEWAY = "gateway"  # <Envelope xmlns="urn:cryptoruble:gateway:envelope:1">
    SWIFT = "swift"  # <Envelope xmlns="urn:swift:xsd:envelope">
    BUSMSG = "busmsg"  # <BusMsg>, in no namespace
    SAA = "saa"  # <Saa:DataPDU xmlns:Saa="urn:swift:saa:xsd:saa.2.0"> with a Header and a Body


envelope_kinds = tuple(kind.value for kind in EnvelopeKind)


class NotAMessage(Exception):
    """The file cannot be sent as a message: the text says why."""


@dataclass(frozen=True, slots=True)
class MessageFile:
    """What the replay reads of one message (after its placeholders are filled)."""

    sender_bic: str | None  # AppHdr/Fr/FIId/FinInstnId/BICFI
    business_message_id: str | None  # AppHdr/BizMsgIdr
    message_definition: str | None  # AppHdr/MsgDefIdr, as written
    bics: frozenset[str]  # every BICFI in the AppHdr and the Document: the banks the message involves
    app_hdr: etree._Element
    document: etree._Element | None

    def header_text(self, *steps: str) -> str | None:
        """The text at a path below the AppHdr (steps such as "Rltd", "BizMsgIdr"), in the namespace of the AppHdr's
        own version; None where there is no such element."""
        return _header_text(self.app_hdr, *steps)


def read_message(data: bytes) -> MessageFile:
    """The sender and references of a message in any envelope the gateway accepts. Raises NotAMessage."""
    root = parse_bounded(data)
    if isinstance(root, Rejection):
        raise NotAMessage(f"not well-formed XML within the gateway's bounds: {root.text}")
    container = _container(root)
    children = list(container.iterchildren(etree.Element))
    headers = [child for child in children if _namespace(child) in _heads and _local(child) == "AppHdr"]
    if len(headers) != 1:
        raise NotAMessage(f"{_local(container)} holds {len(headers)} AppHdr ({_app_hdr_versions}); a message has one")
    app_hdr = headers[0]
    documents = [child for child in children if _local(child) == "Document"]
    sender = _header_text(app_hdr, "Fr", "FIId", "FinInstnId", "BICFI")
    bics = {text.strip() for element in (app_hdr, *documents) for text in _bicfi_texts(element)}
    return MessageFile(
        sender_bic=None if sender is None else sender.strip(),
        business_message_id=_header_text(app_hdr, "BizMsgIdr"),
        message_definition=_header_text(app_hdr, "MsgDefIdr"),
        bics=frozenset(bic for bic in bics if bic),
        app_hdr=app_hdr,
        document=documents[0] if len(documents) == 1 else None,
    )


def rewrap(data: bytes, kind: EnvelopeKind) -> bytes:
    """The message's AppHdr and Document, as they are, in the envelope `kind`. Raises NotAMessage."""
    message = read_message(data)
    if message.document is None:
        raise NotAMessage("it holds no single Document to put in another envelope")
    parts = b"".join(
        etree.tostring(element, encoding="UTF-8", xml_declaration=False, with_tail=False)
        for element in (message.app_hdr, message.document)
    )
    declaration = b'<?xml version="1.0" encoding="UTF-8"?>\n'
    if kind is EnvelopeKind.GATEWAY:
        return declaration + f'<Envelope xmlns="{gateway_envelope_namespace}">'.encode() + parts + b"</Envelope>\n"
    if kind is EnvelopeKind.SWIFT:
        return declaration + f'<Envelope xmlns="{swift_envelope_namespace}">'.encode() + parts + b"</Envelope>\n"
    if kind is EnvelopeKind.BUSMSG:
        return declaration + b"<BusMsg>" + parts + b"</BusMsg>\n"
    assert kind is EnvelopeKind.SAA, kind
    return declaration + _saa_header(message).encode() + parts + b"</Saa:Body></Saa:DataPDU>\n"


def _saa_header(message: MessageFile) -> str:
    """An Alliance Access DataPDU's header for the message, as SAA writes one for an outgoing MX: the sender's
    reference, the message type, and the sending and receiving BICs (receiver: AppHdr/To)."""
    receiver = message.header_text("To", "FIId", "FinInstnId", "BICFI") or ""
    sender = message.sender_bic or ""

    def party(tag: str, bic: str) -> str:
        bic = _escaped(bic.strip())
        return (f"<Saa:{tag}><Saa:DN>o={bic[:8].lower()},o=swift</Saa:DN>"
                f"<Saa:FullName><Saa:X1>{bic}</Saa:X1></Saa:FullName></Saa:{tag}>")

    return (
        f'<Saa:DataPDU xmlns:Saa="{saa_namespace}"><Saa:Revision>2.0.14</Saa:Revision><Saa:Header><Saa:Message>'
        f"<Saa:SenderReference>{_escaped(message.business_message_id or '')}</Saa:SenderReference>"
        f"<Saa:MessageIdentifier>{_escaped(message.message_definition or '')}</Saa:MessageIdentifier>"
        "<Saa:Format>MX</Saa:Format>"
        + party("Sender", sender)
        + party("Receiver", receiver)
        + "<Saa:NetworkInfo><Saa:Service>swift.finplus</Saa:Service></Saa:NetworkInfo>"
        "</Saa:Message></Saa:Header><Saa:Body>"
    )


def _container(root: etree._Element) -> etree._Element:
    """The element holding AppHdr and Document, for each envelope gateway.messages.envelope.unwrap accepts."""
    namespace, name = _namespace(root), _local(root)
    if (namespace, name) == (gateway_envelope_namespace, "Envelope"):
        return root
    if (namespace, name) == (saa_namespace, "DataPDU"):
        bodies = [child for child in root.iterchildren(etree.Element) if _local(child) == "Body"]
        if len(bodies) != 1:
            raise NotAMessage(f"a DataPDU holds exactly one Body; this one holds {len(bodies)}")
        return bodies[0]
    if name in swift_envelope_names and namespace != gateway_envelope_namespace \
            and not namespace.startswith(iso_namespace_prefix):
        return root
    if name == "Document" and namespace.startswith(iso_namespace_prefix):
        raise NotAMessage("a bare Document, without an envelope and AppHdr: the gateway accepts none over HTTP")
    where = f" in namespace {namespace}" if namespace else ""
    raise NotAMessage(f"root element {name}{where} is not an envelope the gateway accepts"
                      " (the gateway's Envelope, SWIFT's Envelope or BusMsg, SAA DataPDU)")


def _header_text(app_hdr: etree._Element, *steps: str) -> str | None:
    namespace = _namespace(app_hdr)
    return app_hdr.findtext("/".join(f"{{{namespace}}}{step}" for step in steps))


def _bicfi_texts(element: etree._Element) -> list[str]:
    return [node.text or "" for node in element.iter(etree.Element) if _local(node) == "BICFI"]


def _namespace(element: etree._Element) -> str:
    tag: str = element.tag
    return tag[1:].partition("}")[0] if tag.startswith("{") else ""


def _local(element: etree._Element) -> str:
    tag: str = element.tag
    return tag.rpartition("}")[2]


def _escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
