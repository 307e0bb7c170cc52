"""What an inbound payments message asks the gateway to do, as immutable typed values.

Readers (gateway.messages.readers) build these from schema-valid XML; rules (gateway.messages.rules) check them;
the service layer acts on them. No lxml here: a command holds Python values, the element paths it came from (for
rejections) and, per transaction, the transaction's XML so it can be forwarded untouched.

Amounts are integer hundredths of their currency unit, i.e. kopecks for RUB, the only currency the gateway settles.
The currency is kept beside them so that the usage-guideline rule, not the reader, refuses any other.

Element paths (`path`) and transaction XML (`xml`) record where a value came from; they take no part in equality,
so that a command read back from a message someone else wrapped equals the one written.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TypeAlias

from gateway import bounds


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
    """The business application header (head.001.001.02) that travels beside every Document."""

    from_bic: str | None  # Fr/FIId/FinInstnId/BICFI; None when the sender is named otherwise
    to_bic: str | None
    business_message_id: str  # BizMsgIdr
    message_definition_id: str  # MsgDefIdr, e.g. pacs.008.001.08
    business_service: str | None  # BizSvc
    creation_time: datetime  # CreDt
    copy_duplicate: str | None  # CpyDplct: CODU, COPY or DUPL
    possible_duplicate: bool | None  # PssblDplct
    related: tuple[RelatedHeader, ...]
    # Where the AppHdr was in the message read ("" for one the gateway writes). Provenance, not compared.
    path: str = field(default="", compare=False)


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
    # Provenance like path, so neither takes part in equality.
    xml: bytes = field(compare=False)


@dataclass(frozen=True, slots=True)
class CreditTransfer:
    """pacs.008.001.08 FIToFICustomerCreditTransfer."""

    group: TransferGroupHeader
    transactions: tuple[CustomerCreditTransaction, ...]


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


Command: TypeAlias = CreditTransfer | FinancialInstitutionTransfer | PaymentReturn | StatusRequest
