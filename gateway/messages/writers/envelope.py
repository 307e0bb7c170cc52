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


def to_bytes(root: etree._Element) -> bytes:
    """UTF-8 with an XML declaration, as parse_bounded accepts it."""
    serialised: bytes = etree.tostring(root, encoding="UTF-8", xml_declaration=True)
    return serialised
