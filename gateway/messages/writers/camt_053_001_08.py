"""Writer of camt.053.001.08 BankToCustomerStatementV08: a BankToCustomerReport to the Document of the statement
of a participant's wallet (or RTGS account) for a period, usually a business day; AccountStatement9 (see
_account_report)."""

from __future__ import annotations

from lxml import etree

from gateway.messages.identity import MessageId
from gateway.messages.statements import BankToCustomerReport
from gateway.messages.writers._account_report import statement_layout
from gateway.messages.writers._account_report import write as write_report
from gateway.messages.writers._writing import Writing

message_id = MessageId("camt", "053", "001", "08")


def write(report: BankToCustomerReport) -> etree._Element:
    return write_report(Writing(message_id), statement_layout, report)
