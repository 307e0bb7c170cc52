"""The invariant across the two systems: cryptorouble supply = fiat held in the central bank's reserve account at the
RTGS, to the kopeck.

The ledger checks its own half at every commit (its reserve mirror moves only with posted mints and burns). This
check compares the mirror with the RTGS itself. A conversion between its fiat leg and its ledger posting is the
only legitimate difference, so each one in flight is looked up: a mint in COMMITTING whose commit the RTGS has
booked on the reserve account counts as fiat already in, a burn in CREDITING whose credit it has booked as fiat
already out. Anything else that differs is a break.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol
from uuid import UUID

from gateway.conversion.ports import Rtgs
from gateway.domain.conversion import (
    ConversionDirection,
    ConversionRecord,
    ConversionState,
    step_id,
)
from gateway.domain.ledger import AccountKind
from gateway.domain.money import text_from_kopecks
from gateway.ledger.ports import LedgerStore


@dataclass(frozen=True, slots=True)
class ReserveCheck:
    supply_kopecks: int  # cryptoroubles posted, by the ledger
    fiat_reserve_kopecks: int  # the RTGS reserve account's booked balance
    in_flight_kopecks: int  # fiat legs booked whose ledger posting has not happened yet (mints +, burns -)
    in_flight_conversions: int

    @property
    def ok(self) -> bool:
        return self.fiat_reserve_kopecks == self.supply_kopecks + self.in_flight_kopecks

    def describe(self) -> str:
        text = (f"supply {text_from_kopecks(self.supply_kopecks)} RUB, fiat in the reserve account "
                f"{text_from_kopecks(self.fiat_reserve_kopecks)} RUB")
        if self.in_flight_conversions:
            text += (f", {self.in_flight_conversions} conversions between their legs "
                     f"({text_from_kopecks(self.in_flight_kopecks)} RUB)")
        return text


class InFlightReads(Protocol):
    async def in_states(self, states: list[ConversionState]) -> list[ConversionRecord]: ...


async def check_reserve(store: LedgerStore, conversions: InFlightReads, rtgs: Rtgs, today: date) -> ReserveCheck:
    accounts = await store.accounts()
    issuance = next(a for a in accounts if a.kind is AccountKind.ISSUANCE)
    in_flight = await conversions.in_states([ConversionState.COMMITTING, ConversionState.CREDITING])
    booked_requests: set[UUID] = set()
    if in_flight:
        # A statement covers at most a month; a conversion stuck longer than that is an operator's case anyway.
        earliest = max(min(c.business_date for c in in_flight), today - timedelta(days=30))
        statement = await rtgs.statement(rtgs.reserve_account, earliest, today)
        assert statement is not None, "the RTGS knows its own reserve account"
        booked_requests = {entry.request_id for entry in statement.entries}
    in_flight_kopecks = 0
    for c in in_flight:
        if c.direction is ConversionDirection.MINT and step_id(c.id, "commit") in booked_requests:
            in_flight_kopecks += c.amount_kopecks
        elif c.direction is ConversionDirection.BURN and step_id(c.id, "credit") in booked_requests:
            in_flight_kopecks -= c.amount_kopecks
    balance = await rtgs.balance(rtgs.reserve_account)
    assert balance is not None, "the RTGS knows its own reserve account"
    return ReserveCheck(-issuance.posted_kopecks, balance.booked_kopecks, in_flight_kopecks, len(in_flight))
