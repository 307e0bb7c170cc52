"""Every RTGS implementation keeps one contract: holds, commits, releases and credits from the reserve move fiat exactly
once per request id, refusals are answers that never change, and statements explain balances day by day."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from gateway.conversion.ports import FiatBalance, FiatDirection, FiatReferences, RtgsOutcome
from tests.rtgs.conftest import CBR_BIC, RtgsWorld

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
