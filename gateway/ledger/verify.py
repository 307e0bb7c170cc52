"""`gateway ledger verify`: recompute the whole ledger from the raw tables and report the first break.

Trusts nothing the ledger stored about itself: every hash is recomputed from the transfer's fields, every chain
signature is checked with the central bank's public key, and every balance and pending state is rebuilt from the
transfers alone and compared with the accounts and pending tables.

Each signature records the id of the key that made it (signing.key_id_of). A central bank that rotated its key has a
chain signed by several: verify is given every public key that may have signed, and checks each signature with the
key its id names; a signature by any other key is a break.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from gateway.domain.chain import hash_of
from gateway.domain.ledger import (
    AccountKind,
    PendingStatus,
    Phase,
    TransferKind,
    allowed_kinds,
    genesis_hash,
)
from gateway.ledger.ports import LedgerStore
from gateway.ledger.signing import key_id_of, signature_is_valid


@dataclass(frozen=True, slots=True)
class Break:
    what: str
    transfer_id: UUID | None = None
    seq: int | None = None

    def __str__(self) -> str:
        where = f" at seq {self.seq}" if self.seq is not None else ""
        which = f" (transfer {self.transfer_id})" if self.transfer_id is not None else ""
        return f"{self.what}{where}{which}"


@dataclass(slots=True)
class VerifyReport:
    transfers_checked: int = 0
    signatures_checked: int = 0
    accounts_checked: int = 0
    signatures_by_key: dict[str, int] = field(default_factory=dict)  # signed chain heads per key id
    breaks: list[Break] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.breaks

    @property
    def first_break(self) -> Break | None:
        return self.breaks[0] if self.breaks else None


@dataclass(slots=True)
class _Rebuilt:
    posted: int = 0
    debits_pending: int = 0
    credits_pending: int = 0


async def verify_ledger(store: LedgerStore, *public_keys: Ed25519PublicKey) -> VerifyReport:
    """`public_keys`: every key of the central bank that may have signed a chain head (more than one after a key
    rotation), each found by the key id a signature records."""
    assert public_keys, "verify needs the central bank's public key"
    keys = {key_id_of(key): key for key in public_keys}
    report = VerifyReport()
    head = await store.head()
    accounts = {a.id: a for a in await store.accounts()}
    signatures = {s.seq: s for s in await store.signatures()}
    rebuilt = {account_id: _Rebuilt() for account_id in accounts}
    reserve_ids = [a.id for a in accounts.values() if a.kind is AccountKind.RESERVE]
    # pending id -> (debit, credit, amount, kind, status) as the transfers alone say
    pending: dict[UUID, tuple[int, int, int, TransferKind, PendingStatus]] = {}

    def broken(what: str, transfer_id: UUID | None = None, seq: int | None = None) -> None:
        report.breaks.append(Break(what, transfer_id, seq))

    if len(reserve_ids) != 1:
        broken(f"expected one reserve account, found {len(reserve_ids)}")
        return report
    reserve_id = reserve_ids[0]

    previous_hash = genesis_hash
    expected_seq = 1
    async for transfer in store.transfers_in_order():
        report.transfers_checked += 1
        if transfer.seq != expected_seq:
            broken(f"sequence gap: expected {expected_seq}, found {transfer.seq}", transfer.id, transfer.seq)
            return report
        expected_seq += 1
        computed = hash_of(previous_hash, transfer)
        if computed != transfer.hash:
            broken("hash mismatch: the transfer or one before it was altered", transfer.id, transfer.seq)
            return report
        previous_hash = computed
        signature = signatures.get(transfer.seq)
        if signature is not None:
            report.signatures_checked += 1
            if signature.hash != computed:
                broken("signed chain head differs from the recomputed hash", transfer.id, transfer.seq)
                return report
            key = keys.get(signature.key_id)
            if key is None:
                broken(f"chain head signed with key id {signature.key_id}, not one of the keys given"
                       f" ({', '.join(sorted(keys))})", transfer.id, transfer.seq)
                return report
            if not signature_is_valid(key, signature):
                broken("chain head signature does not verify with the central bank's key", transfer.id, transfer.seq)
                return report
            report.signatures_by_key[signature.key_id] = report.signatures_by_key.get(signature.key_id, 0) + 1
        problem = _replay(transfer, accounts, rebuilt, pending, reserve_id)
        if problem:
            broken(problem, transfer.id, transfer.seq)
            return report

    last_seq = expected_seq - 1
    if head.seq != last_seq or head.hash != previous_hash:
        broken(f"chain head says seq {head.seq}, the transfers end at seq {last_seq} with another hash")
    if last_seq and last_seq not in signatures:
        broken("the newest chain head is not signed", seq=last_seq)
    unchecked = sorted(seq for seq in signatures if seq > last_seq)
    if unchecked:
        broken(f"signatures for heads beyond the chain: {unchecked[:5]}")

    report.accounts_checked = len(accounts)
    for account_id, account in sorted(accounts.items()):
        expected = rebuilt[account_id]
        stored = (account.posted_kopecks, account.debits_pending_kopecks, account.credits_pending_kopecks)
        if stored != (expected.posted, expected.debits_pending, expected.credits_pending):
            broken(
                f"account {account.code}: stored balances {stored} differ from the transfers' "
                f"{(expected.posted, expected.debits_pending, expected.credits_pending)}"
            )
    double_entry_sum = sum(r.posted for account_id, r in rebuilt.items() if account_id != reserve_id)
    if double_entry_sum != 0:
        broken(f"balances sum to {double_entry_sum}, not zero")
    issuance = [r for account_id, r in rebuilt.items() if accounts[account_id].kind is AccountKind.ISSUANCE]
    if issuance:
        supply = -issuance[0].posted
        if rebuilt[reserve_id].posted != supply:
            broken(f"cryptoruble supply {supply} differs from the reserve {rebuilt[reserve_id].posted}")
        if supply + issuance[0].debits_pending > head.emission_cap_kopecks:
            broken(f"supply {supply} plus pending mints is above the emission cap {head.emission_cap_kopecks}")

    stored_pending = {p.id: p for p in await store.pending_transfers()}
    for pending_id, (debit, credit, amount, kind, status) in pending.items():
        row = stored_pending.pop(pending_id, None)
        if row is None or (row.debit_account_id, row.credit_account_id, row.amount_kopecks, row.kind, row.status) != (
            debit,
            credit,
            amount,
            kind,
            status,
        ):
            broken(f"pending transfer {pending_id} differs from what the transfers say")
    for pending_id in stored_pending:
        broken(f"pending transfer {pending_id} has no pending transfer in the chain")
    return report


def _replay(transfer, accounts, rebuilt, pending, reserve_id) -> str | None:  # type: ignore[no-untyped-def]
    """Apply one transfer to the rebuilt balances; returns what is wrong with it, if anything."""
    if transfer.phase in (Phase.POST_PENDING, Phase.VOID_PENDING):
        target = pending.get(transfer.pending_id)
        if target is None:
            return "resolves a pending transfer that is not earlier in the chain"
        debit, credit, amount, kind, status = target
        if status is not PendingStatus.PENDING:
            return f"resolves a pending transfer that is already {status}"
        if (transfer.debit_account_id, transfer.credit_account_id, transfer.amount_kopecks) != (debit, credit, amount):
            return "resolution differs from its pending transfer"
        rebuilt[debit].debits_pending -= amount
        rebuilt[credit].credits_pending -= amount
        if transfer.phase is Phase.POST_PENDING:
            _post(rebuilt, debit, credit, amount, kind, reserve_id)
            pending[transfer.pending_id] = (debit, credit, amount, kind, PendingStatus.POSTED)
        else:
            pending[transfer.pending_id] = (debit, credit, amount, kind, PendingStatus.VOIDED)
        return None
    debit_account = accounts.get(transfer.debit_account_id)
    credit_account = accounts.get(transfer.credit_account_id)
    if debit_account is None or credit_account is None:
        return "names an account that does not exist"
    if transfer.kind not in allowed_kinds(debit_account.kind, credit_account.kind):
        return f"a {transfer.kind} transfer between {debit_account.kind} and {credit_account.kind} accounts"
    if transfer.amount_kopecks <= 0:
        return "amount is not positive"
    amount = transfer.amount_kopecks
    if transfer.phase is Phase.PENDING:
        rebuilt[debit_account.id].debits_pending += amount
        rebuilt[credit_account.id].credits_pending += amount
        pending[transfer.id] = (debit_account.id, credit_account.id, amount, transfer.kind, PendingStatus.PENDING)
    else:
        _post(rebuilt, debit_account.id, credit_account.id, amount, transfer.kind, reserve_id)
    debit_after = rebuilt[debit_account.id]
    if debit_account.kind is not AccountKind.ISSUANCE and debit_after.posted - debit_after.debits_pending < 0:
        return f"account {debit_account.code} goes below zero"
    return None


def _post(rebuilt, debit: int, credit: int, amount: int, kind: TransferKind, reserve_id: int) -> None:  # type: ignore[no-untyped-def]
    rebuilt[debit].posted -= amount
    rebuilt[credit].posted += amount
    if kind is TransferKind.MINT:
        rebuilt[reserve_id].posted += amount
    elif kind is TransferKind.BURN:
        rebuilt[reserve_id].posted -= amount
