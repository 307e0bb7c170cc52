"""Writer of head.001.001.03 BusinessApplicationHeaderV03, the version newer CBPR+ traffic carries: a BusinessHeader
to the AppHdr of an outbound message. The elements the gateway writes are head.001.001.02's."""

from __future__ import annotations

from lxml import etree

from gateway.messages.commands import BusinessHeader
from gateway.messages.identity import MessageId
from gateway.messages.writers import _app_hdr

message_id = MessageId("head", "001", "001", "03")


expresses = _app_hdr.expresses_all  # whatever a BusinessHeader holds


def write(header: BusinessHeader) -> etree._Element:
    assert header.version == message_id, header.version
    return _app_hdr.write(header)


def write_text(header: BusinessHeader) -> str:
    assert header.version == message_id, header.version
    return _app_hdr.write_text(header)
