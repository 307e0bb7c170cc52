"""The RTGS port (gateway.conversion.ports.Rtgs) spoken in ISO 20022, both ways: docs/rtgs-protocol.md in code.

Gateway side (http_client): each port call becomes a request (camt.050 for a movement, camt.060 for a balance or a
statement page) and its answer (camt.025, camt.052, camt.053) becomes an RtgsOutcome, FiatBalance or FiatStatement.
RTGS side (http_server): a request becomes one port call (an Operation) and the port's result becomes the answer.

Every message travels in the gateway's envelope with its AppHdr: requests from the gateway's BIC to the RTGS's BIC,
answers the other way, relating to the request they answer. Every inbound message, either side, is parsed with the
hardened parser and validated against the project's schemas before a single field is read. On the gateway side an
answer that fails any check (not XML, not valid, not from the RTGS, not about our request, an unknown code, figures
that do not add up) raises RtgsUnavailable: the call's outcome is unknown and it is retried with the same id. On
the RTGS side a request that fails is a Refusal, which the server answers with an admi.002.

How a movement is named (camt.050): the request id is MsgHdr/MsgId alone (32 lower-case hex digits: a UUID's hex
form, since the hyphenated form is 36 characters, beyond Max35Text). LqdtyTrfId names the liquidity transfer as the
bank's camt.050 named it (FiatReferences): InstrId its MsgHdr/MsgId, EndToEndId, TxId and UETR its own; a commit or
release carries none of its own (EndToEndId NOTPROVIDED alone: the RTGS books a commit with its hold's). Statement
entries give them back in NtryDtls/TxDtls/Refs: MsgId the camt.050's MsgId, InstrId the request id that booked it,
EndToEndId, TxId and UETR the camt.050's. An RTGS account is Id/Othr/Id alone; a hold is an account of its own,
Id/Othr/Id = the hold id's hex with SchmeNm/Prtry RTGS-HOLD:
    reserve              DbtrAcct bank account  -> CdtrAcct hold        TrfdAmt/AmtWthCcy RUB amount; request id = hold id
    commit               DbtrAcct hold          -> CdtrAcct reserve     TrfdAmt/AmtWthtCcy 0: the whole held amount
    release              DbtrAcct hold,            no CdtrAcct          TrfdAmt/AmtWthtCcy 0: back where it came from
    credit_from_reserve  DbtrAcct reserve       -> CdtrAcct bank account TrfdAmt/AmtWthCcy RUB amount
"""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from types import MappingProxyType
from typing import NoReturn, TypeAlias

from lxml import etree

from gateway_adapters.rtgs.references import not_provided

from gateway import bounds
from gateway.config import canonical_bic
from gateway.conversion.ports import (
    FiatBalance,
    FiatDirection,
    FiatEntry,
    FiatReferences,
    FiatStatement,
    Rtgs,
    RtgsOutcome,
    RtgsUnavailable,
)
from gateway.domain.money import currency_code
from gateway.messages import codes
from gateway.messages.answers import (
    header as business_header,  # the same AppHdr as the gateway's answers
)
from gateway.messages.commands import (
    Account,
    AccountReportingRequest,
    BusinessHeader,
    LiquidityTransfer,
    OriginalMessage,
)
from gateway.messages.envelope import Unwrapped, unwrap
from gateway.messages.identity import MessageId
from gateway.messages.intake import Refused, open_message
from gateway.messages.iso_types import fit, parse_date, parse_datetime, parse_kopecks
from gateway.messages.readers import admi_002_001_01 as admi_002_reader
from gateway.messages.readers import camt_050_001_05 as camt_050_reader
from gateway.messages.readers import camt_060_001_05 as camt_060_reader
from gateway.messages.rejections import Layer, Rejection, excerpt, invalid_file_format
from gateway.messages.reports import (
    MessageReject,
    PaymentStatus,
    Receipt,
    ReceiptDetails,
    RequestHandling,
    message_reject,
    no_reference,
    request_description_chars_max,
    request_handling,
)
from gateway.messages.safe_xml import parse_bounded
from gateway.messages.schemas import compiled
from gateway.messages.statements import (
    AccountId,
    AccountStatement,
    Balance,
    BalanceType,
    BankToCustomerReport,
    BankTransactionCode,
    CreditDebit,
    Entry,
    EntryStatus,
    EntryTransaction,
    Pagination,
    PartyIdentification,
    ReportedAccount,
    ReportHeader,
    page_number_max,
    report_text_chars_max,
)
from gateway.messages.writers import (
    account_report_query_message,
    liquidity_transfer_message,
    message_reject_message,
    receipt_message,
    report_message,
)
from gateway.messages.writers import admi_002_001_01 as admi_002_writer
from gateway.messages.writers import camt_025_001_05 as camt_025_writer
from gateway.messages.writers import camt_050_001_05 as camt_050_writer
from gateway.messages.writers import camt_052_001_08 as camt_052_writer
from gateway.messages.writers import camt_053_001_08 as camt_053_writer
from gateway.messages.writers import camt_060_001_05 as camt_060_writer
from gateway.messages.writers.camt_050_001_05 import LiquidityCreditTransfer
from gateway.messages.writers.camt_060_001_05 import (
    AccountReportQuery,
    QueryType,
    ReportQuery,
)

# The message versions of the protocol.
liquidity_transfer = camt_050_writer.message_id  # request: every movement
report_query = camt_060_writer.message_id  # request: a balance or a statement page
receipt = camt_025_writer.message_id  # answer to a movement, and to a report query on an unknown account
intraday_report = camt_052_writer.message_id  # answer: a balance
statement = camt_053_writer.message_id  # answer: one page of a statement
message_rejected = admi_002_writer.message_id  # answer with HTTP 4xx: a request the RTGS could not read

# A hold, named as an account: Id/Othr/Id is the hold id's 32 hex digits, under this proprietary scheme.
hold_scheme = "RTGS-HOLD"


# camt.025 RequestHandling: the status first, as a pacs.002 gives it (gateway.messages.reports.RequestHandling), and
# after RJCT a second one whose StsCd is the ExternalStatusReason1Code of the outcome and whose Desc starts with the
# outcome's name. Each outcome has a code of its own, so the code alone says which it is.
done_status = PaymentStatus.ACSC.value
rejected_status = PaymentStatus.RJCT.value
reason_codes: Mapping[RtgsOutcome, str] = MappingProxyType(
    {
        RtgsOutcome.INSUFFICIENT_FUNDS: codes.insufficient_funds,
        RtgsOutcome.UNKNOWN_ACCOUNT: codes.incorrect_account_number,  # no such RTGS account
        RtgsOutcome.ACCOUNT_BLOCKED: codes.blocked_account,
        RtgsOutcome.HOLD_NOT_FOUND: codes.invalid_debtor_account_number,  # the hold (a commit's DbtrAcct) never opened
        RtgsOutcome.HOLD_RELEASED: codes.closed_account_number,  # the hold was closed by a release
        RtgsOutcome.HOLD_COMMITTED: codes.narrative,  # ISO has no "already settled"; Desc says hold_committed
        RtgsOutcome.REQUEST_CONFLICT: codes.duplicate_payment,  # the id was used for another request
    }
)
outcomes_by_reason: Mapping[str, RtgsOutcome] = MappingProxyType({code: o for o, code in reason_codes.items()})
assert len(outcomes_by_reason) == len(reason_codes), "one code per outcome"
assert set(reason_codes) == set(RtgsOutcome) - {RtgsOutcome.DONE}, "every refusal has its code"

_descriptions: Mapping[RtgsOutcome, str] = MappingProxyType(
    {
        RtgsOutcome.DONE: "took effect, now or on an earlier request with this id",
        RtgsOutcome.INSUFFICIENT_FUNDS: "the account's available balance is below the amount",
        RtgsOutcome.UNKNOWN_ACCOUNT: "no such RTGS account",
        RtgsOutcome.ACCOUNT_BLOCKED: "the account may not be debited or credited",
        RtgsOutcome.HOLD_NOT_FOUND: "no hold was ever reserved under this id",
        RtgsOutcome.HOLD_RELEASED: "the hold was released",
        RtgsOutcome.HOLD_COMMITTED: "the hold was committed: its money is booked to the reserve account",
        RtgsOutcome.REQUEST_CONFLICT: "the request id was used before for another operation or content",
    }
)

# Every RTGS booking is a liquidity transfer between accounts at the central bank: Cash Management / Account
# Balancing / Other.
booking_transaction_code = BankTransactionCode("CAMT", "ACCB", "OTHR", None, None)

# admi.002 codes (ExternalStatusReason1Code) of requests that are valid ISO 20022 but do not fit the protocol.
unknown_message = invalid_file_format  # FF01: a message version the RTGS is not asked with
wrong_receiver = codes.invalid_bank_identifier  # AppHdr/To is not the RTGS, as the gateway says it for itself
invalid_reference = codes.element_content_incorrect  # not a request id, references missing or where none belong
invalid_account = codes.incorrect_account_number  # a report's Acct not named as an RTGS account
invalid_debtor_account = codes.invalid_debtor_account_number
invalid_creditor_account = codes.invalid_creditor_account_number
invalid_amount = codes.invalid_amount
element_not_admitted = codes.element_not_admitted  # SttlmDt, RptgSeq ranges, ReqdTxTp...
request_not_supported = codes.element_content_incorrect  # a report, period or RptgReq count not given

_request_id = re.compile(r"[0-9a-f]{32}")
_entry_sequence = re.compile(r"[0-9]{1,18}")  # an entry id as RptgSeq/FrSeq carries it: decimal, 64-bit
_answer_id_prefix = "RT"  # the RTGS's own message ids: RT and 32 hex digits, within Max35Text


class RtgsProtocolError(ValueError):
    """The RTGS refused a request as unreadable or not allowed (HTTP 4xx, usually with an admi.002): a bug on the
    gateway's side or a misconfiguration (wrong BIC, wrong certificate), never a business outcome. Not retried.
    A ValueError, as the embedded simulator raises for a call it refuses as a programmer's error (a statement
    period too long): the port's contract holds over HTTP too."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(f"the RTGS refused the request (HTTP {status}): {text}")
        self.status = status
        self.text = text


@dataclass(frozen=True, slots=True)
class Parties:
    """Who talks: the gateway (the central bank's BIC) and the RTGS. Requests go gateway -> RTGS."""

    gateway_bic: str
    rtgs_bic: str


def new_message_id() -> str:
    return _answer_id_prefix + uuid.uuid4().hex


def now_utc() -> datetime:
    return datetime.now(UTC)


# ==============================================================================================================
# Gateway side: requests out
# ==============================================================================================================


@dataclass(frozen=True, slots=True)
class Request:
    """One request ready to send, and what identifies its answer."""

    message_id: str  # MsgHdr/MsgId or GrpHdr/MsgId: the answer quotes it
    message: MessageId  # camt.050 or camt.060
    payload: bytes  # the envelope


def reserve_request(
    parties: Parties, hold_id: uuid.UUID, account: str, amount_kopecks: int, references: FiatReferences, now: datetime
) -> Request:
    assert amount_kopecks > 0, amount_kopecks
    return _movement(parties, hold_id, _account(account), _hold(hold_id), amount_kopecks, references, now)


def commit_request(
    parties: Parties, request_id: uuid.UUID, hold_id: uuid.UUID, reserve_account: str, now: datetime
) -> Request:
    return _movement(parties, request_id, _hold(hold_id), _account(reserve_account), None, None, now)


def release_request(parties: Parties, request_id: uuid.UUID, hold_id: uuid.UUID, now: datetime) -> Request:
    return _movement(parties, request_id, _hold(hold_id), None, None, None, now)


def credit_request(
    parties: Parties,
    request_id: uuid.UUID,
    reserve_account: str,
    account: str,
    amount_kopecks: int,
    references: FiatReferences,
    now: datetime,
) -> Request:
    assert amount_kopecks > 0, amount_kopecks
    credit_account = _account(account)
    return _movement(parties, request_id, _account(reserve_account), credit_account, amount_kopecks, references, now)


def balance_request(parties: Parties, account: str, now: datetime) -> Request:
    """camt.060 asking for a camt.052 with the booked (ITBD) and available (ITAV) balance now."""
    query = _report_query(parties, account, intraday_report, None, None, None, (BalanceType.ITBD, BalanceType.ITAV))
    return _query(parties, query, now)


def statement_request(
    parties: Parties, account: str, from_date: date, to_date: date, from_entry_id: int | None, now: datetime
) -> Request:
    """camt.060 asking for one page of a camt.053 over whole days; a later page from entry `from_entry_id` on."""
    assert from_date <= to_date, (from_date, to_date)
    assert from_entry_id is None or 0 <= from_entry_id < 10**18, from_entry_id
    sequence = None if from_entry_id is None else str(from_entry_id)
    balances = (BalanceType.OPBD, BalanceType.CLBD)
    return _query(parties, _report_query(parties, account, statement, from_date, to_date, sequence, balances), now)


def _movement(
    parties: Parties,
    request_id: uuid.UUID,
    debit_account: AccountId,
    credit_account: AccountId | None,
    amount_kopecks: int | None,
    references: FiatReferences | None,
    now: datetime,
) -> Request:
    """A camt.050 whose MsgHdr/MsgId is the request id and whose LqdtyTrfId is the bank's camt.050's references
    (None: a commit or release, EndToEndId NOTPROVIDED alone)."""
    reference = request_id.hex
    transfer = LiquidityCreditTransfer(
        message_id=reference,
        creation_time=now,
        # camt.050 has no element for another message's id: InstrId carries the bank's camt.050 MsgId, so that
        # LqdtyTrfId holds every reference of the bank's transfer (docs/rtgs-protocol.md says why).
        instruction_id=None if references is None else references.message_id,
        end_to_end_id=not_provided if references is None else (references.end_to_end_id or not_provided),
        transaction_id=None if references is None else references.transaction_id,
        uetr=None if references is None else references.uetr,
        creditor_bic=None,
        credit_account=credit_account,
        # A hold's own amount moves on commit and release: written as an amount in the RTGS's currency of 0.
        amount_kopecks=0 if amount_kopecks is None else amount_kopecks,
        currency=None if amount_kopecks is None else currency_code,
        debtor_bic=None,
        debit_account=debit_account,
        settlement_date=None,
    )
    header = business_header(parties.gateway_bic, parties.rtgs_bic, liquidity_transfer, reference, now, None)
    return Request(reference, liquidity_transfer, liquidity_transfer_message(header, transfer))


def _report_query(
    parties: Parties,
    account: str,
    requested: MessageId,
    from_date: date | None,
    to_date: date | None,
    from_sequence: str | None,
    balance_types: tuple[BalanceType, ...],
) -> ReportQuery:
    return ReportQuery(
        query_id=None,
        requested_message=requested,
        account=_account(account),
        # The RTGS reports to the central bank on every account: the gateway asks as the owner's central bank.
        owner_bic=parties.gateway_bic,
        servicer_bic=parties.rtgs_bic,
        from_date=from_date,
        to_date=to_date,
        query_type=QueryType.ALLL,
        from_sequence=from_sequence,
        balance_types=balance_types,
    )


def _query(parties: Parties, query: ReportQuery, now: datetime) -> Request:
    reference = uuid.uuid4().hex  # a query changes nothing: a retry may ask afresh
    message = AccountReportQuery(message_id=reference, creation_time=now, sender_bic=None, queries=(query,))
    header = business_header(parties.gateway_bic, parties.rtgs_bic, report_query, reference, now, None)
    return Request(reference, report_query, account_report_query_message(header, message))


def _account(number: str) -> AccountId:
    return AccountId(number, None)


def _hold(hold_id: uuid.UUID) -> AccountId:
    return AccountId(hold_id.hex, hold_scheme)


# ==============================================================================================================
# Gateway side: answers in
# ==============================================================================================================


def read_outcome(parties: Parties, request: Request, data: bytes) -> RtgsOutcome:
    """The outcome a camt.025 gives for a camt.050."""
    assert request.message == liquidity_transfer, request.message
    answer = _answer(parties, data, frozenset({receipt}))
    return _receipt_outcome(answer, request)


def read_balance(parties: Parties, request: Request, account: str, data: bytes) -> FiatBalance | None:
    """The balance a camt.052 gives; None for the camt.025 RJCT AC01 that answers an unknown account."""
    answer = _answer(parties, data, frozenset({intraday_report, receipt}))
    if answer.message_id == receipt:
        _check_unknown_account(answer, request)
        return None
    reader = _Answer(answer)
    report = reader.one(reader.document, "d:BkToCstmrAcctRpt")
    reader.check_original_query(report, request)
    page = reader.one(report, "d:Rpt")
    reader.check_account(page, account)
    balances = reader.balances(page)
    booked = [kopecks for kind, kopecks, _ in balances if kind == BalanceType.ITBD.value]
    available = [kopecks for kind, kopecks, _ in balances if kind == BalanceType.ITAV.value]
    if len(booked) != 2 or booked[0] != booked[1] or len(available) != 1 or len(balances) != 3:
        _invalid("the balance answer does not hold one booked (ITBD) and one available (ITAV) balance")
    if reader.many(page, "d:Ntry"):
        _invalid("the balance answer lists entries")
    held = booked[0] - available[0]
    if held < 0:
        _invalid(f"the available balance {available[0]} is above the booked balance {booked[0]}")
    return FiatBalance(account, booked[0], held)


@dataclass(frozen=True, slots=True)
class StatementPage:
    """One camt.053 page of a statement, as read and checked."""

    opening_kopecks: int  # OPBD on the first page, ITBD on the next
    closing_kopecks: int  # CLBD on the last page, ITBD before
    entries: tuple[FiatEntry, ...]
    last: bool  # StmtPgntn/LastPgInd


def read_statement_page(
    parties: Parties, request: Request, account: str, from_date: date, to_date: date, first: bool, data: bytes
) -> StatementPage | None:
    """One page of a statement; None for the camt.025 RJCT AC01 that answers an unknown account (first page only)."""
    answer = _answer(parties, data, frozenset({statement, receipt}))
    if answer.message_id == receipt:
        if not first:
            _invalid("the RTGS no longer knows an account it reported the first page of")
        _check_unknown_account(answer, request)
        return None
    reader = _Answer(answer)
    body = reader.one(reader.document, "d:BkToCstmrStmt")
    reader.check_original_query(body, request)
    page = reader.one(body, "d:Stmt")
    reader.check_account(page, account)
    last = reader.text(page, "d:StmtPgntn/d:LastPgInd")
    if last not in ("true", "false"):
        _invalid("the statement page does not say whether it is the last")
    is_last = last == "true"
    balances = reader.balances(page)
    opening_type = BalanceType.OPBD if first else BalanceType.ITBD
    closing_type = BalanceType.CLBD if is_last else BalanceType.ITBD
    if len(balances) != 2 or (balances[0][0], balances[1][0]) != (opening_type.value, closing_type.value):
        _invalid(f"a statement page opens with {opening_type.value} and closes with {closing_type.value}")
    (_, opening_kopecks, opened_on), (_, closing_kopecks, closed_on) = balances
    if first and opened_on != from_date:
        _invalid(f"the statement opens on {opened_on}, not on {from_date} as asked")
    if is_last and closed_on != to_date:
        _invalid(f"the statement closes on {closed_on}, not on {to_date} as asked")
    entries = tuple(reader.entry(element, account) for element in reader.many(page, "d:Ntry"))
    net = sum(entry.kopecks if entry.direction is FiatDirection.CREDIT else -entry.kopecks for entry in entries)
    if opening_kopecks + net != closing_kopecks:
        _invalid(f"the page's entries ({net}) do not explain its balances ({opening_kopecks} to {closing_kopecks})")
    return StatementPage(opening_kopecks, closing_kopecks, entries, is_last)


def joined_statement(account: str, from_date: date, to_date: date, pages: Sequence[StatementPage]) -> FiatStatement:
    """The statement the pages make, checked: each page opens where the one before closed, entries in order."""
    if not pages or not pages[-1].last or any(page.last for page in pages[:-1]):
        _invalid("the statement's pages do not end with exactly one last page")
    for before, after in itertools.pairwise(pages):
        if after.opening_kopecks != before.closing_kopecks:
            _invalid(f"a page opens at {after.opening_kopecks}, the one before closed at {before.closing_kopecks}")
    entries = tuple(entry for page in pages for entry in page.entries)
    ids = [entry.entry_id for entry in entries]
    if any(later <= earlier for earlier, later in itertools.pairwise(ids)):
        _invalid("the statement's entries are not in increasing booking order")
    # Each page was checked to add up, and the pages join: the whole adds up, as FiatStatement asserts.
    return FiatStatement(account, from_date, to_date, pages[0].opening_kopecks, pages[-1].closing_kopecks, entries)


def read_reject(data: bytes) -> MessageReject | None:
    """The admi.002 of a 4xx answer, when it is one (read with the same care as any answer)."""
    parsed = parse_bounded(data)
    if isinstance(parsed, Rejection):
        return None
    unwrapped = unwrap(parsed)
    if isinstance(unwrapped, Rejection) or unwrapped.message_id != message_rejected or compiled().validate(unwrapped):
        return None
    reject = admi_002_reader.read(unwrapped)
    return None if isinstance(reject, list) else reject


def reject_text(reject: MessageReject) -> str:
    where = f" at {reject.error_location}" if reject.error_location else ""
    return f"{reject.reason_code}{where}: {reject.description or 'no description'} (about {reject.reference})"


def _answer(parties: Parties, data: bytes, expected: frozenset[MessageId]) -> Unwrapped:
    """An answer parsed, unwrapped, schema-valid, from the RTGS to the gateway, of an expected message."""
    opened = open_message(data, allow_bare_document=False)
    if isinstance(opened, Refused):
        first = opened.rejections[0]
        _invalid(f"the answer is refused at the {first.layer.value} layer: {first.path or '/'}: {first.text}")
    if opened.message_id not in expected:
        _invalid(f"the answer is a {opened.message_id}, not one of {sorted(map(str, expected))}")
    header = opened.header
    assert header is not None, "open_message gives an AppHdr unless a bare Document is allowed"
    if (header.from_bic, header.to_bic) != (parties.rtgs_bic, parties.gateway_bic):
        _invalid(f"the answer is from {header.from_bic} to {header.to_bic}, not from the RTGS to the gateway")
    return opened.unwrapped


def _receipt_outcome(answer: Unwrapped, request: Request) -> RtgsOutcome:
    reader = _Answer(answer)
    body = reader.one(reader.document, "d:Rct")
    details = reader.many(body, "d:RctDtls")
    if len(details) != 1:
        _invalid(f"the receipt is about {len(details)} requests, not one")
    about = reader.text(details[0], "d:OrgnlMsgId/d:MsgId")
    if about != request.message_id:
        _invalid(f"the receipt answers {excerpt(about or '')}, not {request.message_id}")
    named = reader.text(details[0], "d:OrgnlMsgId/d:MsgNmId")
    if named is not None and named != str(request.message):
        _invalid(f"the receipt answers a {excerpt(named)}, not a {request.message}")
    codes = [element.text or "" for element in reader.many(details[0], "d:ReqHdlg/d:StsCd")]
    if codes == [done_status]:
        return RtgsOutcome.DONE
    if len(codes) == 2 and codes[0] == rejected_status and codes[1] in outcomes_by_reason:
        return outcomes_by_reason[codes[1]]
    _invalid(f"the receipt's statuses {excerpt(' '.join(codes))} are not ACSC, or RJCT and a known reason")


def _check_unknown_account(answer: Unwrapped, request: Request) -> None:
    """A camt.025 answering a camt.060: only RJCT AC01, an unknown account, is an answer."""
    if _receipt_outcome(answer, request) is not RtgsOutcome.UNKNOWN_ACCOUNT:
        _invalid("a report query is answered by a receipt only for an unknown account (RJCT AC01)")


def _invalid(text: str) -> NoReturn:
    raise RtgsUnavailable(f"the RTGS's answer is not a valid answer: {text}")


class _Answer:
    """Focused reading of a schema-valid answer Document: the few fields the protocol gives a meaning to, each
    checked (an optional element the protocol needs, missing, makes the answer invalid)."""

    __slots__ = ("document", "namespaces")

    def __init__(self, unwrapped: Unwrapped) -> None:
        self.document = unwrapped.document
        self.namespaces = {"d": unwrapped.message_id.namespace}

    def many(self, parent: etree._Element, path: str) -> list[etree._Element]:
        return list(parent.iterfind(path, self.namespaces))

    def one(self, parent: etree._Element, path: str) -> etree._Element:
        found = self.many(parent, path)
        if len(found) != 1:
            _invalid(f"{len(found)} {path.replace('d:', '')} where the protocol has one")
        return found[0]

    def text(self, parent: etree._Element, path: str) -> str | None:
        found = parent.find(path, self.namespaces)
        return None if found is None else found.text or ""

    def required(self, parent: etree._Element, path: str) -> str:
        text = self.text(parent, path)
        if not text:
            _invalid(f"{path.replace('d:', '')} is missing")
        return text

    def kopecks(self, parent: etree._Element, path: str) -> int:
        text = self.required(parent, path)
        kopecks = parse_kopecks(text.strip())
        if not isinstance(kopecks, int):
            _invalid(f"{path.replace('d:', '')} {excerpt(text)} is not an amount in kopecks")
        element = parent.find(path, self.namespaces)
        assert element is not None
        currency = element.get("Ccy")
        if currency is not None and currency != currency_code:
            _invalid(f"{path.replace('d:', '')} is in {excerpt(currency)}, not in {currency_code}")
        return kopecks

    def check_original_query(self, body: etree._Element, request: Request) -> None:
        about = self.text(body, "d:GrpHdr/d:OrgnlBizQry/d:MsgId")
        if about != request.message_id:
            _invalid(f"the report answers {excerpt(about or 'nothing')}, not {request.message_id}")

    def check_account(self, page: etree._Element, account: str) -> None:
        reported = self.text(page, "d:Acct/d:Id/d:Othr/d:Id")
        if reported != account or self.text(page, "d:Acct/d:Id/d:Othr/d:SchmeNm") is not None:
            _invalid(f"the report is on account {excerpt(reported or 'unnamed')}, not on {account}")

    def balances(self, page: etree._Element) -> list[tuple[str, int, date | None]]:
        """(type code, signed kopecks, day) of each Bal in order; the day of a Dt/Dt, else None."""
        balances = []
        for element in self.many(page, "d:Bal"):
            kind = self.required(element, "d:Tp/d:CdOrPrtry/d:Cd")
            kopecks = self.kopecks(element, "d:Amt")
            sign = self.required(element, "d:CdtDbtInd")
            day_text = self.text(element, "d:Dt/d:Dt")
            day = None if day_text is None else parse_date(day_text)
            balances.append((kind, kopecks if sign == CreditDebit.CRDT.value else -kopecks, day))
        return balances

    def entry(self, element: etree._Element, account: str) -> FiatEntry:
        """A booked Ntry: AcctSvcrRef the entry id, Refs/InstrId the request that booked it and the camt.050's
        references beside it (none without Refs/MsgId), the other account in RltdPties, BookgDt/DtTm when,
        AddtlNtryInf what for."""
        if self.required(element, "d:Sts/d:Cd") != EntryStatus.BOOK.value:
            _invalid("a statement entry is not booked")
        kopecks = self.kopecks(element, "d:Amt")
        if kopecks <= 0:
            _invalid("a statement entry moves no money")
        direction_text = self.required(element, "d:CdtDbtInd")
        direction = FiatDirection.CREDIT if direction_text == CreditDebit.CRDT.value else FiatDirection.DEBIT
        entry_id = self.required(element, "d:AcctSvcrRef")
        if not _entry_sequence.fullmatch(entry_id):
            _invalid(f"entry reference {excerpt(entry_id)} is not an entry number")
        refs_path = "d:NtryDtls/d:TxDtls/d:Refs"
        request_id = self.required(element, f"{refs_path}/d:InstrId")
        if not _request_id.fullmatch(request_id):
            _invalid(f"entry {entry_id}: InstrId {excerpt(request_id)} is not a request id")
        references = self.references(element, refs_path, entry_id)
        booked_at = parse_datetime(self.required(element, "d:BookgDt/d:DtTm"))
        if booked_at is None or booked_at.tzinfo is None:
            _invalid(f"entry {entry_id}: its booking time is not an aware date and time")
        parties_path = "d:NtryDtls/d:TxDtls/d:RltdPties"
        debited = self.required(element, f"{parties_path}/d:DbtrAcct/d:Id/d:Othr/d:Id")
        credited = self.required(element, f"{parties_path}/d:CdtrAcct/d:Id/d:Othr/d:Id")
        own, counter = (credited, debited) if direction is FiatDirection.CREDIT else (debited, credited)
        if own != account:
            _invalid(f"entry {entry_id} does not book on account {account}")
        return FiatEntry(
            entry_id=int(entry_id),
            request_id=uuid.UUID(hex=request_id),
            kopecks=kopecks,
            direction=direction,
            counter_account=counter,
            booked_at=booked_at,
            reference=self.text(element, "d:AddtlNtryInf") or "",
            references=references,
        )

    def references(self, element: etree._Element, refs_path: str, entry_id: str) -> FiatReferences | None:
        """The camt.050's references of an entry's Refs: MsgId, EndToEndId, TxId, UETR; None when it has none."""
        message_id = self.text(element, f"{refs_path}/d:MsgId")
        end_to_end_id = self.text(element, f"{refs_path}/d:EndToEndId")
        transaction_id = self.text(element, f"{refs_path}/d:TxId")
        uetr_text = self.text(element, f"{refs_path}/d:UETR")
        if message_id is None:
            if (end_to_end_id, transaction_id, uetr_text) != (None, None, None):
                _invalid(f"entry {entry_id} gives a camt.050's references without its MsgId")
            return None
        if end_to_end_id is None:
            _invalid(f"entry {entry_id} gives a camt.050's MsgId without its EndToEndId")
        # The schema admits a version-4 UUID only, in lower case: what UUID() reads is what was written.
        uetr = None if uetr_text is None else uuid.UUID(uetr_text)
        return FiatReferences(message_id, end_to_end_id, transaction_id, uetr)


# ==============================================================================================================
# RTGS side: requests in
# ==============================================================================================================


@dataclass(frozen=True, slots=True)
class Reserve:
    hold_id: uuid.UUID  # also the request id
    account: str
    amount_kopecks: int
    references: FiatReferences


@dataclass(frozen=True, slots=True)
class Commit:
    request_id: uuid.UUID
    hold_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class Release:
    request_id: uuid.UUID
    hold_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class CreditFromReserve:
    request_id: uuid.UUID
    account: str
    amount_kopecks: int
    references: FiatReferences


@dataclass(frozen=True, slots=True)
class BalanceQuery:
    account: str


@dataclass(frozen=True, slots=True)
class StatementQuery:
    account: str
    from_date: date
    to_date: date
    from_entry_id: int | None  # RptgSeq/FrSeq: a later page, from this entry on


Movement: TypeAlias = Reserve | Commit | Release | CreditFromReserve
Operation: TypeAlias = Movement | BalanceQuery | StatementQuery


@dataclass(frozen=True, slots=True)
class Inbound:
    """A request read: who sent it, what it answers to, and the one port call it asks for."""

    header: BusinessHeader
    message: MessageId
    message_id: str  # MsgHdr/MsgId or GrpHdr/MsgId
    creation_time: datetime | None
    operation: Operation


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a request is not read: answered with an admi.002 (HTTP 400), quoting `reference` when known."""

    rejection: Rejection
    reference: str | None


def read_request(parties: Parties, reserve_account: str, data: bytes) -> Inbound | Refusal:
    opened = open_message(data, allow_bare_document=False)
    if isinstance(opened, Refused):
        return Refusal(opened.rejections[0], opened.reference)
    unwrapped, header, reference = opened.unwrapped, opened.header, opened.reference
    assert header is not None, "open_message gives an AppHdr unless a bare Document is allowed"
    if header.to_bic is None or canonical_bic(header.to_bic) != parties.rtgs_bic:
        path = f"{unwrapped.app_hdr_path}/To/FIId/FinInstnId/BICFI"
        text = f"AppHdr/To names {excerpt(header.to_bic or 'no BIC')}: requests are addressed to {parties.rtgs_bic}"
        return Refusal(Rejection(wrong_receiver, path, text, Layer.BUSINESS), reference)
    if unwrapped.message_id == liquidity_transfer:
        transfer = camt_050_reader.read(unwrapped)
        if isinstance(transfer, list):
            return Refusal(transfer[0], reference)
        movement = _movement_of(transfer, reserve_account)
        if isinstance(movement, Rejection):
            return Refusal(movement, reference)
        return Inbound(header, unwrapped.message_id, transfer.message_id, transfer.creation_time, movement)
    if unwrapped.message_id == report_query:
        query = camt_060_reader.read(unwrapped)
        if isinstance(query, list):
            return Refusal(query[0], reference)
        operation = _query_of(query, unwrapped)
        if isinstance(operation, Rejection):
            return Refusal(operation, reference)
        return Inbound(header, unwrapped.message_id, query.message_id, query.creation_time, operation)
    text = f"the RTGS is asked with {liquidity_transfer} and {report_query} only, not {unwrapped.message_id}"
    return Refusal(Rejection(unknown_message, unwrapped.document_path, text, Layer.BUSINESS), reference)


def _movement_of(transfer: LiquidityTransfer, reserve_account: str) -> Movement | Rejection:
    path = transfer.path
    request_id = _request_id_of(transfer.message_id)
    if request_id is None:
        text = f"MsgHdr/MsgId must be a request id (a UUID's 32 lower-case hex digits), not {excerpt(transfer.message_id)}"
        return Rejection(invalid_reference, f"{path.rpartition('/')[0]}/MsgHdr/MsgId", text, Layer.BUSINESS)
    if transfer.settlement_date is not None:
        text = "the RTGS settles on receipt: SttlmDt is not admitted"
        return Rejection(element_not_admitted, f"{path}/SttlmDt", text, Layer.BUSINESS)
    if transfer.amount.currency != currency_code:
        text = f"the RTGS moves {currency_code} only, not {excerpt(transfer.amount.currency)}"
        return Rejection(invalid_amount, transfer.amount_path, text, Layer.BUSINESS)
    debit, credit = transfer.debit_account, transfer.credit_account
    if debit is None:
        return Rejection(invalid_debtor_account, f"{path}/DbtrAcct", "DbtrAcct is required", Layer.BUSINESS)
    debit_hold, credit_hold = _hold_of(debit), None if credit is None else _hold_of(credit)
    kopecks = transfer.amount.kopecks
    if debit_hold is not None:  # commit or release: the hold's own amount moves
        if kopecks != 0:
            text = "a commit or release moves the whole hold: TrfdAmt must be 0"
            return Rejection(invalid_amount, transfer.amount_path, text, Layer.BUSINESS)
        if _references_of(transfer) is not None or transfer.end_to_end_id not in (None, not_provided):
            text = f"a commit or release carries no references of its own (the hold's are booked): LqdtyTrfId is EndToEndId {not_provided} alone"
            return Rejection(invalid_reference, f"{path}/LqdtyTrfId", text, Layer.BUSINESS)
        if credit is None:
            return Release(request_id, debit_hold)
        if _plain_account(credit) != reserve_account:
            text = f"a hold commits to the reserve account {reserve_account} only"
            return Rejection(invalid_creditor_account, credit.path, text, Layer.BUSINESS)
        return Commit(request_id, debit_hold)
    debit_number = _plain_account(debit)
    if debit_number is None:
        text = f"DbtrAcct must be an RTGS account (Id/Othr/Id, no scheme) or a hold (scheme {hold_scheme})"
        return Rejection(invalid_debtor_account, debit.path, text, Layer.BUSINESS)
    if kopecks <= 0:
        return Rejection(invalid_amount, transfer.amount_path, "a reserve or credit moves money", Layer.BUSINESS)
    if credit is None:
        return Rejection(invalid_creditor_account, f"{path}/CdtrAcct", "CdtrAcct is required", Layer.BUSINESS)
    references = _references_of(transfer)
    if references is None:
        text = "a reserve or credit carries the bank's camt.050's references: LqdtyTrfId/InstrId its MsgId"
        return Rejection(invalid_reference, f"{path}/LqdtyTrfId", text, Layer.BUSINESS)
    if credit_hold is not None:
        if credit_hold != request_id:
            text = "a reserve's request id is its hold id: MsgHdr/MsgId and the hold's Id must agree"
            return Rejection(invalid_reference, credit.path, text, Layer.BUSINESS)
        return Reserve(credit_hold, debit_number, kopecks, references)
    credit_number = _plain_account(credit)
    if credit_number is None:
        text = f"CdtrAcct must be an RTGS account (Id/Othr/Id, no scheme) or a hold (scheme {hold_scheme})"
        return Rejection(invalid_creditor_account, credit.path, text, Layer.BUSINESS)
    if debit_number != reserve_account:
        text = f"money moves between banks' accounts only through a hold or from the reserve account {reserve_account}"
        return Rejection(invalid_debtor_account, debit.path, text, Layer.BUSINESS)
    return CreditFromReserve(request_id, credit_number, kopecks, references)


def _references_of(transfer: LiquidityTransfer) -> FiatReferences | None:
    """The bank's camt.050's references a reserve or credit carries in LqdtyTrfId; None without an InstrId."""
    if transfer.instruction_id is None:
        return None
    assert transfer.end_to_end_id is not None, "EndToEndId is mandatory in LqdtyTrfId"
    return FiatReferences(transfer.instruction_id, transfer.end_to_end_id, transfer.transaction_id, transfer.uetr)


def _query_of(query: AccountReportingRequest, unwrapped: Unwrapped) -> BalanceQuery | StatementQuery | Rejection:
    if len(query.requests) != 1:
        text = f"one RptgReq per request, not {len(query.requests)}"
        return Rejection(request_not_supported, query.path, text, Layer.BUSINESS)
    request = query.requests[0]
    path = request.path
    account = None if request.account is None else _plain_account(request.account)
    if account is None:
        text = "Acct must name one RTGS account (Id/Othr/Id, no scheme)"
        return Rejection(invalid_account, f"{path}/Acct", text, Layer.BUSINESS)
    if request.transaction_type is not None:
        text = "the RTGS reports every booked entry: ReqdTxTp is not admitted"
        return Rejection(element_not_admitted, request.transaction_type.path, text, Layer.BUSINESS)
    period = request.period
    if request.requested_message_name_id == str(intraday_report):
        if period is not None or request.sequence_range_present:
            text = "a balance is reported as it is now: RptgPrd and RptgSeq are not admitted"
            return Rejection(element_not_admitted, path, text, Layer.BUSINESS)
        return BalanceQuery(account)
    if request.requested_message_name_id != str(statement):
        text = f"the RTGS reports {intraday_report} and {statement} only"
        return Rejection(request_not_supported, f"{path}/ReqdMsgNmId", text, Layer.BUSINESS)
    if period is None or period.to_date is None or period.from_time is not None or period.query_type != "ALLL":
        text = "a statement is over whole days: RptgPrd with FrDt and ToDt, no FrToTm, Tp ALLL"
        return Rejection(request_not_supported, f"{path}/RptgPrd", text, Layer.BUSINESS)
    if period.to_date < period.from_date:
        text = f"the period ends ({period.to_date}) before it begins ({period.from_date})"
        return Rejection(request_not_supported, period.path, text, Layer.BUSINESS)
    from_entry_id = None
    if request.sequence_range_present:
        from_entry_id = _from_sequence(unwrapped)
        if from_entry_id is None:
            text = "RptgSeq is FrSeq alone, an entry number: the page from that entry on"
            return Rejection(element_not_admitted, f"{path}/RptgSeq", text, Layer.BUSINESS)
    return StatementQuery(account, period.from_date, period.to_date, from_entry_id)


def _from_sequence(unwrapped: Unwrapped) -> int | None:
    """RptgSeq/FrSeq of the one RptgReq, as an entry id (the camt.060 reader notes only that RptgSeq is there)."""
    namespaces = {"d": unwrapped.message_id.namespace}
    found = unwrapped.document.findall("d:AcctRptgReq/d:RptgReq/d:RptgSeq/d:FrSeq", namespaces)
    text = found[0].text if len(found) == 1 else None
    return int(text) if text is not None and _entry_sequence.fullmatch(text) else None


def _request_id_of(text: str | None) -> uuid.UUID | None:
    return uuid.UUID(hex=text) if text is not None and _request_id.fullmatch(text) else None


def _plain_account(account: Account) -> str | None:
    """The number of an RTGS account named Id/Othr/Id with no scheme; None for any other naming."""
    if account.identification is None or account.scheme_code is not None or account.scheme_proprietary is not None:
        return None
    return account.identification


def _hold_of(account: Account) -> uuid.UUID | None:
    if account.scheme_proprietary != hold_scheme or account.scheme_code is not None:
        return None
    return _request_id_of(account.identification)


# ==============================================================================================================
# RTGS side: the port call and the answer
# ==============================================================================================================


async def respond(
    rtgs: Rtgs,
    parties: Parties,
    inbound: Inbound,
    now: datetime,
    page_entries_max: int = bounds.rtgs_statement_page_entries_max,
) -> bytes:
    """Make the port call the request asks for and write its answer. Raises what the port raises: RtgsUnavailable
    (the caller answers 503), ValueError (a call the port refuses as a programmer's error: the caller answers 400)."""
    operation = inbound.operation
    match operation:
        case Reserve(hold_id, account, kopecks, references):
            return receipt_answer(parties, inbound, await rtgs.reserve(hold_id, account, kopecks, references), now)
        case Commit(request_id, hold_id):
            return receipt_answer(parties, inbound, await rtgs.commit(request_id, hold_id), now)
        case Release(request_id, hold_id):
            return receipt_answer(parties, inbound, await rtgs.release(request_id, hold_id), now)
        case CreditFromReserve(request_id, account, kopecks, references):
            outcome = await rtgs.credit_from_reserve(request_id, account, kopecks, references)
            return receipt_answer(parties, inbound, outcome, now)
        case BalanceQuery(account):
            balance = await rtgs.balance(account)
            if balance is None:
                return receipt_answer(parties, inbound, RtgsOutcome.UNKNOWN_ACCOUNT, now)
            return balance_answer(parties, inbound, balance, now)
        case StatementQuery(account, from_date, to_date, from_entry_id):
            fiat = await rtgs.statement(account, from_date, to_date)
            if fiat is None:
                return receipt_answer(parties, inbound, RtgsOutcome.UNKNOWN_ACCOUNT, now)
            return statement_answer(parties, inbound, fiat, from_entry_id, now, page_entries_max)
    raise AssertionError(f"no answer for {operation!r}")


def receipt_answer(parties: Parties, inbound: Inbound, outcome: RtgsOutcome, now: datetime) -> bytes:
    """camt.025: ACSC, or RJCT then the outcome's reason code with its name and wording."""
    description = f"{outcome.value}: {_descriptions[outcome]}"
    if outcome is RtgsOutcome.DONE:
        handlings: tuple[RequestHandling, ...] = (request_handling(PaymentStatus.ACSC, description),)
    else:
        reason = RequestHandling(reason_codes[outcome], fit(description, request_description_chars_max))
        handlings = (request_handling(PaymentStatus.RJCT, "rejected"), reason)
    reference = new_message_id()
    details = ReceiptDetails(inbound.message_id, str(inbound.message), None, handlings)
    header = business_header(parties.rtgs_bic, parties.gateway_bic, receipt, reference, now, inbound.header)
    return receipt_message(header, Receipt(reference, now, (details,)))


def balance_answer(parties: Parties, inbound: Inbound, balance: FiatBalance, now: datetime) -> bytes:
    """camt.052: the booked balance now (ITBD, opening and closing an empty report) and the available one (ITAV)."""
    booked = Balance(BalanceType.ITBD, balance.booked_kopecks, now)
    page = AccountStatement(
        statement_id=new_message_id(),
        pagination=None,
        electronic_sequence_number=None,
        creation_time=now,
        period=None,
        account=_reported(parties, balance.account),
        opening=booked,
        closing=booked,
        available=Balance(BalanceType.ITAV, balance.available_kopecks, now),
        entries=(),
        additional_info=None,
    )
    return _report(parties, inbound, page, intraday_report, now)


def statement_answer(
    parties: Parties,
    inbound: Inbound,
    fiat: FiatStatement,
    from_entry_id: int | None,
    now: datetime,
    page_entries_max: int = bounds.rtgs_statement_page_entries_max,
) -> bytes:
    """camt.053: the page of the statement from entry `from_entry_id` on (from the start when None), at most
    `page_entries_max` entries, opening OPBD on the first page (ITBD after) and closing CLBD on the last (ITBD before)."""
    assert 1 <= page_entries_max <= bounds.report_entries_max, page_entries_max
    before = [e for e in fiat.entries if from_entry_id is not None and e.entry_id < from_entry_id]
    after = fiat.entries[len(before) :]
    assert all(e.entry_id >= (from_entry_id or 0) for e in after), "entries are in booking order"
    opening_kopecks = fiat.opening_kopecks + sum(_signed(e) for e in before)
    entries = after[:page_entries_max]
    last = len(after) <= page_entries_max
    closing_kopecks = opening_kopecks + sum(_signed(e) for e in entries)
    first = from_entry_id is None
    page = AccountStatement(
        statement_id=new_message_id(),
        # A page number from the entries before it; a request need not start on a page boundary.
        pagination=Pagination(min(len(before) // page_entries_max + 1, page_number_max), last),
        electronic_sequence_number=None,
        creation_time=now,
        period=None,  # the days are the balances' dates: OPBD on from_date, CLBD on to_date
        account=_reported(parties, fiat.account),
        opening=Balance(BalanceType.OPBD if first else BalanceType.ITBD, opening_kopecks, fiat.from_date),
        closing=Balance(BalanceType.CLBD if last else BalanceType.ITBD, closing_kopecks, fiat.to_date),
        available=None,
        entries=tuple(_entry(fiat.account, e) for e in entries),
        additional_info=None,
    )
    return _report(parties, inbound, page, statement, now)


def reject_answer(parties: Parties, refusal: Refusal, now: datetime) -> bytes:
    """admi.002: a request the RTGS could not read or will not act on."""
    reject = message_reject(refusal.rejection, refusal.reference or no_reference, now)
    header = business_header(parties.rtgs_bic, parties.gateway_bic, message_rejected, new_message_id(), now, None)
    return message_reject_message(header, reject)


def _report(parties: Parties, inbound: Inbound, page: AccountStatement, message: MessageId, now: datetime) -> bytes:
    original = OriginalMessage(inbound.message_id, str(inbound.message), inbound.creation_time)
    reference = new_message_id()
    header = ReportHeader(reference, now, PartyIdentification(None, parties.gateway_bic), original)
    report = BankToCustomerReport(header, (page,))
    app_hdr = business_header(parties.rtgs_bic, parties.gateway_bic, message, reference, now, inbound.header)
    return report_message(message, app_hdr, report)


def _reported(parties: Parties, account: str) -> ReportedAccount:
    return ReportedAccount(_account(account), None, None, parties.rtgs_bic)


def _entry(account: str, fiat: FiatEntry) -> Entry:
    credited = fiat.direction is FiatDirection.CREDIT
    debit_account, credit_account = (fiat.counter_account, account) if credited else (account, fiat.counter_account)
    references = fiat.references
    transaction = EntryTransaction(
        # The booking's underlying message is the bank's camt.050; the instruction to the RTGS, the request.
        message_id=None if references is None else references.message_id,
        account_servicer_reference=None,
        instruction_id=fiat.request_id.hex,
        end_to_end_id=None if references is None else references.end_to_end_id,
        uetr=None if references is None else references.uetr,
        transaction_id=None if references is None else references.transaction_id,
        clearing_system_reference=None,
        kopecks=None,
        direction=None,
        debtor=None,
        debtor_account=_account(debit_account),
        creditor=None,
        creditor_account=_account(credit_account),
        instructing_agent_bic=None,
        instructed_agent_bic=None,
        debtor_agent_bic=None,
        creditor_agent_bic=None,
        additional_info=None,
    )
    return Entry(
        reference=None,
        kopecks=fiat.kopecks,
        direction=CreditDebit.CRDT if credited else CreditDebit.DBIT,
        status=EntryStatus.BOOK,
        booking_date=fiat.booked_at,
        value_date=None,
        account_servicer_reference=str(fiat.entry_id),
        bank_transaction_code=booking_transaction_code,
        transactions=(transaction,),
        additional_info=fit(fiat.reference, report_text_chars_max) if fiat.reference else None,
    )


def _signed(entry: FiatEntry) -> int:
    return entry.kopecks if entry.direction is FiatDirection.CREDIT else -entry.kopecks
