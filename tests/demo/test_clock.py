"""The demo's clock plays its day from 09:00 Moscow time, moves only forward, and hands over to the real clock."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from gateway.demo.clock import DemoClock
from gateway.domain.calendar import business_zone, microseconds

day = date(2026, 12, 4)
real_now_us = microseconds(datetime(2026, 12, 5, 14, 0, tzinfo=business_zone))


class Ticks:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.ns = 5_000_000_000

    def __call__(self) -> int:
        return self.ns


def at(hour: int, minute: int, second: int = 0) -> int:
    return microseconds(datetime.combine(day, time(hour, minute, second), business_zone))


def test_the_day_starts_at_nine_and_runs_as_real_time_does() -> None:
    ticks = Ticks()
    clock = DemoClock(day, lambda: real_now_us, ticks)
    assert clock() == at(9, 0)
    ticks.ns += 2_500_000_000  # 2.5 s pass
    assert clock() == at(9, 0) + 2_500_000


def test_advance_moves_to_a_later_time_of_day_and_never_back() -> None:
    ticks = Ticks()
    clock = DemoClock(day, lambda: real_now_us, ticks)
    clock.advance_to(time(10, 30))
    assert clock() == at(10, 30)
    ticks.ns += 1_000_000  # 1 ms
    clock.advance_to(time(10, 0))  # earlier: the clock stays where it is
    assert clock() == at(10, 30) + 1_000
    clock.advance_to(time(17, 50))
    assert clock() == at(17, 50)


def test_after_the_day_it_is_the_real_clock_which_is_ahead() -> None:
    ticks = Ticks()
    clock = DemoClock(day, lambda: real_now_us, ticks)
    clock.advance_to(time(17, 50))
    before = clock()
    clock.follow_real_time()
    assert clock.follows_real_time
    assert clock() == real_now_us > before
    with pytest.raises(AssertionError):
        clock.advance_to(time(18, 0))


def test_a_day_that_is_not_in_the_past_is_refused() -> None:
    with pytest.raises(AssertionError):
        DemoClock(date(2026, 12, 5), lambda: at(8, 0), Ticks())  # 09:00 of the 5th is after "now", 08:00 of the 4th
