"""Applying a batch of transfer requests to a ledger state, in memory, exactly as if one by one in batch order.

`plan_batch` is pure: it takes the accounts and chain head read under the batch lock and returns what to write.
The caller writes the plan in one database transaction, or nothing at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from uuid import UUID

from gateway import bounds
from gateway.domain.chain import transfer_hash
from gateway.domain.ledger import (
    Account,
    AccountKind,
    AccountStatus,
    ChainHead,
    LedgerInvariantError,
    PendingStatus,
    PendingTransfer,
    Phase,
    Transfer,
    TransferKind,
    TransferRequest,
    TransferResult,
    allowed_kinds_between,
    check_request_shape,
)

_us_per_second = 1_000_000
_unchecked = object()


@dataclass(frozen=True, slots=True)
class BatchPlan:
    results: tuple[TransferResult, ...]  # one per request, in request order
    failed: tuple[int, ...]  # indices of the requests that did not stand (neither OK nor EXISTS)
    transfers: tuple[Transfer, ...]  # the new transfers, in chain order
    accounts: tuple[Account, ...]  # every account whose balances changed, with its new balances
    pending_created: tuple[PendingTransfer, ...]
    pending_resolved: tuple[tuple[UUID, PendingStatus], ...]
    head: ChainHead


class _Balances:
    """Mutable working copy of one account's balances, alive only while a batch is planned."""

    __slots__ = ("account", "credits_pending", "debits_pending", "posted")

    def __init__(self, account: Account) -> None:
        self.account = account
        self.posted = account.posted_kopecks
        self.debits_pending = account.debits_pending_kopecks
        self.credits_pending = account.credits_pending_kopecks


def plan_batch(
    requests: Sequence[TransferRequest],
    accounts: Mapping[int, Account],
    head: ChainHead,
    stored: Mapping[UUID, Transfer],
    pending: Mapping[UUID, PendingTransfer],
    now_us: int,
    pending_timeout_seconds_default: int,
    pending_timeout_seconds_max: int,
) -> BatchPlan:
    """Plan one batch. `stored` holds already-stored transfers with ids used in this batch (for idempotency);
    `pending` the stored pending transfers this batch resolves."""
    issuance = _the_account(accounts, AccountKind.ISSUANCE)
    reserve = _the_account(accounts, AccountKind.RESERVE)
    working: dict[int, _Balances] = {}

    def balances(account_id: int) -> _Balances:
        found = working.get(account_id)
        if found is None:
            found = working[account_id] = _Balances(accounts[account_id])
        return found

    issuance_balances = balances(issuance.id)
    reserve_balances = balances(reserve.id)
    # Timestamps never go backwards along the chain, whatever the wall clock does.
    created_at_us = max(now_us, head.created_at_us)
    seq = head.seq
    previous_hash = head.hash
    cap = head.emission_cap_kopecks
    results: list[TransferResult] = []
    transfers: list[Transfer] = []
    new_in_batch: dict[int, Transfer] = {}  # keyed by UUID.int: UUID.__hash__ is Python code, int's is not
    pending_now: dict[UUID, PendingTransfer] = dict(pending)
    pending_created: dict[UUID, PendingTransfer] = {}
    pending_resolved: dict[UUID, PendingStatus] = {}
    checked_routes: dict[tuple[int, int, TransferKind], object] = {}

    ok = TransferResult.OK
    amount_max = bounds.transfer_amount_kopecks_max
    reference_max = bounds.reference_chars_max
    for request in requests:
        earlier = new_in_batch.get(request.id.int)
        if earlier is None and stored:
            earlier = stored.get(request.id)
        if earlier is not None:
            results.append(TransferResult.EXISTS if earlier.same_request(request) else TransferResult.ID_CONFLICT)
            continue
        phase = request.phase
        amount = request.amount_kopecks
        # Most requests are plain single transfers: a shape that passes this test passes check_request_shape too
        # (tests/test_batch_plan.py holds the two to that), so the full check runs only for the others.
        plain = (
            phase is Phase.SINGLE
            and type(amount) is int
            and 0 < amount <= amount_max
            and request.debit_account_id != request.credit_account_id
            and request.pending_id is None
            and not request.timeout_seconds
            and len(request.reference) <= reference_max
        )
        if not plain:
            failure = check_request_shape(request, pending_timeout_seconds_max)
            if failure is not None:
                results.append(failure)
                continue

        if phase is Phase.POST_PENDING or phase is Phase.VOID_PENDING:
            assert request.pending_id is not None  # check_request_shape guarantees it
            target = pending_now.get(request.pending_id)
            failure = _check_resolution(target, phase, created_at_us, accounts)
            if failure is not None:
                results.append(failure)
                continue
            assert target is not None
            debit, credit = balances(target.debit_account_id), balances(target.credit_account_id)
            amount = target.amount_kopecks
            kind = target.kind
            debit.debits_pending -= amount
            credit.credits_pending -= amount
            if phase is Phase.POST_PENDING:
                debit.posted -= amount
                credit.posted += amount
                _move_reserve(kind, amount, reserve_balances)
            status = PendingStatus.POSTED if phase is Phase.POST_PENDING else PendingStatus.VOIDED
            pending_now[target.id] = replace(target, status=status)
            pending_resolved[target.id] = status
            timeout_seconds = 0
            debit_id, credit_id = target.debit_account_id, target.credit_account_id
        else:
            debit_id, credit_id = request.debit_account_id, request.credit_account_id
            # Account existence, kinds and status cannot change within a batch: check each route once.
            route = (debit_id, credit_id, request.kind)
            failure = checked_routes.get(route, _unchecked)
            if failure is _unchecked:
                failure = checked_routes[route] = _check_accounts(request, accounts.get(debit_id), accounts.get(credit_id))
            if failure is not None:
                results.append(failure)
                continue
            debit, credit = balances(debit_id), balances(credit_id)
            kind = request.kind
            failure = _check_funds_and_limits(debit, credit, amount, kind, issuance_balances, cap)
            if failure is not None:
                results.append(failure)
                continue
            timeout_seconds = 0
            if phase is Phase.PENDING:
                timeout_seconds = request.timeout_seconds or pending_timeout_seconds_default
                debit.debits_pending += amount
                credit.credits_pending += amount
                created = PendingTransfer(
                    id=request.id,
                    debit_account_id=debit_id,
                    credit_account_id=credit_id,
                    amount_kopecks=amount,
                    kind=kind,
                    expires_at_us=created_at_us + timeout_seconds * _us_per_second,
                    status=PendingStatus.PENDING,
                )
                pending_now[request.id] = created
                pending_created[request.id] = created
            else:
                debit.posted -= amount
                credit.posted += amount
                if kind is TransferKind.MINT or kind is TransferKind.BURN:
                    _move_reserve(kind, amount, reserve_balances)

        seq += 1
        previous_hash = transfer_hash(
            previous_hash,
            seq,
            request.id,
            debit_id,
            credit_id,
            amount,
            kind,
            phase,
            request.pending_id,
            request.uetr,
            timeout_seconds,
            created_at_us,
            request.reference,
        )
        # Positional, in Transfer's field order (the transfers table's column order).
        transfer = Transfer(
            seq, request.id, debit_id, credit_id, amount, kind, phase, request.pending_id, request.reference,
            request.uetr, timeout_seconds, created_at_us, previous_hash,
        )  # fmt: skip
        transfers.append(transfer)
        new_in_batch[request.id.int] = transfer
        results.append(ok)

    changed = tuple(
        replace(
            b.account,
            posted_kopecks=b.posted,
            debits_pending_kopecks=b.debits_pending,
            credits_pending_kopecks=b.credits_pending,
        )
        for b in working.values()
        if (b.posted, b.debits_pending, b.credits_pending)
        != (b.account.posted_kopecks, b.account.debits_pending_kopecks, b.account.credits_pending_kopecks)
    )
    new_head = replace(head, seq=seq, hash=previous_hash, created_at_us=created_at_us if transfers else head.created_at_us)
    plan = BatchPlan(
        results=tuple(results),
        failed=tuple(i for i, result in enumerate(results) if result is not TransferResult.OK and result is not TransferResult.EXISTS),
        transfers=tuple(transfers),
        accounts=changed,
        # A pending transfer created and resolved within this batch is written once, with its final status.
        pending_created=tuple(pending_now[pid] for pid in pending_created),
        pending_resolved=tuple((pid, status) for pid, status in pending_resolved.items() if pid not in pending_created),
        head=new_head,
    )
    assert_plan_balanced(plan, accounts)
    return plan


def _the_account(accounts: Mapping[int, Account], kind: AccountKind) -> Account:
    found = [a for a in accounts.values() if a.kind is kind]
    if len(found) != 1:
        raise LedgerInvariantError(f"the ledger must have exactly one {kind} account, found {len(found)}")
    return found[0]


def _move_reserve(kind: TransferKind, amount: int, reserve: _Balances) -> None:
    # The reserve mirror follows supply: fiat comes into the CB reserve with a mint and leaves with a burn.
    if kind is TransferKind.MINT:
        reserve.posted += amount
    elif kind is TransferKind.BURN:
        reserve.posted -= amount


def _check_resolution(
    target: PendingTransfer | None, phase: Phase, now_us: int, accounts: Mapping[int, Account]
) -> TransferResult | None:
    if target is None:
        return TransferResult.PENDING_NOT_FOUND
    if target.status is PendingStatus.POSTED:
        return TransferResult.PENDING_ALREADY_POSTED
    if target.status is PendingStatus.VOIDED:
        return TransferResult.PENDING_ALREADY_VOIDED
    if phase is Phase.VOID_PENDING:
        return None  # releasing a hold is always allowed: after expiry (the sweeper) and after a suspension alike
    if now_us >= target.expires_at_us:
        return TransferResult.PENDING_EXPIRED
    # Posting moves money, which a suspended bank's wallets may not do, whenever the hold was taken.
    if accounts[target.debit_account_id].status is AccountStatus.SUSPENDED:
        return TransferResult.DEBIT_ACCOUNT_SUSPENDED
    if accounts[target.credit_account_id].status is AccountStatus.SUSPENDED:
        return TransferResult.CREDIT_ACCOUNT_SUSPENDED
    return None


def _check_accounts(
    request: TransferRequest, debit: Account | None, credit: Account | None
) -> TransferResult | None:
    if debit is None:
        return TransferResult.DEBIT_ACCOUNT_NOT_FOUND
    if credit is None:
        return TransferResult.CREDIT_ACCOUNT_NOT_FOUND
    if request.kind not in allowed_kinds_between.get((debit.kind, credit.kind), ()):
        return TransferResult.KIND_NOT_ALLOWED_FOR_ACCOUNTS
    if debit.status is AccountStatus.SUSPENDED:
        return TransferResult.DEBIT_ACCOUNT_SUSPENDED
    if credit.status is AccountStatus.SUSPENDED:
        return TransferResult.CREDIT_ACCOUNT_SUSPENDED
    return None


def _check_funds_and_limits(
    debit: _Balances, credit: _Balances, amount: int, kind: TransferKind, issuance: _Balances, cap: int
) -> TransferResult | None:
    if kind is TransferKind.MINT:
        # Supply plus mints still pending may never pass the cap.
        if -issuance.posted + issuance.debits_pending + amount > cap:
            return TransferResult.EMISSION_CAP_EXCEEDED
    else:
        limit = debit.account.transfer_max_kopecks
        if limit is not None and amount > limit:
            return TransferResult.TRANSFER_ABOVE_LIMIT
        if debit.posted - debit.debits_pending < amount:
            return TransferResult.INSUFFICIENT_FUNDS
    ceiling = credit.account.balance_max_kopecks
    if ceiling is not None and credit.posted + credit.credits_pending + amount > ceiling:
        return TransferResult.BALANCE_ABOVE_LIMIT
    return None


def assert_plan_balanced(plan: BatchPlan, before: Mapping[int, Account]) -> None:
    """Run before every write: the plan keeps double entry, limits and the emission cap."""
    double_entry_delta = 0
    reserve_delta = 0
    issuance_delta = 0
    for account in plan.accounts:
        delta = account.posted_kopecks - before[account.id].posted_kopecks
        if account.kind is AccountKind.RESERVE:
            reserve_delta += delta
        else:
            double_entry_delta += delta
        if account.kind is AccountKind.ISSUANCE:
            issuance_delta += delta
        assert_account_sane(account, plan.head.emission_cap_kopecks)
    if double_entry_delta != 0:
        raise LedgerInvariantError(f"batch up to seq {plan.head.seq} does not balance: off by {double_entry_delta}")
    if reserve_delta != -issuance_delta:
        raise LedgerInvariantError(f"batch up to seq {plan.head.seq} moves reserve {reserve_delta}, supply {-issuance_delta}")


def assert_account_sane(account: Account, emission_cap_kopecks: int) -> None:
    if account.debits_pending_kopecks < 0:
        raise LedgerInvariantError(f"account {account.code}: negative debits pending")
    if account.credits_pending_kopecks < 0:
        raise LedgerInvariantError(f"account {account.code}: negative credits pending")
    if account.kind is AccountKind.ISSUANCE:
        if -account.posted_kopecks + account.debits_pending_kopecks > emission_cap_kopecks:
            raise LedgerInvariantError(f"account {account.code}: supply above the emission cap")
        return
    if account.posted_kopecks - account.debits_pending_kopecks < 0:
        raise LedgerInvariantError(f"account {account.code}: below zero")


def assert_ledger_sane(accounts: Mapping[int, Account], emission_cap_kopecks: int) -> None:
    """Run after every full read of the accounts: the ledger-wide invariants."""
    total = 0
    issuance_posted = None
    reserve_posted = None
    for account in accounts.values():
        assert_account_sane(account, emission_cap_kopecks)
        if account.kind is AccountKind.RESERVE:
            reserve_posted = account.posted_kopecks
        else:
            total += account.posted_kopecks
        if account.kind is AccountKind.ISSUANCE:
            issuance_posted = account.posted_kopecks
    if total != 0:
        raise LedgerInvariantError(f"balances sum to {total}, not zero")
    if issuance_posted is None or reserve_posted is None:
        raise LedgerInvariantError("the ledger has no issuance or no reserve account")
    if reserve_posted != -issuance_posted:
        raise LedgerInvariantError(f"reserve {reserve_posted} differs from supply {-issuance_posted}")
