"""Every RTGS implementation keeps one contract: holds, commits, releases and credits from the reserve move fiat exactly
once per request id (its references part of its content), refusals are answers that never change, statements explain
balances day by day and give each booking the camt.050 references it was made with, and a database from before
references were kept still works."""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from gateway_adapters.rtgs import tables
from gateway_adapters.sql.engine import make_engine
from sqlalchemy import text

from gateway.config import load_config
from gateway.conversion.ports import FiatBalance, FiatDirection, FiatReferences, RtgsOutcome
from tests.rtgs.conftest import CBR_BIC, RESERVE_ACCOUNT, RtgsWorld, WorldKind

O = RtgsOutcome
SBER, SBER_BIC = "30101810400000000225", "SABRRUMMXXX"
VTB, VTB_BIC = "30101810700000000187", "VTBRRUMMXXX"
ALFA, ALFA_BIC = "30101810200000000593", "ALFARUMMXXX"
UNKNOWN = "30101810900000000999"
MSK = timezone(timedelta(hours=3))
# A bank's camt.050 references, for the calls whose references are not the point of the test.
REFS = FiatReferences("SBER-LQT-20260512-0001", "E2E-0001", "TX-0001", uuid.UUID("c3e8f1a2-47b9-4d05-8e6c-2a9d7b14f063"))


def new_id() -> uuid.UUID:
    return uuid.uuid4()


async def open_sber(world: RtgsWorld, opening_kopecks: int) -> None:
    assert await world.admin.open_account(SBER, SBER_BIC, opening_kopecks)


async def fund_reserve(world: RtgsWorld, amount_kopecks: int) -> None:
    """Bring fiat into the reserve account the only way the port knows: Alfa-Bank converts it, once per test."""
    assert await world.admin.open_account(ALFA, ALFA_BIC, amount_kopecks)
    hold_id = new_id()
    assert await world.rtgs.reserve(hold_id, ALFA, amount_kopecks, REFS) is O.DONE
    assert await world.rtgs.commit(new_id(), hold_id) is O.DONE


async def balance(world: RtgsWorld, account: str) -> tuple[int, int]:
    found = await world.rtgs.balance(account)
    assert found is not None
    return found.booked_kopecks, found.held_kopecks


# --- balances and reserves ------------------------------------------------------------------------------------------


async def test_balance_of_a_known_account_and_none_for_an_unknown(rtgs_world: RtgsWorld) -> None:
    await open_sber(rtgs_world, 1_000_000_00)
    assert await rtgs_world.rtgs.balance(SBER) == FiatBalance(SBER, 1_000_000_00, 0)
    assert await rtgs_world.rtgs.balance(rtgs_world.reserve_account) == FiatBalance(rtgs_world.reserve_account, 0, 0)
    assert await rtgs_world.rtgs.balance(UNKNOWN) is None
    assert rtgs_world.rtgs.reserve_account == rtgs_world.reserve_account


async def test_opening_an_existing_account_changes_nothing(rtgs_world: RtgsWorld) -> None:
    await open_sber(rtgs_world, 500_00)
    assert not await rtgs_world.admin.open_account(SBER, SBER_BIC, 900_00)
    assert await balance(rtgs_world, SBER) == (500_00, 0)


async def test_reserve_lowers_the_available_balance_not_the_booked(rtgs_world: RtgsWorld) -> None:
    await open_sber(rtgs_world, 1_000_00)
    assert await rtgs_world.rtgs.reserve(new_id(), SBER, 300_00, REFS) is O.DONE
    found = await rtgs_world.rtgs.balance(SBER)
    assert found == FiatBalance(SBER, 1_000_00, 300_00)
    assert found is not None and found.available_kopecks == 700_00


async def test_reserve_beyond_the_available_balance_is_refused_and_holds_nothing(rtgs_world: RtgsWorld) -> None:
    await open_sber(rtgs_world, 1_000_00)
    assert await rtgs_world.rtgs.reserve(new_id(), SBER, 600_00, REFS) is O.DONE
    assert await rtgs_world.rtgs.reserve(new_id(), SBER, 400_01, REFS) is O.INSUFFICIENT_FUNDS
    assert await balance(rtgs_world, SBER) == (1_000_00, 600_00)
    assert await rtgs_world.rtgs.reserve(new_id(), SBER, 400_00, REFS) is O.DONE  # exactly what is left
    assert await balance(rtgs_world, SBER) == (1_000_00, 1_000_00)


async def test_reserve_on_an_unknown_account(rtgs_world: RtgsWorld) -> None:
    assert await rtgs_world.rtgs.reserve(new_id(), UNKNOWN, 100_00, REFS) is O.UNKNOWN_ACCOUNT


async def test_reserve_on_a_blocked_account_until_it_is_unblocked(rtgs_world: RtgsWorld) -> None:
    await open_sber(rtgs_world, 1_000_00)
    assert await rtgs_world.admin.set_blocked(SBER, True)
    assert await rtgs_world.rtgs.reserve(new_id(), SBER, 100_00, REFS) is O.ACCOUNT_BLOCKED
    assert await balance(rtgs_world, SBER) == (1_000_00, 0)
    assert await rtgs_world.admin.set_blocked(SBER, False)
    assert await rtgs_world.rtgs.reserve(new_id(), SBER, 100_00, REFS) is O.DONE
    assert not await rtgs_world.admin.set_blocked(UNKNOWN, True)


async def test_a_replayed_reserve_holds_once(rtgs_world: RtgsWorld) -> None:
    await open_sber(rtgs_world, 1_000_00)
    hold_id = new_id()
    assert await rtgs_world.rtgs.reserve(hold_id, SBER, 250_00, REFS) is O.DONE
    assert await rtgs_world.rtgs.reserve(hold_id, SBER, 250_00, REFS) is O.DONE
    assert await balance(rtgs_world, SBER) == (1_000_00, 250_00)


async def test_a_hold_id_reused_with_other_content_conflicts(rtgs_world: RtgsWorld) -> None:
    await open_sber(rtgs_world, 1_000_00)
    await rtgs_world.admin.open_account(VTB, VTB_BIC, 1_000_00)
    hold_id = new_id()
    assert await rtgs_world.rtgs.reserve(hold_id, SBER, 250_00, REFS) is O.DONE
    assert await rtgs_world.rtgs.reserve(hold_id, SBER, 250_01, REFS) is O.REQUEST_CONFLICT
    assert await rtgs_world.rtgs.reserve(hold_id, VTB, 250_00, REFS) is O.REQUEST_CONFLICT
    assert await balance(rtgs_world, SBER) == (1_000_00, 250_00)
    assert await balance(rtgs_world, VTB) == (1_000_00, 0)


async def test_a_request_id_reused_for_another_operation_conflicts(rtgs_world: RtgsWorld) -> None:
    await open_sber(rtgs_world, 1_000_00)
    hold_id = new_id()
    assert await rtgs_world.rtgs.reserve(hold_id, SBER, 250_00, REFS) is O.DONE
    assert await rtgs_world.rtgs.commit(hold_id, hold_id) is O.REQUEST_CONFLICT
    assert await rtgs_world.rtgs.release(hold_id, hold_id) is O.REQUEST_CONFLICT
    assert await balance(rtgs_world, SBER) == (1_000_00, 250_00)


async def test_concurrent_reserves_never_hold_more_than_is_available(rtgs_world: RtgsWorld) -> None:
    await open_sber(rtgs_world, 1_000)
    outcomes = await asyncio.gather(*(rtgs_world.rtgs.reserve(new_id(), SBER, 30, REFS) for _ in range(40)))
    assert outcomes.count(O.DONE) == 33  # 33 * 30 = 990 fits in 1,000; a 34th would need 1,020
    assert outcomes.count(O.INSUFFICIENT_FUNDS) == 7
    assert await balance(rtgs_world, SBER) == (1_000, 990)


async def test_concurrent_replays_of_one_reserve_hold_once(rtgs_world: RtgsWorld) -> None:
    await open_sber(rtgs_world, 1_000_00)
    hold_id = new_id()
    outcomes = await asyncio.gather(*(rtgs_world.rtgs.reserve(hold_id, SBER, 250_00, REFS) for _ in range(10)))
    assert outcomes == [O.DONE] * 10
    assert await balance(rtgs_world, SBER) == (1_000_00, 250_00)


async def test_a_release_racing_its_reserve_leaves_nothing_held(rtgs_world: RtgsWorld) -> None:
    await open_sber(rtgs_world, 1_000_00)
    for _ in range(10):
        hold_id = new_id()
        reserved, released = await asyncio.gather(
            rtgs_world.rtgs.reserve(hold_id, SBER, 100_00, REFS), rtgs_world.rtgs.release(new_id(), hold_id)
        )
        assert reserved in (O.DONE, O.HOLD_RELEASED)  # DONE if the reserve came first, and the release ended it
        assert released is O.DONE
        assert await balance(rtgs_world, SBER) == (1_000_00, 0)


async def test_a_commit_racing_a_release_of_one_hold_lets_one_win(rtgs_world: RtgsWorld) -> None:
    await open_sber(rtgs_world, 1_000_00)
    hold_id = new_id()
    assert await rtgs_world.rtgs.reserve(hold_id, SBER, 100_00, REFS) is O.DONE
    committed, released = await asyncio.gather(
        rtgs_world.rtgs.commit(new_id(), hold_id), rtgs_world.rtgs.release(new_id(), hold_id)
    )
    if committed is O.DONE:
        assert released is O.HOLD_COMMITTED
        assert await balance(rtgs_world, SBER) == (900_00, 0)
        assert await balance(rtgs_world, rtgs_world.reserve_account) == (100_00, 0)
    else:
        assert (committed, released) == (O.HOLD_RELEASED, O.DONE)
        assert await balance(rtgs_world, SBER) == (1_000_00, 0)
        assert await balance(rtgs_world, rtgs_world.reserve_account) == (0, 0)


@pytest.mark.parametrize("amount", [0, -1, 1.5, Decimal(100), True, "100"])
async def test_amounts_that_are_not_positive_whole_kopecks_are_programmer_errors(
    rtgs_world: RtgsWorld, amount: object
) -> None:
    await open_sber(rtgs_world, 1_000_00)
    with pytest.raises(ValueError):
        await rtgs_world.rtgs.reserve(new_id(), SBER, amount, REFS)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        await rtgs_world.rtgs.credit_from_reserve(new_id(), SBER, amount, REFS)  # type: ignore[arg-type]
    assert await balance(rtgs_world, SBER) == (1_000_00, 0)


# --- commits and releases -------------------------------------------------------------------------------------------


async def test_commit_books_the_hold_from_the_bank_to_the_reserve_account(rtgs_world: RtgsWorld) -> None:
    await open_sber(rtgs_world, 1_000_00)
    hold_id = new_id()
    assert await rtgs_world.rtgs.reserve(hold_id, SBER, 250_00, REFS) is O.DONE
    assert await rtgs_world.rtgs.commit(new_id(), hold_id) is O.DONE
    assert await balance(rtgs_world, SBER) == (750_00, 0)
    assert await balance(rtgs_world, rtgs_world.reserve_account) == (250_00, 0)


async def test_a_replayed_commit_books_once(rtgs_world: RtgsWorld) -> None:
    await open_sber(rtgs_world, 1_000_00)
    hold_id, commit_id = new_id(), new_id()
    assert await rtgs_world.rtgs.reserve(hold_id, SBER, 250_00, REFS) is O.DONE
    assert await rtgs_world.rtgs.commit(commit_id, hold_id) is O.DONE
    assert await rtgs_world.rtgs.commit(commit_id, hold_id) is O.DONE
    assert await rtgs_world.rtgs.commit(new_id(), hold_id) is O.DONE  # committed already: nothing more is booked
    assert await balance(rtgs_world, SBER) == (750_00, 0)
    assert await balance(rtgs_world, rtgs_world.reserve_account) == (250_00, 0)


async def test_commit_of_an_unknown_hold(rtgs_world: RtgsWorld) -> None:
    assert await rtgs_world.rtgs.commit(new_id(), new_id()) is O.HOLD_NOT_FOUND


async def test_commit_of_a_released_hold(rtgs_world: RtgsWorld) -> None:
    await open_sber(rtgs_world, 1_000_00)
    hold_id = new_id()
    assert await rtgs_world.rtgs.reserve(hold_id, SBER, 250_00, REFS) is O.DONE
    assert await rtgs_world.rtgs.release(new_id(), hold_id) is O.DONE
    assert await balance(rtgs_world, SBER) == (1_000_00, 0)
    assert await rtgs_world.rtgs.commit(new_id(), hold_id) is O.HOLD_RELEASED
    assert await rtgs_world.rtgs.release(new_id(), hold_id) is O.DONE  # released twice is released
    assert await balance(rtgs_world, SBER) == (1_000_00, 0)
    assert await balance(rtgs_world, rtgs_world.reserve_account) == (0, 0)


async def test_release_of_a_committed_hold(rtgs_world: RtgsWorld) -> None:
    await open_sber(rtgs_world, 1_000_00)
    hold_id = new_id()
    assert await rtgs_world.rtgs.reserve(hold_id, SBER, 250_00, REFS) is O.DONE
    assert await rtgs_world.rtgs.commit(new_id(), hold_id) is O.DONE
    assert await rtgs_world.rtgs.release(new_id(), hold_id) is O.HOLD_COMMITTED
    assert await balance(rtgs_world, SBER) == (750_00, 0)
    assert await balance(rtgs_world, rtgs_world.reserve_account) == (250_00, 0)


async def test_a_release_overtaking_its_reserve_turns_the_reserve_away(rtgs_world: RtgsWorld) -> None:
    await open_sber(rtgs_world, 1_000_00)
    hold_id = new_id()
    assert await rtgs_world.rtgs.release(new_id(), hold_id) is O.DONE
    assert await rtgs_world.rtgs.reserve(hold_id, SBER, 250_00, REFS) is O.HOLD_RELEASED
    assert await rtgs_world.rtgs.reserve(hold_id, SBER, 250_00, REFS) is O.HOLD_RELEASED
    assert await balance(rtgs_world, SBER) == (1_000_00, 0)
    assert await rtgs_world.rtgs.commit(new_id(), hold_id) is O.HOLD_RELEASED


# --- credits from the reserve ---------------------------------------------------------------------------------------


async def test_credit_from_reserve_moves_fiat_to_the_bank(rtgs_world: RtgsWorld) -> None:
    await open_sber(rtgs_world, 1_000_00)
    await fund_reserve(rtgs_world, 500_00)
    assert await rtgs_world.rtgs.credit_from_reserve(new_id(), SBER, 200_00, REFS) is O.DONE
    assert await balance(rtgs_world, SBER) == (1_200_00, 0)
    assert await balance(rtgs_world, rtgs_world.reserve_account) == (300_00, 0)


async def test_credit_beyond_the_reserve_is_refused(rtgs_world: RtgsWorld) -> None:
    await open_sber(rtgs_world, 1_000_00)
    await fund_reserve(rtgs_world, 500_00)
    assert await rtgs_world.rtgs.credit_from_reserve(new_id(), SBER, 500_01, REFS) is O.INSUFFICIENT_FUNDS
    assert await balance(rtgs_world, SBER) == (1_000_00, 0)
    assert await balance(rtgs_world, rtgs_world.reserve_account) == (500_00, 0)


async def test_credit_to_an_unknown_or_blocked_account(rtgs_world: RtgsWorld) -> None:
    await open_sber(rtgs_world, 1_000_00)
    await fund_reserve(rtgs_world, 500_00)
    assert await rtgs_world.rtgs.credit_from_reserve(new_id(), UNKNOWN, 100_00, REFS) is O.UNKNOWN_ACCOUNT
    assert await rtgs_world.admin.set_blocked(SBER, True)
    assert await rtgs_world.rtgs.credit_from_reserve(new_id(), SBER, 100_00, REFS) is O.ACCOUNT_BLOCKED
    assert await balance(rtgs_world, SBER) == (1_000_00, 0)
    assert await balance(rtgs_world, rtgs_world.reserve_account) == (500_00, 0)


async def test_a_replayed_credit_books_once(rtgs_world: RtgsWorld) -> None:
    await open_sber(rtgs_world, 1_000_00)
    await fund_reserve(rtgs_world, 500_00)
    request_id = new_id()
    assert await rtgs_world.rtgs.credit_from_reserve(request_id, SBER, 200_00, REFS) is O.DONE
    assert await rtgs_world.rtgs.credit_from_reserve(request_id, SBER, 200_00, REFS) is O.DONE
    assert await rtgs_world.rtgs.credit_from_reserve(request_id, SBER, 100_00, REFS) is O.REQUEST_CONFLICT
    assert await balance(rtgs_world, SBER) == (1_200_00, 0)
    assert await balance(rtgs_world, rtgs_world.reserve_account) == (300_00, 0)


async def test_a_refused_request_keeps_its_answer_after_funds_arrive(rtgs_world: RtgsWorld) -> None:
    await open_sber(rtgs_world, 100_00)
    hold_id, credit_id = new_id(), new_id()
    assert await rtgs_world.rtgs.reserve(hold_id, SBER, 300_00, REFS) is O.INSUFFICIENT_FUNDS
    assert await rtgs_world.rtgs.credit_from_reserve(credit_id, SBER, 300_00, REFS) is O.INSUFFICIENT_FUNDS
    await fund_reserve(rtgs_world, 300_00)
    assert await rtgs_world.rtgs.credit_from_reserve(credit_id, SBER, 300_00, REFS) is O.INSUFFICIENT_FUNDS
    assert await balance(rtgs_world, SBER) == (100_00, 0)
    assert await rtgs_world.rtgs.credit_from_reserve(new_id(), SBER, 300_00, REFS) is O.DONE  # a new request is asked anew
    assert await balance(rtgs_world, SBER) == (400_00, 0)
    assert await rtgs_world.rtgs.reserve(hold_id, SBER, 300_00, REFS) is O.INSUFFICIENT_FUNDS
    assert await balance(rtgs_world, SBER) == (400_00, 0)


# --- statements -----------------------------------------------------------------------------------------------------


async def test_statements_explain_balances_day_by_day(rtgs_world: RtgsWorld) -> None:
    rtgs, reserve_account = rtgs_world.rtgs, rtgs_world.reserve_account
    await open_sber(rtgs_world, 1_000_000_00)
    await rtgs_world.admin.open_account(VTB, VTB_BIC, 0)
    hold_id, commit_id, credit_id = new_id(), new_id(), new_id()
    assert await rtgs.reserve(hold_id, SBER, 300_000_00, REFS) is O.DONE
    assert await rtgs.commit(commit_id, hold_id) is O.DONE
    assert await rtgs.credit_from_reserve(credit_id, VTB, 100_000_00, REFS) is O.DONE
    today = datetime.now(MSK).date()  # after the bookings: yesterday..today covers them even across midnight

    sber = await rtgs.statement(SBER, today - timedelta(days=1), today)
    assert sber is not None
    assert (sber.opening_kopecks, sber.closing_kopecks) == (0, 700_000_00)
    opening, commit = sber.entries
    assert (opening.direction, opening.kopecks, opening.reference) == (FiatDirection.CREDIT, 1_000_000_00,
                                                                       "opening balance")
    assert (commit.direction, commit.kopecks, commit.counter_account) == (FiatDirection.DEBIT, 300_000_00,
                                                                          reserve_account)
    assert (commit.request_id, commit.reference) == (commit_id, f"conversion hold {hold_id}")
    assert opening.entry_id < commit.entry_id
    assert commit.booked_at.utcoffset() is not None
    assert await balance(rtgs_world, SBER) == (sber.closing_kopecks, 0)

    reserve = await rtgs.statement(reserve_account, today - timedelta(days=1), today)
    assert reserve is not None
    assert (reserve.opening_kopecks, reserve.closing_kopecks) == (0, 200_000_00)
    assert [(e.direction, e.kopecks, e.counter_account, e.request_id) for e in reserve.entries] == [
        (FiatDirection.CREDIT, 300_000_00, SBER, commit_id),
        (FiatDirection.DEBIT, 100_000_00, VTB, credit_id),
    ]
    assert reserve.entries[1].reference == f"conversion {credit_id}"

    tomorrow = await rtgs.statement(SBER, today + timedelta(days=1), today + timedelta(days=1))
    assert tomorrow is not None
    assert (tomorrow.opening_kopecks, tomorrow.closing_kopecks, tomorrow.entries) == (700_000_00, 700_000_00, ())


async def test_a_statement_of_an_unknown_account_or_too_long_a_period(rtgs_world: RtgsWorld) -> None:
    today = date(2025, 3, 3)
    assert await rtgs_world.rtgs.statement(UNKNOWN, today, today) is None
    await rtgs_world.admin.open_account(VTB, VTB_BIC, 0)
    month = await rtgs_world.rtgs.statement(VTB, today, today + timedelta(days=30))
    assert month is not None and month.entries == ()
    with pytest.raises(ValueError):
        await rtgs_world.rtgs.statement(VTB, today, today + timedelta(days=31))
    with pytest.raises(ValueError):
        await rtgs_world.rtgs.statement(VTB, today, today - timedelta(days=1))


async def test_an_rtgs_opens_with_only_its_reserve_account(rtgs_world: RtgsWorld) -> None:
    assert not await rtgs_world.admin.open_account(rtgs_world.reserve_account, CBR_BIC, 1_00)
    assert [b.account for b in await rtgs_world.admin.accounts()] == [rtgs_world.reserve_account]


# --- the camt.050's references --------------------------------------------------------------------------------------

# Sberbank's mint and VTB's burn, as their camt.050s named them.
MINT_REFS = FiatReferences("SBER-LQT-20260512-0007", "INV-2026-0311", "SBER-TX-7",
                           uuid.UUID("0e8f1c2a-3b4d-4e5f-8a9b-0c1d2e3f4a5b"))  # fmt: skip
BURN_REFS = FiatReferences("VTB-LQT-20260512-0002", "NOTPROVIDED", None, uuid.UUID("6d1f5a2e-4b3c-4d2e-9f10-2a3b4c5d6e7f"))


async def test_a_commit_and_a_credit_come_back_in_the_statement_with_their_references(rtgs_world: RtgsWorld) -> None:
    rtgs, reserve_account = rtgs_world.rtgs, rtgs_world.reserve_account
    await open_sber(rtgs_world, 1_000_000_00)
    await rtgs_world.admin.open_account(VTB, VTB_BIC, 0)
    hold_id, commit_id, credit_id = new_id(), new_id(), new_id()
    assert await rtgs.reserve(hold_id, SBER, 300_000_00, MINT_REFS) is O.DONE
    assert await rtgs.commit(commit_id, hold_id) is O.DONE  # a commit carries no references: it books its hold's
    assert await rtgs.credit_from_reserve(credit_id, VTB, 100_000_00, BURN_REFS) is O.DONE
    from_date = datetime.now(MSK).date() - timedelta(days=1)
    to_date = from_date + timedelta(days=1)

    sber = await rtgs.statement(SBER, from_date, to_date)
    assert sber is not None
    assert [(e.request_id, e.references) for e in sber.entries[1:]] == [(commit_id, MINT_REFS)]
    assert sber.entries[0].reference == "opening balance" and sber.entries[0].references is None
    assert sber.entries[1].reference == f"conversion hold {hold_id}"  # the free text stays
    vtb = await rtgs.statement(VTB, from_date, to_date)
    assert vtb is not None
    assert [(e.request_id, e.kopecks, e.references) for e in vtb.entries] == [(credit_id, 100_000_00, BURN_REFS)]
    reserve = await rtgs.statement(reserve_account, from_date, to_date)
    assert reserve is not None
    assert [(e.direction, e.request_id, e.references) for e in reserve.entries] == [
        (FiatDirection.CREDIT, commit_id, MINT_REFS),
        (FiatDirection.DEBIT, credit_id, BURN_REFS),
    ]


async def test_an_end_to_end_id_not_given_comes_back_as_notprovided(rtgs_world: RtgsWorld) -> None:
    """A camt.050 must carry an EndToEndId; ISO 20022 writes one not given as NOTPROVIDED, and so does the RTGS."""
    await fund_reserve(rtgs_world, 500_00)
    await open_sber(rtgs_world, 0)
    given = FiatReferences("SBER-LQT-20260512-0009", None, None, None)
    request_id = new_id()
    assert await rtgs_world.rtgs.credit_from_reserve(request_id, SBER, 200_00, given) is O.DONE
    with_notprovided = FiatReferences("SBER-LQT-20260512-0009", "NOTPROVIDED", None, None)
    assert await rtgs_world.rtgs.credit_from_reserve(request_id, SBER, 200_00, with_notprovided) is O.DONE  # the same
    today = datetime.now(MSK).date()
    sber = await rtgs_world.rtgs.statement(SBER, today - timedelta(days=1), today)
    assert sber is not None
    assert [(e.request_id, e.references) for e in sber.entries] == [(request_id, with_notprovided)]
    assert await balance(rtgs_world, SBER) == (200_00, 0)


@pytest.mark.parametrize(
    "other",
    [
        FiatReferences("SBER-LQT-20260512-0008", "INV-2026-0311", "SBER-TX-7", MINT_REFS.uetr),  # another MsgId
        FiatReferences(MINT_REFS.message_id, "INV-2026-0312", "SBER-TX-7", MINT_REFS.uetr),
        FiatReferences(MINT_REFS.message_id, "INV-2026-0311", None, MINT_REFS.uetr),  # the TxId left out
        FiatReferences(MINT_REFS.message_id, "INV-2026-0311", "SBER-TX-7", None),  # the UETR left out
        FiatReferences(MINT_REFS.message_id, "INV-2026-0311", "SBER-TX-7", BURN_REFS.uetr),
    ],
    ids=["message id", "end-to-end id", "no tx id", "no uetr", "other uetr"],
)
async def test_the_same_request_id_with_other_references_conflicts(rtgs_world: RtgsWorld, other: FiatReferences) -> None:
    await open_sber(rtgs_world, 1_000_00)
    await fund_reserve(rtgs_world, 500_00)
    hold_id, credit_id = new_id(), new_id()
    assert await rtgs_world.rtgs.reserve(hold_id, SBER, 250_00, MINT_REFS) is O.DONE
    assert await rtgs_world.rtgs.credit_from_reserve(credit_id, SBER, 100_00, MINT_REFS) is O.DONE
    assert await rtgs_world.rtgs.reserve(hold_id, SBER, 250_00, other) is O.REQUEST_CONFLICT
    assert await rtgs_world.rtgs.credit_from_reserve(credit_id, SBER, 100_00, other) is O.REQUEST_CONFLICT
    assert await rtgs_world.rtgs.reserve(hold_id, SBER, 250_00, MINT_REFS) is O.DONE  # the first content still is
    assert await balance(rtgs_world, SBER) == (1_100_00, 250_00)
    assert await balance(rtgs_world, rtgs_world.reserve_account) == (400_00, 0)


@pytest.mark.parametrize(
    "bad",
    [
        FiatReferences("M" * 36, "E2E", None, None),  # over Max35Text
        FiatReferences("", "E2E", None, None),
        FiatReferences("SBER-1", "E" * 36, None, None),
        FiatReferences("SBER-1", "E2E", "T\x00X", None),  # a character XML cannot carry
        FiatReferences("SBER-1", "E2E", None, uuid.UUID("a8098c1a-f86e-11da-bd1a-00112444be1e")),  # version 1
    ],
    ids=["long message id", "empty message id", "long end-to-end id", "control character", "uetr version 1"],
)
async def test_references_no_camt_050_can_carry_are_programmer_errors(rtgs_world: RtgsWorld, bad: FiatReferences) -> None:
    await open_sber(rtgs_world, 1_000_00)
    with pytest.raises(ValueError):
        await rtgs_world.rtgs.reserve(new_id(), SBER, 100_00, bad)
    with pytest.raises(ValueError):
        await rtgs_world.rtgs.credit_from_reserve(new_id(), SBER, 100_00, bad)
    assert await balance(rtgs_world, SBER) == (1_000_00, 0)


# --- a database from before the simulator kept references ----------------------------------------------------------

# The columns the simulator's tables gained when it began to keep the camt.050's references, written out by hand: a
# database from before has every other column.
COLUMNS_ADDED_FOR_REFERENCES = [
    (table, column)
    for table in ("rtgs_holds", "rtgs_bookings")
    for column in ("message_id", "end_to_end_id", "transaction_id", "uetr")
]
OPENING_ID, HOLD_A, COMMIT_A, HOLD_B = (uuid.UUID(f"{n:x}" * 32) for n in (1, 2, 3, 4))


def fingerprint_before_references(operation: str, *arguments: object) -> bytes:
    """How the simulator recorded a request before references: SHA-256 of the operation and its arguments' text,
    joined by the unit separator."""
    return hashlib.sha256("\x1f".join([operation, *map(str, arguments)]).encode()).digest()


async def write_a_database_from_before_references(database_url: str) -> None:
    """The tables without the reference columns, and what the simulator before them left: Sberbank's account opened
    with 1,000.00, 200.00 of it reserved under HOLD_A and committed by COMMIT_A, 300.00 held under HOLD_B."""
    engine = make_engine(database_url, load_config(environ={}).limits)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(lambda sync: tables.metadata.create_all(sync))
            for table, column in COLUMNS_ADDED_FOR_REFERENCES:
                await connection.execute(text(f"ALTER TABLE {table} DROP COLUMN {column}"))
            now = time.time_ns() // 1_000
            await connection.execute(tables.accounts.insert(), [
                {"number": RESERVE_ACCOUNT, "owner_bic": CBR_BIC, "booked_kopecks": 200_00, "held_kopecks": 0,
                 "blocked": False, "created_at_us": now},
                {"number": SBER, "owner_bic": SBER_BIC, "booked_kopecks": 800_00, "held_kopecks": 300_00,
                 "blocked": False, "created_at_us": now},
            ])  # fmt: skip
            await connection.execute(tables.bookings.insert(), [
                {"request_id": OPENING_ID, "debit_account": "OPENING", "credit_account": SBER,
                 "amount_kopecks": 1_000_00, "booked_at_us": now, "reference": "opening balance"},
                {"request_id": COMMIT_A, "debit_account": SBER, "credit_account": RESERVE_ACCOUNT,
                 "amount_kopecks": 200_00, "booked_at_us": now + 1, "reference": f"conversion hold {HOLD_A}"},
            ])  # fmt: skip
            await connection.execute(tables.holds.insert(), [
                {"id": HOLD_A, "account": SBER, "amount_kopecks": 200_00, "state": "committed", "created_at_us": now,
                 "resolved_at_us": now + 1},
                {"id": HOLD_B, "account": SBER, "amount_kopecks": 300_00, "state": "held", "created_at_us": now,
                 "resolved_at_us": None},
            ])  # fmt: skip
            await connection.execute(tables.requests.insert(), [
                {"request_id": HOLD_A, "operation": "reserve", "outcome": "done", "created_at_us": now,
                 "fingerprint": fingerprint_before_references("reserve", HOLD_A, SBER, 200_00)},
                {"request_id": COMMIT_A, "operation": "commit", "outcome": "done", "created_at_us": now,
                 "fingerprint": fingerprint_before_references("commit", HOLD_A)},
                {"request_id": HOLD_B, "operation": "reserve", "outcome": "done", "created_at_us": now,
                 "fingerprint": fingerprint_before_references("reserve", HOLD_B, SBER, 300_00)},
            ])  # fmt: skip
    finally:
        await engine.dispose()


def test_the_simulator_evolves_exactly_the_columns_added_for_references() -> None:
    assert [(table.name, column) for table, column in tables.added_columns] == COLUMNS_ADDED_FOR_REFERENCES


async def test_rows_from_before_references_read_as_none_and_keep_their_answers(
    rtgs_world_kind: WorldKind, tmp_path: Path
) -> None:
    async with rtgs_world_kind.open(tmp_path, write_a_database_from_before_references) as world:
        rtgs = world.rtgs
        assert await balance(world, SBER) == (800_00, 300_00)
        # Requests recorded before are the same requests when retried now, whatever references they carry now.
        assert await rtgs.reserve(HOLD_B, SBER, 300_00, MINT_REFS) is O.DONE
        assert await rtgs.reserve(HOLD_A, SBER, 200_00, MINT_REFS) is O.DONE
        assert await rtgs.reserve(HOLD_B, SBER, 300_01, MINT_REFS) is O.REQUEST_CONFLICT  # other content still is not
        assert await rtgs.commit(COMMIT_A, HOLD_A) is O.DONE
        assert await balance(world, SBER) == (800_00, 300_00)
        commit_b, hold_c, commit_c = new_id(), new_id(), new_id()
        assert await rtgs.commit(commit_b, HOLD_B) is O.DONE  # a hold from before: booked without references
        assert await rtgs.reserve(hold_c, SBER, 100_00, MINT_REFS) is O.DONE
        assert await rtgs.commit(commit_c, hold_c) is O.DONE
        today = datetime.now(MSK).date()
        sber = await rtgs.statement(SBER, today - timedelta(days=1), today)
        assert sber is not None
        assert [(e.request_id, e.kopecks, e.references) for e in sber.entries] == [
            (OPENING_ID, 1_000_00, None),
            (COMMIT_A, 200_00, None),
            (commit_b, 300_00, None),
            (commit_c, 100_00, MINT_REFS),
        ]
        assert (sber.opening_kopecks, sber.closing_kopecks) == (0, 400_00)
        assert await balance(world, SBER) == (400_00, 0)
        assert await balance(world, world.reserve_account) == (600_00, 0)
