"""Writer of camt.053.001.08 BankToCustomerStatementV08: a BankToCustomerReport to the Document of the statement
of a participant's wallet (or RTGS account) for a period, usually a business day."""

from __future__ import annotations

from lxml import etree

from gateway.messages.identity import MessageId
from gateway.messages.statements import (
    AccountStatement,
    BankToCustomerReport,
    assert_balances_add_up,
)
from gateway.messages.writers import _writing
from gateway.messages.writers._writing import Writing

message_id = MessageId("camt", "053", "001", "08")


def write(report: BankToCustomerReport) -> etree._Element:
    writing = Writing(message_id)
    document = writing.root("Document")
    body = writing.element(document, "BkToCstmrStmt")
    _writing.report_header(writing, body, report.header)
    for statement in report.statements:
        _statement(writing, writing.element(body, "Stmt"), statement)
    return writing.checked(document)


def _statement(writing: Writing, element: etree._Element, statement: AccountStatement) -> None:
    """AccountStatement9."""
    assert_balances_add_up(statement)  # again, right before the figures are written
    writing.element(element, "Id", statement.statement_id)
    _writing.report_frame(
        writing,
        element,
        "StmtPgntn",
        statement.pagination,
        statement.electronic_sequence_number,
        statement.creation_time,
        statement.period,
    )
    _writing.reported_account(writing, element, statement.account)
    for balance in (statement.opening, statement.closing, statement.available):
        if balance is not None:
            _writing.balance(writing, element, balance)
    _writing.entry_totals(writing, element, statement.totals())
    for entry in statement.entries:
        _writing.entry(writing, element, entry)
    writing.text(element, "AddtlStmtInf", statement.additional_info)
