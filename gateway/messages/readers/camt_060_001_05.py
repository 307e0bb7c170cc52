"""Reader of camt.060.001.05 AccountReportingRequestV05: a schema-valid Document to an AccountReportingRequest."""

from __future__ import annotations

from datetime import date, time

from lxml import etree

from gateway.messages.codes import element_content_incorrect, invalid_creation_date
from gateway.messages.commands import (
    AccountReportingRequest,
    FloorLimit,
    ReportingPeriod,
    ReportingRequest,
    RequestedBalanceType,
    RequestedTransactionType,
)
from gateway.messages.envelope import Unwrapped
from gateway.messages.identity import MessageId
from gateway.messages.iso_types import parse_datetime, xml_whitespace
from gateway.messages.readers._reading import Fields, Reading
from gateway.messages.readers.camt_050_001_05 import read_account
from gateway.messages.readers.camt_056_001_08 import read_party
from gateway.messages.rejections import Rejection, excerpt

message_id = MessageId("camt", "060", "001", "05")

# Any day: an xs:time is read as the time of day of an xs:dateTime on it.
_anchor_day = date(2000, 1, 1)


def read(unwrapped: Unwrapped) -> AccountReportingRequest | list[Rejection]:
    assert unwrapped.message_id == message_id, unwrapped.message_id
    reading = Reading(message_id.namespace)
    body = reading.one(reading.fields(unwrapped.document), "AcctRptgReq")
    body_path = f"{unwrapped.document_path}/AcctRptgReq"
    group_path = f"{body_path}/GrpHdr"
    group_element = reading.first(body, "GrpHdr")  # first: the body's other children are the requests
    assert group_element is not None, "GrpHdr is mandatory in the schema"
    group = reading.fields(group_element)
    request = AccountReportingRequest(
        message_id=reading.required_text(group, "MsgId"),
        creation_time=reading.required_iso_datetime(group, "CreDtTm", group_path, invalid_creation_date),
        message_sender=read_party(reading, group, "MsgSndr", group_path),
        requests=tuple(_request(reading, element, path) for element, path in reading.each(body, body_path, "RptgReq")),
        path=group_path,
    )
    return reading.result(request)


def _request(reading: Reading, element: etree._Element, path: str) -> ReportingRequest:
    fields = reading.fields(element)
    owner = read_party(reading, fields, "AcctOwnr", path)
    assert owner is not None, "AcctOwnr is mandatory in the schema"
    return ReportingRequest(
        request_id=reading.text(fields, "Id"),
        requested_message_name_id=reading.required_text(fields, "ReqdMsgNmId"),
        account=read_account(reading, fields, "Acct", path),
        account_owner=owner,
        account_servicer=reading.agent(fields, "AcctSvcr", path),
        period=_period(reading, fields, path),
        sequence_range_present=reading.child(fields, "RptgSeq") is not None,
        transaction_type=_transaction_type(reading, fields, path),
        balance_types=tuple(
            _balance_type(reading, balance, balance_path)
            for balance, balance_path in reading.each(element, path, "ReqdBalTp")
        ),
        path=path,
    )


def _period(reading: Reading, parent: Fields, parent_path: str) -> ReportingPeriod | None:
    element = reading.child(parent, "RptgPrd")
    if element is None:
        return None
    path = f"{parent_path}/RptgPrd"
    fields = reading.fields(element)
    dates, dates_path = reading.fields(reading.one(fields, "FrToDt")), f"{path}/FrToDt"
    times_element, times_path = reading.child(fields, "FrToTm"), f"{path}/FrToTm"
    times = None if times_element is None else reading.fields(times_element)
    from_date = reading.iso_date(dates, "FrDt", dates_path)
    assert from_date is not None, "FrDt is mandatory in the schema"
    return ReportingPeriod(
        from_date=from_date,
        to_date=reading.iso_date(dates, "ToDt", dates_path),
        from_time=None if times is None else _time(reading, times, "FrTm", times_path),
        to_time=None if times is None else _time(reading, times, "ToTm", times_path),
        query_type=reading.required_text(fields, "Tp"),
        path=path,
    )


def _time(reading: Reading, parent: Fields, name: str, path: str) -> time | None:
    """An ISOTime, aware when it names an offset. 24:00:00, which XSD 1.0 allows, is the end of the day."""
    text = reading.text(parent, name)
    if text is None:
        return None
    value = parse_datetime(f"{_anchor_day.isoformat()}T{text.strip(xml_whitespace)}")
    if value is None:  # the schema admits no such time; kept as a rejection, never an exception
        reading.reject(element_content_incorrect, f"{path}/{name}", f"time {excerpt(text)} is not a time of day")
        return time()
    if value.date() != _anchor_day:
        return time.max.replace(tzinfo=value.tzinfo)
    return value.timetz()


def _transaction_type(reading: Reading, parent: Fields, parent_path: str) -> RequestedTransactionType | None:
    element = reading.child(parent, "ReqdTxTp")
    if element is None:
        return None
    path = f"{parent_path}/ReqdTxTp"
    fields = reading.fields(element)
    status = reading.fields(reading.one(fields, "Sts"))
    return RequestedTransactionType(
        status_code=reading.text(status, "Cd"),
        status_proprietary=reading.text(status, "Prtry"),
        credit_debit=reading.required_text(fields, "CdtDbtInd"),
        floor_limits=tuple(
            _floor_limit(reading, limit, limit_path) for limit, limit_path in reading.each(element, path, "FlrLmt")
        ),
        path=path,
    )


def _floor_limit(reading: Reading, element: etree._Element, path: str) -> FloorLimit:
    fields = reading.fields(element)
    return FloorLimit(
        amount=reading.required_amount(fields, "Amt", path),
        credit_debit=reading.required_text(fields, "CdtDbtInd"),
        path=path,
    )


def _balance_type(reading: Reading, element: etree._Element, path: str) -> RequestedBalanceType:
    choice = reading.fields(reading.one(reading.fields(element), "CdOrPrtry"))
    return RequestedBalanceType(
        code=reading.text(choice, "Cd"),
        proprietary=reading.text(choice, "Prtry"),
        path=path,
    )
