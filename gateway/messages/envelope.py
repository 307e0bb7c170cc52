"""Unwrap a parsed message to its business application header (AppHdr) and Document, whatever envelope it came in.

Every envelope must hold exactly one AppHdr (head.001.001.02) followed by exactly one Document of a supported
message, with nothing else between or around them, and the AppHdr's MsgDefIdr must name the Document's message.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from lxml import etree

from gateway.messages.identity import (
    MessageId,
    app_hdr_message_id,
    iso_namespace_prefix,
    supported_message_id,
)
from gateway.messages.rejections import Layer, Rejection, excerpt, invalid_file_format
from gateway.messages.safe_xml import ParsedXml, element_path

gateway_envelope_namespace = "urn:cryptoruble:gateway:envelope:1"
saa_namespace = "urn:swift:saa:xsd:saa.2.0"  # SWIFT Alliance Access XML v2 DataPDU
swift_envelope_names = frozenset({"Envelope", "BusMsg", "Message"})
_xml_whitespace = " \t\r\n"  # str.strip() alone would also pass NBSP and other Unicode spaces


class EnvelopeKind(enum.Enum):
    GATEWAY = "gateway"  # <Envelope xmlns="urn:cryptoruble:gateway:envelope:1"> > AppHdr, Document
    SWIFT = "swift"  # <Envelope|BusMsg|Message> in any other namespace, or none > AppHdr, Document
    SAA_DATA_PDU = "saa_data_pdu"  # <DataPDU xmlns="urn:swift:saa:xsd:saa.2.0"> > Body > AppHdr, Document
    BARE_DOCUMENT = "bare_document"  # <Document> alone, without an AppHdr: only where the caller allows it


@dataclass(frozen=True, slots=True)
class Unwrapped:
    app_hdr: etree._Element | None  # None only for BARE_DOCUMENT
    document: etree._Element
    kind: EnvelopeKind
    message_id: MessageId  # the Document's message, agreeing with AppHdr/MsgDefIdr when there is an AppHdr


def unwrap(root: ParsedXml, *, allow_bare_document: bool = False) -> Unwrapped | Rejection:
    """Find the AppHdr and Document in a message that parse_bounded accepted."""
    namespace, name = _qualified(root)
    if name == "Document" and namespace.startswith(iso_namespace_prefix):
        if not allow_bare_document:
            return _reject(root, "a Document without an envelope and AppHdr is not accepted here")
        document_id = _document_message_id(root)
        if isinstance(document_id, Rejection):
            return document_id
        return Unwrapped(None, root, EnvelopeKind.BARE_DOCUMENT, document_id)
    if (namespace, name) == (gateway_envelope_namespace, "Envelope"):
        return _unwrap_pair(root, EnvelopeKind.GATEWAY)
    if (namespace, name) == (saa_namespace, "DataPDU"):
        bodies = [child for child in _children(root) if _qualified(child) == (saa_namespace, "Body")]
        if len(bodies) != 1:
            return _reject(root, f"a DataPDU must hold exactly one Body; it holds {len(bodies)}")
        return _unwrap_pair(bodies[0], EnvelopeKind.SAA_DATA_PDU)
    if name in swift_envelope_names and not _reserved(namespace):
        return _unwrap_pair(root, EnvelopeKind.SWIFT)
    text = f"root element {excerpt(name)} in namespace {excerpt(namespace)} is not a supported envelope"
    return _reject(root, text)


def _unwrap_pair(container: etree._Element, kind: EnvelopeKind) -> Unwrapped | Rejection:
    children = _children(container)
    names = [_qualified(child)[1] for child in children]
    if names != ["AppHdr", "Document"]:
        found = ", ".join(names) or "nothing"
        return _reject(container, f"expected exactly AppHdr then Document; found {excerpt(found)}")
    # Text beside AppHdr and Document would be ignored by every reader; refuse it rather than drop it silently.
    if any(text and text.strip(_xml_whitespace) for text in (container.text, *(child.tail for child in children))):
        return _reject(container, "text outside AppHdr and Document")
    app_hdr, document = children
    header_id = supported_message_id(_qualified(app_hdr)[0], element_path(app_hdr))
    if isinstance(header_id, Rejection):
        return header_id
    if header_id != app_hdr_message_id:
        return _reject(app_hdr, f"AppHdr must be {app_hdr_message_id}, not {header_id}")
    document_id = _document_message_id(document)
    if isinstance(document_id, Rejection):
        return document_id
    msg_def_idr = (app_hdr_message_id.namespace, "MsgDefIdr")
    defined = [child for child in _children(app_hdr) if _qualified(child) == msg_def_idr]
    if len(defined) != 1:
        return _reject(app_hdr, f"AppHdr must hold exactly one MsgDefIdr; it holds {len(defined)}")
    # Compared exactly, as sent: the MsgDefIdr decides which message definition the Document is read against.
    text = defined[0].text or ""
    if MessageId.parse(text) != document_id:
        return _reject(defined[0], f"MsgDefIdr {excerpt(text)} does not match the Document's message {document_id}")
    return Unwrapped(app_hdr, document, kind, document_id)


def _document_message_id(document: etree._Element) -> MessageId | Rejection:
    message_id = supported_message_id(_qualified(document)[0], element_path(document))
    if isinstance(message_id, Rejection):
        return message_id
    if message_id == app_hdr_message_id:
        return _reject(document, f"{message_id} is the application header, not a message")
    return message_id


def _reserved(namespace: str) -> bool:
    """Namespaces that a SWIFT-style envelope may not borrow: ours and ISO 20022's own."""
    return namespace == gateway_envelope_namespace or namespace.startswith(iso_namespace_prefix)


def _children(element: etree._Element) -> list[etree._Element]:
    return list(element.iterchildren(etree.Element))


def _qualified(element: etree._Element) -> tuple[str, str]:
    """(namespace, local name); the namespace is "" for an element in no namespace."""
    name = etree.QName(element)
    return name.namespace or "", name.localname


def _reject(element: etree._Element, text: str) -> Rejection:
    return Rejection(invalid_file_format, element_path(element), text, Layer.SCHEMA)
