"""Writer of head.001.001.01 BusinessApplicationHeaderV01, the version TARGET2/T2 traffic carries: a BusinessHeader
to the AppHdr of an outbound message.

Beyond the elements every version has, this one asks three things of what it writes: every time in UTC with Z
(ISONormalisedDateTime), at most one related header, and BICs of the pattern of 2013 (BICFIIdentifier). The times are
converted here; a header that breaks either of the other two, or holds a time UTC cannot hold, is one this version
cannot express (`expresses`), and writing it is a programmer's error.
"""

from __future__ import annotations

from datetime import datetime

from lxml import etree

from gateway.config import is_bic_2013
from gateway.messages.commands import BusinessHeader
from gateway.messages.identity import MessageId
from gateway.messages.iso_types import utc_of
from gateway.messages.writers import _app_hdr

message_id = MessageId("head", "001", "001", "01")


def expresses(header: BusinessHeader) -> bool:
    """Whether this version can say all that `header` says: one related header at the most, every BIC of the
    pattern of 2013, every time one UTC holds."""
    if len(header.related) > 1:
        return False
    parties = [header.from_bic, header.to_bic, *(bic for r in header.related for bic in (r.from_bic, r.to_bic))]
    if not all(bic is not None and is_bic_2013(bic) for bic in parties):
        return False
    times = [header.creation_time, *(related.creation_time for related in header.related)]
    return all(utc_of(time) is not None for time in times)


def write(header: BusinessHeader) -> etree._Element:
    assert header.version == message_id, header.version
    assert expresses(header), f"{message_id} cannot express {header}"
    return _app_hdr.write(header, _utc)


def write_text(header: BusinessHeader) -> str:
    assert header.version == message_id, header.version
    assert expresses(header), f"{message_id} cannot express {header}"
    return _app_hdr.write_text(header, _utc)


def _utc(value: datetime) -> datetime:
    utc = utc_of(value)
    assert utc is not None, "expresses() found every time held in UTC"
    return utc
