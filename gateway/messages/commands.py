"""What an inbound payments message asks the gateway to do, as immutable typed values.

Readers (gateway.messages.readers) build these from schema-valid XML; rules (gateway.messages.rules) check them;
the service layer acts on them. No lxml here: a command holds Python values, the element paths it came from (for
rejections) and, per transaction, the transaction's XML so it can be forwarded untouched (written from the parsed
tree when first read: see xml_written_on_demand).

Amounts are integer hundredths of their currency unit, i.e. kopecks for RUB, the only currency the gateway settles.
The currency is kept beside them so that the usage-guideline rule, not the reader, refuses any other.

Element paths (`path`) and transaction XML (`xml`) record where a value came from; they take no part in equality,
so that a command read back from a message someone else wrapped equals the one written.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, TypeVar

from gateway import bounds
from gateway.messages.identity import MessageId

if TYPE_CHECKING:
    from gateway.messages.signing import GatewaySigner

_Class = TypeVar("_Class", bound=type)


class XmlSource(Protocol):
    """What writes a transaction's XML when it is first read (a reader's element; gateway.messages.readers)."""

    def __call__(self) -> bytes: ...


class _XmlWrittenOnDemand:
    """The `xml` slot of a transaction class (see xml_written_on_demand), holding the bytes or an XmlSource."""

    __slots__ = ("_slot",)

    def __init__(self, slot: Any) -> None:
        self._slot = slot  # the slot's own descriptor, which stores the value

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        if instance is None:
            return self
        value = self._slot.__get__(instance, owner)
        if not isinstance(value, bytes):
            value = value()
            assert isinstance(value, bytes), type(value)
            self._slot.__set__(instance, value)  # the source, and the tree it holds, are let go
        return value

    def __set__(self, instance: object, value: bytes | XmlSource) -> None:
        assert isinstance(value, bytes) or callable(value), type(value)
        self._slot.__set__(instance, value)


def xml_written_on_demand(cls: _Class) -> _Class:
    """Lets the `xml` field of a frozen, slotted transaction dataclass be given as an XmlSource, called when `xml`
    is first read; reading it always gives the same bytes (the first read stores them in place of the source).

    Readers give a source: a transaction's XML is needed only when the service layer forwards or journals it, never
    for a message refused, and writing every transaction as it was read cost a quarter of reading a large message.
    Until its XML is read (or the command dropped), a transaction keeps its element, and so the message's parsed
    tree, alive: about as long as before, since the service layer reads it for each payment while it handles the
    message."""
    cls.xml = _XmlWrittenOnDemand(cls.__dict__["xml"])  # type: ignore[attr-defined]
    return cls


def xml_source(transaction: object) -> bytes | XmlSource:
    """A transaction's `xml` as it stands, without writing it: the bytes, or the source that would write them (for a
    writer that can use the source's parsed tree directly; gateway.messages.writers._credit_transfer)."""
    descriptor = type(transaction).__dict__.get("xml")
    assert isinstance(descriptor, _XmlWrittenOnDemand), f"{type(transaction).__name__} is not xml_written_on_demand"
    value: bytes | XmlSource = descriptor._slot.__get__(transaction, type(transaction))
    return value


@dataclass(frozen=True, slots=True)
class Amount:
    kopecks: int  # hundredths of the currency unit; the XSD forbids negative amounts
    currency: str  # ISO 4217 alpha-3, as sent

    def __post_init__(self) -> None:
        assert isinstance(self.kopecks, int), repr(self.kopecks)
        assert not isinstance(self.kopecks, bool), repr(self.kopecks)
        assert 0 <= self.kopecks <= bounds.kopecks_max, self.kopecks
        assert len(self.currency) == 3, self.currency
        assert self.currency.isascii(), self.currency
        assert self.currency.isupper(), self.currency


@dataclass(frozen=True, slots=True)
class Agent:
    """A financial institution as a message names it (BranchAndFinancialInstitutionIdentification6), reduced to
    what the gateway routes on. Present without a BICFI is possible: the usage guideline refuses it."""

    bic: str | None  # FinInstnId/BICFI, as sent (8 or 11 characters)
    clearing_system_member_id: str | None  # FinInstnId/ClrSysMmbId/MmbId (a Russian BIK under RUCBC)
    path: str = field(compare=False)  # element path of the agent element (e.g. .../CdtTrfTxInf[2]/DbtrAgt)


@dataclass(frozen=True, slots=True)
class RelatedHeader:
    """AppHdr/Rltd: the header of the message this one answers or copies."""

    from_bic: str | None
    to_bic: str | None
    business_message_id: str
    message_definition_id: str
    business_service: str | None
    creation_time: datetime


@dataclass(frozen=True, slots=True)
class BusinessHeader:
    """The business application header (AppHdr) that travels beside every Document, in any of the versions the
    gateway reads (head.001.001.01, .02, .03): what they all say, read to the same value whatever the version."""

    from_bic: str | None  # Fr/FIId/FinInstnId/BICFI; None when the sender is named otherwise
    to_bic: str | None
    business_message_id: str  # BizMsgIdr
    message_definition_id: str  # MsgDefIdr, e.g. pacs.008.001.08
    business_service: str | None  # BizSvc
    creation_time: datetime  # CreDt
    copy_duplicate: str | None  # CpyDplct: CODU, COPY or DUPL
    possible_duplicate: bool | None  # PssblDplct
    related: tuple[RelatedHeader, ...]
    # The header version it came in, or is to be written in (identity.app_hdr_message_ids), e.g. head.001.001.01.
    version: MessageId
    # Where the AppHdr was in the message read ("" for one the gateway writes). Provenance, not compared.
    path: str = field(default="", compare=False)
    # Who signs the AppHdr the gateway writes, in AppHdr/Sgntr (gateway.messages.signing); None: unsigned. Always
    # None for a header read: a received signature is verified (gateway.inbound), not carried.
    signer: GatewaySigner | None = field(default=None, compare=False, repr=False)


# --------------------------------------------------------------------------------------------------------------
# pacs.008 and pacs.009: credit transfers
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TransferGroupHeader:
    """GroupHeader93, shared by pacs.008 and pacs.009."""

    message_id: str  # MsgId
    creation_time: datetime  # CreDtTm
    number_of_transactions: int  # NbOfTxs as stated
    control_sum_kopecks: int | None  # CtrlSum as stated
    total_amount: Amount | None  # TtlIntrBkSttlmAmt as stated
    settlement_date: date | None  # IntrBkSttlmDt at group level
    settlement_method: str  # SttlmInf/SttlmMtd: CLRG, INDA, INGA or COVE
    instructing_agent: Agent | None
    instructed_agent: Agent | None
    path: str = field(compare=False)  # element path of GrpHdr


@xml_written_on_demand
@dataclass(frozen=True, slots=True)
class CustomerCreditTransaction:
    """One CdtTrfTxInf of a pacs.008: a customer's payment from the debtor agent to the creditor agent."""

    instruction_id: str | None  # PmtId/InstrId
    end_to_end_id: str  # PmtId/EndToEndId
    transaction_id: str | None  # PmtId/TxId
    uetr: uuid.UUID | None  # PmtId/UETR
    amount: Amount  # IntrBkSttlmAmt
    settlement_date: date | None  # IntrBkSttlmDt at transaction level
    charge_bearer: str  # ChrgBr
    instructing_agent: Agent | None
    instructed_agent: Agent | None
    debtor_agent: Agent
    creditor_agent: Agent
    path: str = field(compare=False)  # element path of this CdtTrfTxInf
    # The CdtTrfTxInf element as serialised from the parsed tree, to forward to the creditor agent: the same names,
    # namespaces, attributes, text and order as sent. Not byte for byte: comments and processing instructions were
    # stripped at parse, and the namespace declarations in scope are repeated on the element itself.
    # Provenance like path, so neither takes part in equality. A reader gives an XmlSource, written on first read.
    xml: bytes = field(compare=False)


@dataclass(frozen=True, slots=True)
class CreditTransfer:
    """pacs.008.001.08 FIToFICustomerCreditTransfer."""

    group: TransferGroupHeader
    transactions: tuple[CustomerCreditTransaction, ...]


@xml_written_on_demand
@dataclass(frozen=True, slots=True)
class InstitutionCreditTransaction:
    """One CdtTrfTxInf of a pacs.009: a bank moves its own funds (or covers a customer transfer, is_cover)."""

    instruction_id: str | None
    end_to_end_id: str
    transaction_id: str | None
    uetr: uuid.UUID | None
    amount: Amount
    settlement_date: date | None
    instructing_agent: Agent | None
    instructed_agent: Agent | None
    debtor: Agent  # Dbtr: the institution that pays
    debtor_agent: Agent | None
    creditor_agent: Agent | None
    creditor: Agent  # Cdtr: the institution that is paid
    is_cover: bool  # UndrlygCstmrCdtTrf present
    path: str = field(compare=False)
    xml: bytes = field(compare=False)  # the transaction element as sent (see CustomerCreditTransaction.xml)


@dataclass(frozen=True, slots=True)
class FinancialInstitutionTransfer:
    """pacs.009.001.08 FinancialInstitutionCreditTransfer."""

    group: TransferGroupHeader
    transactions: tuple[InstitutionCreditTransaction, ...]


# --------------------------------------------------------------------------------------------------------------
# pacs.004: return of a settled payment
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OriginalMessage:
    """OrgnlGrpInf: the message a return or a status request refers to."""

    message_id: str  # OrgnlMsgId
    message_name_id: str  # OrgnlMsgNmId, e.g. pacs.008.001.08
    creation_time: datetime | None  # OrgnlCreDtTm


@dataclass(frozen=True, slots=True)
class ReturnReason:
    """RtrRsnInf: an ExternalReturnReason1Code (AC04 ...) or a proprietary reason, and free text."""

    code: str | None  # Rsn/Cd
    proprietary: str | None  # Rsn/Prtry
    additional_info: tuple[str, ...]  # AddtlInf


@dataclass(frozen=True, slots=True)
class ReturnGroupHeader:
    """GroupHeader90 of a pacs.004, with the group-level original message when the whole group is returned."""

    message_id: str
    creation_time: datetime
    number_of_transactions: int
    control_sum_kopecks: int | None
    total_returned_amount: Amount | None  # TtlRtrdIntrBkSttlmAmt
    settlement_date: date | None
    settlement_method: str
    instructing_agent: Agent | None
    instructed_agent: Agent | None
    original_message: OriginalMessage | None  # PmtRtr/OrgnlGrpInf
    reasons: tuple[ReturnReason, ...]  # PmtRtr/OrgnlGrpInf/RtrRsnInf
    path: str = field(compare=False)


@xml_written_on_demand
@dataclass(frozen=True, slots=True)
class ReturnTransaction:
    """One TxInf of a pacs.004: the original transaction's references, the amount returned, and why."""

    return_id: str | None  # RtrId
    original_message: OriginalMessage | None  # TxInf/OrgnlGrpInf
    original_instruction_id: str | None
    original_end_to_end_id: str | None
    original_transaction_id: str | None
    original_uetr: uuid.UUID | None
    original_amount: Amount | None  # OrgnlIntrBkSttlmAmt
    returned_amount: Amount  # RtrdIntrBkSttlmAmt
    settlement_date: date | None  # IntrBkSttlmDt
    charge_bearer: str | None
    instructing_agent: Agent | None
    instructed_agent: Agent | None
    debtor_agent: Agent | None  # RtrChain/DbtrAgt: the bank that returns (the original creditor agent)
    creditor_agent: Agent | None  # RtrChain/CdtrAgt: the bank the funds go back to
    reasons: tuple[ReturnReason, ...]
    path: str = field(compare=False)
    xml: bytes = field(compare=False)  # the transaction element as sent (see CustomerCreditTransaction.xml)


@dataclass(frozen=True, slots=True)
class PaymentReturn:
    """pacs.004.001.09 PaymentReturn."""

    group: ReturnGroupHeader
    transactions: tuple[ReturnTransaction, ...]


# --------------------------------------------------------------------------------------------------------------
# pacs.028: status request
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StatusRequestGroupHeader:
    """GroupHeader91 of a pacs.028."""

    message_id: str
    creation_time: datetime
    instructing_agent: Agent | None
    instructed_agent: Agent | None
    path: str = field(compare=False)


@dataclass(frozen=True, slots=True)
class OriginalGroupStatusRequest:
    """FIToFIPmtStsReq/OrgnlGrpInf: the status of a whole original message is asked for."""

    original_message: OriginalMessage
    number_of_transactions: int | None  # OrgnlNbOfTxs
    path: str = field(compare=False)


@dataclass(frozen=True, slots=True)
class TransactionStatusRequest:
    """FIToFIPmtStsReq/TxInf: the status of one original transaction is asked for."""

    status_request_id: str | None  # StsReqId
    original_message: OriginalMessage | None
    original_instruction_id: str | None
    original_end_to_end_id: str | None
    original_transaction_id: str | None
    original_uetr: uuid.UUID | None
    instructing_agent: Agent | None
    instructed_agent: Agent | None
    path: str = field(compare=False)


@dataclass(frozen=True, slots=True)
class StatusRequest:
    """pacs.028.001.03 FIToFIPaymentStatusRequest."""

    group: StatusRequestGroupHeader
    original_groups: tuple[OriginalGroupStatusRequest, ...]
    transactions: tuple[TransactionStatusRequest, ...]


# --------------------------------------------------------------------------------------------------------------
# Parties and accounts the camt messages name
# --------------------------------------------------------------------------------------------------------------

# Id/Othr/SchmeNm/Prtry of a cryptorouble wallet, whose Id/Othr/Id is its ledger code, <BIC>/<wallet name>. An
# account named by Id/Othr/Id alone, without a scheme, is an account number at the central bank: a participant's
# RTGS account. docs/usage-guidelines.md tells banks so.
wallet_scheme = "CRUB-WALLET"


class AccountRole(enum.Enum):
    """What an account named in a camt message is to the gateway, read from how it is named."""

    RTGS = "rtgs"  # a participant's fiat rouble account at the central bank's RTGS
    WALLET = "wallet"  # a participant's cryptorouble wallet on the ledger


class LiquidityDirection(enum.Enum):
    """Which way a liquidity transfer (camt.050) converts roubles."""

    MINT = "mint"  # RTGS account -> wallet: fiat roubles reserved at the central bank, cryptoroubles issued
    BURN = "burn"  # wallet -> RTGS account: cryptoroubles destroyed, fiat roubles released


@dataclass(frozen=True, slots=True)
class Party:
    """Party40Choice (an assigner, a case creator, an account owner): an agent (Agt) or a party that is not a
    financial institution (Pty). Reduced to the agent: the gateway deals with banks, and where it needs one the
    usage guideline refuses a Pty."""

    agent: Agent | None  # Agt; None when the party is named as a Pty
    path: str = field(compare=False)  # element path of the Party40Choice element, e.g. .../Assgnmt/Assgnr


@dataclass(frozen=True, slots=True)
class Account:
    """CashAccount38 reduced to how it is named: Id/IBAN, or Id/Othr/Id with its scheme and issuer; and its Ccy."""

    iban: str | None  # Id/IBAN
    identification: str | None  # Id/Othr/Id; None exactly when iban is not
    scheme_code: str | None  # Id/Othr/SchmeNm/Cd
    scheme_proprietary: str | None  # Id/Othr/SchmeNm/Prtry
    issuer: str | None  # Id/Othr/Issr
    currency: str | None  # Ccy
    path: str = field(compare=False)  # element path of the account element, e.g. .../LqdtyCdtTrf/DbtrAcct

    def __post_init__(self) -> None:
        assert (self.iban is None) != (self.identification is None), "Id is a choice of IBAN and Othr"
        assert self.scheme_code is None or self.scheme_proprietary is None, "SchmeNm is a choice of Cd and Prtry"

    @property
    def role(self) -> AccountRole | None:
        """WALLET for Othr under the wallet scheme, RTGS for Othr without a scheme, None for any other naming."""
        if self.identification is None or self.scheme_code is not None:
            return None
        if self.scheme_proprietary is None:
            return AccountRole.RTGS
        return AccountRole.WALLET if self.scheme_proprietary == wallet_scheme else None


# --------------------------------------------------------------------------------------------------------------
# camt.056: cancellation request
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Assignment:
    """Assgnmt (CaseAssignment5) as a bank sent it: who hands the case to whom, and when. (The gateway's own, in
    the camt.029 it answers with, is gateway.messages.reports.CaseAssignment.)"""

    assignment_id: str  # Id
    assigner: Party  # Assgnr: the bank asking, the sender
    assignee: Party  # Assgne: the gateway's central bank, or the creditor agent the case is meant for
    creation_time: datetime  # CreDtTm
    path: str = field(compare=False)


@dataclass(frozen=True, slots=True)
class Case:
    """Case5: the investigation the request opens (or re-opens), and who opened it."""

    case_id: str  # Id
    creator: Party  # Cretr
    reopened: bool | None  # ReopCaseIndctn
    path: str = field(compare=False)


@dataclass(frozen=True, slots=True)
class PaymentCancellationReason:
    """CxlRsnInf (PaymentCancellationReason5): why the sender asks for the cancellation, an
    ExternalCancellationReason1Code (DUPL, FRAD, TECH, CUST, AGNT, AM09 ...) or a proprietary reason, and text."""

    code: str | None  # Rsn/Cd
    proprietary: str | None  # Rsn/Prtry
    additional_info: tuple[str, ...]  # AddtlInf
    path: str = field(compare=False)


@xml_written_on_demand
@dataclass(frozen=True, slots=True)
class OriginalGroupCancellation:
    """Undrlyg/OrgnlGrpInfAndCxl (OriginalGroupHeader15): the original message of the transactions to cancel,
    or, with GrpCxl true, the whole message to cancel."""

    group_cancellation_id: str | None  # GrpCxlId
    case: Case | None
    original_message: OriginalMessage  # OrgnlMsgId, OrgnlMsgNmId, OrgnlCreDtTm
    number_of_transactions: int | None  # NbOfTxs of the original message
    control_sum_kopecks: int | None  # CtrlSum of the original message
    group_cancellation: bool | None  # GrpCxl
    reasons: tuple[PaymentCancellationReason, ...]  # CxlRsnInf, for every transaction under it
    path: str = field(compare=False)
    xml: bytes = field(compare=False)  # the element as sent, to forward (see CustomerCreditTransaction.xml)


@xml_written_on_demand
@dataclass(frozen=True, slots=True)
class TransactionCancellation:
    """Undrlyg/TxInf (PaymentTransaction106): one original transaction to cancel, by its references."""

    cancellation_id: str | None  # CxlId
    case: Case | None
    original_message: OriginalMessage | None  # OrgnlGrpInf
    original_instruction_id: str | None  # OrgnlInstrId
    original_end_to_end_id: str | None  # OrgnlEndToEndId
    original_transaction_id: str | None  # OrgnlTxId
    original_uetr: uuid.UUID | None  # OrgnlUETR
    original_clearing_system_reference: str | None  # OrgnlClrSysRef: the ledger transfer's reference
    original_amount: Amount | None  # OrgnlIntrBkSttlmAmt
    original_settlement_date: date | None  # OrgnlIntrBkSttlmDt
    assigner: Agent | None  # Assgnr
    assignee: Agent | None  # Assgne
    reasons: tuple[PaymentCancellationReason, ...]  # CxlRsnInf
    path: str = field(compare=False)
    xml: bytes = field(compare=False)  # the transaction element as sent (see CustomerCreditTransaction.xml)


@dataclass(frozen=True, slots=True)
class UnderlyingCancellation:
    """Undrlyg (UnderlyingTransaction23): one original message, and the transactions of it to cancel."""

    original_group: OriginalGroupCancellation | None  # OrgnlGrpInfAndCxl
    transactions: tuple[TransactionCancellation, ...]  # TxInf
    path: str = field(compare=False)


@dataclass(frozen=True, slots=True)
class CancellationRequest:
    """camt.056.001.08 FIToFIPaymentCancellationRequest."""

    assignment: Assignment
    case: Case | None
    number_of_transactions: int | None  # CtrlData/NbOfTxs
    control_sum_kopecks: int | None  # CtrlData/CtrlSum
    underlyings: tuple[UnderlyingCancellation, ...]
    path: str = field(compare=False)  # element path of FIToFIPmtCxlReq

    @property
    def transactions(self) -> tuple[TransactionCancellation, ...]:
        """Every TxInf of every Undrlyg, in message order."""
        return tuple(tx for underlying in self.underlyings for tx in underlying.transactions)


# --------------------------------------------------------------------------------------------------------------
# camt.050: liquidity credit transfer
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LiquidityTransfer:
    """camt.050.001.05 LiquidityCreditTransfer: a bank converts its own roubles between its RTGS account at the
    central bank and one of its wallets. Which way is `direction`, read from how the two accounts are named."""

    message_id: str  # MsgHdr/MsgId
    creation_time: datetime | None  # MsgHdr/CreDtTm
    instruction_id: str | None  # LqdtyTrfId/InstrId
    end_to_end_id: str | None  # LqdtyTrfId/EndToEndId; None when there is no LqdtyTrfId
    transaction_id: str | None  # LqdtyTrfId/TxId
    uetr: uuid.UUID | None  # LqdtyTrfId/UETR
    creditor: Agent | None  # Cdtr
    credit_account: Account | None  # CdtrAcct
    # TrfdAmt: AmtWthCcy as sent, or AmtWthtCcy in the settlement system's own currency, RUB.
    amount: Amount
    debtor: Agent | None  # Dbtr
    debit_account: Account | None  # DbtrAcct
    settlement_date: date | None  # SttlmDt
    path: str = field(compare=False)  # element path of the transfer, LqdtyCdtTrf/LqdtyCdtTrf
    amount_path: str = field(compare=False)  # .../TrfdAmt/AmtWthCcy or .../TrfdAmt/AmtWthtCcy

    @property
    def direction(self) -> LiquidityDirection | None:
        """MINT from the RTGS account to a wallet, BURN from a wallet to the RTGS account; None for any other pair
        (the usage guideline refuses it)."""
        accounts = (self.debit_account, self.credit_account)
        roles = tuple(None if account is None else account.role for account in accounts)
        if roles == (AccountRole.RTGS, AccountRole.WALLET):
            return LiquidityDirection.MINT
        if roles == (AccountRole.WALLET, AccountRole.RTGS):
            return LiquidityDirection.BURN
        return None


# --------------------------------------------------------------------------------------------------------------
# camt.060: account reporting request
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReportingPeriod:
    """RptgPrd (ReportingPeriod2): the days reported on, optionally the hours, and what to report."""

    from_date: date  # FrToDt/FrDt
    to_date: date | None  # FrToDt/ToDt; open-ended when absent
    from_time: time | None  # FrToTm/FrTm, aware when sent with an offset; 24:00:00 reads as time.max
    to_time: time | None  # FrToTm/ToTm
    query_type: str  # Tp: ALLL, CHNG or MODF
    path: str = field(compare=False)


@dataclass(frozen=True, slots=True)
class FloorLimit:
    """ReqdTxTp/FlrLmt (Limit2): report only entries at or above this amount."""

    amount: Amount  # Amt
    credit_debit: str  # CdtDbtInd: CRED, DEBT or BOTH
    path: str = field(compare=False)


@dataclass(frozen=True, slots=True)
class RequestedTransactionType:
    """ReqdTxTp (TransactionType2): the entries asked for, by status and side."""

    status_code: str | None  # Sts/Cd, an ExternalEntryStatus1Code: BOOK, PDNG, INFO ...
    status_proprietary: str | None  # Sts/Prtry
    credit_debit: str  # CdtDbtInd: CRDT or DBIT
    floor_limits: tuple[FloorLimit, ...]  # FlrLmt
    path: str = field(compare=False)


@dataclass(frozen=True, slots=True)
class RequestedBalanceType:
    """ReqdBalTp (BalanceType13): a balance asked for, an ExternalBalanceType1Code (OPBD, ITBD, CLBD ...) or a
    proprietary type. The sub-type is not read."""

    code: str | None  # CdOrPrtry/Cd
    proprietary: str | None  # CdOrPrtry/Prtry
    path: str = field(compare=False)


@dataclass(frozen=True, slots=True)
class ReportingRequest:
    """One RptgReq (ReportingRequest5): which report, on which account of which owner, over which period."""

    request_id: str | None  # Id
    requested_message_name_id: str  # ReqdMsgNmId, e.g. camt.053.001.08
    account: Account | None  # Acct; absent: every wallet of the owner
    account_owner: Party  # AcctOwnr
    account_servicer: Agent | None  # AcctSvcr
    period: ReportingPeriod | None  # RptgPrd
    sequence_range_present: bool  # RptgSeq is there (the usage guideline does not admit it)
    transaction_type: RequestedTransactionType | None  # ReqdTxTp
    balance_types: tuple[RequestedBalanceType, ...]  # ReqdBalTp
    path: str = field(compare=False)


@dataclass(frozen=True, slots=True)
class AccountReportingRequest:
    """camt.060.001.05 AccountReportingRequest."""

    message_id: str  # GrpHdr/MsgId
    creation_time: datetime  # GrpHdr/CreDtTm
    message_sender: Party | None  # GrpHdr/MsgSndr
    requests: tuple[ReportingRequest, ...]  # RptgReq
    path: str = field(compare=False)  # element path of GrpHdr


Command: TypeAlias = (
    CreditTransfer
    | FinancialInstitutionTransfer
    | PaymentReturn
    | StatusRequest
    | CancellationRequest
    | LiquidityTransfer
    | AccountReportingRequest
)
