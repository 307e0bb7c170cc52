"""The three-way reconciliation's findings as values: a break is one thing the RTGS, the ledger and the message journal
disagree about, named by its kind and the references that make it that break and no other (its fingerprint), so that
a break found again on a later run is the same break, aging from when it was first seen.

Pure values and the ids a conversion leaves on the two systems; no I/O here.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date

fingerprint_chars_max = 200  # reconciliation_breaks.fingerprint
description_chars_max = 1_000  # reconciliation_breaks.description
references_json_chars_max = 4_000  # reconciliation_breaks.references_json
account_chars_max = 64  # reconciliation_breaks.account
_us_per_hour = 3_600 * 1_000_000


class BreakKind(enum.StrEnum):
    """What disagrees. docs/treasury.md says what each means and what a treasury analyst does about it."""

    POSTING_WITHOUT_MESSAGE = "posting_without_message"  # a ledger posting no settled message accounts for
    MESSAGE_WITHOUT_POSTING = "message_without_posting"  # a settled message with no posting, or with two
    AMOUNT_MISMATCH = "amount_mismatch"  # a posting that moved another amount, accounts or references than its message
    FIAT_LEG_MISSING = "fiat_leg_missing"  # a settled conversion whose fiat booking the RTGS does not show
    FIAT_LEG_DIFFERENT = "fiat_leg_different"  # ... which it shows with another amount, account or references
    FIAT_WITHOUT_CONVERSION = "fiat_without_conversion"  # a booking on the reserve account no conversion asked for
    SUPPLY_NOT_RESERVE = "supply_not_reserve"  # issued cryptoroubles differ from the fiat in the reserve account
    STATEMENT_DISAGREES = "statement_disagrees"  # a wallet's camt.053 of the day differs from the ledger, or is missing


# Breaks of a condition that holds or not as of each day's close, rather than of one posting, message or booking:
# judged on the day a run reconciles only, and one break for as long as the condition lasts (its fingerprint names
# no day), resolved by the first later day whose close is clean again.
condition_kinds = frozenset({BreakKind.SUPPLY_NOT_RESERVE})


def fingerprint(kind: BreakKind, identity: tuple[str, ...]) -> str:
    """The kind and the identifying references, e.g. "fiat_leg_missing|<conversion id>"."""
    assert identity and all(identity), identity
    text = "|".join((kind.value, *identity))
    assert len(text) <= fingerprint_chars_max, text
    return text


@dataclass(frozen=True, slots=True)
class Break:
    """One break as a reconciliation of one business day finds it."""

    kind: BreakKind
    business_date: date  # the business day whose reconciliation found it
    identity: tuple[str, ...]  # what makes it this break: transfer, payment, conversion or RTGS request ids, a wallet
    amount_kopecks: int | None  # what was found: the posting's, the RTGS booking's, the statement's balance ...
    expected_kopecks: int | None  # what the other side says it should be
    account: str | None  # the account it is about: a ledger account code or an RTGS account number
    references: tuple[tuple[str, str], ...]  # (name, value): MsgId, EndToEndId, UETR, transfer id, RTGS request id
    description: str  # what disagrees, in words

    def __post_init__(self) -> None:
        assert self.amount_kopecks is None or type(self.amount_kopecks) is int, self.amount_kopecks
        assert self.expected_kopecks is None or type(self.expected_kopecks) is int, self.expected_kopecks
        assert self.account is None or len(self.account) <= account_chars_max, self.account
        assert len(self.description) <= description_chars_max, self.description
        assert len({name for name, _ in self.references}) == len(self.references), self.references

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.kind, self.identity)


@dataclass(frozen=True, slots=True)
class StoredBreak:
    """A break as the store keeps it: as it was last seen, with when it was first and last seen, and whether it is
    resolved (a run that looked for it did not find it again)."""

    found: Break  # as last seen; its business_date is the day whose reconciliation first found it
    first_seen_date: date  # the business date of the run that first found it
    last_seen_date: date
    first_seen_at_us: int
    last_seen_at_us: int
    resolved_at_us: int | None

    def __post_init__(self) -> None:
        assert self.first_seen_at_us <= self.last_seen_at_us, self
        assert self.first_seen_date <= self.last_seen_date, self

    @property
    def kind(self) -> BreakKind:
        return self.found.kind

    @property
    def fingerprint(self) -> str:
        return self.found.fingerprint

    @property
    def is_open(self) -> bool:
        return self.resolved_at_us is None

    def age_us(self, now_us: int) -> int:
        return max(0, now_us - self.first_seen_at_us)


def age_text(age_us: int) -> str:
    """How long a break has been open, in whole days and hours: "0d 0h", "2d 5h"."""
    assert age_us >= 0, age_us
    days, hours = divmod(age_us // _us_per_hour, 24)
    return f"{days}d {hours}h"
