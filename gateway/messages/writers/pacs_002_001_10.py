"""Writer of pacs.002.001.10 FIToFIPaymentStatusReportV10: a StatusReport to the Document the gateway sends."""

from __future__ import annotations

from datetime import datetime

from lxml import etree

from gateway.messages.identity import MessageId
from gateway.messages.reports import (
    GroupStatus,
    StatusReason,
    StatusReport,
    TransactionStatus,
)
from gateway.messages.writers import _text
from gateway.messages.writers._writing import Writing

message_id = MessageId("pacs", "002", "001", "10")


def write(report: StatusReport) -> etree._Element:
    writing = Writing(message_id)
    document = writing.root("Document")
    body = writing.element(document, "FIToFIPmtStsRpt")
    group = writing.element(body, "GrpHdr")
    writing.element(group, "MsgId", report.message_id)
    writing.iso_datetime(group, "CreDtTm", report.creation_time)
    writing.agent(group, "InstgAgt", report.instructing_agent_bic)
    writing.agent(group, "InstdAgt", report.instructed_agent_bic)
    for group_status in report.groups:
        _group(writing, writing.element(body, "OrgnlGrpInfAndSts"), group_status)
    for transaction in report.transactions:
        _transaction(writing, writing.element(body, "TxInfAndSts"), transaction)
    return writing.checked(document)


def _group(writing: Writing, element: etree._Element, status: GroupStatus) -> None:
    original = status.original_message
    writing.element(element, "OrgnlMsgId", original.message_id)
    writing.element(element, "OrgnlMsgNmId", original.message_name_id)
    writing.iso_datetime(element, "OrgnlCreDtTm", original.creation_time)
    number = status.original_number_of_transactions
    writing.text(element, "OrgnlNbOfTxs", None if number is None else str(number))
    writing.decimal_kopecks(element, "OrgnlCtrlSum", status.original_control_sum_kopecks)
    writing.text(element, "GrpSts", None if status.status is None else status.status.value)
    _reasons(writing, element, status.reasons)
    for count in status.counts:
        counted = writing.element(element, "NbOfTxsPerSts")
        writing.element(counted, "DtldNbOfTxs", str(count.number_of_transactions))
        writing.element(counted, "DtldSts", count.status.value)
        writing.decimal_kopecks(counted, "DtldCtrlSum", count.control_sum_kopecks)


def _transaction(writing: Writing, element: etree._Element, status: TransactionStatus) -> None:
    writing.text(element, "StsId", status.status_id)
    if status.original_message is not None:
        original = writing.element(element, "OrgnlGrpInf")
        writing.element(original, "OrgnlMsgId", status.original_message.message_id)
        writing.element(original, "OrgnlMsgNmId", status.original_message.message_name_id)
        writing.iso_datetime(original, "OrgnlCreDtTm", status.original_message.creation_time)
    writing.text(element, "OrgnlInstrId", status.original_instruction_id)
    writing.text(element, "OrgnlEndToEndId", status.original_end_to_end_id)
    writing.text(element, "OrgnlTxId", status.original_transaction_id)
    writing.text(element, "OrgnlUETR", None if status.original_uetr is None else str(status.original_uetr))
    writing.text(element, "TxSts", None if status.status is None else status.status.value)
    _reasons(writing, element, status.reasons)
    writing.iso_datetime(element, "AccptncDtTm", status.acceptance_time)
    if status.settlement is not None:
        settlement = writing.element(element, "FctvIntrBkSttlmDt")
        if isinstance(status.settlement, datetime):  # a datetime is also a date: test it first
            writing.iso_datetime(settlement, "DtTm", status.settlement)
        else:
            writing.iso_date(settlement, "Dt", status.settlement)
    writing.text(element, "ClrSysRef", status.clearing_system_reference)
    if status.original_amount is not None or status.original_settlement_date is not None:
        reference = writing.element(element, "OrgnlTxRef")
        writing.amount(reference, "IntrBkSttlmAmt", status.original_amount)
        writing.iso_date(reference, "IntrBkSttlmDt", status.original_settlement_date)


def _reasons(writing: Writing, parent: etree._Element, reasons: tuple[StatusReason, ...]) -> None:
    for reason in reasons:
        element = writing.element(parent, "StsRsnInf")
        writing.element(writing.element(element, "Rsn"), "Cd", reason.code)
        for line in reason.additional_info:
            writing.element(element, "AddtlInf", line)


# --------------------------------------------------------------------------------------------------------------
# The same Document as text (see _text): what the gateway sends. The lxml writer above is the reference the tests
# hold this one to, byte for byte.
# --------------------------------------------------------------------------------------------------------------


def write_text(report: StatusReport) -> str:
    content = "".join(
        (
            "<FIToFIPmtStsRpt><GrpHdr>",
            _text.element("MsgId", report.message_id),
            _text.iso_datetime("CreDtTm", report.creation_time),
            _text.agent("InstgAgt", report.instructing_agent_bic),
            _text.agent("InstdAgt", report.instructed_agent_bic),
            "</GrpHdr>",
            *(_group_text(group) for group in report.groups),
            *(_transaction_text(transaction) for transaction in report.transactions),
            "</FIToFIPmtStsRpt>",
        )
    )
    return _text.checked(message_id, _text.root("Document", message_id, content))


def _group_text(status: GroupStatus) -> str:
    original = status.original_message
    number = status.original_number_of_transactions
    return "".join(
        (
            "<OrgnlGrpInfAndSts>",
            _text.element("OrgnlMsgId", original.message_id),
            _text.element("OrgnlMsgNmId", original.message_name_id),
            _text.iso_datetime("OrgnlCreDtTm", original.creation_time),
            "" if number is None else f"<OrgnlNbOfTxs>{number}</OrgnlNbOfTxs>",
            _text.decimal_kopecks("OrgnlCtrlSum", status.original_control_sum_kopecks),
            "" if status.status is None else f"<GrpSts>{status.status.value}</GrpSts>",
            _reasons_text(status.reasons),
            *(
                f"<NbOfTxsPerSts><DtldNbOfTxs>{count.number_of_transactions}</DtldNbOfTxs>"
                f"<DtldSts>{count.status.value}</DtldSts>"
                f"{_text.decimal_kopecks('DtldCtrlSum', count.control_sum_kopecks)}</NbOfTxsPerSts>"
                for count in status.counts
            ),
            "</OrgnlGrpInfAndSts>",
        )
    )


def _transaction_text(status: TransactionStatus) -> str:
    original = status.original_message
    settlement = status.settlement
    if settlement is None:
        settled = ""
    elif isinstance(settlement, datetime):  # a datetime is also a date: test it first
        settled = f"<FctvIntrBkSttlmDt>{_text.iso_datetime('DtTm', settlement)}</FctvIntrBkSttlmDt>"
    else:
        settled = f"<FctvIntrBkSttlmDt>{_text.iso_date('Dt', settlement)}</FctvIntrBkSttlmDt>"
    if status.original_amount is None and status.original_settlement_date is None:
        reference = ""
    else:
        reference = (
            f"<OrgnlTxRef>{_text.amount('IntrBkSttlmAmt', status.original_amount)}"
            f"{_text.iso_date('IntrBkSttlmDt', status.original_settlement_date)}</OrgnlTxRef>"
        )
    return "".join(
        (
            "<TxInfAndSts>",
            _text.optional("StsId", status.status_id),
            ""
            if original is None
            else (
                f"<OrgnlGrpInf>{_text.element('OrgnlMsgId', original.message_id)}"
                f"{_text.element('OrgnlMsgNmId', original.message_name_id)}"
                f"{_text.iso_datetime('OrgnlCreDtTm', original.creation_time)}</OrgnlGrpInf>"
            ),
            _text.optional("OrgnlInstrId", status.original_instruction_id),
            _text.optional("OrgnlEndToEndId", status.original_end_to_end_id),
            _text.optional("OrgnlTxId", status.original_transaction_id),
            "" if status.original_uetr is None else f"<OrgnlUETR>{status.original_uetr}</OrgnlUETR>",
            "" if status.status is None else f"<TxSts>{status.status.value}</TxSts>",
            _reasons_text(status.reasons),
            _text.iso_datetime("AccptncDtTm", status.acceptance_time),
            settled,
            _text.optional("ClrSysRef", status.clearing_system_reference),
            reference,
            "</TxInfAndSts>",
        )
    )


def _reasons_text(reasons: tuple[StatusReason, ...]) -> str:
    return "".join(
        f"<StsRsnInf><Rsn>{_text.element('Cd', reason.code)}</Rsn>"
        + "".join(_text.element("AddtlInf", line) for line in reason.additional_info)
        + "</StsRsnInf>"
        for reason in reasons
    )
