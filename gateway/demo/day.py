"""The demo's day, run beside the gateway it plays against (gateway.http.listener.serve_forever's `alongside`): show
the world, send the script's messages as the banks, return to the real clock, close the day, sum it up.

The messages go over HTTPS with each bank's client certificate, through `gateway replay`'s own client, so that the
demo exercises exactly what a bank does. The figures of the summary are read in this process, as the central bank
reads them (`gateway ledger status`, `gateway rtgs balances`); the mailboxes over HTTPS, as each bank reads its own.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from aiohttp import web
from lxml import etree
from rich.console import Console
from rich.live import Live

from gateway import bounds
from gateway.demo import report
from gateway.demo.clock import DemoClock, demo_day_starts_at
from gateway.demo.script import day_entries
from gateway.domain.calendar import business_zone
from gateway.domain.days import BusinessDay, DayState
from gateway.domain.ledger import AccountKind
from gateway.http.keys import gateway_key
from gateway.replay.client import Answer, GatewayClient, Identities, IdentityError, TransportError
from gateway.replay.envelopes import NotAMessage, read_message
from gateway.replay.fill import Filler
from gateway.replay.plan import PlanError
from gateway.replay.run import CannotRun, answer_facts, check_expectation, prepare
from gateway.runtime import Gateway, check_fiat_reserve
from gateway.treasury.days import DayNotClosable

closed_by = "gateway demo"


class DemoFailed(Exception):
    """The demo's day could not be played: the text says what stopped it."""


@dataclass
class DemoDay:
    clock: DemoClock
    identities: Identities
    console: Console
    serve: bool  # go on serving once the day is summed up
    explore: report.Explore | None
    lines: list[report.Line] = field(default_factory=list)
    closed_day: BusinessDay | None = None

    @property
    def not_as_scripted(self) -> int:
        """Messages whose answer was not the one the script expects."""
        return sum(1 for line in self.lines if line.failures)

    async def __call__(self, app: web.Application, url: str) -> bool:
        gateway = app[gateway_key]
        calendar = gateway.config.business_days.calendar
        today = calendar.next_business_day(self.clock.day)  # the real business date: the demo's day is the one before
        names = {p.bic: p.name for p in gateway.config.participants} | {
            gateway.config.central_bank.bic: gateway.config.central_bank.name
        }
        cutoff = calendar.cutoff_of(self.clock.day)
        report.world(self.console, await read_figures(gateway), self.clock.day,
                     demo_day_starts_at.strftime("%H:%M"), f"{cutoff:%Y-%m-%d %H:%M} Moscow time", today)
        try:
            entries = day_entries()
        except PlanError as error:
            raise DemoFailed(f"the shipped examples cannot be read: {error}") from None
        # One run: every file filled with the same values, at the demo day's first moment.
        filler = Filler(datetime.fromtimestamp(self.clock() / 1_000_000, business_zone))
        async with GatewayClient(url, self.identities, connections_max=len(names) + 1) as client:
            table = report.day_table(self.clock.day)
            with Live(table, console=self.console, auto_refresh=False, vertical_overflow="visible") as live:
                for step, entry in entries:
                    self.clock.advance_to(step.at)
                    try:
                        prepared = prepare(entry, filler, self.identities)
                        answer = await client.post(prepared.data, prepared.sender)
                    except (CannotRun, TransportError, IdentityError) as error:
                        raise DemoFailed(f"{entry.relative}: {error}") from None
                    facts = answer_facts(answer)
                    line = report.Line(
                        at_us=self.clock(),
                        sender_name=names.get(prepared.sender, prepared.sender),
                        sent=read_message(prepared.data).message_definition or "?",
                        what=step.what,
                        http_status=answer.status,
                        answer=facts[0],
                        status=facts[1],
                        reasons=facts[2],
                        words=_refusal_words(answer) if facts[1] == "RJCT" else None,
                        failures=tuple(check_expectation(entry.expect, answer, facts)),
                    )
                    self.lines.append(line)
                    report.add_line(table, line)
                    live.refresh()
            self.console.print()
            # The day is over: back to the real clock, past the day's cut-off, and close it.
            self.clock.follow_real_time()
            self.closed_day = await close_day(gateway, self.clock)
            banks = [p.bic for p in gateway.config.participants]
            mailboxes = await read_mailboxes(client, banks, self.identities)
        statements = sum(kinds.get("camt.053.001.08", 0) for kinds in mailboxes.values())
        report.closed(self.console, self.closed_day, statements)
        days = await gateway.days.days(self.clock.day, today)
        report.summary(self.console, await read_figures(gateway), self.lines, mailboxes, days, names)
        if self.not_as_scripted:
            self.console.print(f"[bold red]{self.not_as_scripted} message(s) were not answered as the script"
                               " expects (marked above)[/]")
        if not self.serve:
            return False
        assert self.explore is not None
        report.explore(self.console, self.explore)
        return True


async def close_day(gateway: Gateway, clock: DemoClock) -> BusinessDay:
    """Close the demo's day as `gateway day close` does (BusinessDays.close: only once its cut-off has passed, which
    the real clock now says it has); the next day, today, opens. The serving gateway checks every few seconds for
    days past their cut-off too, and may get there first: then the day is found closed, by it."""
    assert clock.follows_real_time
    try:
        await gateway.days.close(clock.day, closed_by)
    except DayNotClosable:
        pass  # closed already by the serving gateway's own check: the same close, written once
    day = await gateway.days.day(clock.day)
    if day is None or day.state is not DayState.CLOSED:
        raise DemoFailed(f"the business day {clock.day} did not close: {day}")
    return day


async def read_figures(gateway: Gateway) -> report.Figures:
    store, rtgs = gateway.store, gateway.rtgs
    accounts = await store.accounts()
    head = await store.head()
    issuance = next(a for a in accounts if a.kind is AccountKind.ISSUANCE)
    reserve = next(a for a in accounts if a.kind is AccountKind.RESERVE)
    cb = gateway.config.central_bank
    today = gateway.environment.business_date()
    banks = []
    configured = [cb.bic, *(p.bic for p in gateway.config.participants)]  # in the config's order, the CB first
    participants = sorted(await store.participants(),
                          key=lambda p: configured.index(p.bic) if p.bic in configured else len(configured))
    for participant in participants:
        rtgs_account = cb.reserve_rtgs_account if participant.bic == cb.bic else participant.rtgs_account
        balance = await rtgs.balance(rtgs_account)
        wallets = tuple(
            report.WalletFigure(a.owner_bic, a.code, a.posted_kopecks)
            for a in sorted(accounts, key=lambda a: (a.code != f"{a.owner_bic}/main", a.code))
            if a.kind is AccountKind.WALLET and a.owner_bic == participant.bic
        )
        banks.append(report.BankFigure(participant.bic, participant.name, participant.role, rtgs_account,
                                       None if balance is None else balance.booked_kopecks, wallets))
    check = await check_fiat_reserve(store, rtgs, today)
    return report.Figures(
        banks=tuple(banks),
        supply_kopecks=-issuance.posted_kopecks,
        reserve_kopecks=reserve.posted_kopecks,
        fiat_reserve_kopecks=check.fiat_reserve_kopecks,
        reserve_ok=check.ok,
        emission_cap_kopecks=head.emission_cap_kopecks,
        chain_seq=head.seq,
    )


async def read_mailboxes(client: GatewayClient, bics: list[str], identities: Identities) -> dict[str, Counter[str]]:
    """Each bank's whole mailbox, by message type, read over HTTPS as that bank."""
    mailboxes: dict[str, Counter[str]] = {}
    for bic in bics:
        if not identities.available(bic):
            continue
        kinds: Counter[str] = Counter()
        after = 0
        while True:
            try:
                messages, after = await client.mailbox(bic, after, bounds.mailbox_page_max)
            except (TransportError, IdentityError) as error:
                raise DemoFailed(f"reading {bic}'s mailbox: {error}") from None
            kinds.update(m.message_type or "?" for m in messages)
            if len(messages) < bounds.mailbox_page_max:
                break
        mailboxes[bic] = kinds
    return mailboxes


def _refusal_words(answer: Answer) -> str | None:
    """The gateway's own words for a refusal: a pacs.002's AddtlInf, an admi.002's RsnDesc."""
    try:
        document = read_message(answer.body).document
    except NotAMessage:
        return None
    if document is None:
        return None
    for element in document.iter():
        if isinstance(element.tag, str) and etree.QName(element).localname in ("AddtlInf", "RsnDesc"):
            words = " ".join((element.text or "").split())
            if words:
                longest = bounds.demo_refusal_words_chars_max
                return words if len(words) <= longest else words[: longest - 3] + "..."
    return None
