"""Writer of camt.052.001.08 BankToCustomerAccountReportV08: a BankToCustomerReport to the Document of an intraday
report on a participant's wallet (or RTGS account); AccountReport25 (see _account_report)."""

from __future__ import annotations

from lxml import etree

from gateway.messages.identity import MessageId
from gateway.messages.statements import BankToCustomerReport
from gateway.messages.writers._account_report import intraday_report_layout
from gateway.messages.writers._account_report import write as write_report
from gateway.messages.writers._writing import Writing

message_id = MessageId("camt", "052", "001", "08")


def write(report: BankToCustomerReport) -> etree._Element:
    return write_report(Writing(message_id), intraday_report_layout, report)
