"""Time as the gateway's business runs on it: Moscow time, as the central bank's business day does.

Ledger timestamps are integer microseconds since the epoch (UTC); messages carry aware date-times in the business
zone, to the second.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

business_zone = timezone(timedelta(hours=3), "MSK")


def instant(now_us: int) -> datetime:
    """A ledger timestamp as the aware date-time the messages carry, in the business zone, to the second."""
    return datetime.fromtimestamp(now_us // 1_000_000, business_zone)


def microseconds(moment: datetime) -> int:
    """An aware date-time as a ledger timestamp."""
    assert moment.tzinfo is not None, "a naive date-time names no instant"
    return int(moment.timestamp()) * 1_000_000 + moment.microsecond
