"""The cryptoruble ledger's records and rules, free of any I/O.

Accounts
  - one ISSUANCE account, owned by the central bank: the only account allowed below zero; minus its balance is the
    cryptoruble supply;
  - WALLET accounts of participants (and of the central bank itself), never below zero;
  - one RESERVE account: the mirror of the fiat roubles the central bank holds in its RTGS reserve account against
    issued cryptorubles. It moves only with mint and burn and stands outside the double-entry sum.
  Invariants: the balances of ISSUANCE and WALLET accounts sum to zero; RESERVE = supply; supply plus pending mints
  never exceeds the emission cap.

Transfers are immutable. A SINGLE transfer posts at once. A PENDING transfer reserves funds (debits_pending /
credits_pending) until a later POST_PENDING or VOID_PENDING transfer resolves it, or its timeout passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple
from uuid import UUID

from gateway import bounds


class AccountKind(StrEnum):
    ISSUANCE = "issuance"
    WALLET = "wallet"
    RESERVE = "reserve"


class TransferKind(StrEnum):
    PAYMENT = "payment"  # pacs.008 / pacs.009: debtor agent's wallet to creditor agent's wallet
    RETURN = "return"  # pacs.004: money of a settled payment going back
    MINT = "mint"  # fiat converted into cryptorubles: issuance -> wallet
    BURN = "burn"  # cryptorubles converted back into fiat: wallet -> issuance
    ADJUSTMENT = "adjustment"  # fee-free correction between wallets, ordered only by the central bank


class Phase(StrEnum):
    SINGLE = "single"
    PENDING = "pending"
    POST_PENDING = "post_pending"
    VOID_PENDING = "void_pending"


class PendingStatus(StrEnum):
    PENDING = "pending"
    POSTED = "posted"
    VOIDED = "voided"


class TransferResult(StrEnum):
    """Outcome of one transfer request. OK and EXISTS mean the transfer stands in the ledger; all others moved nothing."""

    OK = "ok"
    EXISTS = "exists"  # the same id with the same content was already applied: idempotent replay
    ID_CONFLICT = "id_conflict"  # the same id with different content
    AMOUNT_NOT_WHOLE_KOPECKS = "amount_not_whole_kopecks"  # a float, Decimal or other non-integer amount
    AMOUNT_MUST_BE_POSITIVE = "amount_must_be_positive"
    AMOUNT_TOO_LARGE = "amount_too_large"
    ACCOUNTS_MUST_DIFFER = "accounts_must_differ"
    DEBIT_ACCOUNT_NOT_FOUND = "debit_account_not_found"
    CREDIT_ACCOUNT_NOT_FOUND = "credit_account_not_found"
    DEBIT_ACCOUNT_SUSPENDED = "debit_account_suspended"
    CREDIT_ACCOUNT_SUSPENDED = "credit_account_suspended"
    KIND_NOT_ALLOWED_FOR_ACCOUNTS = "kind_not_allowed_for_accounts"
    REFERENCE_TOO_LONG = "reference_too_long"
    TIMEOUT_OUT_OF_RANGE = "timeout_out_of_range"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    TRANSFER_ABOVE_LIMIT = "transfer_above_limit"
    BALANCE_ABOVE_LIMIT = "balance_above_limit"
    EMISSION_CAP_EXCEEDED = "emission_cap_exceeded"
    PENDING_FIELDS_MUST_BE_EMPTY = "pending_fields_must_be_empty"
    PENDING_NOT_FOUND = "pending_not_found"
    PENDING_ALREADY_POSTED = "pending_already_posted"
    PENDING_ALREADY_VOIDED = "pending_already_voided"
    PENDING_EXPIRED = "pending_expired"


class AccountStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


@dataclass(frozen=True, slots=True)
class Account:
    """An account with its balances as of one ledger sequence number."""

    id: int
    code: str  # "<owner BIC>/<name>", e.g. SABRRUMMXXX/main, CBRFRUMMXXX/issuance
    kind: AccountKind
    owner_bic: str
    status: AccountStatus
    transfer_max_kopecks: int | None  # largest single debit (AM02 above it)
    balance_max_kopecks: int | None  # largest balance a wallet may hold, counting pending credits
    posted_kopecks: int
    debits_pending_kopecks: int
    credits_pending_kopecks: int


@dataclass(frozen=True, slots=True)
class TransferRequest:
    """What a caller asks the ledger to do. For POST_PENDING and VOID_PENDING the accounts, amount and kind come from
    the pending transfer, so the request leaves the accounts and amount zero and its kind is ignored."""

    id: UUID
    debit_account_id: int
    credit_account_id: int
    amount_kopecks: int
    kind: TransferKind
    reference: str  # the originating message, e.g. "SABRRUMMXXX:MSG-2026-0001"
    uetr: UUID | None = None
    phase: Phase = Phase.SINGLE
    pending_id: UUID | None = None
    timeout_seconds: int = 0  # PENDING only; 0 takes the configured default


class Transfer(NamedTuple):
    """A transfer as it stands in the ledger: immutable, numbered, chained by hash to the one before.

    A NamedTuple rather than a frozen dataclass because the batch path builds thousands per batch (a NamedTuple is
    several times cheaper to construct) and hands them to PostgreSQL COPY as they are: the field order is the
    column order of the transfers table."""

    seq: int
    id: UUID
    debit_account_id: int
    credit_account_id: int
    amount_kopecks: int
    kind: TransferKind
    phase: Phase
    pending_id: UUID | None
    reference: str
    uetr: UUID | None
    timeout_seconds: int
    created_at_us: int  # microseconds since the Unix epoch, UTC; never decreases along the chain
    hash: bytes

    def same_request(self, request: TransferRequest) -> bool:
        """True when replaying `request` would ask for exactly this transfer (idempotency check)."""
        if type(request.amount_kopecks) is not int:  # 100.0 equals 100 in Python, but it is not the same request
            return False
        resolution = self.phase in (Phase.POST_PENDING, Phase.VOID_PENDING)
        if resolution:
            accounts_and_amount_match = (
                request.debit_account_id == 0 and request.credit_account_id == 0 and request.amount_kopecks == 0
            )
        else:
            accounts_and_amount_match = (
                request.debit_account_id == self.debit_account_id
                and request.credit_account_id == self.credit_account_id
                and request.amount_kopecks == self.amount_kopecks
            )
        if self.phase is Phase.PENDING:
            timeout_matches = request.timeout_seconds in (0, self.timeout_seconds)  # 0 asked for the default
        else:
            timeout_matches = request.timeout_seconds == 0
        return (
            accounts_and_amount_match
            and timeout_matches
            and (resolution or request.kind == self.kind)  # a resolution takes its kind from the pending transfer
            and request.phase == self.phase
            and request.pending_id == self.pending_id
            and request.reference == self.reference
            and request.uetr == self.uetr
        )


@dataclass(frozen=True, slots=True)
class PendingTransfer:
    """The live state of a two-phase transfer."""

    id: UUID
    debit_account_id: int
    credit_account_id: int
    amount_kopecks: int
    kind: TransferKind
    expires_at_us: int
    status: PendingStatus


@dataclass(frozen=True, slots=True)
class ChainHead:
    """The newest link of the hash chain, with the counters the batcher uses to know its cache is current."""

    seq: int
    hash: bytes
    created_at_us: int
    accounts_version: int  # bumped by every change to account metadata (new account, suspension, limits)
    emission_cap_kopecks: int


genesis_hash = bytes(32)


_wallet_to_wallet = frozenset({TransferKind.PAYMENT, TransferKind.RETURN, TransferKind.ADJUSTMENT})
allowed_kinds_between: dict[tuple[AccountKind, AccountKind], frozenset[TransferKind]] = {
    (AccountKind.WALLET, AccountKind.WALLET): _wallet_to_wallet,
    (AccountKind.ISSUANCE, AccountKind.WALLET): frozenset({TransferKind.MINT}),
    (AccountKind.WALLET, AccountKind.ISSUANCE): frozenset({TransferKind.BURN}),
}


def allowed_kinds(debit_kind: AccountKind, credit_kind: AccountKind) -> frozenset[TransferKind]:
    """Which transfer kinds may move money between two kinds of account (none touch the reserve mirror)."""
    return allowed_kinds_between.get((debit_kind, credit_kind), frozenset())


def check_request_shape(request: TransferRequest, pending_timeout_seconds_max: int) -> TransferResult | None:
    """Checks that need no ledger state. Returns the first failure, or None."""
    if len(request.reference) > bounds.reference_chars_max:
        return TransferResult.REFERENCE_TOO_LONG
    if request.phase in (Phase.POST_PENDING, Phase.VOID_PENDING):
        if request.debit_account_id or request.credit_account_id or request.amount_kopecks or request.timeout_seconds:
            return TransferResult.PENDING_FIELDS_MUST_BE_EMPTY
        if request.pending_id is None:
            return TransferResult.PENDING_NOT_FOUND
        return None
    if request.pending_id is not None:
        return TransferResult.PENDING_FIELDS_MUST_BE_EMPTY
    if type(request.amount_kopecks) is not int:  # bool, float and Decimal never reach the ledger as money
        return TransferResult.AMOUNT_NOT_WHOLE_KOPECKS
    if request.amount_kopecks <= 0:
        return TransferResult.AMOUNT_MUST_BE_POSITIVE
    if request.amount_kopecks > bounds.transfer_amount_kopecks_max:
        return TransferResult.AMOUNT_TOO_LARGE
    if request.debit_account_id == request.credit_account_id:
        return TransferResult.ACCOUNTS_MUST_DIFFER
    if request.phase is Phase.SINGLE and request.timeout_seconds:
        return TransferResult.TIMEOUT_OUT_OF_RANGE
    if request.phase is Phase.PENDING and not 0 <= request.timeout_seconds <= pending_timeout_seconds_max:
        return TransferResult.TIMEOUT_OUT_OF_RANGE
    return None


class LedgerInvariantError(AssertionError):
    """A programmer error: the ledger was about to write, or has read, a state that breaks an invariant."""
