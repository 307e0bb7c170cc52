"""Account reports for banks: a camt.060 answered with a camt.052 intraday report or a camt.053 statement per wallet.

A report covers the period the request names (business days in Moscow time, narrowed by FrTm/ToTm when given, and
never past now), opens with the wallet's booked balance at its start and closes with the balance at its end, and
lists every posting in between, so that opening + credits - debits = closing (asserted by AccountStatement). An
intraday report also lists the wallet's pending holds (PDNG, in no booked balance) and what is available now.
A report longer than one page is sent as several messages, one page each, numbered, the last one marked; a wallet
whose period holds more than bounds.report_pages_max pages is refused (NARR), and the bank asks for a shorter period.

Every request of a camt.060 is answered; the answers go to the bank's mailbox, and the first one also back on HTTP.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time

from gateway import bounds
from gateway.domain.calendar import (
    BusinessCalendar,
    business_zone,
    instant,
    microseconds,
)
from gateway.domain.days import BusinessDay, DayState
from gateway.domain.journal import MessageStatus
from gateway.domain.money import text_from_kopecks
from gateway.handling.journaling import AnsweringFlow, Journaling
from gateway.handling.received import Received, Reply
from gateway.ledger.ports import BusinessDayStore
from gateway.messages import answers, codes
from gateway.messages.answers import Outbound, new_message_id, wallet_scheme
from gateway.messages.commands import (
    AccountReportingRequest,
    BusinessHeader,
    OriginalMessage,
    ReportingRequest,
)
from gateway.messages.identity import MessageId
from gateway.messages.rejections import Layer, Rejection
from gateway.messages.rules import wallet_code_of
from gateway.messages.statements import (
    AccountId,
    AccountStatement,
    Balance,
    BalanceType,
    BankToCustomerReport,
    CreditDebit,
    Entry,
    EntryStatus,
    EntryTransaction,
    Pagination,
    PartyIdentification,
    Period,
    ReportedAccount,
    ReportHeader,
    page_number_max,
)
from gateway.messages.writers import Recipients, report_message, unconfigured
from gateway.reporting.ports import (
    AccountHistory,
    WalletHistory,
    WalletHold,
    WalletMovement,
)

camt_052 = MessageId("camt", "052", "001", "08")
camt_053 = MessageId("camt", "053", "001", "08")
camt_060 = MessageId("camt", "060", "001", "05")
sequence_open_ended = 2**62  # the open day's postings have no last sequence yet


class ReportTooLong(Exception):
    """A wallet's day holds more postings than one report may carry."""

    def __init__(self, request: ReportingRequest, wallet_code: str) -> None:
        super().__init__(
            f"the day holds more than {bounds.report_pages_max * bounds.report_entries_max} postings on {wallet_code}:"
            " ask for a shorter period (RptgPrd/FrToTm narrows a day)"
        )
        self.request = request


class NothingToReport(Exception):
    """No business day of a request's period can be reported yet (a statement covers closed days only)."""

    def __init__(self, request: ReportingRequest, text: str) -> None:
        super().__init__(text)
        self.request = request


@dataclass(frozen=True, slots=True)
class _Window:
    """One business day of a request, and the instants [from_us, to_us) its FrTm/ToTm narrow it to (None: the
    whole day). `reaches_now`: the open day, up to now (its pending holds and what is available are shown)."""

    day: BusinessDay
    day_start_us: int  # when the day began: the previous business day's cut-off
    from_us: int | None
    to_us: int | None
    reaches_now: bool


@dataclass(frozen=True, slots=True)
class _Selection:
    """ReqdTxTp and ReqdBalTp of one request: which entries and which balances the report shows."""

    status: EntryStatus | None
    direction: CreditDebit | None
    floor_kopecks: dict[CreditDebit, int]
    balances: frozenset[BalanceType] | None

    @classmethod
    def of(cls, request: ReportingRequest) -> _Selection:
        kind = request.transaction_type
        floors: dict[CreditDebit, int] = {}
        if kind is not None:
            for limit in kind.floor_limits:
                sides = {"CRED": (CreditDebit.CRDT,), "DEBT": (CreditDebit.DBIT,)}.get(
                    limit.credit_debit, (CreditDebit.CRDT, CreditDebit.DBIT)
                )
                for side in sides:
                    floors[side] = max(floors.get(side, 0), limit.amount.kopecks)
        return cls(
            status=None if kind is None or kind.status_code is None else EntryStatus(kind.status_code),
            direction=None if kind is None else CreditDebit(kind.credit_debit),
            floor_kopecks=floors,
            balances=frozenset(BalanceType(b.code) for b in request.balance_types if b.code) or None,
        )

    @property
    def selects_entries(self) -> bool:
        return self.status is not None or self.direction is not None or bool(self.floor_kopecks)

    def keeps(self, entry: Entry) -> bool:
        return (
            (self.status is None or entry.status is self.status)
            and (self.direction is None or entry.direction is self.direction)
            and entry.kopecks >= self.floor_kopecks.get(entry.direction, 0)
        )


class ReportRequests(AnsweringFlow):
    """The flow of camt.060: reports on the sender's wallets, one per wallet per business day, every page to the
    mailbox, the first one also back on HTTP. The request claims its id: the same request sent again is answered
    from the journal with the reports it was first answered with."""

    def __init__(
        self, journaling: Journaling, history: AccountHistory, days: BusinessDayStore, calendar: BusinessCalendar
    ) -> None:
        super().__init__(journaling)
        self.reports = AccountReports(history, journaling.gateway_bic, journaling.recipients)
        self.days = days
        self.calendar = calendar

    async def handle(self, message: Received) -> Reply:
        command = message.command
        assert isinstance(command, AccountReportingRequest)
        sender = message.sender_bic
        try:
            outbound = await self.reports.answer(
                command, sender, message.header, message.directory.wallet_ids, self.days, self.calendar,
                message.received_at_us,
            )
        except (ReportTooLong, NothingToReport) as error:
            rejection = Rejection(codes.narrative, error.request.path, str(error), Layer.BUSINESS)
            return await self.refuse(message, rejection)
        if not outbound:
            rejection = Rejection(codes.narrative, command.path, f"{sender} has no wallet to report on", Layer.BUSINESS)
            return await self.refuse(message, rejection)
        inbound = self.journaling.inbound(message, MessageStatus.ACCEPTED, claimed=True)
        await self.journaling.answered(inbound, outbound[0], sender, outbound[1:])
        return Reply(200, outbound[0].payload, "accepted", message.message_type)


class AccountReports:
    """Builds the report messages answering one camt.060, and the end-of-day statements of a closed day."""

    def __init__(
        self, history: AccountHistory, gateway_bic: str, recipients: Recipients = unconfigured
    ) -> None:
        self._history = history
        self._gateway_bic = gateway_bic
        self._recipients = recipients  # reports are written as each bank is (Journaling.recipients)
        self.page_entries_max = bounds.report_entries_max  # entries per page; smaller only in tests of paging

    async def answer(
        self,
        command: AccountReportingRequest,
        sender: str,
        header: BusinessHeader,
        wallet_ids: dict[str, int],
        days: BusinessDayStore,
        calendar: BusinessCalendar,
        now_us: int,
    ) -> list[Outbound]:
        """One message per page of each wallet's report of each business day, in request order. Raises
        ReportTooLong, NothingToReport."""
        now = instant(now_us)
        original = OriginalMessage(command.message_id, str(camt_060), command.creation_time)
        outbound: list[Outbound] = []
        for request in command.requests:
            message = camt_053 if request.requested_message_name_id == str(camt_053) else camt_052
            selection = _Selection.of(request)
            windows = await _windows(request, message, days, calendar, now_us)
            for window in windows:
                for code in _wallets(request, sender, wallet_ids):
                    history = await self._day_history(wallet_ids[code], window, request, code)
                    for page in self._pages(message, code, sender, window, history, selection, now):
                        outbound.append(self._message(message, sender, header, original, page, now))
        return outbound

    async def day_statements(
        self, day: BusinessDay, owner: str, wallet_code: str, account_id: int, now_us: int
    ) -> list[Outbound]:
        """The camt.053 end-of-day statement of one wallet for a closed (or closing) business day, in pages."""
        assert day.last_seq is not None, "a day is stated once its last posting is fixed"
        history = await self._history.wallet_history_between(
            account_id, day.first_seq, day.last_seq, bounds.report_pages_max * self.page_entries_max
        )
        if history is None:
            raise StatementTooLong(day, wallet_code)
        window = _Window(day, day.opened_at_us, None, None, reaches_now=False)  # a statement states no period
        now = instant(now_us)
        pages = self._pages(camt_053, wallet_code, owner, window, history, _Selection(None, None, {}, None), now)
        return [self._message(camt_053, owner, None, None, page, now) for page in pages]

    async def _day_history(
        self, account_id: int, window: _Window, request: ReportingRequest, code: str
    ) -> WalletHistory:
        day = window.day
        through = day.last_seq if day.last_seq is not None else sequence_open_ended
        history = await self._history.wallet_history_between(
            account_id, day.first_seq, through, bounds.report_pages_max * self.page_entries_max,
            window.from_us, window.to_us,
        )
        if history is None:
            raise ReportTooLong(request, code)
        return history

    def _pages(
        self, message: MessageId, code: str, owner: str, window: _Window, history: WalletHistory,
        selection: _Selection, now: datetime,
    ) -> list[AccountStatement]:
        intraday = message == camt_052
        business_date = window.day.business_date
        entries = [_booked_entry(movement, business_date) for movement in history.movements]
        if intraday and window.reaches_now:
            entries += [_pending_entry(hold) for hold in history.holds]
        selected = selection.selects_entries
        if selected:
            entries = [entry for entry in entries if selection.keeps(entry)]
        size = self.page_entries_max
        chunks = [entries[start : start + size] for start in range(0, len(entries), size)] or [[]]
        assert len(chunks) <= page_number_max, len(chunks)
        account = ReportedAccount(
            AccountId(code, wallet_scheme), None, PartyIdentification(None, owner), self._gateway_bic
        )
        start_us = window.from_us if window.from_us is not None else window.day_start_us
        end_us = window.to_us if window.to_us is not None else window.day.cutoff_at_us
        start = instant(start_us)
        end = max(min(instant(end_us), now), start)  # what the report covers: never past now (empty if all ahead)
        period = Period(start, end) if intraday else None
        pages, booked = [], history.opening_kopecks
        for number, chunk in enumerate(chunks, start=1):
            first, last = number == 1, number == len(chunks)
            opening_balance = Balance(BalanceType.OPBD if first else BalanceType.ITBD, booked, business_date)
            if selected:  # a selection need not add up: each page carries the day's booked balances
                booked = history.closing_kopecks if last else booked
            else:
                booked += sum(e.signed_kopecks for e in chunk if e.status is EntryStatus.BOOK)
            if intraday:
                closing_balance = Balance(BalanceType.ITBD, booked, end if last else _last_booking(chunk, end))
            else:
                closing_balance = Balance(BalanceType.CLBD if last else BalanceType.ITBD, booked, business_date)
            available = None
            if intraday and last and window.reaches_now:
                available = Balance(BalanceType.ITAV, booked - history.debits_pending_kopecks, now)
            pages.append(
                AccountStatement(
                    statement_id=new_message_id(),
                    pagination=Pagination(number, last),
                    electronic_sequence_number=None,
                    creation_time=now,
                    period=period,
                    account=account,
                    opening=opening_balance,
                    closing=closing_balance,
                    available=available,
                    entries=tuple(chunk),
                    additional_info=_selection_note(selection) if selected else None,
                    balances_shown=selection.balances,
                    entries_selected=selected,
                )
            )
        assert booked == history.closing_kopecks, (booked, history.closing_kopecks)
        return pages

    def _message(
        self, message: MessageId, receiver: str, answering: BusinessHeader | None, original: OriginalMessage | None,
        page: AccountStatement, now: datetime,
    ) -> Outbound:
        reference = new_message_id()
        report = BankToCustomerReport(ReportHeader(reference, now, PartyIdentification(None, receiver), original), (page,))
        configured = self._recipients.get(receiver)
        app_hdr = answers.header(self._gateway_bic, receiver, message, reference, now, answering, configured)
        return Outbound(message, reference, receiver, report_message(message, app_hdr, report))


class StatementTooLong(Exception):
    """A wallet's business day holds more postings than one end-of-day statement may carry."""

    def __init__(self, day: BusinessDay, wallet_code: str) -> None:
        super().__init__(
            f"{day.business_date}: {wallet_code} holds more than "
            f"{bounds.report_pages_max * bounds.report_entries_max} postings: raise bounds.report_pages_max"
        )


def _wallets(request: ReportingRequest, owner: str, wallet_ids: dict[str, int]) -> list[str]:
    """The wallet named (the rules checked it is the owner's and registered), or every wallet of the owner."""
    if request.account is not None:
        code = wallet_code_of(request.account)
        assert code is not None and code in wallet_ids, "reports_asked_by_owner admits only registered wallets"
        return [code]
    return sorted(code for code in wallet_ids if code.partition("/")[0] == owner)


async def _windows(
    request: ReportingRequest, message: MessageId, days: BusinessDayStore, calendar: BusinessCalendar, now_us: int
) -> list[_Window]:
    """The business days a request's period covers, each once: closed days for a statement, closed days and the
    open day for an intraday report; FrTm/ToTm (in their offset, Moscow time without one) narrow them."""
    period = request.period
    assert period is not None, "reporting_period_required admits only requests with a period"
    today = calendar.business_date_at(now_us)
    to_date = min(period.to_date or today, today)
    start_us = None if period.from_time is None else microseconds(_at(period.from_date, period.from_time))
    end_us = None
    if period.to_time is not None and period.to_time.replace(tzinfo=None) != time.max:
        end_us = microseconds(_at(period.to_date or today, period.to_time))
    statement = message == camt_053
    windows = []
    for day in await days.days(period.from_date, to_date):
        if statement and day.state is not DayState.CLOSED:
            continue
        open_now = day.state is DayState.OPEN
        reaches_now = open_now and (end_us is None or end_us > now_us)
        day_start_us = calendar.cutoff_us(calendar.previous_business_day(day.business_date))
        windows.append(_Window(day, day_start_us, start_us, end_us, reaches_now))
    if not windows:
        what = "closed business day" if statement else "business day"
        until = (period.to_date or today).isoformat()
        raise NothingToReport(
            request,
            f"no {what} from {period.from_date.isoformat()} to {until} to report"
            + ("; a day's statement comes as it closes, at its cut-off, and a camt.052 reports the open day"
               if statement else ""),
        )
    return windows


def _selection_note(selection: _Selection) -> str:
    parts = []
    if selection.status is not None:
        parts.append("booked" if selection.status is EntryStatus.BOOK else "pending")
    if selection.direction is not None:
        parts.append("credits" if selection.direction is CreditDebit.CRDT else "debits")
    parts += [
        f"{'credits' if side is CreditDebit.CRDT else 'debits'} of {text_from_kopecks(kopecks)} RUB or more"
        for side, kopecks in sorted(selection.floor_kopecks.items(), key=lambda item: item[0].value)
    ]
    return "entries selected as asked (ReqdTxTp): " + ", ".join(parts) + "; the balances are the account's"


def _at(day: date, moment: time) -> datetime:
    zone = moment.tzinfo or business_zone
    return datetime.combine(day, moment.replace(tzinfo=None), zone)


def _last_booking(entries: Sequence[Entry], default: datetime) -> datetime:
    """When the last booked entry of a page was booked (a page ending in pending entries only: `default`)."""
    booked = [e.booking_date for e in entries if isinstance(e.booking_date, datetime)]
    return booked[-1] if booked else default


def _booked_entry(movement: WalletMovement, business_date: date) -> Entry:
    """A posting as an entry: booked when the ledger posted it, value-dated on the business day that holds it."""
    direction = CreditDebit.CRDT if movement.signed_kopecks > 0 else CreditDebit.DBIT
    kopecks = abs(movement.signed_kopecks)
    booked_at = instant(movement.created_at_us)
    reference = movement.transfer_id.hex
    transactions: tuple[EntryTransaction, ...] = ()
    if movement.message_reference is not None or movement.end_to_end_id is not None:
        transactions = (
            answers.payment_details(
                movement.transfer_id, kopecks, direction, movement.message_reference, movement.instruction_id,
                movement.end_to_end_id, movement.uetr, movement.transaction_id, movement.debtor_agent_bic,
                movement.creditor_agent_bic,
            ),
        )
    return Entry(
        reference=reference,
        kopecks=kopecks,
        direction=direction,
        status=EntryStatus.BOOK,
        booking_date=booked_at,
        value_date=business_date,
        account_servicer_reference=reference,
        bank_transaction_code=answers.entry_codes[(movement.kind, direction)],
        transactions=transactions,
        additional_info=answers.conversion_entry_info.get(movement.kind),
    )


def _pending_entry(hold: WalletHold) -> Entry:
    direction = CreditDebit.CRDT if hold.signed_kopecks > 0 else CreditDebit.DBIT
    return Entry(
        reference=hold.transfer_id.hex,
        kopecks=abs(hold.signed_kopecks),
        direction=direction,
        status=EntryStatus.PDNG,
        booking_date=None,
        value_date=None,
        account_servicer_reference=hold.transfer_id.hex,
        bank_transaction_code=answers.entry_codes[(hold.kind, direction)],
        transactions=(),
        additional_info=answers.conversion_entry_info.get(hold.kind),
    )
