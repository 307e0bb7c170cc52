"""Reader of head.001.001.03 BusinessApplicationHeaderV03 (AppHdr), the version newer CBPR+ traffic carries: a
schema-valid AppHdr to a BusinessHeader. What it adds over head.001.001.02 (MktPrctc and BizPrcgDt in Rltd) is not
read, as those elements of the header itself are not (readers/_app_hdr.py)."""

from __future__ import annotations

from lxml import etree

from gateway.messages.commands import BusinessHeader
from gateway.messages.identity import MessageId
from gateway.messages.readers import _app_hdr
from gateway.messages.rejections import Rejection

message_id = MessageId("head", "001", "001", "03")


def read(app_hdr: etree._Element, path: str | None = None) -> BusinessHeader | list[Rejection]:
    """`path` is the AppHdr's element path when the caller knows it (Unwrapped.app_hdr_path); else it is found."""
    return _app_hdr.read(message_id, app_hdr, path)
