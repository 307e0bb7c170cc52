"""Reader of camt.056.001.08 FIToFIPaymentCancellationRequestV08: a schema-valid Document to a CancellationRequest."""

from __future__ import annotations

from lxml import etree

from gateway.messages.codes import invalid_creation_date
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
from gateway.messages.readers._reading import Fields, Reading
from gateway.messages.rejections import Rejection

message_id = MessageId("camt", "056", "001", "08")


def read(unwrapped: Unwrapped) -> CancellationRequest | list[Rejection]:
    assert unwrapped.message_id == message_id, unwrapped.message_id
    reading = Reading(message_id.namespace)
    body_element = reading.one(reading.fields(unwrapped.document), "FIToFIPmtCxlReq")
    body = reading.fields(body_element)
    body_path = f"{unwrapped.document_path}/FIToFIPmtCxlReq"
    control_element = reading.child(body, "CtrlData")
    control = None if control_element is None else reading.fields(control_element)
    control_path = f"{body_path}/CtrlData"
    count = None if control is None else reading.required_text(control, "NbOfTxs")
    request = CancellationRequest(
        assignment=_assignment(reading, reading.one(body, "Assgnmt"), f"{body_path}/Assgnmt"),
        case=_case(reading, body, body_path),
        number_of_transactions=None if count is None else parse_count(count),
        control_sum_kopecks=None if control is None else reading.decimal_kopecks(control, "CtrlSum", control_path),
        underlyings=tuple(
            _underlying(reading, element, path) for element, path in reading.each(body_element, body_path, "Undrlyg")
        ),
        path=body_path,
    )
    return reading.result(request)


def read_party(reading: Reading, fields: Fields, name: str, path: str) -> Party | None:
    """Party40Choice: Agt read as an agent; Pty, which names no financial institution, as Party(agent=None).
    Shared with the camt.060 reader (it belongs in _reading.Reading beside `agent`)."""
    element = reading.child(fields, name)
    if element is None:
        return None
    party_path = f"{path}/{name}"
    return Party(agent=reading.agent(reading.fields(element), "Agt", party_path), path=party_path)


def _required_party(reading: Reading, fields: Fields, name: str, path: str) -> Party:
    party = read_party(reading, fields, name, path)
    assert party is not None, f"{name} is mandatory in the schema"
    return party


def _assignment(reading: Reading, element: etree._Element, path: str) -> Assignment:
    fields = reading.fields(element)
    return Assignment(
        assignment_id=reading.required_text(fields, "Id"),
        assigner=_required_party(reading, fields, "Assgnr", path),
        assignee=_required_party(reading, fields, "Assgne", path),
        # The assignment's CreDtTm is the request's creation date and time (DT02 InvalidCreationDate).
        creation_time=reading.required_iso_datetime(fields, "CreDtTm", path, invalid_creation_date),
        path=path,
    )


def _case(reading: Reading, parent: Fields, parent_path: str) -> Case | None:
    element = reading.child(parent, "Case")
    if element is None:
        return None
    path = f"{parent_path}/Case"
    fields = reading.fields(element)
    return Case(
        case_id=reading.required_text(fields, "Id"),
        creator=_required_party(reading, fields, "Cretr", path),
        reopened=reading.boolean(fields, "ReopCaseIndctn"),
        path=path,
    )


def _underlying(reading: Reading, element: etree._Element, path: str) -> UnderlyingCancellation:
    group = reading.first(element, "OrgnlGrpInfAndCxl")  # first: the other children are the transactions
    return UnderlyingCancellation(
        original_group=None if group is None else _original_group(reading, group, f"{path}/OrgnlGrpInfAndCxl"),
        transactions=tuple(
            _transaction(reading, transaction, transaction_path)
            for transaction, transaction_path in reading.each(element, path, "TxInf")
        ),
        path=path,
    )


def _original_group(reading: Reading, element: etree._Element, path: str) -> OriginalGroupCancellation:
    fields = reading.fields(element)
    count = reading.text(fields, "NbOfTxs")
    return OriginalGroupCancellation(
        group_cancellation_id=reading.text(fields, "GrpCxlId"),
        case=_case(reading, fields, path),
        original_message=OriginalMessage(
            message_id=reading.required_text(fields, "OrgnlMsgId"),
            message_name_id=reading.required_text(fields, "OrgnlMsgNmId"),
            creation_time=reading.iso_datetime(fields, "OrgnlCreDtTm", path),
        ),
        number_of_transactions=None if count is None else parse_count(count),
        control_sum_kopecks=reading.decimal_kopecks(fields, "CtrlSum", path),
        group_cancellation=reading.boolean(fields, "GrpCxl"),
        reasons=_reasons(reading, element, path),
        path=path,
        xml=reading.xml(element),
    )


def _transaction(reading: Reading, element: etree._Element, path: str) -> TransactionCancellation:
    fields = reading.fields(element)
    return TransactionCancellation(
        cancellation_id=reading.text(fields, "CxlId"),
        case=_case(reading, fields, path),
        original_message=reading.original_message(fields, "OrgnlGrpInf", path),
        original_instruction_id=reading.text(fields, "OrgnlInstrId"),
        original_end_to_end_id=reading.text(fields, "OrgnlEndToEndId"),
        original_transaction_id=reading.text(fields, "OrgnlTxId"),
        original_uetr=reading.uetr(fields, "OrgnlUETR"),
        original_clearing_system_reference=reading.text(fields, "OrgnlClrSysRef"),
        original_amount=reading.amount(fields, "OrgnlIntrBkSttlmAmt", path),
        original_settlement_date=reading.iso_date(fields, "OrgnlIntrBkSttlmDt", path),
        assigner=reading.agent(fields, "Assgnr", path),
        assignee=reading.agent(fields, "Assgne", path),
        reasons=_reasons(reading, element, path),
        path=path,
        xml=reading.xml(element),
    )


def _reasons(reading: Reading, parent: etree._Element, parent_path: str) -> tuple[PaymentCancellationReason, ...]:
    reasons = []
    for element, path in reading.each(parent, parent_path, "CxlRsnInf"):
        choice_element = reading.child(reading.fields(element), "Rsn")
        choice = None if choice_element is None else reading.fields(choice_element)
        reasons.append(
            PaymentCancellationReason(
                code=None if choice is None else reading.text(choice, "Cd"),
                proprietary=None if choice is None else reading.text(choice, "Prtry"),
                additional_info=tuple(line.text or "" for line in element.iterchildren(reading.qname("AddtlInf"))),
                path=path,
            )
        )
    return tuple(reasons)
