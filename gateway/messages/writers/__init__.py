"""One writer per outbound message version: domain values in, an lxml Document or AppHdr out, valid against the
gateway's own schema (each writer asserts it). writers.envelope puts the two in the gateway's envelope."""

from __future__ import annotations

from lxml import etree

from gateway.messages.commands import BusinessHeader
from gateway.messages.identity import MessageId
from gateway.messages.reports import (
    MessageReject,
    Receipt,
    ResolutionOfInvestigation,
    StatusReport,
)
from gateway.messages.statements import BankToCustomerReport, DebitCreditNotification
from gateway.messages.writers import (
    admi_002_001_01,
    camt_025_001_05,
    camt_029_001_09,
    camt_050_001_05,
    camt_052_001_08,
    camt_053_001_08,
    camt_054_001_08,
    camt_060_001_05,
    envelope,
    head_001_001_02,
    pacs_002_001_10,
)


def status_report_message(header: BusinessHeader, report: StatusReport) -> bytes:
    """A pacs.002 with its AppHdr in the gateway's envelope, ready to send."""
    return in_envelope(header, pacs_002_001_10.write(report))


def message_reject_message(header: BusinessHeader, reject: MessageReject) -> bytes:
    """An admi.002 with its AppHdr in the gateway's envelope, ready to send."""
    return in_envelope(header, admi_002_001_01.write(reject))


def resolution_message(header: BusinessHeader, resolution: ResolutionOfInvestigation) -> bytes:
    """A camt.029 with its AppHdr in the gateway's envelope, ready to send."""
    return in_envelope(header, camt_029_001_09.write(resolution))


def receipt_message(header: BusinessHeader, receipt: Receipt) -> bytes:
    """A camt.025 with its AppHdr in the gateway's envelope, ready to send."""
    return in_envelope(header, camt_025_001_05.write(receipt))


def account_report_message(header: BusinessHeader, report: BankToCustomerReport) -> bytes:
    """A camt.052 intraday report with its AppHdr in the gateway's envelope, ready to send."""
    return in_envelope(header, camt_052_001_08.write(report))


def statement_message(header: BusinessHeader, report: BankToCustomerReport) -> bytes:
    """A camt.053 statement with its AppHdr in the gateway's envelope, ready to send."""
    return in_envelope(header, camt_053_001_08.write(report))


def report_message(message: MessageId, header: BusinessHeader, report: BankToCustomerReport) -> bytes:
    """The camt.052 or the camt.053 that `message` names, as account_report_message or statement_message writes it."""
    if message == camt_053_001_08.message_id:
        return statement_message(header, report)
    assert message == camt_052_001_08.message_id, message
    return account_report_message(header, report)


def liquidity_transfer_message(header: BusinessHeader, transfer: camt_050_001_05.LiquidityCreditTransfer) -> bytes:
    """A camt.050 with its AppHdr in the gateway's envelope, ready to send."""
    return in_envelope(header, camt_050_001_05.write(transfer))


def account_report_query_message(header: BusinessHeader, query: camt_060_001_05.AccountReportQuery) -> bytes:
    """A camt.060 with its AppHdr in the gateway's envelope, ready to send."""
    return in_envelope(header, camt_060_001_05.write(query))


def notification_message(header: BusinessHeader, notification: DebitCreditNotification) -> bytes:
    """A camt.054 with its AppHdr in the gateway's envelope, ready to send."""
    return in_envelope(header, camt_054_001_08.write(notification))


def in_envelope(header: BusinessHeader, document: etree._Element) -> bytes:
    """A Document with its AppHdr in the gateway's envelope, ready to send; the AppHdr names the Document's version."""
    document_id = MessageId.from_namespace(etree.QName(document).namespace or "")
    assert header.message_definition_id == str(document_id), (header.message_definition_id, document_id)
    return envelope.to_bytes(envelope.envelope(head_001_001_02.write(header), document))
