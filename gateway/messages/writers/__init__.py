"""One writer per outbound message version: domain values in, an lxml Document or AppHdr out, valid against the
gateway's own schema (each writer asserts it). writers.envelope puts the two in the gateway's envelope."""

from __future__ import annotations

from gateway.messages.commands import BusinessHeader
from gateway.messages.reports import MessageReject, StatusReport
from gateway.messages.writers import admi_002_001_01, envelope, head_001_001_02, pacs_002_001_10


def status_report_message(header: BusinessHeader, report: StatusReport) -> bytes:
    """A pacs.002 with its AppHdr in the gateway's envelope, ready to send."""
    assert header.message_definition_id == str(pacs_002_001_10.message_id), header.message_definition_id
    return envelope.to_bytes(envelope.envelope(head_001_001_02.write(header), pacs_002_001_10.write(report)))


def message_reject_message(header: BusinessHeader, reject: MessageReject) -> bytes:
    """An admi.002 with its AppHdr in the gateway's envelope, ready to send."""
    assert header.message_definition_id == str(admi_002_001_01.message_id), header.message_definition_id
    return envelope.to_bytes(envelope.envelope(head_001_001_02.write(header), admi_002_001_01.write(reject)))
