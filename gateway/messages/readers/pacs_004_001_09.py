"""Reader of pacs.004.001.09 PaymentReturnV09: a schema-valid Document to a PaymentReturn."""

from __future__ import annotations

from lxml import etree

from gateway.messages.codes import invalid_creation_date
from gateway.messages.commands import (
    PaymentReturn,
    ReturnGroupHeader,
    ReturnReason,
    ReturnTransaction,
)
from gateway.messages.envelope import Unwrapped
from gateway.messages.identity import MessageId
from gateway.messages.iso_types import parse_count
from gateway.messages.readers._reading import Reading
from gateway.messages.rejections import Rejection

message_id = MessageId("pacs", "004", "001", "09")


def read(unwrapped: Unwrapped) -> PaymentReturn | list[Rejection]:
    assert unwrapped.message_id == message_id, unwrapped.message_id
    reading = Reading(message_id.namespace)
    body = reading.one(reading.fields(unwrapped.document), "PmtRtr")
    body_path = f"{unwrapped.document_path}/PmtRtr"
    group = _group(reading, body, body_path)
    transactions = tuple(
        _transaction(reading, element, path) for element, path in reading.each(body, body_path, "TxInf")
    )
    return reading.result(PaymentReturn(group, transactions))


def _group(reading: Reading, body: etree._Element, body_path: str) -> ReturnGroupHeader:
    path = f"{body_path}/GrpHdr"
    # GrpHdr and OrgnlGrpInf are found one by one: the body's other children are the transactions.
    element = reading.first(body, "GrpHdr")
    assert element is not None, "GrpHdr is mandatory in the schema"
    group = reading.fields(element)
    original = reading.first(body, "OrgnlGrpInf")
    original_path = f"{body_path}/OrgnlGrpInf"
    return ReturnGroupHeader(
        message_id=reading.required_text(group, "MsgId"),
        creation_time=reading.required_iso_datetime(group, "CreDtTm", path, invalid_creation_date),
        number_of_transactions=parse_count(reading.required_text(group, "NbOfTxs")),
        control_sum_kopecks=reading.decimal_kopecks(group, "CtrlSum", path),
        total_returned_amount=reading.amount(group, "TtlRtrdIntrBkSttlmAmt", path),
        settlement_date=reading.iso_date(group, "IntrBkSttlmDt", path),
        settlement_method=reading.required_text(reading.fields(reading.one(group, "SttlmInf")), "SttlmMtd"),
        instructing_agent=reading.agent(group, "InstgAgt", path),
        instructed_agent=reading.agent(group, "InstdAgt", path),
        original_message=None if original is None else reading.original_message_of(original, original_path),
        reasons=() if original is None else _reasons(reading, original, original_path),
        path=path,
    )


def _transaction(reading: Reading, element: etree._Element, path: str) -> ReturnTransaction:
    fields = reading.fields(element)
    chain_element = reading.child(fields, "RtrChain")
    chain = None if chain_element is None else reading.fields(chain_element)
    return ReturnTransaction(
        return_id=reading.text(fields, "RtrId"),
        original_message=reading.original_message(fields, "OrgnlGrpInf", path),
        original_instruction_id=reading.text(fields, "OrgnlInstrId"),
        original_end_to_end_id=reading.text(fields, "OrgnlEndToEndId"),
        original_transaction_id=reading.text(fields, "OrgnlTxId"),
        original_uetr=reading.uetr(fields, "OrgnlUETR"),
        original_amount=reading.amount(fields, "OrgnlIntrBkSttlmAmt", path),
        returned_amount=reading.required_amount(fields, "RtrdIntrBkSttlmAmt", path),
        settlement_date=reading.iso_date(fields, "IntrBkSttlmDt", path),
        charge_bearer=reading.text(fields, "ChrgBr"),
        instructing_agent=reading.agent(fields, "InstgAgt", path),
        instructed_agent=reading.agent(fields, "InstdAgt", path),
        debtor_agent=None if chain is None else reading.agent(chain, "DbtrAgt", f"{path}/RtrChain"),
        creditor_agent=None if chain is None else reading.agent(chain, "CdtrAgt", f"{path}/RtrChain"),
        reasons=_reasons(reading, element, path),
        path=path,
        xml=reading.xml(element),
    )


def _reasons(reading: Reading, parent: etree._Element, parent_path: str) -> tuple[ReturnReason, ...]:
    reasons = []
    for element, _ in reading.each(parent, parent_path, "RtrRsnInf"):
        fields = reading.fields(element)
        choice_element = reading.child(fields, "Rsn")
        choice = None if choice_element is None else reading.fields(choice_element)
        reasons.append(
            ReturnReason(
                code=None if choice is None else reading.text(choice, "Cd"),
                proprietary=None if choice is None else reading.text(choice, "Prtry"),
                additional_info=tuple(line.text or "" for line in element.iterchildren(reading.qname("AddtlInf"))),
            )
        )
    return tuple(reasons)
