"""Hypothesis strategies drawing each message-layer value from its ISO type, and builders writing inbound messages."""

from __future__ import annotations

import string
import uuid
from datetime import date, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st
from lxml import etree

from gateway.messages.commands import (
    Agent,
    Amount,
    BusinessHeader,
    CreditTransfer,
    CustomerCreditTransaction,
    FinancialInstitutionTransfer,
    InstitutionCreditTransaction,
    OriginalGroupStatusRequest,
    OriginalMessage,
    PaymentReturn,
    RelatedHeader,
    ReturnGroupHeader,
    ReturnReason,
    ReturnTransaction,
    StatusRequest,
    StatusRequestGroupHeader,
    TransactionStatusRequest,
    TransferGroupHeader,
)
from gateway.messages.identity import MessageId
from gateway.messages.iso_types import (
    format_date,
    format_datetime,
    format_decimal_kopecks,
    format_kopecks,
)
from gateway.messages.reports import (
    GroupStatus,
    MessageReject,
    PaymentStatus,
    StatusCount,
    StatusReason,
    StatusReport,
    TransactionStatus,
)

# Text XML can carry and a parser hands back unchanged: no controls (a parser turns \r into \n), no surrogates.
_characters = st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Cn"))


def text(chars_max: int) -> st.SearchStrategy[str]:
    return st.text(_characters, min_size=1, max_size=chars_max)


bics = st.from_regex(r"[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?", fullmatch=True)
codes = st.from_regex(r"[A-Z0-9]{4}", fullmatch=True)
currencies = st.sampled_from(("RUB", "USD", "EUR", "CNY"))
# ActiveOrHistoricCurrencyAndAmount and DecimalNumber: at most 18 digits, of which 2 here are decimals.
kopecks = st.integers(min_value=0, max_value=10**18 - 1)
amounts = st.builds(Amount, kopecks, currencies)
counts = st.integers(min_value=0, max_value=10**15 - 1)
uetrs = st.uuids(version=4)
dates = st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31))
_zones: st.SearchStrategy[Any] = st.none() | st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda m: timezone(timedelta(minutes=m))
)
# A day inside the range either side, so that comparing instants across offsets cannot overflow.
datetimes = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=_zones)
message_names = st.sampled_from(("pacs.008.001.08", "pacs.009.001.08", "pacs.004.001.09", "camt.056.001.08"))


def optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


def agents(*, bic_required: bool = False) -> st.SearchStrategy[Agent]:
    member = optional(st.text(string.digits, min_size=9, max_size=9))
    return st.builds(Agent, bics if bic_required else optional(bics), member, st.just(""))


original_messages = st.builds(OriginalMessage, text(35), message_names, optional(datetimes))


# --------------------------------------------------------------------------------------------------------------
# Headers, status reports and message rejects: what the gateway writes
# --------------------------------------------------------------------------------------------------------------


app_hdr_2013 = MessageId("head", "001", "001", "01")  # the header version of UTC times and BICs of 2013
app_hdr_default = MessageId("head", "001", "001", "02")
# head.001.001.01's BICFIIdentifier: letters only in the first six, no 0 or 1 as the seventh, no O as the eighth.
bics_2013 = st.from_regex(r"[A-Z]{6}[A-Z2-9][A-NP-Z0-9]([A-Z0-9]{3})?", fullmatch=True)
# Times with an offset: what head.001.001.01 can say exactly (it writes each in UTC, the same instant).
aware_datetimes = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=_zones.filter(lambda zone: zone is not None)
)


def headers(message_definition_id: str, version: MessageId = app_hdr_default) -> st.SearchStrategy[BusinessHeader]:
    """Headers to write in header version `version`, drawn from what that version can say: in head.001.001.01, BICs
    of 2013, times with an offset, one related header at the most."""
    old = version == app_hdr_2013
    party, times = (bics_2013, aware_datetimes) if old else (bics, datetimes)
    related = st.builds(RelatedHeader, party, party, text(35), message_names, optional(text(35)), times)
    return st.builds(
        BusinessHeader,
        from_bic=party,
        to_bic=party,
        business_message_id=text(35),
        message_definition_id=st.just(message_definition_id),
        business_service=optional(text(35)),
        creation_time=times,
        copy_duplicate=optional(st.sampled_from(("CODU", "COPY", "DUPL"))),
        possible_duplicate=optional(st.booleans()),
        related=st.lists(related, max_size=1 if old else 2).map(tuple),
        version=st.just(version),
    )


statuses = st.sampled_from(PaymentStatus)
reasons = st.builds(StatusReason, codes, st.lists(text(105), max_size=2).map(tuple))

group_statuses = st.builds(
    GroupStatus,
    original_message=original_messages,
    original_number_of_transactions=optional(counts),
    original_control_sum_kopecks=optional(kopecks),
    status=optional(statuses),
    reasons=st.lists(reasons, max_size=2).map(tuple),
    counts=st.lists(st.builds(StatusCount, statuses, counts, optional(kopecks)), max_size=2).map(tuple),
)

transaction_statuses = st.builds(
    TransactionStatus,
    status_id=optional(text(35)),
    original_message=optional(original_messages),
    original_instruction_id=optional(text(35)),
    original_end_to_end_id=optional(text(35)),
    original_transaction_id=optional(text(35)),
    original_uetr=optional(uetrs),
    status=statuses,
    reasons=st.lists(reasons, max_size=2).map(tuple),
    acceptance_time=optional(datetimes),
    settlement=st.none() | dates | datetimes,
    clearing_system_reference=optional(text(35)),
    original_amount=optional(amounts),
    original_settlement_date=optional(dates),
)

status_reports = st.builds(
    StatusReport,
    message_id=text(35),
    creation_time=datetimes,
    instructing_agent_bic=optional(bics),
    instructed_agent_bic=optional(bics),
    groups=st.lists(group_statuses, max_size=2).map(tuple),
    transactions=st.lists(transaction_statuses, max_size=3).map(tuple),
)

message_rejects = st.builds(
    MessageReject,
    reference=text(35),
    reason_code=codes,
    rejection_time=optional(datetimes),
    error_location=optional(text(350)),
    description=optional(text(350)),
    additional_data=optional(text(2000)),
)


# --------------------------------------------------------------------------------------------------------------
# Commands: what banks send
# --------------------------------------------------------------------------------------------------------------

settlement_methods = st.sampled_from(("CLRG", "INDA", "INGA", "COVE"))
charge_bearers = st.sampled_from(("DEBT", "CRED", "SHAR", "SLEV"))

transfer_group_headers = st.builds(
    TransferGroupHeader,
    message_id=text(35),
    creation_time=datetimes,
    number_of_transactions=counts,
    control_sum_kopecks=optional(kopecks),
    total_amount=optional(amounts),
    settlement_date=optional(dates),
    settlement_method=settlement_methods,
    instructing_agent=optional(agents()),
    instructed_agent=optional(agents()),
    path=st.just(""),
)

customer_transactions = st.builds(
    CustomerCreditTransaction,
    instruction_id=optional(text(35)),
    end_to_end_id=text(35),
    transaction_id=optional(text(35)),
    uetr=optional(uetrs),
    amount=amounts,
    settlement_date=optional(dates),
    charge_bearer=charge_bearers,
    instructing_agent=optional(agents()),
    instructed_agent=optional(agents()),
    debtor_agent=agents(),
    creditor_agent=agents(),
    path=st.just(""),
    xml=st.just(b""),
)

credit_transfers = st.builds(
    CreditTransfer, transfer_group_headers, st.lists(customer_transactions, min_size=1, max_size=3).map(tuple)
)

institution_transactions = st.builds(
    InstitutionCreditTransaction,
    instruction_id=optional(text(35)),
    end_to_end_id=text(35),
    transaction_id=optional(text(35)),
    uetr=optional(uetrs),
    amount=amounts,
    settlement_date=optional(dates),
    instructing_agent=optional(agents()),
    instructed_agent=optional(agents()),
    debtor=agents(),
    debtor_agent=optional(agents()),
    creditor_agent=optional(agents()),
    creditor=agents(),
    is_cover=st.booleans(),
    path=st.just(""),
    xml=st.just(b""),
)

institution_transfers = st.builds(
    FinancialInstitutionTransfer,
    transfer_group_headers,
    st.lists(institution_transactions, min_size=1, max_size=3).map(tuple),
)

return_reasons = st.one_of(
    st.builds(ReturnReason, codes, st.none(), st.lists(text(105), max_size=2).map(tuple)),
    st.builds(ReturnReason, st.none(), text(35), st.lists(text(105), max_size=2).map(tuple)),
    st.builds(ReturnReason, st.none(), st.none(), st.lists(text(105), max_size=2).map(tuple)),
)


@st.composite
def return_group_headers(draw: st.DrawFn) -> ReturnGroupHeader:
    original = draw(optional(original_messages))
    return ReturnGroupHeader(
        message_id=draw(text(35)),
        creation_time=draw(datetimes),
        number_of_transactions=draw(counts),
        control_sum_kopecks=draw(optional(kopecks)),
        total_returned_amount=draw(optional(amounts)),
        settlement_date=draw(optional(dates)),
        settlement_method=draw(settlement_methods),
        instructing_agent=draw(optional(agents())),
        instructed_agent=draw(optional(agents())),
        original_message=original,
        reasons=() if original is None else tuple(draw(st.lists(return_reasons, max_size=2))),
        path="",
    )


return_transactions = st.builds(
    ReturnTransaction,
    return_id=optional(text(35)),
    original_message=optional(original_messages),
    original_instruction_id=optional(text(35)),
    original_end_to_end_id=optional(text(35)),
    original_transaction_id=optional(text(35)),
    original_uetr=optional(uetrs),
    original_amount=optional(amounts),
    returned_amount=amounts,
    settlement_date=optional(dates),
    charge_bearer=optional(charge_bearers),
    instructing_agent=optional(agents()),
    instructed_agent=optional(agents()),
    debtor_agent=optional(agents()),
    creditor_agent=optional(agents()),
    reasons=st.lists(return_reasons, max_size=2).map(tuple),
    path=st.just(""),
    xml=st.just(b""),
)

payment_returns = st.builds(PaymentReturn, return_group_headers(), st.lists(return_transactions, max_size=3).map(tuple))

status_requests = st.builds(
    StatusRequest,
    group=st.builds(StatusRequestGroupHeader, text(35), datetimes, optional(agents()), optional(agents()), st.just("")),
    original_groups=st.lists(
        st.builds(OriginalGroupStatusRequest, original_messages, optional(counts), st.just("")), max_size=2
    ).map(tuple),
    transactions=st.lists(
        st.builds(
            TransactionStatusRequest,
            status_request_id=optional(text(35)),
            original_message=optional(original_messages),
            original_instruction_id=optional(text(35)),
            original_end_to_end_id=optional(text(35)),
            original_transaction_id=optional(text(35)),
            original_uetr=optional(uetrs),
            instructing_agent=optional(agents()),
            instructed_agent=optional(agents()),
            path=st.just(""),
        ),
        max_size=3,
    ).map(tuple),
)


class _Builder:
    """Writes elements of one message, in XSD order as the caller calls it."""

    def __init__(self, message_id: MessageId) -> None:
        self.namespace = message_id.namespace

    def root(self) -> etree._Element:
        return etree.Element(f"{{{self.namespace}}}Document", nsmap={None: self.namespace})

    def add(self, parent: etree._Element, name: str, value: Any = None) -> etree._Element:
        element = etree.SubElement(parent, f"{{{self.namespace}}}{name}")
        if isinstance(value, Amount):
            element.text = format_kopecks(value.kopecks)
            element.set("Ccy", value.currency)
        elif isinstance(value, datetime):
            element.text = format_datetime(value)
        elif isinstance(value, date):
            element.text = format_date(value)
        elif isinstance(value, uuid.UUID) or value is not None:
            element.text = str(value)
        return element

    def maybe(self, parent: etree._Element, name: str, value: Any) -> None:
        if value is not None:
            self.add(parent, name, value)

    def agent(self, parent: etree._Element, name: str, agent: Agent | None) -> None:
        if agent is None:
            return
        institution = self.add(self.add(parent, name), "FinInstnId")
        self.maybe(institution, "BICFI", agent.bic)
        if agent.clearing_system_member_id is not None:
            self.add(self.add(institution, "ClrSysMmbId"), "MmbId", agent.clearing_system_member_id)

    def original(self, parent: etree._Element, name: str, original: OriginalMessage | None) -> etree._Element | None:
        if original is None:
            return None
        element = self.add(parent, name)
        self.add(element, "OrgnlMsgId", original.message_id)
        self.add(element, "OrgnlMsgNmId", original.message_name_id)
        self.maybe(element, "OrgnlCreDtTm", original.creation_time)
        return element

    def transfer_group(self, parent: etree._Element, group: TransferGroupHeader) -> None:
        element = self.add(parent, "GrpHdr")
        self.add(element, "MsgId", group.message_id)
        self.add(element, "CreDtTm", group.creation_time)
        self.add(element, "NbOfTxs", group.number_of_transactions)
        if group.control_sum_kopecks is not None:
            self.add(element, "CtrlSum", format_decimal_kopecks(group.control_sum_kopecks))
        self.maybe(element, "TtlIntrBkSttlmAmt", group.total_amount)
        self.maybe(element, "IntrBkSttlmDt", group.settlement_date)
        self.add(self.add(element, "SttlmInf"), "SttlmMtd", group.settlement_method)
        self.agent(element, "InstgAgt", group.instructing_agent)
        self.agent(element, "InstdAgt", group.instructed_agent)

    def payment_id(self, parent: etree._Element, tx: CustomerCreditTransaction | InstitutionCreditTransaction) -> None:
        element = self.add(parent, "PmtId")
        self.maybe(element, "InstrId", tx.instruction_id)
        self.add(element, "EndToEndId", tx.end_to_end_id)
        self.maybe(element, "TxId", tx.transaction_id)
        self.maybe(element, "UETR", tx.uetr)

    def reasons(self, parent: etree._Element, reasons: tuple[ReturnReason, ...]) -> None:
        for reason in reasons:
            element = self.add(parent, "RtrRsnInf")
            if reason.code is not None or reason.proprietary is not None:
                choice = self.add(element, "Rsn")
                self.maybe(choice, "Cd", reason.code)
                self.maybe(choice, "Prtry", reason.proprietary)
            for line in reason.additional_info:
                self.add(element, "AddtlInf", line)


def credit_transfer_document(command: CreditTransfer) -> etree._Element:
    build = _Builder(MessageId("pacs", "008", "001", "08"))
    document = build.root()
    body = build.add(document, "FIToFICstmrCdtTrf")
    build.transfer_group(body, command.group)
    for tx in command.transactions:
        element = build.add(body, "CdtTrfTxInf")
        build.payment_id(element, tx)
        build.add(element, "IntrBkSttlmAmt", tx.amount)
        build.maybe(element, "IntrBkSttlmDt", tx.settlement_date)
        build.add(element, "ChrgBr", tx.charge_bearer)
        build.agent(element, "InstgAgt", tx.instructing_agent)
        build.agent(element, "InstdAgt", tx.instructed_agent)
        build.add(element, "Dbtr")
        build.agent(element, "DbtrAgt", tx.debtor_agent)
        build.agent(element, "CdtrAgt", tx.creditor_agent)
        build.add(element, "Cdtr")
    return document


def institution_transfer_document(command: FinancialInstitutionTransfer) -> etree._Element:
    build = _Builder(MessageId("pacs", "009", "001", "08"))
    document = build.root()
    body = build.add(document, "FICdtTrf")
    build.transfer_group(body, command.group)
    for tx in command.transactions:
        element = build.add(body, "CdtTrfTxInf")
        build.payment_id(element, tx)
        build.add(element, "IntrBkSttlmAmt", tx.amount)
        build.maybe(element, "IntrBkSttlmDt", tx.settlement_date)
        build.agent(element, "InstgAgt", tx.instructing_agent)
        build.agent(element, "InstdAgt", tx.instructed_agent)
        build.agent(element, "Dbtr", tx.debtor)
        build.agent(element, "DbtrAgt", tx.debtor_agent)
        build.agent(element, "CdtrAgt", tx.creditor_agent)
        build.agent(element, "Cdtr", tx.creditor)
        if tx.is_cover:
            underlying = build.add(element, "UndrlygCstmrCdtTrf")
            build.add(underlying, "Dbtr")
            build.add(build.add(underlying, "DbtrAgt"), "FinInstnId")
            build.add(build.add(underlying, "CdtrAgt"), "FinInstnId")
            build.add(underlying, "Cdtr")
    return document


def payment_return_document(command: PaymentReturn) -> etree._Element:
    build = _Builder(MessageId("pacs", "004", "001", "09"))
    document = build.root()
    body = build.add(document, "PmtRtr")
    group = command.group
    element = build.add(body, "GrpHdr")
    build.add(element, "MsgId", group.message_id)
    build.add(element, "CreDtTm", group.creation_time)
    build.add(element, "NbOfTxs", group.number_of_transactions)
    if group.control_sum_kopecks is not None:
        build.add(element, "CtrlSum", format_decimal_kopecks(group.control_sum_kopecks))
    build.maybe(element, "TtlRtrdIntrBkSttlmAmt", group.total_returned_amount)
    build.maybe(element, "IntrBkSttlmDt", group.settlement_date)
    build.add(build.add(element, "SttlmInf"), "SttlmMtd", group.settlement_method)
    build.agent(element, "InstgAgt", group.instructing_agent)
    build.agent(element, "InstdAgt", group.instructed_agent)
    original = build.original(body, "OrgnlGrpInf", group.original_message)
    if original is not None:
        build.reasons(original, group.reasons)
    for tx in command.transactions:
        element = build.add(body, "TxInf")
        build.maybe(element, "RtrId", tx.return_id)
        build.original(element, "OrgnlGrpInf", tx.original_message)
        build.maybe(element, "OrgnlInstrId", tx.original_instruction_id)
        build.maybe(element, "OrgnlEndToEndId", tx.original_end_to_end_id)
        build.maybe(element, "OrgnlTxId", tx.original_transaction_id)
        build.maybe(element, "OrgnlUETR", tx.original_uetr)
        build.maybe(element, "OrgnlIntrBkSttlmAmt", tx.original_amount)
        build.add(element, "RtrdIntrBkSttlmAmt", tx.returned_amount)
        build.maybe(element, "IntrBkSttlmDt", tx.settlement_date)
        build.maybe(element, "ChrgBr", tx.charge_bearer)
        build.agent(element, "InstgAgt", tx.instructing_agent)
        build.agent(element, "InstdAgt", tx.instructed_agent)
        if tx.debtor_agent is not None or tx.creditor_agent is not None:
            chain = build.add(element, "RtrChain")
            build.add(build.add(chain, "Dbtr"), "Pty")
            build.agent(chain, "DbtrAgt", tx.debtor_agent)
            build.agent(chain, "CdtrAgt", tx.creditor_agent)
            build.add(build.add(chain, "Cdtr"), "Pty")
        build.reasons(element, tx.reasons)
    return document


def status_request_document(command: StatusRequest) -> etree._Element:
    build = _Builder(MessageId("pacs", "028", "001", "03"))
    document = build.root()
    body = build.add(document, "FIToFIPmtStsReq")
    element = build.add(body, "GrpHdr")
    build.add(element, "MsgId", command.group.message_id)
    build.add(element, "CreDtTm", command.group.creation_time)
    build.agent(element, "InstgAgt", command.group.instructing_agent)
    build.agent(element, "InstdAgt", command.group.instructed_agent)
    for group in command.original_groups:
        original = build.original(body, "OrgnlGrpInf", group.original_message)
        assert original is not None
        build.maybe(original, "OrgnlNbOfTxs", group.number_of_transactions)
    for request in command.transactions:
        element = build.add(body, "TxInf")
        build.maybe(element, "StsReqId", request.status_request_id)
        build.original(element, "OrgnlGrpInf", request.original_message)
        build.maybe(element, "OrgnlInstrId", request.original_instruction_id)
        build.maybe(element, "OrgnlEndToEndId", request.original_end_to_end_id)
        build.maybe(element, "OrgnlTxId", request.original_transaction_id)
        build.maybe(element, "OrgnlUETR", request.original_uetr)
        build.agent(element, "InstgAgt", request.instructing_agent)
        build.agent(element, "InstdAgt", request.instructed_agent)
    return document
