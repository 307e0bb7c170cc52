"""Reader of camt.056.001.08 FIToFIPaymentCancellationRequestV08: a schema-valid Document to a CancellationRequest."""

from __future__ import annotations

from lxml import etree

from gateway.messages.commands import (
    Assignment,
    CancellationRequest,
    Case,
    OriginalGroupCancellation,
    OriginalMessage,
    Party,
    PaymentCancellationReason,
    TransactionCancellation,
    UnderlyingCancellation,
)
from gateway.messages.envelope import Unwrapped
from gateway.messages.identity import MessageId
from gateway.messages.iso_types import parse_count
from gateway.messages.readers._reading import Reading, invalid_creation_date
from gateway.messages.rejections import Rejection
from gateway.messages.safe_xml import element_path

message_id = MessageId("camt", "056", "001", "08")


def read(unwrapped: Unwrapped) -> CancellationRequest | list[Rejection]:
    assert unwrapped.message_id == message_id, unwrapped.message_id
    reading = Reading(message_id.namespace)
    body = reading.one(unwrapped.document, "FIToFIPmtCxlReq")
    body_path = f"{element_path(unwrapped.document)}/FIToFIPmtCxlReq"
    control = reading.child(body, "CtrlData")
    control_path = f"{body_path}/CtrlData"
    count = None if control is None else reading.required_text(control, "NbOfTxs")
    request = CancellationRequest(
        assignment=_assignment(reading, reading.one(body, "Assgnmt"), f"{body_path}/Assgnmt"),
        case=_case(reading, body, body_path),
        number_of_transactions=None if count is None else parse_count(count),
        control_sum_kopecks=None if control is None else reading.decimal_kopecks(control, "CtrlSum", control_path),
        underlyings=tuple(
            _underlying(reading, element, path) for element, path in reading.each(body, body_path, "Undrlyg")
        ),
        path=body_path,
    )
    return reading.result(request)


def read_party(reading: Reading, parent: etree._Element, name: str, path: str) -> Party | None:
    """Party40Choice: Agt read as an agent; Pty, which names no financial institution, as Party(agent=None).
    Shared with the camt.060 reader (it belongs in _reading.Reading beside `agent`)."""
    element = reading.child(parent, name)
    if element is None:
        return None
    party_path = f"{path}/{name}"
    return Party(agent=reading.agent(element, "Agt", party_path), path=party_path)


def _required_party(reading: Reading, parent: etree._Element, name: str, path: str) -> Party:
    party = read_party(reading, parent, name, path)
    assert party is not None, f"{name} is mandatory in the schema"
    return party


def _assignment(reading: Reading, element: etree._Element, path: str) -> Assignment:
    return Assignment(
        assignment_id=reading.required_text(element, "Id"),
        assigner=_required_party(reading, element, "Assgnr", path),
        assignee=_required_party(reading, element, "Assgne", path),
        # The assignment's CreDtTm is the request's creation date and time (DT02 InvalidCreationDate).
        creation_time=reading.required_iso_datetime(element, "CreDtTm", path, invalid_creation_date),
        path=path,
    )


def _case(reading: Reading, parent: etree._Element, parent_path: str) -> Case | None:
    element = reading.child(parent, "Case")
    if element is None:
        return None
    path = f"{parent_path}/Case"
    return Case(
        case_id=reading.required_text(element, "Id"),
        creator=_required_party(reading, element, "Cretr", path),
        reopened=reading.boolean(element, "ReopCaseIndctn"),
        path=path,
    )


def _underlying(reading: Reading, element: etree._Element, path: str) -> UnderlyingCancellation:
    group = reading.child(element, "OrgnlGrpInfAndCxl")
    return UnderlyingCancellation(
        original_group=None if group is None else _original_group(reading, group, f"{path}/OrgnlGrpInfAndCxl"),
        transactions=tuple(
            _transaction(reading, transaction, transaction_path)
            for transaction, transaction_path in reading.each(element, path, "TxInf")
        ),
        path=path,
    )


def _original_group(reading: Reading, element: etree._Element, path: str) -> OriginalGroupCancellation:
    count = reading.text(element, "NbOfTxs")
    return OriginalGroupCancellation(
        group_cancellation_id=reading.text(element, "GrpCxlId"),
        case=_case(reading, element, path),
        original_message=OriginalMessage(
            message_id=reading.required_text(element, "OrgnlMsgId"),
            message_name_id=reading.required_text(element, "OrgnlMsgNmId"),
            creation_time=reading.iso_datetime(element, "OrgnlCreDtTm", path),
        ),
        number_of_transactions=None if count is None else parse_count(count),
        control_sum_kopecks=reading.decimal_kopecks(element, "CtrlSum", path),
        group_cancellation=reading.boolean(element, "GrpCxl"),
        reasons=_reasons(reading, element, path),
        path=path,
        xml=reading.xml(element),
    )


def _transaction(reading: Reading, element: etree._Element, path: str) -> TransactionCancellation:
    return TransactionCancellation(
        cancellation_id=reading.text(element, "CxlId"),
        case=_case(reading, element, path),
        original_message=reading.original_message(element, "OrgnlGrpInf", path),
        original_instruction_id=reading.text(element, "OrgnlInstrId"),
        original_end_to_end_id=reading.text(element, "OrgnlEndToEndId"),
        original_transaction_id=reading.text(element, "OrgnlTxId"),
        original_uetr=reading.uetr(element, "OrgnlUETR"),
        original_clearing_system_reference=reading.text(element, "OrgnlClrSysRef"),
        original_amount=reading.amount(element, "OrgnlIntrBkSttlmAmt", path),
        original_settlement_date=reading.iso_date(element, "OrgnlIntrBkSttlmDt", path),
        assigner=reading.agent(element, "Assgnr", path),
        assignee=reading.agent(element, "Assgne", path),
        reasons=_reasons(reading, element, path),
        path=path,
        xml=reading.xml(element),
    )


def _reasons(reading: Reading, parent: etree._Element, parent_path: str) -> tuple[PaymentCancellationReason, ...]:
    reasons = []
    for element, path in reading.each(parent, parent_path, "CxlRsnInf"):
        choice = reading.child(element, "Rsn")
        reasons.append(
            PaymentCancellationReason(
                code=None if choice is None else reading.text(choice, "Cd"),
                proprietary=None if choice is None else reading.text(choice, "Prtry"),
                additional_info=tuple(line.text or "" for line in element.iterchildren(reading.qname("AddtlInf"))),
                path=path,
            )
        )
    return tuple(reasons)
