"""Reader of admi.002.001.01 MessageReject: a schema-valid Document to a MessageReject (the gateway writes them;
this reads them back, and reads a counterparty's)."""

from __future__ import annotations

import re

from gateway.messages.codes import element_content_incorrect, narrative
from gateway.messages.envelope import Unwrapped
from gateway.messages.identity import MessageId
from gateway.messages.readers._reading import Reading
from gateway.messages.rejections import Rejection, excerpt
from gateway.messages.reports import MessageReject

message_id = MessageId("admi", "002", "001", "01")

_reason_code = re.compile(r"[A-Z0-9]{4}")


def read(unwrapped: Unwrapped) -> MessageReject | list[Rejection]:
    assert unwrapped.message_id == message_id, unwrapped.message_id
    reading = Reading(message_id.namespace)
    body = reading.fields(reading.one(reading.fields(unwrapped.document), "admi.002.001.01"))
    reason = reading.fields(reading.one(body, "Rsn"))
    reason_path = f"{unwrapped.document_path}/admi.002.001.01/Rsn"
    code = reading.required_text(reason, "RjctgPtyRsn")
    if _reason_code.fullmatch(code) is None:
        reading.reject(
            element_content_incorrect, f"{reason_path}/RjctgPtyRsn", f"{excerpt(code)} is not an external code"
        )
        code = narrative
    reject = MessageReject(
        reference=reading.required_text(reading.fields(reading.one(body, "RltdRef")), "Ref"),
        reason_code=code,
        rejection_time=reading.iso_datetime(reason, "RjctnDtTm", reason_path),
        error_location=reading.text(reason, "ErrLctn"),
        description=reading.text(reason, "RsnDesc"),
        additional_data=reading.text(reason, "AddtlData"),
    )
    return reading.result(reject)
