"""Business days as the ledger records them. A day's postings are the transfers after the previous day's last one
and up to its own last one (by chain sequence): fixed when the day closes, under the ledger's head lock, so that a
closed day never changes, whatever a clock says later."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date


class DayState(enum.StrEnum):
    OPEN = "open"  # postings still arrive
    CLOSING = "closing"  # its last posting is fixed; its statements are being written
    CLOSED = "closed"  # every wallet's statement is in its owner's mailbox


@dataclass(frozen=True, slots=True)
class BusinessDay:
    business_date: date
    state: DayState
    cutoff_at_us: int  # when it ends (the calendar's cut-off)
    first_seq: int  # exclusive: the previous day's last posting (0 for the first day)
    last_seq: int | None  # inclusive; None while open
    opened_at_us: int
    closed_at_us: int | None
    closed_by: str | None  # "gateway" (at its cut-off) or who closed it with the CLI

    def __post_init__(self) -> None:
        assert (self.state is DayState.OPEN) == (self.last_seq is None), self
        assert self.last_seq is None or self.last_seq >= self.first_seq, self
        assert (self.state is DayState.CLOSED) == (self.closed_at_us is not None), self

    def holds(self, seq: int) -> bool:
        """Whether the transfer with this chain sequence is one of the day's postings."""
        return seq > self.first_seq and (self.last_seq is None or seq <= self.last_seq)


def statement_key(business_date: date, wallet_code: str) -> str:
    """The claim of a wallet's end-of-day statement: written once, whichever process closes the day, however often
    a close is resumed."""
    return f"statement|{business_date.isoformat()}|{wallet_code}"
