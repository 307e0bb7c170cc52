"""Reader of head.001.001.02 BusinessApplicationHeaderV02 (AppHdr): a schema-valid AppHdr to a BusinessHeader."""

from __future__ import annotations

from lxml import etree

from gateway.messages.commands import BusinessHeader
from gateway.messages.identity import MessageId
from gateway.messages.readers import _app_hdr
from gateway.messages.rejections import Rejection

message_id = MessageId("head", "001", "001", "02")


def read(app_hdr: etree._Element, path: str | None = None) -> BusinessHeader | list[Rejection]:
    """`path` is the AppHdr's element path when the caller knows it (Unwrapped.app_hdr_path); else it is found."""
    return _app_hdr.read(message_id, app_hdr, path)
