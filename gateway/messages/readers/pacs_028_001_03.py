"""Reader of pacs.028.001.03 FIToFIPaymentStatusRequestV03: a schema-valid Document to a StatusRequest."""

from __future__ import annotations

from lxml import etree

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
from gateway.messages.readers._reading import Reading, invalid_creation_date
from gateway.messages.rejections import Rejection
from gateway.messages.safe_xml import element_path

message_id = MessageId("pacs", "028", "001", "03")


def read(unwrapped: Unwrapped) -> StatusRequest | list[Rejection]:
    assert unwrapped.message_id == message_id, unwrapped.message_id
    reading = Reading(message_id.namespace)
    body = reading.one(unwrapped.document, "FIToFIPmtStsReq")
    body_path = f"{element_path(unwrapped.document)}/FIToFIPmtStsReq"
    group_path = f"{body_path}/GrpHdr"
    group = reading.one(body, "GrpHdr")
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
    count = reading.text(element, "OrgnlNbOfTxs")
    return OriginalGroupStatusRequest(
        original_message=OriginalMessage(
            message_id=reading.required_text(element, "OrgnlMsgId"),
            message_name_id=reading.required_text(element, "OrgnlMsgNmId"),
            creation_time=reading.iso_datetime(element, "OrgnlCreDtTm", path),
        ),
        number_of_transactions=None if count is None else parse_count(count),
        path=path,
    )


def _transaction(reading: Reading, element: etree._Element, path: str) -> TransactionStatusRequest:
    return TransactionStatusRequest(
        status_request_id=reading.text(element, "StsReqId"),
        original_message=reading.original_message(element, "OrgnlGrpInf", path),
        original_instruction_id=reading.text(element, "OrgnlInstrId"),
        original_end_to_end_id=reading.text(element, "OrgnlEndToEndId"),
        original_transaction_id=reading.text(element, "OrgnlTxId"),
        original_uetr=reading.uetr(element, "OrgnlUETR"),
        instructing_agent=reading.agent(element, "InstgAgt", path),
        instructed_agent=reading.agent(element, "InstdAgt", path),
        path=path,
    )
