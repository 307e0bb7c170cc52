"""What the gateway reports on a participant's account, as immutable values: the intraday account report
(camt.052), the statement (camt.053) and the debit/credit notification (camt.054) of a cryptoruble wallet (or an
RTGS account).

Writers (gateway.messages.writers) turn these into XML; camt.052 and camt.053 are written from the same
BankToCustomerReport. Amounts are integer kopecks of RUB, the one currency the gateway keeps accounts in. A balance
is signed (credit positive: only the central bank's issuance account goes below zero); an entry's amount is not, its
direction says which way it went.

A report balances by construction: its opening booked balance plus its booked credits minus its booked debits is
its closing booked balance. The constructor asserts it, and the writer asserts it again before it writes the
balances and the summary, so that no report leaves the gateway with figures that do not add up. Pending entries
are listed but not counted: they have not moved a booked balance.
"""

from __future__ import annotations

import enum
import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime

from gateway import bounds
from gateway.messages.commands import OriginalMessage
from gateway.messages.iso_types import xml_safe
from gateway.messages.reports import reference_chars_max

# Field bounds of the ISO types these values are written to.
name_chars_max = 140  # PartyIdentification135/Nm: Max140Text
account_id_chars_max = 34  # GenericAccountIdentification1/Id: Max34Text
account_name_chars_max = 70  # CashAccount39/Nm: Max70Text
report_text_chars_max = 500  # AddtlNtryInf, AddtlTxInf, AddtlRptInf/AddtlStmtInf/AddtlNtfctnInf: Max500Text
# ActiveOrHistoricCurrencyAndAmount and DecimalNumber (amounts, balances, sums) hold at most 18 digits.
amount_kopecks_max = 10**18 - 1
sequence_number_max = 10**18 - 1  # Number (ElctrncSeqNb): 18 digits, no fraction
page_number_max = 99_999  # Pagination1/PgNb: Max5NumericText


_code = re.compile(r"[A-Z0-9]{4}")
_bic = re.compile(r"[A-Z0-9]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?")  # BICFIDec2014 and AnyBICDec2014 alike


class CreditDebit(enum.Enum):
    """CreditDebitCode, from the account owner's side: CRDT money came in, DBIT money went out."""

    CRDT = "CRDT"
    DBIT = "DBIT"


def direction_of(kopecks: int) -> CreditDebit:
    """The sign of a signed balance or net amount as ISO writes it beside the unsigned amount: zero is a credit."""
    return CreditDebit.CRDT if kopecks >= 0 else CreditDebit.DBIT


class EntryStatus(enum.Enum):
    """ExternalEntryStatus1Code values the gateway reports."""

    BOOK = "BOOK"  # posted on the ledger
    PDNG = "PDNG"  # reserved by a pending transfer, or queued: not in any booked balance


class BalanceType(enum.Enum):
    """ExternalBalanceType1Code values the gateway reports."""

    OPBD = "OPBD"  # OpeningBooked: at the start of the period
    ITBD = "ITBD"  # InterimBooked: so far today (camt.052), or where one page of a long report ends
    CLBD = "CLBD"  # ClosingBooked: at the end of the period
    ITAV = "ITAV"  # InterimAvailable: what the owner may spend now
    CLAV = "CLAV"  # ClosingAvailable: what the owner may spend at the end of the period


_opening_types = frozenset({BalanceType.OPBD, BalanceType.ITBD})
_closing_types = frozenset({BalanceType.CLBD, BalanceType.ITBD})
_available_types = frozenset({BalanceType.ITAV, BalanceType.CLAV})


@dataclass(frozen=True, slots=True)
class PartyIdentification:
    """PartyIdentification135 reduced to a name and a BIC (Id/OrgId/AnyBIC): an account owner, a report's
    recipient, a transaction's debtor or creditor."""

    name: str | None  # Nm
    bic: str | None  # Id/OrgId/AnyBIC

    def __post_init__(self) -> None:
        assert self.name is not None or self.bic is not None, "a party is named or identified"
        if self.name is not None:
            _assert_text(self.name, name_chars_max)
        if self.bic is not None:
            _assert_bic(self.bic)


@dataclass(frozen=True, slots=True)
class AccountId:
    """AccountIdentification4Choice/Othr: a wallet (SABRRUMMXXX/main, scheme CRUB-WALLET) or a Russian account
    number (20 digits, no scheme)."""

    identification: str  # Othr/Id
    scheme: str | None  # Othr/SchmeNm/Prtry

    def __post_init__(self) -> None:
        _assert_text(self.identification, account_id_chars_max)
        if self.scheme is not None:
            _assert_text(self.scheme, reference_chars_max)


@dataclass(frozen=True, slots=True)
class ReportedAccount:
    """CashAccount39: the account a report is about, in RUB, with its owner and its servicer (the central bank)."""

    account: AccountId  # Id
    name: str | None  # Nm
    owner: PartyIdentification | None  # Ownr
    servicer_bic: str | None  # Svcr/FinInstnId/BICFI

    def __post_init__(self) -> None:
        if self.name is not None:
            _assert_text(self.name, account_name_chars_max)
        if self.servicer_bic is not None:
            _assert_bic(self.servicer_bic)


@dataclass(frozen=True, slots=True)
class Balance:
    """CashBalance8: one balance of the account, signed: credit positive, debit negative."""

    type: BalanceType  # Tp/CdOrPrtry/Cd
    kopecks: int  # Amt and CdtDbtInd
    when: date | datetime  # Dt/Dt, or Dt/DtTm for an interim balance

    def __post_init__(self) -> None:
        _assert_kopecks(self.kopecks)
        assert abs(self.kopecks) <= amount_kopecks_max, self.kopecks


@dataclass(frozen=True, slots=True)
class Pagination:
    """Pagination1: which page of a report this is."""

    page_number: int  # PgNb, from 1
    last_page: bool  # LastPgInd

    def __post_init__(self) -> None:
        assert 1 <= self.page_number <= page_number_max, self.page_number


@dataclass(frozen=True, slots=True)
class Period:
    """DateTimePeriod1 (FrToDt): the period a report covers."""

    from_time: datetime  # FrDtTm
    to_time: datetime  # ToDtTm

    def __post_init__(self) -> None:
        # Aware and naive times cannot be compared, and a period mixing them means nothing.
        assert (self.from_time.tzinfo is None) == (self.to_time.tzinfo is None), "both times aware or both naive"
        assert self.from_time <= self.to_time, (self.from_time, self.to_time)


@dataclass(frozen=True, slots=True)
class BankTransactionCode:
    """BankTransactionCodeStructure4: the ISO code (e.g. PMNT / RCDT / DMCT, a received domestic credit transfer;
    CAMT / ACCB / TOPG, a liquidity top-up) and, optionally, the gateway's own code for the ledger transfer kind."""

    domain: str  # Domn/Cd
    family: str  # Domn/Fmly/Cd
    sub_family: str  # Domn/Fmly/SubFmlyCd
    proprietary: str | None  # Prtry/Cd
    proprietary_issuer: str | None  # Prtry/Issr

    def __post_init__(self) -> None:
        for code in (self.domain, self.family, self.sub_family):
            assert _code.fullmatch(code), code
        if self.proprietary is not None:
            _assert_text(self.proprietary, reference_chars_max)
        if self.proprietary_issuer is not None:
            assert self.proprietary is not None, "an issuer names whose proprietary code it is"
            _assert_text(self.proprietary_issuer, reference_chars_max)


@dataclass(frozen=True, slots=True)
class EntryTransaction:
    """EntryTransaction10 (NtryDtls/TxDtls): the payment behind an entry, by its references, parties and agents."""

    message_id: str | None  # Refs/MsgId: the pacs.008, pacs.009, pacs.004 or camt.050 that carried it
    account_servicer_reference: str | None  # Refs/AcctSvcrRef
    instruction_id: str | None  # Refs/InstrId
    end_to_end_id: str | None  # Refs/EndToEndId
    uetr: uuid.UUID | None  # Refs/UETR
    transaction_id: str | None  # Refs/TxId
    clearing_system_reference: str | None  # Refs/ClrSysRef: the ledger transfer's reference
    kopecks: int | None  # Amt: with direction, or neither
    direction: CreditDebit | None  # CdtDbtInd
    debtor: PartyIdentification | None  # RltdPties/Dbtr/Pty
    debtor_account: AccountId | None  # RltdPties/DbtrAcct
    creditor: PartyIdentification | None  # RltdPties/Cdtr/Pty
    creditor_account: AccountId | None  # RltdPties/CdtrAcct
    instructing_agent_bic: str | None  # RltdAgts/InstgAgt
    instructed_agent_bic: str | None  # RltdAgts/InstdAgt
    debtor_agent_bic: str | None  # RltdAgts/DbtrAgt
    creditor_agent_bic: str | None  # RltdAgts/CdtrAgt
    additional_info: str | None  # AddtlTxInf

    def __post_init__(self) -> None:
        for reference in (
            self.message_id,
            self.account_servicer_reference,
            self.instruction_id,
            self.end_to_end_id,
            self.transaction_id,
            self.clearing_system_reference,
        ):
            if reference is not None:
                _assert_text(reference, reference_chars_max)
        assert (self.kopecks is None) == (self.direction is None), "an amount goes with its direction"
        if self.kopecks is not None:
            _assert_kopecks(self.kopecks)
            assert 0 <= self.kopecks <= amount_kopecks_max, self.kopecks
        for bic in (
            self.instructing_agent_bic,
            self.instructed_agent_bic,
            self.debtor_agent_bic,
            self.creditor_agent_bic,
        ):
            if bic is not None:
                _assert_bic(bic)
        if self.additional_info is not None:
            _assert_text(self.additional_info, report_text_chars_max)

    @property
    def signed_kopecks(self) -> int | None:
        if self.kopecks is None:
            return None
        return self.kopecks if self.direction is CreditDebit.CRDT else -self.kopecks


@dataclass(frozen=True, slots=True)
class Entry:
    """ReportEntry10: one posting on the reported account (one ledger transfer), and the payment behind it."""

    reference: str | None  # NtryRef: the ledger transfer's reference
    kopecks: int  # Amt
    direction: CreditDebit  # CdtDbtInd
    status: EntryStatus  # Sts/Cd
    booking_date: date | datetime | None  # BookgDt: when the ledger posted it; a booked entry always has one
    value_date: date | datetime | None  # ValDt
    account_servicer_reference: str | None  # AcctSvcrRef
    bank_transaction_code: BankTransactionCode  # BkTxCd
    transactions: tuple[EntryTransaction, ...]  # NtryDtls/TxDtls, all in one NtryDtls
    additional_info: str | None  # AddtlNtryInf

    def __post_init__(self) -> None:
        _assert_kopecks(self.kopecks)
        assert 0 < self.kopecks <= amount_kopecks_max, self.kopecks  # the ledger moves no zero amounts
        for reference in (self.reference, self.account_servicer_reference):
            if reference is not None:
                _assert_text(reference, reference_chars_max)
        assert self.status is not EntryStatus.BOOK or self.booking_date is not None, "a booked entry has a booking date"
        if self.additional_info is not None:
            _assert_text(self.additional_info, report_text_chars_max)
        # The transactions of one entry add up to it, when each states its amount.
        amounts = [transaction.signed_kopecks for transaction in self.transactions]
        if amounts and None not in amounts:
            assert sum(a for a in amounts if a is not None) == self.signed_kopecks, (amounts, self.signed_kopecks)

    @property
    def signed_kopecks(self) -> int:
        return self.kopecks if self.direction is CreditDebit.CRDT else -self.kopecks


@dataclass(frozen=True, slots=True)
class EntryTotals:
    """TotalTransactions6 (TxsSummry): the number and sum of the booked credit and debit entries."""

    credit_entries: int  # TtlCdtNtries/NbOfNtries
    credit_kopecks: int  # TtlCdtNtries/Sum
    debit_entries: int  # TtlDbtNtries/NbOfNtries
    debit_kopecks: int  # TtlDbtNtries/Sum

    def __post_init__(self) -> None:
        assert 0 <= self.credit_entries <= bounds.report_entries_max, self.credit_entries
        assert 0 <= self.debit_entries <= bounds.report_entries_max, self.debit_entries
        # TtlNtries/Sum adds the two: it must fit the 18 digits of a DecimalNumber too.
        assert 0 <= self.credit_kopecks, self.credit_kopecks
        assert 0 <= self.debit_kopecks, self.debit_kopecks
        assert self.credit_kopecks + self.debit_kopecks <= amount_kopecks_max, "sum beyond 18 digits"

    @property
    def net_kopecks(self) -> int:
        """TtlNtries/TtlNetNtry, signed: credit positive."""
        return self.credit_kopecks - self.debit_kopecks


def booked_totals(entries: tuple[Entry, ...]) -> EntryTotals:
    """The totals of the booked entries; pending ones move no booked balance and are left out."""
    booked = [entry for entry in entries if entry.status is EntryStatus.BOOK]
    credits = [entry.kopecks for entry in booked if entry.direction is CreditDebit.CRDT]
    debits = [entry.kopecks for entry in booked if entry.direction is CreditDebit.DBIT]
    return EntryTotals(len(credits), sum(credits), len(debits), sum(debits))


@dataclass(frozen=True, slots=True)
class ReportHeader:
    """GroupHeader81 of camt.052, camt.053 and camt.054."""

    message_id: str  # MsgId
    creation_time: datetime  # CreDtTm
    recipient: PartyIdentification | None  # MsgRcpt: the bank the report goes to
    original_query: OriginalMessage | None  # OrgnlBizQry: the camt.060 the report answers

    def __post_init__(self) -> None:
        _assert_text(self.message_id, reference_chars_max)
        if self.original_query is not None:
            _assert_text(self.original_query.message_id, reference_chars_max)
            _assert_text(self.original_query.message_name_id, reference_chars_max)


@dataclass(frozen=True, slots=True)
class AccountStatement:
    """One account's report (camt.052 Rpt, AccountReport25) or statement (camt.053 Stmt, AccountStatement9), or one
    page of it. It opens with a booked balance (OPBD; ITBD on a later page), closes with one (CLBD; ITBD in an
    intraday report or on an earlier page), and may state what is available (CLAV or ITAV)."""

    statement_id: str  # Id
    pagination: Pagination | None  # RptPgntn / StmtPgntn
    electronic_sequence_number: int | None  # ElctrncSeqNb: counts the reports on this account
    creation_time: datetime | None  # CreDtTm
    period: Period | None  # FrToDt
    account: ReportedAccount  # Acct
    opening: Balance  # Bal: the first booked balance
    closing: Balance  # Bal: the last booked balance
    available: Balance | None  # Bal: the available balance
    entries: tuple[Entry, ...]  # Ntry
    additional_info: str | None  # AddtlRptInf / AddtlStmtInf
    # camt.060 ReqdBalTp: the balance types written (None: every one); the others are still known, and checked.
    balances_shown: frozenset[BalanceType] | None = None
    # camt.060 ReqdTxTp: the entries are a selection of the period's, so they need not add up to the balances.
    entries_selected: bool = False

    def __post_init__(self) -> None:
        _assert_text(self.statement_id, reference_chars_max)
        if self.electronic_sequence_number is not None:
            assert 0 <= self.electronic_sequence_number <= sequence_number_max, self.electronic_sequence_number
        assert self.opening.type in _opening_types, self.opening.type
        assert self.closing.type in _closing_types, self.closing.type
        assert self.available is None or self.available.type in _available_types, self.available
        _assert_entries(self.entries)
        if self.additional_info is not None:
            _assert_text(self.additional_info, report_text_chars_max)
        if not self.entries_selected:
            assert_balances_add_up(self)

    def shows(self, balance: Balance | None) -> bool:
        return balance is not None and (self.balances_shown is None or balance.type in self.balances_shown)

    def totals(self) -> EntryTotals:
        return booked_totals(self.entries)


def assert_balances_add_up(statement: AccountStatement) -> None:
    """Opening booked + booked credits - booked debits = closing booked: the check no report may skip."""
    totals = statement.totals()
    reached = statement.opening.kopecks + totals.net_kopecks
    assert reached == statement.closing.kopecks, f"{statement.statement_id}: {reached} != {statement.closing.kopecks}"


@dataclass(frozen=True, slots=True)
class BankToCustomerReport:
    """camt.052.001.08 BankToCustomerAccountReport or camt.053.001.08 BankToCustomerStatement: the same content;
    the writer chosen decides which."""

    header: ReportHeader  # GrpHdr
    statements: tuple[AccountStatement, ...]  # Rpt / Stmt: at least one

    def __post_init__(self) -> None:
        assert self.statements, "a report is about at least one account"


@dataclass(frozen=True, slots=True)
class AccountNotification:
    """AccountNotification17 (Ntfctn): entries just posted to (or reserved on) one account, without balances."""

    notification_id: str  # Id
    pagination: Pagination | None  # NtfctnPgntn
    electronic_sequence_number: int | None  # ElctrncSeqNb
    creation_time: datetime | None  # CreDtTm
    period: Period | None  # FrToDt
    account: ReportedAccount  # Acct
    entries: tuple[Entry, ...]  # Ntry: at least one
    additional_info: str | None  # AddtlNtfctnInf

    def __post_init__(self) -> None:
        _assert_text(self.notification_id, reference_chars_max)
        if self.electronic_sequence_number is not None:
            assert 0 <= self.electronic_sequence_number <= sequence_number_max, self.electronic_sequence_number
        assert self.entries, "a notification notifies at least one entry"
        _assert_entries(self.entries)
        if self.additional_info is not None:
            _assert_text(self.additional_info, report_text_chars_max)


@dataclass(frozen=True, slots=True)
class DebitCreditNotification:
    """camt.054.001.08 BankToCustomerDebitCreditNotification."""

    header: ReportHeader  # GrpHdr
    notifications: tuple[AccountNotification, ...]  # Ntfctn: at least one

    def __post_init__(self) -> None:
        assert self.notifications, "a notification is about at least one account"


def _assert_entries(entries: tuple[Entry, ...]) -> None:
    assert len(entries) <= bounds.report_entries_max, len(entries)
    transactions = sum(len(entry.transactions) for entry in entries)
    assert transactions <= bounds.report_transactions_max, transactions


def _assert_text(value: str, chars_max: int) -> None:
    assert 1 <= len(value) <= chars_max, value
    assert xml_safe(value) == value, "text holds characters XML cannot carry"


def _assert_bic(value: str) -> None:
    assert _bic.fullmatch(value), value


def _assert_kopecks(value: int) -> None:
    # Money is integer kopecks: a float or a bool here is a programmer's error.
    assert isinstance(value, int), repr(value)
    assert not isinstance(value, bool), repr(value)
