"""The pure batch planner applies transfers exactly as one by one in order, with every rule and result code."""

from __future__ import annotations

import hashlib
import struct
import uuid
from dataclasses import replace
from decimal import Decimal

import pytest

from gateway.domain.batch import assert_ledger_sane, plan_batch
from gateway.domain.ledger import (
    Account,
    AccountKind,
    AccountStatus,
    ChainHead,
    LedgerInvariantError,
    PendingStatus,
    Phase,
    TransferKind,
    TransferRequest,
    TransferResult,
    genesis_hash,
)

R = TransferResult
ISSUANCE, RESERVE, SBER, VTB, ALFA, FROZEN = 1, 2, 3, 4, 5, 6
CAP = 1_000_000_00  # 1,000,000.00 RUB
NOW = 1_800_000_000_000_000  # microseconds


def account(id_: int, kind: AccountKind, code: str, **overrides: object) -> Account:
    fields = dict(
        id=id_, code=code, kind=kind, owner_bic=code.split("/")[0], status=AccountStatus.ACTIVE,
        transfer_max_kopecks=None, balance_max_kopecks=None,
        posted_kopecks=0, debits_pending_kopecks=0, credits_pending_kopecks=0,
    )  # fmt: skip
    fields.update(overrides)
    return Account(**fields)  # type: ignore[arg-type]


def fresh_accounts() -> dict[int, Account]:
    accounts = [
        account(ISSUANCE, AccountKind.ISSUANCE, "CBRFRUMMXXX/issuance"),
        account(RESERVE, AccountKind.RESERVE, "CBRFRUMMXXX/reserve"),
        account(SBER, AccountKind.WALLET, "SABRRUMMXXX/main", transfer_max_kopecks=300_000_00),
        account(VTB, AccountKind.WALLET, "VTBRRUMMXXX/main"),
        account(ALFA, AccountKind.WALLET, "ALFARUMMXXX/main", balance_max_kopecks=200_000_00),
        account(FROZEN, AccountKind.WALLET, "FROZRUMMXXX/main", status=AccountStatus.SUSPENDED),
    ]
    return {a.id: a for a in accounts}


HEAD = ChainHead(seq=0, hash=genesis_hash, created_at_us=0, accounts_version=1, emission_cap_kopecks=CAP)


def req(debit: int, credit: int, amount: int, kind: TransferKind = TransferKind.PAYMENT, **kw: object) -> TransferRequest:
    return TransferRequest(
        id=kw.pop("id", None) or uuid.uuid4(),  # type: ignore[arg-type]
        debit_account_id=debit,
        credit_account_id=credit,
        amount_kopecks=amount,
        kind=kind,
        reference=kw.pop("reference", "SABRRUMMXXX:MSG-1"),  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


def mint(wallet: int, amount: int, **kw: object) -> TransferRequest:
    return req(ISSUANCE, wallet, amount, TransferKind.MINT, **kw)


def plan(requests, accounts=None, head=HEAD, stored=None, pending=None, now=NOW):  # type: ignore[no-untyped-def]
    return plan_batch(
        requests, accounts or fresh_accounts(), head, stored or {}, pending or {}, now_us=now,
        pending_timeout_seconds_default=60, pending_timeout_seconds_max=3600,
    )  # fmt: skip


def posted(result_plan, accounts=None) -> dict[int, int]:  # type: ignore[no-untyped-def]
    balances = {a.id: a.posted_kopecks for a in (accounts or fresh_accounts()).values()}
    balances.update({a.id: a.posted_kopecks for a in result_plan.accounts})
    return balances


def test_mint_credits_the_wallet_and_the_reserve_mirror() -> None:
    result = plan([mint(SBER, 150_000_00)])
    assert result.results == (R.OK,)
    balances = posted(result)
    assert balances[ISSUANCE] == -150_000_00
    assert balances[SBER] == 150_000_00
    assert balances[RESERVE] == 150_000_00


def test_results_follow_batch_order_exactly_as_sequential_application() -> None:
    result = plan([mint(SBER, 100_00), req(SBER, VTB, 60_00), req(SBER, VTB, 60_00), req(SBER, VTB, 40_00)])
    assert result.results == (R.OK, R.OK, R.INSUFFICIENT_FUNDS, R.OK)
    assert posted(result)[SBER] == 0
    assert posted(result)[VTB] == 100_00
    # The same requests in another order give other results: the batch is not reordered.
    reordered = plan([req(SBER, VTB, 60_00), mint(SBER, 100_00)])
    assert reordered.results == (R.INSUFFICIENT_FUNDS, R.OK)


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (req(SBER, VTB, 0), R.AMOUNT_MUST_BE_POSITIVE),
        (req(SBER, VTB, 1.5), R.AMOUNT_NOT_WHOLE_KOPECKS),  # type: ignore[arg-type]
        (req(SBER, VTB, Decimal("100.5")), R.AMOUNT_NOT_WHOLE_KOPECKS),  # type: ignore[arg-type]
        (req(SBER, VTB, True), R.AMOUNT_NOT_WHOLE_KOPECKS),  # type: ignore[arg-type]
        (req(SBER, VTB, -5), R.AMOUNT_MUST_BE_POSITIVE),
        (req(SBER, VTB, 10**17 + 1), R.AMOUNT_TOO_LARGE),
        (req(SBER, SBER, 1_00), R.ACCOUNTS_MUST_DIFFER),
        (req(99, VTB, 1_00), R.DEBIT_ACCOUNT_NOT_FOUND),
        (req(SBER, 99, 1_00), R.CREDIT_ACCOUNT_NOT_FOUND),
        (req(SBER, VTB, 1_00, reference="x" * 141), R.REFERENCE_TOO_LONG),
        (req(ISSUANCE, VTB, 1_00, TransferKind.PAYMENT), R.KIND_NOT_ALLOWED_FOR_ACCOUNTS),
        (req(SBER, VTB, 1_00, TransferKind.MINT), R.KIND_NOT_ALLOWED_FOR_ACCOUNTS),
        (req(SBER, ISSUANCE, 1_00, TransferKind.PAYMENT), R.KIND_NOT_ALLOWED_FOR_ACCOUNTS),
        (req(SBER, RESERVE, 1_00, TransferKind.PAYMENT), R.KIND_NOT_ALLOWED_FOR_ACCOUNTS),
        (req(ISSUANCE, RESERVE, 1_00, TransferKind.MINT), R.KIND_NOT_ALLOWED_FOR_ACCOUNTS),
        (req(FROZEN, VTB, 1_00), R.DEBIT_ACCOUNT_SUSPENDED),
        (req(VTB, FROZEN, 1_00), R.CREDIT_ACCOUNT_SUSPENDED),
        (mint(FROZEN, 1_00), R.CREDIT_ACCOUNT_SUSPENDED),
        (req(SBER, VTB, 1_00, timeout_seconds=5), R.TIMEOUT_OUT_OF_RANGE),
        (req(SBER, VTB, 1_00, phase=Phase.PENDING, timeout_seconds=3601), R.TIMEOUT_OUT_OF_RANGE),
        (req(SBER, VTB, 1_00, pending_id=uuid.uuid4()), R.PENDING_FIELDS_MUST_BE_EMPTY),
        (req(SBER, VTB, 1_00, phase=Phase.POST_PENDING, pending_id=uuid.uuid4()), R.PENDING_FIELDS_MUST_BE_EMPTY),
        (req(0, 0, 0, phase=Phase.VOID_PENDING, pending_id=uuid.uuid4()), R.PENDING_NOT_FOUND),
        (mint(VTB, CAP + 1), R.EMISSION_CAP_EXCEEDED),
    ],
)
def test_each_rejection_has_its_code_and_moves_nothing(request_: TransferRequest, expected: TransferResult) -> None:
    result = plan([request_])
    assert result.results == (expected,)
    assert result.transfers == ()
    assert result.accounts == ()
    assert result.head == HEAD


def test_limits_per_payment_and_per_balance() -> None:
    result = plan(
        [
            mint(SBER, 500_000_00),
            req(SBER, VTB, 300_000_01),  # Sberbank may send at most 300,000.00 in one payment
            req(SBER, VTB, 300_000_00),
            req(SBER, ALFA, 150_000_00),
            req(VTB, ALFA, 50_000_01),  # Alfa may hold at most 200,000.00
            req(VTB, ALFA, 50_000_00),
        ]
    )
    assert result.results == (R.OK, R.TRANSFER_ABOVE_LIMIT, R.OK, R.OK, R.BALANCE_ABOVE_LIMIT, R.OK)
    assert posted(result)[ALFA] == 200_000_00


def test_emission_cap_counts_posted_supply_and_pending_mints() -> None:
    result = plan(
        [
            mint(VTB, 600_000_00),
            mint(SBER, 300_000_00, phase=Phase.PENDING),
            mint(ALFA, 100_000_01),  # 600,000 + 300,000 pending + 100,000.01 > 1,000,000
            mint(VTB, 100_000_00),  # exactly the cap
        ]
    )
    assert result.results == (R.OK, R.OK, R.EMISSION_CAP_EXCEEDED, R.OK)
    issuance = next(a for a in result.accounts if a.id == ISSUANCE)
    assert -issuance.posted_kopecks + issuance.debits_pending_kopecks == CAP


def test_burn_takes_cryptorubles_out_of_supply_and_the_reserve() -> None:
    result = plan([mint(VTB, 1_000_00), req(VTB, ISSUANCE, 400_00, TransferKind.BURN)])
    assert result.results == (R.OK, R.OK)
    assert posted(result)[ISSUANCE] == -600_00
    assert posted(result)[RESERVE] == 600_00
    assert posted(result)[VTB] == 600_00


def test_same_id_in_one_batch_is_exists_or_conflict_but_a_failed_one_is_tried_afresh() -> None:
    first = mint(VTB, 100_00)
    failed = req(SBER, VTB, 50_00)  # fails: Sberbank has nothing yet
    result = plan(
        [
            first,
            first,  # identical replay
            replace(first, amount_kopecks=200_00),  # same id, other content
            failed,
            mint(SBER, 50_00),
            failed,  # the earlier attempt stored nothing, so this is a fresh attempt, and now it succeeds
        ]
    )
    assert result.results == (R.OK, R.EXISTS, R.ID_CONFLICT, R.INSUFFICIENT_FUNDS, R.OK, R.OK)
    assert len(result.transfers) == 3
    assert posted(result)[VTB] == 150_00


def test_stored_transfers_answer_replays_before_any_other_rule() -> None:
    original = mint(VTB, 100_00)
    stored_plan = plan([original])
    stored = {original.id: stored_plan.transfers[0]}
    # Even a replay that would now fail for other reasons (the cap is lowered) answers EXISTS: it stands already.
    low_cap_head = replace(stored_plan.head, emission_cap_kopecks=100_00)
    accounts = {a.id: a for a in (*fresh_accounts().values(), *stored_plan.accounts)}
    replay = plan([original, replace(original, reference="other")], accounts=accounts, head=low_cap_head, stored=stored)
    assert replay.results == (R.EXISTS, R.ID_CONFLICT)
    assert replay.transfers == ()


def test_two_phase_pending_then_post_moves_money_once() -> None:
    pending = req(SBER, VTB, 70_00, phase=Phase.PENDING)
    post = req(0, 0, 0, phase=Phase.POST_PENDING, pending_id=pending.id)
    result = plan(
        [
            mint(SBER, 100_00),
            pending,
            req(SBER, ALFA, 40_00),  # only 30.00 available while 70.00 is held
            post,
            req(0, 0, 0, phase=Phase.POST_PENDING, pending_id=pending.id),
            req(0, 0, 0, phase=Phase.VOID_PENDING, pending_id=pending.id),
        ]
    )
    assert result.results == (
        R.OK, R.OK, R.INSUFFICIENT_FUNDS, R.OK, R.PENDING_ALREADY_POSTED, R.PENDING_ALREADY_POSTED,
    )  # fmt: skip
    sber = next(a for a in result.accounts if a.id == SBER)
    vtb = next(a for a in result.accounts if a.id == VTB)
    assert (sber.posted_kopecks, sber.debits_pending_kopecks) == (30_00, 0)
    assert (vtb.posted_kopecks, vtb.credits_pending_kopecks) == (70_00, 0)
    (created,) = result.pending_created
    assert created.status is PendingStatus.POSTED
    assert [t.phase for t in result.transfers] == [Phase.SINGLE, Phase.PENDING, Phase.POST_PENDING]
    posting = result.transfers[2]
    assert (posting.debit_account_id, posting.credit_account_id, posting.amount_kopecks) == (SBER, VTB, 70_00)


def test_void_releases_the_hold_and_a_pending_mint_moves_the_reserve_only_when_posted() -> None:
    pending_mint = mint(ALFA, 80_00, phase=Phase.PENDING, timeout_seconds=30)
    result = plan([pending_mint])
    assert posted(result)[RESERVE] == 0
    (held,) = result.pending_created
    assert held.expires_at_us == NOW + 30 * 1_000_000
    accounts = {a.id: a for a in (*fresh_accounts().values(), *result.accounts)}
    pending = {held.id: held}
    void = req(0, 0, 0, phase=Phase.VOID_PENDING, pending_id=held.id)
    voided = plan([void], accounts=accounts, head=result.head, pending=pending)
    assert voided.results == (R.OK,)
    alfa = next(a for a in voided.accounts if a.id == ALFA)
    assert (alfa.posted_kopecks, alfa.credits_pending_kopecks) == (0, 0)
    assert voided.pending_resolved == ((held.id, PendingStatus.VOIDED),)
    posted_mint = plan(
        [req(0, 0, 0, phase=Phase.POST_PENDING, pending_id=held.id)], accounts=accounts, head=result.head, pending=pending
    )
    assert posted(posted_mint, accounts)[RESERVE] == 80_00


def test_an_expired_pending_transfer_cannot_be_posted_but_can_be_voided() -> None:
    created = plan([req(ISSUANCE, VTB, 10_00, TransferKind.MINT, phase=Phase.PENDING, timeout_seconds=1)])
    (held,) = created.pending_created
    accounts = {a.id: a for a in (*fresh_accounts().values(), *created.accounts)}
    later = NOW + 1_000_000
    post = plan([req(0, 0, 0, phase=Phase.POST_PENDING, pending_id=held.id)], accounts, created.head,
                pending={held.id: held}, now=later)  # fmt: skip
    assert post.results == (R.PENDING_EXPIRED,)
    void = plan([req(0, 0, 0, phase=Phase.VOID_PENDING, pending_id=held.id)], accounts, created.head,
                pending={held.id: held}, now=later)  # fmt: skip
    assert void.results == (R.OK,)


def test_chain_hash_matches_the_documented_layout_computed_by_hand() -> None:
    request = mint(VTB, 12_345_67, reference="CBRFRUMMXXX:MINT-1", uetr=uuid.UUID("8a562c67-ca16-48ba-b074-65581be6f011"))
    result = plan([request])
    (transfer,) = result.transfers
    layout = struct.pack(
        ">q16sqqqBB16s16sqq", 1, request.id.bytes, ISSUANCE, VTB, 12_345_67, 3, 1, bytes(16),
        request.uetr.bytes, 0, NOW,  # type: ignore[union-attr]
    )  # fmt: skip
    expected = hashlib.sha256(bytes(32) + layout + b"CBRFRUMMXXX:MINT-1").digest()
    assert transfer.hash == expected
    assert result.head.hash == expected and result.head.seq == 1


def test_failed_requests_take_no_sequence_number_and_time_never_runs_backwards() -> None:
    head = replace(HEAD, seq=41, hash=b"\x01" * 32, created_at_us=NOW + 5)
    result = plan([req(SBER, VTB, 1_00), mint(VTB, 1_00), mint(VTB, 2_00)], head=head, now=NOW)
    assert result.results == (R.INSUFFICIENT_FUNDS, R.OK, R.OK)
    assert [t.seq for t in result.transfers] == [42, 43]
    assert all(t.created_at_us == NOW + 5 for t in result.transfers)
    assert result.transfers[1].hash != result.transfers[0].hash


def test_a_corrupt_ledger_state_is_a_programmer_error_not_a_result() -> None:
    accounts = fresh_accounts()
    accounts[VTB] = replace(accounts[VTB], posted_kopecks=5_00)  # money from nowhere: sum is no longer zero
    with pytest.raises(LedgerInvariantError, match="sum"):
        assert_ledger_sane(accounts, CAP)
    accounts = fresh_accounts()
    accounts[VTB] = replace(accounts[VTB], posted_kopecks=-1_00)
    accounts[ISSUANCE] = replace(accounts[ISSUANCE], posted_kopecks=1_00)
    with pytest.raises(LedgerInvariantError, match="below zero"):
        plan([mint(VTB, 50)], accounts=accounts)
