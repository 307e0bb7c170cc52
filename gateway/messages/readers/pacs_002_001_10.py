"""Reader of pacs.002.001.10 FIToFIPaymentStatusReportV10: a schema-valid Document to a StatusReport.

The gateway writes pacs.002 (gateway.messages.writers); this reader reads them back (round-trip tests) and reads a
counterparty's, e.g. a creditor agent's answer to a forwarded payment. What a StatusReport does not hold (a
proprietary reason, a status the gateway does not use) is refused rather than dropped.
"""

from __future__ import annotations

import re

from lxml import etree

from gateway.messages.codes import (
    element_content_incorrect,
    element_not_admitted,
    invalid_creation_date,
    required_element_missing,
)
from gateway.messages.commands import OriginalMessage
from gateway.messages.envelope import Unwrapped
from gateway.messages.identity import MessageId
from gateway.messages.iso_types import parse_count
from gateway.messages.readers._reading import Reading
from gateway.messages.rejections import Rejection, excerpt
from gateway.messages.reports import (
    GroupStatus,
    PaymentStatus,
    StatusCount,
    StatusReason,
    StatusReport,
    TransactionStatus,
)

message_id = MessageId("pacs", "002", "001", "10")

_statuses = {status.value: status for status in PaymentStatus}
_reason_code = re.compile(r"[A-Z0-9]{4}")


def read(unwrapped: Unwrapped) -> StatusReport | list[Rejection]:
    assert unwrapped.message_id == message_id, unwrapped.message_id
    reading = Reading(message_id.namespace)
    body = reading.one(reading.fields(unwrapped.document), "FIToFIPmtStsRpt")
    body_path = f"{unwrapped.document_path}/FIToFIPmtStsRpt"
    group_path = f"{body_path}/GrpHdr"
    group_element = reading.first(body, "GrpHdr")  # first: the body's other children are the statuses
    assert group_element is not None, "GrpHdr is mandatory in the schema"
    group = reading.fields(group_element)
    instructing = reading.agent(group, "InstgAgt", group_path)
    instructed = reading.agent(group, "InstdAgt", group_path)
    groups = tuple(
        _group(reading, element, path) for element, path in reading.each(body, body_path, "OrgnlGrpInfAndSts")
    )
    transactions = tuple(
        _transaction(reading, element, path) for element, path in reading.each(body, body_path, "TxInfAndSts")
    )
    report = StatusReport(
        message_id=reading.required_text(group, "MsgId"),
        creation_time=reading.required_iso_datetime(group, "CreDtTm", group_path, invalid_creation_date),
        instructing_agent_bic=None if instructing is None else instructing.bic,
        instructed_agent_bic=None if instructed is None else instructed.bic,
        groups=groups,
        transactions=transactions,
    )
    return reading.result(report)


def _group(reading: Reading, element: etree._Element, path: str) -> GroupStatus:
    fields = reading.fields(element)
    count = reading.text(fields, "OrgnlNbOfTxs")
    status = reading.text(fields, "GrpSts")
    return GroupStatus(
        original_message=OriginalMessage(
            message_id=reading.required_text(fields, "OrgnlMsgId"),
            message_name_id=reading.required_text(fields, "OrgnlMsgNmId"),
            creation_time=reading.iso_datetime(fields, "OrgnlCreDtTm", path),
        ),
        original_number_of_transactions=None if count is None else parse_count(count),
        original_control_sum_kopecks=reading.decimal_kopecks(fields, "OrgnlCtrlSum", path),
        status=None if status is None else _status(reading, status, f"{path}/GrpSts"),
        reasons=_reasons(reading, element, path),
        counts=tuple(
            _count(reading, counted, counted_path)
            for counted, counted_path in reading.each(element, path, "NbOfTxsPerSts")
        ),
    )


def _count(reading: Reading, element: etree._Element, path: str) -> StatusCount:
    fields = reading.fields(element)
    return StatusCount(
        status=_status(reading, reading.required_text(fields, "DtldSts"), f"{path}/DtldSts"),
        number_of_transactions=parse_count(reading.required_text(fields, "DtldNbOfTxs")),
        control_sum_kopecks=reading.decimal_kopecks(fields, "DtldCtrlSum", path),
    )


def _transaction(reading: Reading, element: etree._Element, path: str) -> TransactionStatus:
    fields = reading.fields(element)
    status = reading.text(fields, "TxSts")  # absent: a status report on a payment the sender does not know
    reference_element = reading.child(fields, "OrgnlTxRef")
    reference = None if reference_element is None else reading.fields(reference_element)
    settlement_element = reading.child(fields, "FctvIntrBkSttlmDt")
    settlement = None if settlement_element is None else reading.fields(settlement_element)
    settlement_path = f"{path}/FctvIntrBkSttlmDt"
    return TransactionStatus(
        status_id=reading.text(fields, "StsId"),
        original_message=reading.original_message(fields, "OrgnlGrpInf", path),
        original_instruction_id=reading.text(fields, "OrgnlInstrId"),
        original_end_to_end_id=reading.text(fields, "OrgnlEndToEndId"),
        original_transaction_id=reading.text(fields, "OrgnlTxId"),
        original_uetr=reading.uetr(fields, "OrgnlUETR"),
        status=None if status is None else _status(reading, status, f"{path}/TxSts"),
        reasons=_reasons(reading, element, path),
        acceptance_time=reading.iso_datetime(fields, "AccptncDtTm", path),
        settlement=None
        if settlement is None
        else reading.iso_date(settlement, "Dt", settlement_path)
        or reading.iso_datetime(settlement, "DtTm", settlement_path),
        clearing_system_reference=reading.text(fields, "ClrSysRef"),
        original_amount=None
        if reference is None
        else reading.amount(reference, "IntrBkSttlmAmt", f"{path}/OrgnlTxRef"),
        original_settlement_date=None
        if reference is None
        else reading.iso_date(reference, "IntrBkSttlmDt", f"{path}/OrgnlTxRef"),
    )


def _status(reading: Reading, text: str, path: str) -> PaymentStatus:
    status = _statuses.get(text)
    if status is None:
        known = ", ".join(_statuses)
        reading.reject(element_content_incorrect, path, f"status {excerpt(text)} is not one of {known}")
        return PaymentStatus.RJCT
    return status


def _reasons(reading: Reading, parent: etree._Element, parent_path: str) -> tuple[StatusReason, ...]:
    reasons = []
    for element, path in reading.each(parent, parent_path, "StsRsnInf"):
        choice_element = reading.child(reading.fields(element), "Rsn")
        choice = None if choice_element is None else reading.fields(choice_element)
        code = None if choice is None else reading.text(choice, "Cd")
        lines = tuple(line.text or "" for line in element.iterchildren(reading.qname("AddtlInf")))
        if choice is not None and code is None:
            reading.reject(element_not_admitted, f"{path}/Rsn/Prtry", "a proprietary status reason is not accepted")
        elif code is None:
            reading.reject(required_element_missing, f"{path}/Rsn", "a status reason needs Rsn/Cd")
        elif _reason_code.fullmatch(code) is None:
            reading.reject(element_content_incorrect, f"{path}/Rsn/Cd", f"{excerpt(code)} is not an external code")
        else:
            reasons.append(StatusReason(code, lines))
    return tuple(reasons)
