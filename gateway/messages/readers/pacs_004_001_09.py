"""Reader of pacs.004.001.09 PaymentReturnV09: a schema-valid Document to a PaymentReturn."""

from __future__ import annotations

from lxml import etree

from gateway.messages.commands import PaymentReturn, ReturnGroupHeader, ReturnReason, ReturnTransaction
from gateway.messages.envelope import Unwrapped
from gateway.messages.identity import MessageId
from gateway.messages.iso_types import parse_count
from gateway.messages.readers._reading import Reading, invalid_creation_date
from gateway.messages.rejections import Rejection
from gateway.messages.safe_xml import element_path

message_id = MessageId("pacs", "004", "001", "09")


def read(unwrapped: Unwrapped) -> PaymentReturn | list[Rejection]:
    assert unwrapped.message_id == message_id, unwrapped.message_id
    reading = Reading(message_id.namespace)
    body = reading.one(unwrapped.document, "PmtRtr")
    body_path = f"{element_path(unwrapped.document)}/PmtRtr"
    group = _group(reading, body, body_path)
    transactions = tuple(
        _transaction(reading, element, path) for element, path in reading.each(body, body_path, "TxInf")
    )
    return reading.result(PaymentReturn(group, transactions))


def _group(reading: Reading, body: etree._Element, body_path: str) -> ReturnGroupHeader:
    path = f"{body_path}/GrpHdr"
    element = reading.one(body, "GrpHdr")
    original = reading.child(body, "OrgnlGrpInf")
    original_path = f"{body_path}/OrgnlGrpInf"
    return ReturnGroupHeader(
        message_id=reading.required_text(element, "MsgId"),
        creation_time=reading.required_iso_datetime(element, "CreDtTm", path, invalid_creation_date),
        number_of_transactions=parse_count(reading.required_text(element, "NbOfTxs")),
        control_sum_kopecks=reading.decimal_kopecks(element, "CtrlSum", path),
        total_returned_amount=reading.amount(element, "TtlRtrdIntrBkSttlmAmt", path),
        settlement_date=reading.iso_date(element, "IntrBkSttlmDt", path),
        settlement_method=reading.required_text(reading.one(element, "SttlmInf"), "SttlmMtd"),
        instructing_agent=reading.agent(element, "InstgAgt", path),
        instructed_agent=reading.agent(element, "InstdAgt", path),
        original_message=reading.original_message(body, "OrgnlGrpInf", body_path),
        reasons=() if original is None else _reasons(reading, original, original_path),
        path=path,
    )


def _transaction(reading: Reading, element: etree._Element, path: str) -> ReturnTransaction:
    chain = reading.child(element, "RtrChain")
    return ReturnTransaction(
        return_id=reading.text(element, "RtrId"),
        original_message=reading.original_message(element, "OrgnlGrpInf", path),
        original_instruction_id=reading.text(element, "OrgnlInstrId"),
        original_end_to_end_id=reading.text(element, "OrgnlEndToEndId"),
        original_transaction_id=reading.text(element, "OrgnlTxId"),
        original_uetr=reading.uetr(element, "OrgnlUETR"),
        original_amount=reading.amount(element, "OrgnlIntrBkSttlmAmt", path),
        returned_amount=reading.required_amount(element, "RtrdIntrBkSttlmAmt", path),
        settlement_date=reading.iso_date(element, "IntrBkSttlmDt", path),
        charge_bearer=reading.text(element, "ChrgBr"),
        instructing_agent=reading.agent(element, "InstgAgt", path),
        instructed_agent=reading.agent(element, "InstdAgt", path),
        debtor_agent=None if chain is None else reading.agent(chain, "DbtrAgt", f"{path}/RtrChain"),
        creditor_agent=None if chain is None else reading.agent(chain, "CdtrAgt", f"{path}/RtrChain"),
        reasons=_reasons(reading, element, path),
        path=path,
        xml=reading.xml(element),
    )


def _reasons(reading: Reading, parent: etree._Element, parent_path: str) -> tuple[ReturnReason, ...]:
    reasons = []
    for element, _ in reading.each(parent, parent_path, "RtrRsnInf"):
        choice = reading.child(element, "Rsn")
        reasons.append(
            ReturnReason(
                code=None if choice is None else reading.text(choice, "Cd"),
                proprietary=None if choice is None else reading.text(choice, "Prtry"),
                additional_info=tuple(line.text or "" for line in element.iterchildren(reading.qname("AddtlInf"))),
            )
        )
    return tuple(reasons)
