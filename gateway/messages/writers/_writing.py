"""What every writer shares: building one message's elements with lxml, in its namespace, from typed values, and
checking the finished Document or AppHdr against the gateway's own schema before it leaves the writer. Below the
Writing class: what the account reports (camt.052, camt.053, camt.054) share below the report itself."""

from __future__ import annotations

from datetime import date, datetime

from lxml import etree

from gateway.domain.money import currency_code
from gateway.messages.commands import Amount
from gateway.messages.identity import MessageId
from gateway.messages.iso_types import (
    format_date,
    format_datetime,
    format_decimal_kopecks,
    format_kopecks,
)
from gateway.messages.reports import CaseAssignment
from gateway.messages.schemas import compiled
from gateway.messages.statements import (
    AccountId,
    Balance,
    Entry,
    EntryTotals,
    EntryTransaction,
    Pagination,
    PartyIdentification,
    Period,
    ReportedAccount,
    ReportHeader,
    direction_of,
)


class _SchemaChecks:
    """Which of the messages written are checked against the schema at run time: one in `every`, counted per
    process. Set once at start-up from the config (check_one_in)."""

    every = 1
    written = 0


def check_one_in(every: int) -> None:
    """Check one message in `every` that the writers build against the schema (1: every one)."""
    assert every >= 1, every
    _SchemaChecks.every = every
    _SchemaChecks.written = 0


def schema_check_due() -> bool:
    """Whether the message a writer has just finished is one to check against the schema."""
    _SchemaChecks.written += 1
    return _SchemaChecks.written % _SchemaChecks.every == 0


class Writing:
    """Builds elements in the namespace of `message_id`."""

    __slots__ = ("message_id", "namespace")

    def __init__(self, message_id: MessageId) -> None:
        self.message_id = message_id
        self.namespace = message_id.namespace

    def root(self, name: str) -> etree._Element:
        return etree.Element(f"{{{self.namespace}}}{name}", nsmap={None: self.namespace})

    def element(self, parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
        element = etree.SubElement(parent, f"{{{self.namespace}}}{name}")
        if text is not None:
            assert text, f"{name}: an ISO 20022 text is never empty"
            element.text = text
        return element

    def text(self, parent: etree._Element, name: str, value: str | None) -> None:
        if value is not None:
            self.element(parent, name, value)

    def iso_date(self, parent: etree._Element, name: str, value: date | None) -> None:
        if value is not None:
            self.element(parent, name, format_date(value))

    def iso_datetime(self, parent: etree._Element, name: str, value: datetime | None) -> None:
        if value is not None:
            self.element(parent, name, format_datetime(value))

    def boolean(self, parent: etree._Element, name: str, value: bool | None) -> None:
        if value is not None:
            self.element(parent, name, "true" if value else "false")

    def amount(self, parent: etree._Element, name: str, value: Amount | None) -> None:
        if value is not None:
            self.element(parent, name, format_kopecks(value.kopecks)).set("Ccy", value.currency)

    def decimal_kopecks(self, parent: etree._Element, name: str, kopecks: int | None) -> None:
        if kopecks is not None:
            self.element(parent, name, format_decimal_kopecks(kopecks))

    def agent(self, parent: etree._Element, name: str, bic: str | None) -> None:
        """BranchAndFinancialInstitutionIdentification6 naming the institution by its BICFI alone."""
        if bic is not None:
            self.element(self.element(self.element(parent, name), "FinInstnId"), "BICFI", bic)

    def checked(self, root: etree._Element) -> etree._Element:
        """The finished Document or AppHdr, asserted valid against our schema (an invalid one is a writer's bug), or
        one in `outbound_schema_check_every` of them when the config asks for fewer checks."""
        if not schema_check_due():
            return root
        problems = compiled().validate_element(root, self.message_id)
        assert not problems, f"{self.message_id} writer produced an invalid message: {problems}"
        return root

    def date_or_datetime(self, parent: etree._Element, name: str, value: date | datetime | None) -> None:
        """DateAndDateTime2Choice: <Dt> for a date, <DtTm> for a date and time."""
        if value is None:
            return
        choice = self.element(parent, name)
        if isinstance(value, datetime):  # a datetime is also a date: test it first
            self.iso_datetime(choice, "DtTm", value)
        else:
            self.iso_date(choice, "Dt", value)

    def case_assignment(self, element: etree._Element, assignment: CaseAssignment) -> None:
        """CaseAssignment5's content (Id, Assgnr, Assgne, CreDtTm), into `element`, replacing what it held."""
        for child in list(element):
            element.remove(child)
        self.element(element, "Id", assignment.assignment_id)
        self.agent_party(element, "Assgnr", assignment.assigner_bic)
        self.agent_party(element, "Assgne", assignment.assignee_bic)
        self.iso_datetime(element, "CreDtTm", assignment.creation_time)

    def agent_party(self, parent: etree._Element, name: str, bic: str | None) -> None:
        """Party40Choice as an agent: <name><Agt><FinInstnId><BICFI>."""
        if bic is not None:
            self.agent(self.element(parent, name), "Agt", bic)

    def party(self, parent: etree._Element, name: str, party: PartyIdentification | None) -> None:
        """PartyIdentification135 by name and BIC: <Nm> and <Id><OrgId><AnyBIC>."""
        if party is None:
            return
        element = self.element(parent, name)
        self.text(element, "Nm", party.name)
        if party.bic is not None:
            self.element(self.element(self.element(element, "Id"), "OrgId"), "AnyBIC", party.bic)

    def account_id(self, parent: etree._Element, name: str, account: AccountId | None) -> None:
        """CashAccount38 by its identification alone: <name><Id><Othr><Id> and the scheme's <SchmeNm><Prtry>."""
        if account is not None:
            self.account_identification(self.element(parent, name), account)

    def account_identification(self, parent: etree._Element, account: AccountId) -> None:
        """AccountIdentification4Choice as <Id><Othr>: wallets and Russian account numbers are not IBANs."""
        other = self.element(self.element(parent, "Id"), "Othr")
        self.element(other, "Id", account.identification)
        if account.scheme is not None:
            self.element(self.element(other, "SchmeNm"), "Prtry", account.scheme)

    def signed_amount(self, parent: etree._Element, kopecks: int) -> None:
        """<Amt Ccy="RUB"> and <CdtDbtInd> for a signed kopeck amount: a zero balance is a credit one."""
        self.amount(parent, "Amt", Amount(abs(kopecks), currency_code))
        self.element(parent, "CdtDbtInd", direction_of(kopecks).value)


# --------------------------------------------------------------------------------------------------------------
# Account reporting: what camt.052, camt.053 and camt.054 share below the report itself (common.xsd)
# --------------------------------------------------------------------------------------------------------------


def report_header(writing: Writing, parent: etree._Element, header: ReportHeader) -> None:
    """GroupHeader81."""
    element = writing.element(parent, "GrpHdr")
    writing.element(element, "MsgId", header.message_id)
    writing.iso_datetime(element, "CreDtTm", header.creation_time)
    writing.party(element, "MsgRcpt", header.recipient)
    query = header.original_query
    if query is not None:
        original = writing.element(element, "OrgnlBizQry")
        writing.element(original, "MsgId", query.message_id)
        writing.element(original, "MsgNmId", query.message_name_id)
        writing.iso_datetime(original, "CreDtTm", query.creation_time)


def report_frame(
    writing: Writing,
    element: etree._Element,
    pagination_name: str,
    pagination: Pagination | None,
    electronic_sequence_number: int | None,
    creation_time: datetime | None,
    period: Period | None,
) -> None:
    """What AccountReport25, AccountStatement9 and AccountNotification17 hold between Id and Acct."""
    if pagination is not None:
        page = writing.element(element, pagination_name)
        writing.element(page, "PgNb", str(pagination.page_number))
        writing.boolean(page, "LastPgInd", pagination.last_page)
    if electronic_sequence_number is not None:
        writing.element(element, "ElctrncSeqNb", str(electronic_sequence_number))
    writing.iso_datetime(element, "CreDtTm", creation_time)
    if period is not None:
        dates = writing.element(element, "FrToDt")
        writing.iso_datetime(dates, "FrDtTm", period.from_time)
        writing.iso_datetime(dates, "ToDtTm", period.to_time)


def reported_account(writing: Writing, parent: etree._Element, account: ReportedAccount) -> None:
    """CashAccount39: always in RUB."""
    element = writing.element(parent, "Acct")
    writing.account_identification(element, account.account)
    writing.element(element, "Ccy", currency_code)
    writing.text(element, "Nm", account.name)
    writing.party(element, "Ownr", account.owner)
    writing.agent(element, "Svcr", account.servicer_bic)


def balance(writing: Writing, parent: etree._Element, value: Balance) -> None:
    """CashBalance8."""
    element = writing.element(parent, "Bal")
    writing.element(writing.element(writing.element(element, "Tp"), "CdOrPrtry"), "Cd", value.type.value)
    writing.signed_amount(element, value.kopecks)
    writing.date_or_datetime(element, "Dt", value.when)


def entry_totals(writing: Writing, parent: etree._Element, totals: EntryTotals) -> None:
    """TotalTransactions6: all booked entries with their net, then the credits, then the debits."""
    element = writing.element(parent, "TxsSummry")
    everything = writing.element(element, "TtlNtries")
    writing.element(everything, "NbOfNtries", str(totals.credit_entries + totals.debit_entries))
    writing.decimal_kopecks(everything, "Sum", totals.credit_kopecks + totals.debit_kopecks)
    net = writing.element(everything, "TtlNetNtry")
    writing.decimal_kopecks(net, "Amt", abs(totals.net_kopecks))
    writing.element(net, "CdtDbtInd", direction_of(totals.net_kopecks).value)
    for name, count, kopecks in (
        ("TtlCdtNtries", totals.credit_entries, totals.credit_kopecks),
        ("TtlDbtNtries", totals.debit_entries, totals.debit_kopecks),
    ):
        side = writing.element(element, name)
        writing.element(side, "NbOfNtries", str(count))
        writing.decimal_kopecks(side, "Sum", kopecks)


def entry(writing: Writing, parent: etree._Element, value: Entry) -> None:
    """ReportEntry10."""
    element = writing.element(parent, "Ntry")
    writing.text(element, "NtryRef", value.reference)
    writing.amount(element, "Amt", Amount(value.kopecks, currency_code))
    writing.element(element, "CdtDbtInd", value.direction.value)
    writing.element(writing.element(element, "Sts"), "Cd", value.status.value)
    writing.date_or_datetime(element, "BookgDt", value.booking_date)
    writing.date_or_datetime(element, "ValDt", value.value_date)
    writing.text(element, "AcctSvcrRef", value.account_servicer_reference)
    code = value.bank_transaction_code
    structure = writing.element(element, "BkTxCd")
    domain = writing.element(structure, "Domn")
    writing.element(domain, "Cd", code.domain)
    family = writing.element(domain, "Fmly")
    writing.element(family, "Cd", code.family)
    writing.element(family, "SubFmlyCd", code.sub_family)
    if code.proprietary is not None:
        proprietary = writing.element(structure, "Prtry")
        writing.element(proprietary, "Cd", code.proprietary)
        writing.text(proprietary, "Issr", code.proprietary_issuer)
    if value.transactions:
        details = writing.element(element, "NtryDtls")
        for transaction in value.transactions:
            _entry_transaction(writing, writing.element(details, "TxDtls"), transaction)
    writing.text(element, "AddtlNtryInf", value.additional_info)


def _entry_transaction(writing: Writing, element: etree._Element, transaction: EntryTransaction) -> None:
    """EntryTransaction10: references, amount, related parties and agents, additional information."""
    references = (
        ("MsgId", transaction.message_id),
        ("AcctSvcrRef", transaction.account_servicer_reference),
        ("InstrId", transaction.instruction_id),
        ("EndToEndId", transaction.end_to_end_id),
        ("UETR", None if transaction.uetr is None else str(transaction.uetr)),
        ("TxId", transaction.transaction_id),
        ("ClrSysRef", transaction.clearing_system_reference),
    )
    if any(value is not None for _, value in references):
        refs = writing.element(element, "Refs")
        for name, value in references:
            writing.text(refs, name, value)
    if transaction.kopecks is not None and transaction.direction is not None:
        writing.amount(element, "Amt", Amount(transaction.kopecks, currency_code))
        writing.element(element, "CdtDbtInd", transaction.direction.value)
    parties = (transaction.debtor, transaction.debtor_account, transaction.creditor, transaction.creditor_account)
    if any(value is not None for value in parties):
        related = writing.element(element, "RltdPties")
        if transaction.debtor is not None:
            writing.party(writing.element(related, "Dbtr"), "Pty", transaction.debtor)
        writing.account_id(related, "DbtrAcct", transaction.debtor_account)
        if transaction.creditor is not None:
            writing.party(writing.element(related, "Cdtr"), "Pty", transaction.creditor)
        writing.account_id(related, "CdtrAcct", transaction.creditor_account)
    agents = (
        ("InstgAgt", transaction.instructing_agent_bic),
        ("InstdAgt", transaction.instructed_agent_bic),
        ("DbtrAgt", transaction.debtor_agent_bic),
        ("CdtrAgt", transaction.creditor_agent_bic),
    )
    if any(bic is not None for _, bic in agents):
        related_agents = writing.element(element, "RltdAgts")
        for name, bic in agents:
            writing.agent(related_agents, name, bic)
    writing.text(element, "AddtlTxInf", transaction.additional_info)
