"""The clock `gateway demo` runs its gateway on: the demo's business day (the one before today) from 09:00 Moscow
time, advancing as real time does and moved on to each scripted message's time of day (`advance_to`), until
`follow_real_time()`; from then on, the real clock.

Every part of the gateway reads this one clock (gateway.runtime.running_gateway): the ledger's stamps, the business
date messages are judged by, the RTGS simulator's bookings. It never goes back: the demo's day ends long before the
real now, `advance_to` only moves forward, and the switch is to the real now.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime
from datetime import time as time_of_day

from gateway.domain.calendar import business_zone, microseconds

demo_day_starts_at = time_of_day(9, 0)  # the demo's gateway starts at 09:00 Moscow time of the demo's day


class DemoClock:
    def __init__(self, day: date, real_us: Callable[[], int], monotonic_ns: Callable[[], int] = time.monotonic_ns):
        self.day = day
        self.start_us = microseconds(datetime.combine(day, demo_day_starts_at, business_zone))
        self._real_us = real_us
        self._monotonic_ns = monotonic_ns
        self._started_ns = monotonic_ns()
        self._skipped_us = 0  # the parts of the day the script skipped (advance_to)
        self._follows_real_time = False
        assert self.start_us < real_us(), "the demo's day lies in the past"

    def __call__(self) -> int:
        if self._follows_real_time:
            return self._real_us()
        return self.start_us + self._skipped_us + (self._monotonic_ns() - self._started_ns) // 1000

    def advance_to(self, moment: time_of_day) -> None:
        """On to `moment` of the demo's day, Moscow time, if it lies ahead (a clock never goes back)."""
        assert not self._follows_real_time, "the demo's day is over"
        target_us = microseconds(datetime.combine(self.day, moment, business_zone))
        self._skipped_us += max(0, target_us - self())

    @property
    def follows_real_time(self) -> bool:
        return self._follows_real_time

    def follow_real_time(self) -> None:
        """The demo's day is over: from now on the real clock, which is ahead of the demo's (asserted)."""
        assert self() < self._real_us(), "the demo's day ran into the real now"
        self._follows_real_time = True
