"""Treasury's commands: business days (close one, show where they stand) and the three-way reconciliation of a closed
day (RTGS, ledger, message journal)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
from datetime import date
from pathlib import Path

from gateway.cli.operate import operator, require_database
from gateway.cli.usage import UsageError
from gateway.config import Config
from gateway.conversion.ports import RtgsUnavailable
from gateway.domain.calendar import instant
from gateway.domain.days import BusinessDay, DayState
from gateway.ledger.ports import SchemaOutOfDate, StorageUnavailable
from gateway.runtime import clock_us, open_rtgs, open_store, reconciliation, running_gateway
from gateway.treasury.days import DayNotClosable
from gateway.treasury.ports import TooManyPostings
from gateway.treasury.reconciliation import NotReconcilable, ReconciliationReport, ReserveAccountUnknown
from gateway.treasury.report_formats import render


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


def reconcile(config: Config, args: argparse.Namespace) -> int:
    """Three-way reconciliation of a closed business day: the RTGS's fiat statement of the reserve account, the
    ledger's postings and the message journal; every break listed and stored. Exit status 0: no break open; 1: breaks
    open; 2: a date or an output that cannot be used (nothing stored); 3: the RTGS or the database did not answer
    (nothing stored: run it again)."""
    require_database(config)
    output: Path | None = args.output
    if output is not None and (output.is_dir() or not output.parent.is_dir()):
        raise UsageError(f"--output {output}: {'a directory' if output.is_dir() else 'no such directory'}; name a file")

    async def run() -> tuple[date | None, ReconciliationReport | None]:
        try:
            store = await open_store(config, upgrade=False)
        except SchemaOutOfDate as error:
            raise UsageError(str(error)) from None
        try:
            async with open_rtgs(config, store) as rtgs:
                service = reconciliation(config, store, rtgs)
                business_date = args.date or await service.latest_closed()
                if business_date is None:
                    return None, None
                return business_date, await service.run(business_date)
        finally:
            await store.close()

    try:
        business_date, report = asyncio.run(run())
    except (NotReconcilable, ReserveAccountUnknown, TooManyPostings) as error:
        print(f"gateway reconcile: {error}", file=sys.stderr)
        return 2
    except RtgsUnavailable as error:
        print(f"gateway reconcile: the RTGS did not answer, so nothing was reconciled or stored; run it again once it"
              f" answers ({error})", file=sys.stderr)
        return 3
    except (StorageUnavailable, OSError) as error:
        print(f"gateway reconcile: the database did not answer, so nothing was reconciled or stored; run it again"
              f" ({error})", file=sys.stderr)
        return 3
    if business_date is None or report is None:
        print("gateway reconcile: no business day is closed yet: there is nothing to reconcile", file=sys.stderr)
        return 2
    text = render(report, args.format)
    if output is None:
        sys.stdout.write(text)
    else:
        try:
            _write_atomically(output, text)
        except OSError as error:
            print(f"gateway reconcile: cannot write {output} ({error}); the run is stored: run it again to write the"
                  " report", file=sys.stderr)
            return 2
    return 1 if report.open_breaks else 0


def _write_atomically(path: Path, text: str) -> None:
    """Written beside the target and renamed over it: a reader sees the old file or the whole new one, never part."""
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp makes it private; the report gets the mode any new file of the user's would (or the old one's).
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(descriptor, path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~umask)
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as file:  # newline="": CSV keeps its CRLF
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
