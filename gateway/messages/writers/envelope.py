"""Writer of the gateway's envelope (xsd/gateway/envelope.xsd): an AppHdr and a Document, as bytes to send."""

from __future__ import annotations

from lxml import etree

from gateway.messages.envelope import gateway_envelope_namespace
from gateway.messages.identity import MessageId, app_hdr_message_ids
from gateway.messages.schemas import compiled

_app_hdr_tags = frozenset(f"{{{version.namespace}}}AppHdr" for version in app_hdr_message_ids)


def envelope(app_hdr: etree._Element, document: etree._Element) -> etree._Element:
    """<Envelope xmlns="urn:cryptoruble:gateway:envelope:1"> holding the two, which move into it.

    Both come from writers that checked them against their schemas (Writing.checked); what the envelope's own
    schema adds is only their order and names, asserted here. Validating the whole envelope again cost as much as
    both checks together: for a forwarded payment of 1,000 transactions, milliseconds per message."""
    assert app_hdr.tag in _app_hdr_tags, app_hdr.tag
    assert MessageId.from_namespace(etree.QName(document).namespace or "") in compiled().messages, document.tag
    assert etree.QName(document).localname == "Document", document.tag
    root = etree.Element(f"{{{gateway_envelope_namespace}}}Envelope", nsmap={None: gateway_envelope_namespace})
    root.append(app_hdr)
    root.append(document)
    return root


_declaration = b"<?xml version='1.0' encoding='UTF-8'?>\n"
_start = f'<Envelope xmlns="{gateway_envelope_namespace}">'.encode()
_end = b"</Envelope>"


def envelope_bytes(app_hdr: str, document: bytes) -> bytes:
    """The envelope holding an AppHdr written as text and a serialised Document, as to_bytes writes the envelope
    `envelope` builds of the same two: the declaration, then <Envelope> with the AppHdr and the Document, each
    declaring its own namespace."""
    assert app_hdr.startswith("<AppHdr ") and document.startswith(b"<Document "), (app_hdr[:8], document[:10])
    return b"".join((_declaration, _start, app_hdr.encode(), document, _end))


def to_bytes(root: etree._Element) -> bytes:
    """UTF-8 with an XML declaration, as parse_bounded accepts it."""
    serialised: bytes = etree.tostring(root, encoding="UTF-8", xml_declaration=True)
    return serialised
