"""Reader of pacs.028.001.03 FIToFIPaymentStatusRequestV03: a schema-valid Document to a StatusRequest."""

from __future__ import annotations

from lxml import etree

from gateway.messages.codes import invalid_creation_date
from gateway.messages.commands import (
    OriginalGroupStatusRequest,
    OriginalMessage,
    StatusRequest,
    StatusRequestGroupHeader,
    TransactionStatusRequest,
)
from gateway.messages.envelope import Unwrapped
from gateway.messages.identity import MessageId
from gateway.messages.iso_types import parse_count
from gateway.messages.readers._reading import Reading
from gateway.messages.rejections import Rejection

message_id = MessageId("pacs", "028", "001", "03")


def read(unwrapped: Unwrapped) -> StatusRequest | list[Rejection]:
    assert unwrapped.message_id == message_id, unwrapped.message_id
    reading = Reading(message_id.namespace)
    body = reading.one(reading.fields(unwrapped.document), "FIToFIPmtStsReq")
    body_path = f"{unwrapped.document_path}/FIToFIPmtStsReq"
    group_path = f"{body_path}/GrpHdr"
    group_element = reading.first(body, "GrpHdr")  # first: the body's other children are the requests
    assert group_element is not None, "GrpHdr is mandatory in the schema"
    group = reading.fields(group_element)
    request = StatusRequest(
        group=StatusRequestGroupHeader(
            message_id=reading.required_text(group, "MsgId"),
            creation_time=reading.required_iso_datetime(group, "CreDtTm", group_path, invalid_creation_date),
            instructing_agent=reading.agent(group, "InstgAgt", group_path),
            instructed_agent=reading.agent(group, "InstdAgt", group_path),
            path=group_path,
        ),
        original_groups=tuple(
            _original_group(reading, element, path) for element, path in reading.each(body, body_path, "OrgnlGrpInf")
        ),
        transactions=tuple(
            _transaction(reading, element, path) for element, path in reading.each(body, body_path, "TxInf")
        ),
    )
    return reading.result(request)


def _original_group(reading: Reading, element: etree._Element, path: str) -> OriginalGroupStatusRequest:
    fields = reading.fields(element)
    count = reading.text(fields, "OrgnlNbOfTxs")
    return OriginalGroupStatusRequest(
        original_message=OriginalMessage(
            message_id=reading.required_text(fields, "OrgnlMsgId"),
            message_name_id=reading.required_text(fields, "OrgnlMsgNmId"),
            creation_time=reading.iso_datetime(fields, "OrgnlCreDtTm", path),
        ),
        number_of_transactions=None if count is None else parse_count(count),
        path=path,
    )


def _transaction(reading: Reading, element: etree._Element, path: str) -> TransactionStatusRequest:
    fields = reading.fields(element)
    return TransactionStatusRequest(
        status_request_id=reading.text(fields, "StsReqId"),
        original_message=reading.original_message(fields, "OrgnlGrpInf", path),
        original_instruction_id=reading.text(fields, "OrgnlInstrId"),
        original_end_to_end_id=reading.text(fields, "OrgnlEndToEndId"),
        original_transaction_id=reading.text(fields, "OrgnlTxId"),
        original_uetr=reading.uetr(fields, "OrgnlUETR"),
        instructing_agent=reading.agent(fields, "InstgAgt", path),
        instructed_agent=reading.agent(fields, "InstdAgt", path),
        path=path,
    )
