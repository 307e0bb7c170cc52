"""Treasury's commands: business days (close one, show where they stand)."""

from __future__ import annotations

import argparse
import asyncio

from gateway.cli.operate import operator, require_database
from gateway.config import Config
from gateway.domain.calendar import instant
from gateway.domain.days import BusinessDay, DayState
from gateway.runtime import clock_us, running_gateway
from gateway.treasury.days import DayNotClosable


def day_close(config: Config, args: argparse.Namespace) -> int:
    """Close a business day whose cut-off has passed (and any open day before it): its last posting is fixed and
    every wallet's camt.053 goes to its owner's mailbox. Without --date: the open day, once its cut-off has passed."""
    require_database(config)

    async def run() -> int:
        async with running_gateway(config, upgrade=False) as gateway:
            days = gateway.days
            business_date = args.date
            if business_date is None:
                latest = await days.store.latest()
                assert latest is not None, "running_gateway opens the first day"
                business_date = latest.business_date
            try:
                closed = await days.close(business_date, operator())
            except DayNotClosable as error:
                print(f"gateway day close: {error}")
                return 1
            for day in closed:
                print(f"closed {_line(day)}")
            latest = await days.store.latest()
            if latest is not None and latest.state is DayState.OPEN:
                print(f"open   {_line(latest)}")
            return 0

    return asyncio.run(run())


def day_status(config: Config, args: argparse.Namespace) -> int:
    """The recorded business days, newest first: state, cut-off, the postings each holds, who closed it."""
    require_database(config)

    async def run() -> int:
        async with running_gateway(config, upgrade=False) as gateway:
            days = gateway.days
            latest, first = await days.store.latest(), await days.store.first_date()
            assert latest is not None and first is not None, "running_gateway opens the first day"
            if args.date is not None:
                day = await days.day(args.date)
                if day is None:
                    print(f"{args.date} is not a business day the gateway recorded (the first is {first}, the"
                          f" latest {latest.business_date}; weekends and holidays are none)")
                    return 1
                shown = [day]
            else:
                shown = list(reversed(await days.days(first, latest.business_date)))[: args.last]
            calendar = days.calendar
            today = calendar.business_date_at(clock_us())
            print(f"business date now {today}, cut-off {calendar.cutoff_of(today):%Y-%m-%d %H:%M} Moscow time")
            for day in shown:
                print(f"{day.state.value:7} {_line(day)}")
            return 0

    return asyncio.run(run())


def _line(day: BusinessDay) -> str:
    postings = (
        f"postings after #{day.first_seq}" if day.last_seq is None
        else "no postings" if day.last_seq == day.first_seq
        else f"postings #{day.first_seq + 1}..#{day.last_seq}"
    )  # fmt: skip
    text = f"{day.business_date}  cut-off {instant(day.cutoff_at_us):%Y-%m-%d %H:%M}  {postings}"
    if day.closed_by is not None:
        text += f"  closed by {day.closed_by}"
    if day.closed_at_us is not None:
        text += f" at {instant(day.closed_at_us):%Y-%m-%d %H:%M:%S}"
    return text
