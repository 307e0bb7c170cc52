"""Writer of camt.054.001.08 BankToCustomerDebitCreditNotificationV08: a DebitCreditNotification to the Document
that tells a participant of postings to its wallet (or RTGS account) as they happen."""

from __future__ import annotations

from lxml import etree

from gateway.messages.identity import MessageId
from gateway.messages.statements import AccountNotification, DebitCreditNotification
from gateway.messages.writers import _writing
from gateway.messages.writers._writing import Writing

message_id = MessageId("camt", "054", "001", "08")


def write(notification: DebitCreditNotification) -> etree._Element:
    writing = Writing(message_id)
    document = writing.root("Document")
    body = writing.element(document, "BkToCstmrDbtCdtNtfctn")
    _writing.report_header(writing, body, notification.header)
    for account_notification in notification.notifications:
        _notification(writing, writing.element(body, "Ntfctn"), account_notification)
    return writing.checked(document)


def _notification(writing: Writing, element: etree._Element, notification: AccountNotification) -> None:
    """AccountNotification17: no balances and no summary, the entries alone."""
    writing.element(element, "Id", notification.notification_id)
    _writing.report_frame(
        writing,
        element,
        "NtfctnPgntn",
        notification.pagination,
        notification.electronic_sequence_number,
        notification.creation_time,
        notification.period,
    )
    _writing.reported_account(writing, element, notification.account)
    for entry in notification.entries:
        _writing.entry(writing, element, entry)
    writing.text(element, "AddtlNtfctnInf", notification.additional_info)
