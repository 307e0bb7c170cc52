"""What the camt.052 and camt.053 writers share: AccountReport25 and AccountStatement9 hold the same elements under
their own names (Rpt / Stmt, RptPgntn / StmtPgntn, AddtlRptInf / AddtlStmtInf), so one writer fills either."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from gateway.messages.statements import (
    AccountStatement,
    BankToCustomerReport,
    assert_balances_add_up,
)
from gateway.messages.writers import _writing
from gateway.messages.writers._writing import Writing


@dataclass(frozen=True, slots=True)
class Layout:
    body: str  # BkToCstmrAcctRpt, BkToCstmrStmt
    statement: str  # Rpt, Stmt
    pagination: str  # RptPgntn, StmtPgntn
    additional_info: str  # AddtlRptInf, AddtlStmtInf


intraday_report_layout = Layout("BkToCstmrAcctRpt", "Rpt", "RptPgntn", "AddtlRptInf")
statement_layout = Layout("BkToCstmrStmt", "Stmt", "StmtPgntn", "AddtlStmtInf")


def write(writing: Writing, layout: Layout, report: BankToCustomerReport) -> etree._Element:
    document = writing.root("Document")
    body = writing.element(document, layout.body)
    _writing.report_header(writing, body, report.header)
    for account_statement in report.statements:
        _statement(writing, layout, writing.element(body, layout.statement), account_statement)
    return writing.checked(document)


def _statement(writing: Writing, layout: Layout, element: etree._Element, statement: AccountStatement) -> None:
    if not statement.entries_selected:
        assert_balances_add_up(statement)  # again, right before the figures are written
    writing.element(element, "Id", statement.statement_id)
    _writing.report_frame(
        writing,
        element,
        layout.pagination,
        statement.pagination,
        statement.electronic_sequence_number,
        statement.creation_time,
        statement.period,
    )
    _writing.reported_account(writing, element, statement.account)
    for balance in (statement.opening, statement.closing, statement.available):
        if statement.shows(balance):
            _writing.balance(writing, element, balance)
    _writing.entry_totals(writing, element, statement.totals())
    for entry in statement.entries:
        _writing.entry(writing, element, entry)
    writing.text(element, layout.additional_info, statement.additional_info)
