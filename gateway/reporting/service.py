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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from types import MappingProxyType

from gateway import bounds
from gateway.domain.calendar import business_zone, instant, microseconds
from gateway.domain.journal import MessageStatus
from gateway.domain.ledger import TransferKind
from gateway.handling.journaling import AnsweringFlow, Journaling
from gateway.handling.received import Received, Reply
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
from gateway.messages.writers import report_message
from gateway.reporting.ports import (
    AccountHistory,
    WalletHistory,
    WalletHold,
    WalletMovement,
)

camt_052 = MessageId("camt", "052", "001", "08")
camt_053 = MessageId("camt", "053", "001", "08")
camt_060 = MessageId("camt", "060", "001", "05")


_conversion_info = {
    TransferKind.MINT: "fiat roubles converted into cryptoroubles (camt.050)",
    TransferKind.BURN: "cryptoroubles converted back into fiat roubles (camt.050)",
}


class ReportTooLong(Exception):
    """A wallet's period holds more postings than one report may carry."""

    def __init__(self, request: ReportingRequest, wallet_code: str) -> None:
        super().__init__(
            f"the period holds more than {bounds.report_pages_max * bounds.report_entries_max} postings on {wallet_code}: ask for"
            " a shorter period (RptgPrd/FrToTm narrows a day)"
        )
        self.request = request


@dataclass(frozen=True, slots=True)
class _Window:
    """A request's period as ledger instants [from_us, to_us), and the dates it covers."""

    from_us: int
    to_us: int
    from_date: date
    to_date: date
    reaches_now: bool


class ReportRequests(AnsweringFlow):
    """The flow of camt.060: reports on the sender's wallets as the ledger stands now, every page to the mailbox,
    the first one also back on HTTP. Not claimed: a repeated request is answered again, with what is true by then."""

    def __init__(self, journaling: Journaling, history: AccountHistory) -> None:
        super().__init__(journaling)
        self.reports = AccountReports(history, journaling.gateway_bic, journaling.app_hdr_versions)

    async def handle(self, message: Received) -> Reply:
        command = message.command
        assert isinstance(command, AccountReportingRequest)
        sender = message.sender_bic
        try:
            outbound = await self.reports.answer(
                command, sender, message.header, message.directory.wallet_ids, message.received_at_us
            )
        except ReportTooLong as error:
            rejection = Rejection(codes.narrative, error.request.path, str(error), Layer.BUSINESS)
            return await self.refuse(message, rejection)
        if not outbound:
            rejection = Rejection(codes.narrative, command.path, f"{sender} has no wallet to report on", Layer.BUSINESS)
            return await self.refuse(message, rejection)
        inbound = self.journaling.inbound(message, MessageStatus.ACCEPTED)
        await self.journaling.answered(inbound, outbound[0], sender, outbound[1:])
        return Reply(200, outbound[0].payload, "accepted", message.message_type)


class AccountReports:
    """Builds the report messages answering one camt.060."""

    def __init__(
        self, history: AccountHistory, gateway_bic: str, app_hdr_versions: Mapping[str, MessageId] = MappingProxyType({})
    ) -> None:
        self._history = history
        self._gateway_bic = gateway_bic
        self._app_hdr_versions = app_hdr_versions  # reports are written in a bank's AppHdr version, if it set one
        self.page_entries_max = bounds.report_entries_max  # entries per page; smaller only in tests of paging

    async def answer(
        self,
        command: AccountReportingRequest,
        sender: str,
        header: BusinessHeader,
        wallet_ids: dict[str, int],
        now_us: int,
    ) -> list[Outbound]:
        """One message per page of each wallet's report, in request order. Raises ReportTooLong."""
        now = instant(now_us)
        original = OriginalMessage(command.message_id, str(camt_060), command.creation_time)
        outbound: list[Outbound] = []
        for request in command.requests:
            message = camt_053 if request.requested_message_name_id == str(camt_053) else camt_052
            window = _window(request, now_us)
            for code in _wallets(request, sender, wallet_ids):
                history = await self._history.wallet_history(
                    wallet_ids[code], window.from_us, window.to_us, bounds.report_pages_max * self.page_entries_max
                )
                if history is None:
                    raise ReportTooLong(request, code)
                for page in self._pages(message, code, sender, window, history, now):
                    outbound.append(self._message(message, sender, header, original, page, now))
        return outbound

    def _pages(
        self, message: MessageId, code: str, owner: str, window: _Window, history: WalletHistory, now: datetime
    ) -> list[AccountStatement]:
        intraday = message == camt_052
        entries = [_booked_entry(movement) for movement in history.movements]
        if intraday and window.reaches_now:
            entries += [_pending_entry(hold) for hold in history.holds]
        size = self.page_entries_max
        chunks = [entries[start : start + size] for start in range(0, len(entries), size)] or [[]]
        assert len(chunks) <= page_number_max, len(chunks)
        account = ReportedAccount(
            AccountId(code, wallet_scheme), None, PartyIdentification(None, owner), self._gateway_bic
        )
        end = min(instant(window.to_us), now)
        period = Period(instant(window.from_us), instant(window.to_us)) if intraday else None
        pages, booked = [], history.opening_kopecks
        for number, chunk in enumerate(chunks, start=1):
            first, last = number == 1, number == len(chunks)
            opening_balance = Balance(BalanceType.OPBD if first else BalanceType.ITBD, booked, window.from_date)
            booked += sum(e.signed_kopecks for e in chunk if e.status is EntryStatus.BOOK)
            if intraday:
                closing_balance = Balance(BalanceType.ITBD, booked, end if last else _last_booking(chunk, end))
            else:
                closing_balance = Balance(BalanceType.CLBD if last else BalanceType.ITBD, booked, window.to_date)
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
                    additional_info=None,
                )
            )
        assert booked == history.closing_kopecks, (booked, history.closing_kopecks)
        return pages

    def _message(
        self, message: MessageId, receiver: str, answering: BusinessHeader, original: OriginalMessage,
        page: AccountStatement, now: datetime,
    ) -> Outbound:
        reference = new_message_id()
        report = BankToCustomerReport(ReportHeader(reference, now, PartyIdentification(None, receiver), original), (page,))
        configured = self._app_hdr_versions.get(receiver)
        app_hdr = answers.header(self._gateway_bic, receiver, message, reference, now, answering, configured)
        return Outbound(message, reference, receiver, report_message(message, app_hdr, report))


def _wallets(request: ReportingRequest, owner: str, wallet_ids: dict[str, int]) -> list[str]:
    """The wallet named (the rules checked it is the owner's and registered), or every wallet of the owner."""
    if request.account is not None:
        code = wallet_code_of(request.account)
        assert code is not None and code in wallet_ids, "reports_asked_by_owner admits only registered wallets"
        return [code]
    return sorted(code for code in wallet_ids if code.partition("/")[0] == owner)


def _window(request: ReportingRequest, now_us: int) -> _Window:
    """The instants a request's period covers, in the business zone unless its times name an offset, cut at now."""
    period = request.period
    assert period is not None, "reporting_period_required admits only requests with a period"
    today = instant(now_us).date()
    to_date = period.to_date or today
    start = _at(period.from_date, period.from_time or time(0, 0))
    if period.to_time is None or period.to_time.replace(tzinfo=None) == time.max:
        end = datetime.combine(to_date + timedelta(days=1), time(0, 0), business_zone)
    else:
        end = _at(to_date, period.to_time)
    from_us = microseconds(start)
    to_us = min(microseconds(end), now_us + 1)  # not past now: the last posting is in, nothing later can be
    from_us = min(from_us, to_us)
    return _Window(from_us, to_us, period.from_date, to_date, reaches_now=to_us > now_us)


def _at(day: date, moment: time) -> datetime:
    zone = moment.tzinfo or business_zone
    return datetime.combine(day, moment.replace(tzinfo=None), zone)


def _last_booking(entries: Sequence[Entry], default: datetime) -> datetime:
    """When the last booked entry of a page was booked (a page ending in pending entries only: `default`)."""
    booked = [e.booking_date for e in entries if isinstance(e.booking_date, datetime)]
    return booked[-1] if booked else default


def _booked_entry(movement: WalletMovement) -> Entry:
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
        value_date=booked_at.date(),
        account_servicer_reference=reference,
        bank_transaction_code=answers.entry_codes[(movement.kind, direction)],
        transactions=transactions,
        additional_info=_conversion_info.get(movement.kind),
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
        additional_info=_conversion_info.get(hold.kind),
    )
