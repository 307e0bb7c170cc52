"""Unwrap a parsed message to its business application header (AppHdr) and Document, whatever envelope it came in.

Every envelope must hold exactly one AppHdr, in one of the header versions the gateway reads (head.001.001.01, .02 or
.03: identity.app_hdr_message_ids), followed by exactly one Document of a supported message, with nothing else
between or around them, and the AppHdr's MsgDefIdr must name the Document's message.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from lxml import etree

from gateway.messages.identity import (
    MessageId,
    app_hdr_message_ids,
    iso_namespace_prefix,
    supported_message_id,
    supported_message_ids_by_namespace,
)
from gateway.messages.rejections import Layer, Rejection, excerpt, invalid_file_format
from gateway.messages.safe_xml import ParsedXml, element_path

gateway_envelope_namespace = "urn:cryptoruble:gateway:envelope:1"
saa_namespace = "urn:swift:saa:xsd:saa.2.0"  # SWIFT Alliance Access XML v2 DataPDU
swift_envelope_names = frozenset({"Envelope", "BusMsg", "Message"})
_xml_whitespace = " \t\r\n"  # str.strip() alone would also pass NBSP and other Unicode spaces
# Each header version's MsgDefIdr, as a tag: looked up, not written, for every message.
_msg_def_idr_tags: Mapping[MessageId, str] = MappingProxyType(
    {version: f"{{{version.namespace}}}MsgDefIdr" for version in app_hdr_message_ids}
)
_app_hdr_versions = ", ".join(sorted(map(str, app_hdr_message_ids)))


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
    # Where the AppHdr and the Document are, as element_path writes it (readers put it in every path they report).
    # unwrap knows it from the envelope it walked; left out, it is found by walking up the tree.
    app_hdr_path: str | None = field(default=None, compare=False)  # None exactly when app_hdr is
    document_path: str = field(default="", compare=False)
    # The AppHdr's version (one of identity.app_hdr_message_ids), None exactly when app_hdr is. unwrap knows it;
    # left out, it is read from the AppHdr's namespace.
    app_hdr_version: MessageId | None = None

    def __post_init__(self) -> None:
        if not self.document_path:
            object.__setattr__(self, "document_path", element_path(self.document))
        if self.app_hdr is not None and self.app_hdr_path is None:
            object.__setattr__(self, "app_hdr_path", element_path(self.app_hdr))
        if self.app_hdr is not None and self.app_hdr_version is None:
            version = MessageId.from_namespace(etree.QName(self.app_hdr).namespace or "")
            object.__setattr__(self, "app_hdr_version", version)
        assert (self.app_hdr is None) == (self.app_hdr_path is None), self.app_hdr_path
        assert (self.app_hdr is None) == (self.app_hdr_version is None), self.app_hdr_version
        assert self.app_hdr_version is None or self.app_hdr_version in app_hdr_message_ids, self.app_hdr_version


def unwrap(root: ParsedXml, *, allow_bare_document: bool = False) -> Unwrapped | Rejection:
    """Find the AppHdr and Document in a message that parse_bounded accepted."""
    namespace, name = _qualified(root)
    root_path = f"/{name}"  # element_path(root): the root has no sibling elements
    if name == "Document" and namespace.startswith(iso_namespace_prefix):
        if not allow_bare_document:
            return _reject(root, "a Document without an envelope and AppHdr is not accepted here")
        document_id = _document_message_id(root, namespace)
        if isinstance(document_id, Rejection):
            return document_id
        return Unwrapped(None, root, EnvelopeKind.BARE_DOCUMENT, document_id, document_path=root_path)
    if (namespace, name) == (gateway_envelope_namespace, "Envelope"):
        return _unwrap_pair(root, root_path, EnvelopeKind.GATEWAY)
    if (namespace, name) == (saa_namespace, "DataPDU"):
        bodies = [child for child in _children(root) if _qualified(child) == (saa_namespace, "Body")]
        if len(bodies) != 1:
            return _reject(root, f"a DataPDU must hold exactly one Body; it holds {len(bodies)}")
        return _unwrap_pair(bodies[0], element_path(bodies[0]), EnvelopeKind.SAA_DATA_PDU)
    if name in swift_envelope_names and not _reserved(namespace):
        return _unwrap_pair(root, root_path, EnvelopeKind.SWIFT)
    text = f"root element {excerpt(name)} in namespace {excerpt(namespace)} is not a supported envelope"
    return _reject(root, text)


def _unwrap_pair(container: etree._Element, container_path: str, kind: EnvelopeKind) -> Unwrapped | Rejection:
    children = _children(container)
    names = [_qualified(child) for child in children]
    if [name for _, name in names] != ["AppHdr", "Document"]:
        found = ", ".join(name for _, name in names) or "nothing"
        return _reject(container, f"expected exactly AppHdr then Document; found {excerpt(found)}")
    app_hdr, document = children
    (header_namespace, _), (document_namespace, _) = names
    # Text beside AppHdr and Document would be ignored by every reader; refuse it rather than drop it silently.
    for text in (container.text, app_hdr.tail, document.tail):
        if text and text.strip(_xml_whitespace):
            return _reject(container, "text outside AppHdr and Document")
    header_id = _message_id(app_hdr, header_namespace)
    if isinstance(header_id, Rejection):
        return header_id
    msg_def_idr_tag = _msg_def_idr_tags.get(header_id)
    if msg_def_idr_tag is None:
        return _reject(app_hdr, f"AppHdr must be one of {_app_hdr_versions}, not {header_id}")
    document_id = _document_message_id(document, document_namespace)
    if isinstance(document_id, Rejection):
        return document_id
    defined = list(app_hdr.iterchildren(msg_def_idr_tag))
    if len(defined) != 1:
        return _reject(app_hdr, f"AppHdr must hold exactly one MsgDefIdr; it holds {len(defined)}")
    # Compared exactly, as sent: the MsgDefIdr decides which message definition the Document is read against. (The
    # text names the Document's message exactly when it is that message's dotted form, as MessageId.parse reads it.)
    text = defined[0].text or ""
    if text != str(document_id):
        return _reject(defined[0], f"MsgDefIdr {excerpt(text)} does not match the Document's message {document_id}")
    # AppHdr and Document are the container's only elements, so their paths need no sibling count.
    return Unwrapped(
        app_hdr, document, kind, document_id, f"{container_path}/AppHdr", f"{container_path}/Document", header_id
    )


def app_hdr_text(unwrapped: Unwrapped, name: str) -> str | None:
    """The text of the AppHdr's first `name` child as sent, in the namespace of its version, looked up without trusting
    validation (a refusal quotes AppHdr/BizMsgIdr); None without an AppHdr or such a child."""
    if unwrapped.app_hdr is None or unwrapped.app_hdr_version is None:  # both or neither
        return None
    tag = f"{{{unwrapped.app_hdr_version.namespace}}}{name}"
    found = next(unwrapped.app_hdr.iterchildren(tag), None)  # find(), without its path parser
    return None if found is None else found.text


def _document_message_id(document: etree._Element, namespace: str) -> MessageId | Rejection:
    message_id = _message_id(document, namespace)
    if isinstance(message_id, Rejection):
        return message_id
    if message_id in app_hdr_message_ids:
        return _reject(document, f"{message_id} is the application header, not a message")
    return message_id


def _message_id(element: etree._Element, namespace: str) -> MessageId | Rejection:
    """The supported message an element's namespace (`namespace`, as _qualified reads it) names, or the rejection
    saying why none is (its path is written only then)."""
    known = supported_message_ids_by_namespace.get(namespace)
    if known is not None:
        return known
    refused = supported_message_id(namespace, element_path(element))
    assert isinstance(refused, Rejection), namespace
    return refused


def _reserved(namespace: str) -> bool:
    """Namespaces that a SWIFT-style envelope may not borrow: ours and ISO 20022's own."""
    return namespace == gateway_envelope_namespace or namespace.startswith(iso_namespace_prefix)


def _children(element: etree._Element) -> list[etree._Element]:
    return list(element.iterchildren(etree.Element))


def _qualified(element: etree._Element) -> tuple[str, str]:
    """(namespace, local name); the namespace is "" for an element in no namespace."""
    tag: str = element.tag  # "{namespace}local", or "local" in no namespace (etree.QName, read without building one)
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return "", tag


def _reject(element: etree._Element, text: str) -> Rejection:
    return Rejection(invalid_file_format, element_path(element), text, Layer.SCHEMA)
