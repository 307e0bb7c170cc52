"""Time as the gateway's business runs on it: Moscow time, as the central bank's business day does, and the
business calendar (weekends, holidays, the daily cut-off).

Ledger timestamps are integer microseconds since the epoch (UTC); messages carry aware date-times in the business
zone, to the second.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

business_zone = timezone(timedelta(hours=3), "MSK")
minutes_per_day = 24 * 60


def instant(now_us: int) -> datetime:
    """A ledger timestamp as the aware date-time the messages carry, in the business zone, to the second."""
    return datetime.fromtimestamp(now_us // 1_000_000, business_zone)


def microseconds(moment: datetime) -> int:
    """An aware date-time as a ledger timestamp."""
    assert moment.tzinfo is not None, "a naive date-time names no instant"
    return int(moment.timestamp()) * 1_000_000 + moment.microsecond


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    """Which days are business days and when each one ends. A business day ends at its cut-off (Moscow time); what
    happens after the cut-off, or on a weekend or holiday, belongs to the next business day."""

    cutoff_minutes: int  # wall-clock time in the business zone, minutes after midnight: 1 .. 1440 (24:00)
    weekend: frozenset[int]  # ISO weekdays (Monday 1 ... Sunday 7) that are never business days
    holidays: frozenset[date]

    def __post_init__(self) -> None:
        assert 0 < self.cutoff_minutes <= minutes_per_day, self.cutoff_minutes
        assert self.weekend <= frozenset(range(1, 8)) and len(self.weekend) < 7, self.weekend

    def is_business_day(self, day: date) -> bool:
        return day.isoweekday() not in self.weekend and day not in self.holidays

    def next_business_day(self, day: date) -> date:
        """The first business day after `day`."""
        following = day + timedelta(days=1)
        while not self.is_business_day(following):
            following += timedelta(days=1)
        return following

    def previous_business_day(self, day: date) -> date:
        """The last business day before `day`."""
        preceding = day - timedelta(days=1)
        while not self.is_business_day(preceding):
            preceding -= timedelta(days=1)
        return preceding

    def business_date_of(self, moment: datetime) -> date:
        """The business day a moment belongs to: its own day before the cut-off, else the next business day."""
        local = moment.astimezone(business_zone)
        day = local.date()
        if self.is_business_day(day) and local.hour * 60 + local.minute < self.cutoff_minutes:
            return day
        return self.next_business_day(day)

    def business_date_at(self, now_us: int) -> date:
        return self.business_date_of(datetime.fromtimestamp(now_us / 1_000_000, business_zone))

    def cutoff_of(self, day: date) -> datetime:
        """When business day `day` ends."""
        assert self.is_business_day(day), f"{day} is not a business day"
        return datetime.combine(day, time(0, 0), business_zone) + timedelta(minutes=self.cutoff_minutes)

    def cutoff_us(self, day: date) -> int:
        return microseconds(self.cutoff_of(day))

    def business_days(self, from_date: date, to_date: date) -> list[date]:
        """The business days from `from_date` to `to_date`, both included."""
        days, day = [], from_date
        while day <= to_date:
            if self.is_business_day(day):
                days.append(day)
            day += timedelta(days=1)
        return days
