"""Conversions between fiat roubles at the central bank's RTGS and cryptoroubles on the ledger, as records.

A conversion is a saga across two systems that share no transaction. Every step is idempotent by an id derived
from the conversion's id, and every state change is journaled, so that a gateway restarted after a crash at any
point resumes the conversion or unwinds it, and never does a step twice:

    mint  RECEIVED --reserve fiat--> FIAT_HELD --pending mint--> COMMITTING --commit fiat, post mint--> SETTLED
    burn  RECEIVED --pending burn--> CREDITING --credit fiat, post burn--> SETTLED

    refused by the RTGS or the ledger, or not committed by its deadline:
          RECEIVED | FIAT_HELD | COMMITTING* --> UNWINDING --release fiat, void pending--> REJECTED
          (* COMMITTING only when the RTGS refused the commit: once a commit may have happened, only forward)

Every state is left at most once: the step that leaves one claims `leave_key(id, state)` in the same database
transaction as its journal rows, so two gateway processes driving the same conversion never both take a step.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from uuid import UUID


class ConversionDirection(StrEnum):
    MINT = "mint"  # fiat on the bank's RTGS account -> cryptoroubles in its wallet
    BURN = "burn"  # cryptoroubles in its wallet -> fiat on its RTGS account


class ConversionState(StrEnum):
    RECEIVED = "received"  # journaled and claimed; nothing has moved
    FIAT_HELD = "fiat_held"  # mint: the RTGS holds the amount on the bank's account
    COMMITTING = "committing"  # mint: the mint is pending on the ledger; the fiat is being committed
    CREDITING = "crediting"  # burn: the burn is pending on the ledger; the RTGS is crediting the fiat
    UNWINDING = "unwinding"  # refused or timed out: the hold is being released, the pending transfer voided
    SETTLED = "settled"  # both legs done: supply and reserve moved together
    REJECTED = "rejected"  # nothing moved, on either side


finished_states = frozenset({ConversionState.SETTLED, ConversionState.REJECTED})


@dataclass(frozen=True, slots=True)
class ConversionRecord:
    id: UUID  # also the RTGS hold id of a mint
    message_id: UUID  # the inbound camt.050's journal record
    bank_bic: str
    direction: ConversionDirection
    rtgs_account: str
    wallet_account_id: int
    wallet_code: str  # <BIC>/<name>
    amount_kopecks: int
    business_date: date  # the day whose conversion limit it counts against
    state: ConversionState
    reason_code: str | None  # ISO external status reason, once REJECTED (or UNWINDING)
    reason_text: str | None
    request_message_id: str  # the camt.050's MsgHdr/MsgId, quoted by the camt.025
    transaction_id: str | None  # the camt.050's LqdtyTrfId/TxId, quoted by the camt.025
    end_to_end_id: str | None  # the camt.050's LqdtyTrfId/EndToEndId: on the ledger, the RTGS and the reports
    uetr: UUID | None  # the camt.050's LqdtyTrfId/UETR, likewise
    created_at_us: int
    deadline_at_us: int  # fiat not committed by then: the conversion unwinds
    updated_at_us: int

    def __post_init__(self) -> None:
        assert type(self.amount_kopecks) is int and self.amount_kopecks > 0, self.amount_kopecks
        assert (self.reason_code is None) == (self.reason_text is None)
        assert self.state is not ConversionState.REJECTED or self.reason_code is not None, "a refusal says why"

    @property
    def finished(self) -> bool:
        return self.state in finished_states


@dataclass(frozen=True, slots=True)
class ConversionUpdate:
    """One step of a conversion: from the state it was read in, to the next. Written with the step's claim."""

    conversion_id: UUID
    expected_state: ConversionState
    new_state: ConversionState
    reason_code: str | None
    reason_text: str | None
    updated_at_us: int


@dataclass(frozen=True, slots=True)
class ConversionUse:
    """What a new conversion adds to its bank's total for the day, checked against the bank's daily limit under
    the ledger's head lock, so that two conversions arriving together cannot both squeeze under it."""

    bank_bic: str
    business_date: date
    amount_kopecks: int


@dataclass(frozen=True, slots=True)
class ConversionUsage:
    used_kopecks: int  # the day's conversions, both directions, except rejected ones
    limit_kopecks: int | None  # None: the central bank set no daily limit for the bank


def leave_key(conversion_id: UUID, state: ConversionState) -> str:
    return f"conversion|{conversion_id}|leaves|{state.value}"


# The ids of a conversion's steps, derived from its id: a step repeated after a crash repeats its ids, and the
# RTGS and the ledger answer the repeat with what they did the first time.
_steps_namespace = uuid.UUID("0c3f5d0e-7a51-4d8b-9b1e-6a2f0e4c8d17")


def step_id(conversion_id: UUID, step: str) -> UUID:
    return uuid.uuid5(_steps_namespace, f"{conversion_id}|{step}")


# --- what a conversion leaves on the two systems -------------------------------------------------------------------
# The saga (gateway.conversion.service) derives every step's id from the conversion's id: the same derivation finds
# them again here, on the ledger and at the RTGS.


def conversion_posting_ids(conversion: ConversionRecord) -> tuple[UUID, UUID]:
    """The ids a conversion's ledger posting may carry: the post of its pending transfer, or the single transfer the
    saga posts instead when the ledger expired the pending one. At most one of them may exist."""
    return step_id(conversion.id, "post"), step_id(conversion.id, "late")


def fiat_leg_request_id(conversion: ConversionRecord) -> UUID:
    """The request id the RTGS books a conversion's fiat leg under: a mint's commit of its hold (the bank's account
    to the reserve), a burn's credit from the reserve to the bank's account."""
    return step_id(conversion.id, "commit" if conversion.direction is ConversionDirection.MINT else "credit")


def conversion_reference(conversion: ConversionRecord) -> str:
    """The reference of a conversion's ledger transfers: "<BIC>:<camt.050 MsgId>", as a payment's transfer names
    its message."""
    return f"{conversion.bank_bic}:{conversion.request_message_id}"
