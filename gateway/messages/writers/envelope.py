"""Writer of the gateway's envelope (xsd/gateway/envelope.xsd): an AppHdr and a Document, as bytes to send."""

from __future__ import annotations

from lxml import etree

from gateway.messages.envelope import gateway_envelope_namespace
from gateway.messages.schemas import compiled


def envelope(app_hdr: etree._Element, document: etree._Element) -> etree._Element:
    """<Envelope xmlns="urn:cryptoruble:gateway:envelope:1"> holding the two, which move into it."""
    root = etree.Element(f"{{{gateway_envelope_namespace}}}Envelope", nsmap={None: gateway_envelope_namespace})
    root.append(app_hdr)
    root.append(document)
    schema = compiled().envelope
    assert schema.validate(root), f"the envelope writer produced an invalid envelope: {schema.error_log}"
    return root


def to_bytes(root: etree._Element) -> bytes:
    """UTF-8 with an XML declaration, as parse_bounded accepts it."""
    serialised: bytes = etree.tostring(root, encoding="UTF-8", xml_declaration=True)
    return serialised
