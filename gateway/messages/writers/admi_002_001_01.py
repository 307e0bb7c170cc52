"""Writer of admi.002.001.01 MessageReject: a MessageReject to the Document the gateway sends."""

from __future__ import annotations

from lxml import etree

from gateway.messages.identity import MessageId
from gateway.messages.reports import MessageReject
from gateway.messages.writers._writing import Writing

message_id = MessageId("admi", "002", "001", "01")


def write(reject: MessageReject) -> etree._Element:
    writing = Writing(message_id)
    document = writing.root("Document")
    body = writing.element(document, "admi.002.001.01")
    writing.element(writing.element(body, "RltdRef"), "Ref", reject.reference)
    reason = writing.element(body, "Rsn")
    writing.element(reason, "RjctgPtyRsn", reject.reason_code)
    writing.iso_datetime(reason, "RjctnDtTm", reject.rejection_time)
    writing.text(reason, "ErrLctn", reject.error_location)
    writing.text(reason, "RsnDesc", reject.description)
    writing.text(reason, "AddtlData", reject.additional_data)
    return writing.checked(document)
