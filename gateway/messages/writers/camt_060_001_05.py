"""Writer of camt.060.001.05 AccountReportingRequestV05: an AccountReportQuery to the Document the gateway sends when
it asks another system for a report on an account, e.g. the central bank's RTGS for a balance (camt.052) or a
statement (camt.053) (gateway_adapters.rtgs.wire; docs/rtgs-protocol.md).

The values below are what the gateway sends; what a bank sends it is read into gateway.messages.commands
.AccountReportingRequest by gateway.messages.readers.camt_060_001_05, and what this writes reads back to the same
fields.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date, datetime

from lxml import etree

from gateway import bounds
from gateway.domain.money import currency_code
from gateway.messages.identity import MessageId
from gateway.messages.iso_types import xml_safe
from gateway.messages.reports import reference_chars_max
from gateway.messages.statements import AccountId, BalanceType
from gateway.messages.writers._writing import Writing

message_id = MessageId("camt", "060", "001", "05")


_bic = re.compile(r"[A-Z0-9]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?")  # BICFIDec2014Identifier


class QueryType(enum.Enum):
    """QueryType3Code (RptgPrd/Tp): the whole closed list."""

    ALLL = "ALLL"  # everything in the period
    CHNG = "CHNG"  # only what changed since the last report
    MODF = "MODF"  # only what was modified since the last report


@dataclass(frozen=True, slots=True)
class ReportQuery:
    """ReportingRequest5 (RptgReq): which report, on which account of which owner, over which days, and from which
    sequence number on (RptgSeq/FrSeq)."""

    query_id: str | None  # Id
    requested_message: MessageId  # ReqdMsgNmId, e.g. camt.053.001.08
    account: AccountId | None  # Acct/Id, in RUB (Acct/Ccy)
    owner_bic: str  # AcctOwnr/Agt/FinInstnId/BICFI
    servicer_bic: str | None  # AcctSvcr/FinInstnId/BICFI
    from_date: date | None  # RptgPrd/FrToDt/FrDt; None: no RptgPrd
    to_date: date | None  # RptgPrd/FrToDt/ToDt; None with a from_date: open-ended
    query_type: QueryType  # RptgPrd/Tp, written only with a period
    from_sequence: str | None  # RptgSeq/FrSeq
    balance_types: tuple[BalanceType, ...]  # ReqdBalTp/CdOrPrtry/Cd

    def __post_init__(self) -> None:
        for value in (self.query_id, self.from_sequence):
            if value is not None:
                _assert_id(value)
        assert _bic.fullmatch(self.owner_bic), self.owner_bic
        assert self.servicer_bic is None or _bic.fullmatch(self.servicer_bic), self.servicer_bic
        assert self.from_date is not None or self.to_date is None, "a period starts somewhere"
        for day in (self.from_date, self.to_date):
            assert not isinstance(day, datetime), "a reporting period is in whole days"
        if self.from_date is not None and self.to_date is not None:
            assert self.from_date <= self.to_date, (self.from_date, self.to_date)
        assert len(self.balance_types) <= bounds.rtgs_balance_types_per_query_max, len(self.balance_types)


@dataclass(frozen=True, slots=True)
class AccountReportQuery:
    """camt.060.001.05 AccountReportingRequest, from the gateway."""

    message_id: str  # GrpHdr/MsgId
    creation_time: datetime  # GrpHdr/CreDtTm
    sender_bic: str | None  # GrpHdr/MsgSndr/Agt/FinInstnId/BICFI
    queries: tuple[ReportQuery, ...]  # RptgReq: at least one

    def __post_init__(self) -> None:
        _assert_id(self.message_id)
        assert self.sender_bic is None or _bic.fullmatch(self.sender_bic), self.sender_bic
        assert 1 <= len(self.queries) <= bounds.rtgs_queries_per_message_max, len(self.queries)


def write(request: AccountReportQuery) -> etree._Element:
    writing = Writing(message_id)
    document = writing.root("Document")
    body = writing.element(document, "AcctRptgReq")
    header = writing.element(body, "GrpHdr")
    writing.element(header, "MsgId", request.message_id)
    writing.iso_datetime(header, "CreDtTm", request.creation_time)
    writing.agent_party(header, "MsgSndr", request.sender_bic)
    for query in request.queries:
        _query(writing, writing.element(body, "RptgReq"), query)
    return writing.checked(document)


def _query(writing: Writing, element: etree._Element, query: ReportQuery) -> None:
    writing.text(element, "Id", query.query_id)
    writing.element(element, "ReqdMsgNmId", str(query.requested_message))
    if query.account is not None:
        account = writing.element(element, "Acct")
        writing.account_identification(account, query.account)
        writing.element(account, "Ccy", currency_code)
    writing.agent_party(element, "AcctOwnr", query.owner_bic)
    writing.agent(element, "AcctSvcr", query.servicer_bic)
    if query.from_date is not None:
        period = writing.element(element, "RptgPrd")
        dates = writing.element(period, "FrToDt")
        writing.iso_date(dates, "FrDt", query.from_date)
        writing.iso_date(dates, "ToDt", query.to_date)
        writing.element(period, "Tp", query.query_type.value)
    if query.from_sequence is not None:
        writing.element(writing.element(element, "RptgSeq"), "FrSeq", query.from_sequence)
    for balance_type in query.balance_types:
        requested = writing.element(element, "ReqdBalTp")
        writing.element(writing.element(requested, "CdOrPrtry"), "Cd", balance_type.value)


def _assert_id(value: str) -> None:
    assert 1 <= len(value) <= reference_chars_max, value
    assert xml_safe(value) == value, "an identifier holds characters XML cannot carry"
