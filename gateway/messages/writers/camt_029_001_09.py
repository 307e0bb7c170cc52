"""Writer of camt.029.001.09 ResolutionOfInvestigationV09: a ResolutionOfInvestigation to the Document that answers
a camt.056 cancellation request."""

from __future__ import annotations

from lxml import etree

from gateway.messages.identity import MessageId
from gateway.messages.reports import (
    CancellationTransactionStatus,
    ResolutionOfInvestigation,
)
from gateway.messages.writers._writing import Writing

message_id = MessageId("camt", "029", "001", "09")


def write(resolution: ResolutionOfInvestigation) -> etree._Element:
    writing = Writing(message_id)
    document = writing.root("Document")
    body = writing.element(document, "RsltnOfInvstgtn")
    writing.case_assignment(writing.element(body, "Assgnmt"), resolution.assignment)
    if resolution.resolved_case is not None:
        case = writing.element(body, "RslvdCase")
        writing.element(case, "Id", resolution.resolved_case.case_id)
        writing.agent_party(case, "Cretr", resolution.resolved_case.creator_bic)
    writing.element(writing.element(body, "Sts"), "Conf", resolution.status.value)
    if resolution.transactions:
        details = writing.element(body, "CxlDtls")
        for transaction in resolution.transactions:
            _transaction(writing, writing.element(details, "TxInfAndSts"), transaction)
    return writing.checked(document)


def _transaction(writing: Writing, element: etree._Element, status: CancellationTransactionStatus) -> None:
    writing.text(element, "CxlStsId", status.cancellation_status_id)
    if status.original_message is not None:
        original = writing.element(element, "OrgnlGrpInf")
        writing.element(original, "OrgnlMsgId", status.original_message.message_id)
        writing.element(original, "OrgnlMsgNmId", status.original_message.message_name_id)
        writing.iso_datetime(original, "OrgnlCreDtTm", status.original_message.creation_time)
    writing.text(element, "OrgnlInstrId", status.original_instruction_id)
    writing.text(element, "OrgnlEndToEndId", status.original_end_to_end_id)
    writing.text(element, "OrgnlTxId", status.original_transaction_id)
    writing.text(element, "OrgnlClrSysRef", status.original_clearing_system_reference)
    writing.text(element, "OrgnlUETR", None if status.original_uetr is None else str(status.original_uetr))
    writing.element(element, "TxCxlSts", status.status.value)
    for reason in status.reasons:
        reason_element = writing.element(element, "CxlStsRsnInf")
        if reason.code is not None:
            writing.element(writing.element(reason_element, "Rsn"), "Cd", reason.code)
        for line in reason.additional_info:
            writing.element(reason_element, "AddtlInf", line)
    writing.amount(element, "OrgnlIntrBkSttlmAmt", status.original_amount)
    writing.iso_date(element, "OrgnlIntrBkSttlmDt", status.original_settlement_date)
