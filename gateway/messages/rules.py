"""Usage-guideline and business rules over the commands readers produce. Errors are data: every rule returns the
rejections it found, each with an ISO 20022 ExternalStatusReason1Code, the element path and its layer.

Usage-guideline rules (Layer.USAGE_GUIDELINE) are the cryptoruble scheme's restrictions of the standard, true or
false of a message alone. Business rules (Layer.BUSINESS) check the message's own consistency and hold it against
the world: the sender, the known participants and today, passed in as a RuleContext, never read from globals.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypeAlias

from gateway import bounds
from gateway.config import canonical_bic, is_bic
from gateway.domain.money import currency_code, text_from_kopecks
from gateway.messages.commands import (
    Agent,
    Amount,
    BusinessHeader,
    Command,
    CreditTransfer,
    FinancialInstitutionTransfer,
    PaymentReturn,
    ReturnGroupHeader,
    StatusRequest,
    TransferGroupHeader,
)
from gateway.messages.rejections import Layer, Rejection, excerpt

# Bounds of this module (to move to gateway.bounds):
# Transactions in one pacs.008, pacs.009 or pacs.004. xml_elements_max alone would allow about 18,000 minimal ones;
# this keeps one message within ten of the largest ledger batches (batch_transfers_max is at most 10,000).
transactions_per_message_max = bounds.transactions_per_message_max

# ISO 20022 ExternalStatusReason1Code values the rules answer with.
zero_amount = "AM01"  # ZeroAmount
not_allowed_amount = "AM02"  # NotAllowedAmount: greater than the allowed maximum
not_allowed_currency = "AM03"  # NotAllowedCurrency: a currency outside the scheme's agreement
invalid_group_control_sum = "AM16"  # InvalidGroupControlSum: CtrlSum (or a group total) is wrong
invalid_number_of_transactions = "AM18"  # InvalidNumberOfTransactions: here, more than the scheme accepts
invalid_group_number_of_transactions = "AM19"  # InvalidGroupNumberOfTransactions: NbOfTxs is wrong
transaction_forbidden = "AG01"  # TransactionForbidden: the sender may not debit another bank's wallet
transaction_not_supported = "AG03"  # TransactionNotSupported: a settlement method the gateway does not offer
agent_suspended = "AG10"  # AgentSuspended
creditor_agent_suspended = "AG11"  # CreditorAgentSuspended
required_element_missing = "CH21"  # RequiredCompulsoryElementMissing
debtor_bank_not_registered = "DNOR"  # DebtorBankIsNotRegistered (under this BIC in the CSM)
creditor_bank_not_registered = "CNOR"  # CreditorBankIsNotRegistered
invalid_date = "DT01"  # InvalidDate: wrong or missing settlement date
future_date_not_supported = "DT04"  # FutureDateNotSupported
duplicate_transaction = "DU03"  # DuplicateTransaction: a transaction id or UETR not unique in the message
duplicate_end_to_end_id = "DU04"  # DuplicateEndToEndID
duplicate_instruction_id = "DU05"  # DuplicateInstructionID
bank_identifier_incorrect = "RC01"  # BankIdentifierIncorrect: the BIC's format is wrong
invalid_bank_identifier = "RC02"  # InvalidBankIdentifier: invalid or missing (not a debtor or creditor agent)
invalid_debtor_bank_identifier = "RC03"  # InvalidDebtorBankIdentifier: invalid or missing
invalid_creditor_bank_identifier = "RC04"  # InvalidCreditorBankIdentifier: invalid or missing

# Settlement methods the gateway settles: through the clearing (the cryptoruble ledger), or by the instructed
# agent, the central bank, on the wallets it services. INGA (the sender settles on its own books) and COVE
# (settlement by a separate cover payment) move no cryptorubles through the gateway.
settlement_methods = frozenset({"CLRG", "INDA"})


@dataclass(frozen=True, slots=True)
class RuleContext:
    """What the business rules hold a message against. Built by the caller for each message (or batch)."""

    today: date  # the gateway's business date
    central_bank_bic: str  # canonical (11 characters); a known party, e.g. the creditor agent of a tax payment
    participants: frozenset[str]  # canonical BICs of active participants
    suspended_participants: frozenset[str]  # canonical BICs of suspended participants
    settlement_days_ahead_max: int  # how far ahead of today a settlement date may be; 0: same day only
    # The participant the transport authenticated (the mTLS client certificate's BIC), canonical; None where no one
    # is authenticated (replaying recorded files, tests). When set, AppHdr/Fr must name it, and it is the sender of
    # a bare Document.
    authenticated_bic: str | None

    def __post_init__(self) -> None:
        authenticated = () if self.authenticated_bic is None else (self.authenticated_bic,)
        for bic in (self.central_bank_bic, *self.participants, *self.suspended_participants, *authenticated):
            assert is_bic(bic), f"{bic!r} is not a BIC"
            assert canonical_bic(bic) == bic, f"{bic!r} is not in its canonical 11-character form"
        assert not self.participants & self.suspended_participants, "a participant is active or suspended, not both"
        assert 0 <= self.settlement_days_ahead_max <= 366, self.settlement_days_ahead_max

    def is_known(self, bic: str) -> bool:
        bic = canonical_bic(bic)
        return bic == self.central_bank_bic or bic in self.participants or bic in self.suspended_participants

    def is_suspended(self, bic: str) -> bool:
        return canonical_bic(bic) in self.suspended_participants


UsageGuidelineRule: TypeAlias = Callable[[Command, BusinessHeader | None], list[Rejection]]
BusinessRule: TypeAlias = Callable[[Command, BusinessHeader | None, RuleContext], list[Rejection]]


def check_usage_guideline(command: Command, header: BusinessHeader | None) -> list[Rejection]:
    return [rejection for rule in usage_guideline_rules for rejection in rule(command, header)]


def check_business(command: Command, header: BusinessHeader | None, context: RuleContext) -> list[Rejection]:
    return [rejection for rule in business_rules for rejection in rule(command, header, context)]


def _usage(code: str, path: str, text: str) -> Rejection:
    return Rejection(code, path, text, Layer.USAGE_GUIDELINE)


def _business(code: str, path: str, text: str) -> Rejection:
    return Rejection(code, path, text, Layer.BUSINESS)


def _body_path(group_path: str) -> str:
    return group_path.rpartition("/")[0]


# --------------------------------------------------------------------------------------------------------------
# A uniform view of what the rules need from the three payment messages
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Settled:
    """One transaction that moves money: its amount and date, where they are, and who pays and is paid."""

    path: str
    amount: Amount
    amount_path: str
    settlement_date: date | None
    debtor_agent: Agent | None  # whose wallet is debited (pacs.009: Dbtr; pacs.004: the returning bank)
    creditor_agent: Agent | None  # whose wallet is credited


def _group(command: Command) -> TransferGroupHeader | ReturnGroupHeader | None:
    return None if isinstance(command, StatusRequest) else command.group


def _settled(command: Command) -> list[_Settled]:
    if isinstance(command, CreditTransfer):
        return [
            _Settled(
                tx.path, tx.amount, f"{tx.path}/IntrBkSttlmAmt", tx.settlement_date, tx.debtor_agent, tx.creditor_agent
            )
            for tx in command.transactions
        ]
    if isinstance(command, FinancialInstitutionTransfer):
        return [
            _Settled(tx.path, tx.amount, f"{tx.path}/IntrBkSttlmAmt", tx.settlement_date, tx.debtor, tx.creditor)
            for tx in command.transactions
        ]
    if isinstance(command, PaymentReturn):
        group = command.group
        return [
            _Settled(
                tx.path,
                tx.returned_amount,
                f"{tx.path}/RtrdIntrBkSttlmAmt",
                tx.settlement_date,
                tx.debtor_agent or tx.instructing_agent or group.instructing_agent,
                tx.creditor_agent or tx.instructed_agent or group.instructed_agent,
            )
            for tx in command.transactions
        ]
    return []


def _agents(command: Command) -> Iterator[tuple[Agent, str]]:
    """Every agent the command names, with the code for a missing or invalid identifier of that role."""
    group = command.group
    for agent in (group.instructing_agent, group.instructed_agent):
        if agent is not None:
            yield agent, invalid_bank_identifier
    if isinstance(command, CreditTransfer):
        for customer in command.transactions:
            yield from _optional(customer.instructing_agent, customer.instructed_agent)
            yield customer.debtor_agent, invalid_debtor_bank_identifier
            yield customer.creditor_agent, invalid_creditor_bank_identifier
    elif isinstance(command, FinancialInstitutionTransfer):
        for institution in command.transactions:
            yield from _optional(
                institution.instructing_agent,
                institution.instructed_agent,
                institution.debtor_agent,
                institution.creditor_agent,
            )
            yield institution.debtor, invalid_debtor_bank_identifier
            yield institution.creditor, invalid_creditor_bank_identifier
    elif isinstance(command, PaymentReturn):
        for returned in command.transactions:
            yield from _optional(returned.instructing_agent, returned.instructed_agent)
            if returned.debtor_agent is not None:
                yield returned.debtor_agent, invalid_debtor_bank_identifier
            if returned.creditor_agent is not None:
                yield returned.creditor_agent, invalid_creditor_bank_identifier
    else:
        for request in command.transactions:
            yield from _optional(request.instructing_agent, request.instructed_agent)


def _optional(*agents: Agent | None) -> Iterator[tuple[Agent, str]]:
    for agent in agents:
        if agent is not None:
            yield agent, invalid_bank_identifier


def _bic_path(agent: Agent) -> str:
    return f"{agent.path}/FinInstnId/BICFI"


# --------------------------------------------------------------------------------------------------------------
# Usage-guideline rules
# --------------------------------------------------------------------------------------------------------------


def rub_only(command: Command, header: BusinessHeader | None) -> list[Rejection]:
    """Every amount the gateway settles, and every group total of them, is in roubles (AM03)."""
    amounts = [(item.amount, item.amount_path) for item in _settled(command)]
    group = _group(command)
    if isinstance(group, TransferGroupHeader) and group.total_amount is not None:
        amounts.insert(0, (group.total_amount, f"{group.path}/TtlIntrBkSttlmAmt"))
    if isinstance(group, ReturnGroupHeader) and group.total_returned_amount is not None:
        amounts.insert(0, (group.total_returned_amount, f"{group.path}/TtlRtrdIntrBkSttlmAmt"))
    return [
        _usage(not_allowed_currency, path, f"currency {excerpt(amount.currency)} is not settled; only {currency_code}")
        for amount, path in amounts
        if amount.currency != currency_code
    ]


def settlement_method_supported(command: Command, header: BusinessHeader | None) -> list[Rejection]:
    """The group's settlement method is CLRG or INDA (AG03)."""
    group = _group(command)
    if group is None or group.settlement_method in settlement_methods:
        return []
    path = f"{group.path}/SttlmInf/SttlmMtd"
    allowed = " or ".join(sorted(settlement_methods))
    text = f"settlement method {excerpt(group.settlement_method)} is not offered; use {allowed}"
    return [_usage(transaction_not_supported, path, text)]


def uetr_required(command: Command, header: BusinessHeader | None) -> list[Rejection]:
    """Every transaction carries its UETR, or the original's (returns, status requests) (CH21): the gateway's
    idempotency and every later reference to the transaction rest on it."""
    missing: list[str] = []
    if isinstance(command, CreditTransfer | FinancialInstitutionTransfer):
        missing = [f"{tx.path}/PmtId/UETR" for tx in command.transactions if tx.uetr is None]
    elif isinstance(command, PaymentReturn):
        missing = [f"{tx.path}/OrgnlUETR" for tx in command.transactions if tx.original_uetr is None]
    else:
        missing = [f"{request.path}/OrgnlUETR" for request in command.transactions if request.original_uetr is None]
    return [_usage(required_element_missing, path, "the UETR is required") for path in missing]


def bicfi_required(command: Command, header: BusinessHeader | None) -> list[Rejection]:
    """The sender (AppHdr/Fr) and every agent are identified by a BICFI (RC02, or RC03/RC04 for the debtor and
    creditor agents): wallets are keyed by BIC, a clearing code or a name alone routes nowhere."""
    rejections = []
    if header is not None and header.from_bic is None:
        rejections.append(
            _usage(invalid_bank_identifier, f"{header.path}/Fr", "the sender must be named by FIId/BICFI")
        )
    for agent, code in _agents(command):
        if agent.bic is None:
            rejections.append(_usage(code, _bic_path(agent), "the agent must be identified by its BICFI"))
    return rejections


def settlement_date_required(command: Command, header: BusinessHeader | None) -> list[Rejection]:
    """Every transaction that moves money has an interbank settlement date, its own or its group's (DT01)."""
    group = _group(command)
    if group is None or group.settlement_date is not None:
        return []
    return [
        _usage(
            invalid_date, f"{item.path}/IntrBkSttlmDt", "the interbank settlement date is missing here and in GrpHdr"
        )
        for item in _settled(command)
        if item.settlement_date is None
    ]


def return_reason_required(command: Command, header: BusinessHeader | None) -> list[Rejection]:
    """Every return gives a coded reason (an ExternalReturnReason1Code), its own or its group's (CH21)."""
    if not isinstance(command, PaymentReturn) or any(reason.code for reason in command.group.reasons):
        return []
    return [
        _usage(required_element_missing, f"{tx.path}/RtrRsnInf", "a return needs RtrRsnInf/Rsn/Cd")
        for tx in command.transactions
        if not any(reason.code for reason in tx.reasons)
    ]


def transactions_present_and_bounded(command: Command, header: BusinessHeader | None) -> list[Rejection]:
    """A message holds at least one transaction (or, for a status request, one original message or transaction)
    (CH21) and at most transactions_per_message_max (AM18)."""
    body = _body_path(command.group.path)
    if isinstance(command, StatusRequest):
        if command.original_groups or command.transactions:
            return []
        return [_usage(required_element_missing, f"{body}/TxInf", "name at least one original message or transaction")]
    transactions = _settled(command)
    if not transactions:  # pacs.004 allows none in the standard; the gateway returns transaction by transaction
        return [_usage(required_element_missing, f"{body}/TxInf", "a return names each transaction it returns")]
    if len(transactions) <= transactions_per_message_max:
        return []
    first_beyond = transactions[transactions_per_message_max].path
    text = f"{len(transactions)} transactions; at most {transactions_per_message_max} are accepted in one message"
    return [_usage(invalid_number_of_transactions, first_beyond, text)]


usage_guideline_rules: tuple[UsageGuidelineRule, ...] = (
    transactions_present_and_bounded,
    rub_only,
    settlement_method_supported,
    uetr_required,
    bicfi_required,
    settlement_date_required,
    return_reason_required,
)


# --------------------------------------------------------------------------------------------------------------
# Business rules
# --------------------------------------------------------------------------------------------------------------


def number_of_transactions_matches(
    command: Command, header: BusinessHeader | None, context: RuleContext
) -> list[Rejection]:
    """GrpHdr/NbOfTxs is the number of transactions in the message (AM19)."""
    group = _group(command)
    if group is None:
        return []
    count = len(_settled(command))
    if group.number_of_transactions == count:
        return []
    text = f"NbOfTxs is {group.number_of_transactions} but the message holds {count} transactions"
    return [_business(invalid_group_number_of_transactions, f"{group.path}/NbOfTxs", text)]


def group_totals_match(command: Command, header: BusinessHeader | None, context: RuleContext) -> list[Rejection]:
    """GrpHdr/CtrlSum and the group's total settlement amount, when given, are the sum of the transactions'
    amounts (AM16)."""
    group = _group(command)
    if group is None:
        return []
    total = sum(item.amount.kopecks for item in _settled(command))
    stated: list[tuple[int, str]] = []
    if group.control_sum_kopecks is not None:
        stated.append((group.control_sum_kopecks, f"{group.path}/CtrlSum"))
    if isinstance(group, TransferGroupHeader) and group.total_amount is not None:
        stated.append((group.total_amount.kopecks, f"{group.path}/TtlIntrBkSttlmAmt"))
    if isinstance(group, ReturnGroupHeader) and group.total_returned_amount is not None:
        stated.append((group.total_returned_amount.kopecks, f"{group.path}/TtlRtrdIntrBkSttlmAmt"))
    return [
        _business(
            invalid_group_control_sum, path, f"states {_roubles(kopecks)} but the amounts sum to {_roubles(total)}"
        )
        for kopecks, path in stated
        if kopecks != total
    ]


def amounts_in_range(command: Command, header: BusinessHeader | None, context: RuleContext) -> list[Rejection]:
    """Every amount settled is positive (AM01 for zero; the XSD refuses negatives) and at most
    bounds.transfer_amount_kopecks_max (AM02)."""
    rejections = []
    for item in _settled(command):
        if item.amount.kopecks == 0:
            rejections.append(_business(zero_amount, item.amount_path, "the amount is zero"))
        elif item.amount.kopecks > bounds.transfer_amount_kopecks_max:
            limit = _roubles(bounds.transfer_amount_kopecks_max)
            rejections.append(_business(not_allowed_amount, item.amount_path, f"the amount exceeds {limit}"))
    return rejections


def settlement_date_in_window(command: Command, header: BusinessHeader | None, context: RuleContext) -> list[Rejection]:
    """Every interbank settlement date stated, group or transaction, is today or up to the context's days ahead:
    DT01 for a past date, DT04 for one beyond the window."""
    group = _group(command)
    if group is None:
        return []
    dated = [(group.settlement_date, f"{group.path}/IntrBkSttlmDt")]
    dated += [(item.settlement_date, f"{item.path}/IntrBkSttlmDt") for item in _settled(command)]
    last = context.today + timedelta(days=context.settlement_days_ahead_max)
    rejections = []
    for value, path in dated:
        if value is None:
            continue
        if value < context.today:
            rejections.append(
                _business(invalid_date, path, f"settlement date {value} is before today, {context.today}")
            )
        elif value > last:
            rejections.append(_business(future_date_not_supported, path, f"settlement date {value} is after {last}"))
    return rejections


def bics_well_formed(command: Command, header: BusinessHeader | None, context: RuleContext) -> list[Rejection]:
    """Every BIC is an ISO 9362 BIC as participants are registered: 4 letters, 2 letters, 2 and optionally 3
    letters or digits (RC01). The XSD also lets digits into the first four."""
    named: list[tuple[str, str]] = []
    if header is not None:
        named += [
            (bic, f"{header.path}/{role}/FIId/FinInstnId/BICFI")
            for bic, role in ((header.from_bic, "Fr"), (header.to_bic, "To"))
            if bic
        ]
    named += [(agent.bic, _bic_path(agent)) for agent, _ in _agents(command) if agent.bic is not None]
    return [
        _business(bank_identifier_incorrect, path, f"{excerpt(bic)} is not a BIC the gateway registers")
        for bic, path in named
        if not is_bic(bic)
    ]


def agents_registered(command: Command, header: BusinessHeader | None, context: RuleContext) -> list[Rejection]:
    """The debtor and creditor agents are registered and active (DNOR/CNOR when unknown, AG10/AG11 when
    suspended); any other agent named is registered (RC02)."""
    rejections = []
    paying = {item.debtor_agent.path for item in _settled(command) if item.debtor_agent is not None}
    paid = {item.creditor_agent.path for item in _settled(command) if item.creditor_agent is not None}
    for agent, _ in _agents(command):
        if agent.bic is None or not is_bic(agent.bic):
            continue  # the usage guideline or bics_well_formed has answered for it
        path = _bic_path(agent)
        if agent.path in paying:
            rejections += _registered(context, agent.bic, path, debtor_bank_not_registered, agent_suspended)
        elif agent.path in paid:
            rejections += _registered(context, agent.bic, path, creditor_bank_not_registered, creditor_agent_suspended)
        elif not context.is_known(agent.bic):
            rejections.append(_business(invalid_bank_identifier, path, f"{agent.bic} is not a participant"))
    return rejections


def _registered(context: RuleContext, bic: str, path: str, unknown_code: str, suspended_code: str) -> list[Rejection]:
    if not context.is_known(bic):
        return [_business(unknown_code, path, f"{bic} is not a participant")]
    if context.is_suspended(bic):
        return [_business(suspended_code, path, f"participant {bic} is suspended")]
    return []


def sender_is_debtor(command: Command, header: BusinessHeader | None, context: RuleContext) -> list[Rejection]:
    """A bank debits only its own wallets: AppHdr/Fr is the authenticated participant, when the transport
    authenticated one, and every debited agent is the sender (AG01). The sender is AppHdr/Fr; for a bare Document,
    the authenticated participant, else GrpHdr/InstgAgt."""
    group = command.group
    if header is not None:
        sender, sender_path = header.from_bic, f"{header.path}/Fr/FIId/FinInstnId/BICFI"
    elif context.authenticated_bic is not None:
        sender, sender_path = context.authenticated_bic, ""
    elif group.instructing_agent is not None:
        sender, sender_path = group.instructing_agent.bic, _bic_path(group.instructing_agent)
    else:
        sender, sender_path = None, f"{group.path}/InstgAgt"
    authenticated = context.authenticated_bic
    if sender is not None and authenticated is not None and canonical_bic(sender) != authenticated:
        text = f"the message is sent as {sender} on a connection authenticated as {authenticated}"
        return [_business(transaction_forbidden, sender_path, text)]
    settled = _settled(command)
    if not settled:
        return []
    if sender is None or not is_bic(sender):
        return [
            _business(transaction_forbidden, sender_path, "the sender is not identified, so nothing may be debited")
        ]
    return [
        _business(
            transaction_forbidden, _bic_path(item.debtor_agent), f"{sender} may not debit {item.debtor_agent.bic}"
        )
        for item in settled
        if item.debtor_agent is not None
        and item.debtor_agent.bic is not None
        and canonical_bic(item.debtor_agent.bic) != canonical_bic(sender)
    ]


def references_unique(command: Command, header: BusinessHeader | None, context: RuleContext) -> list[Rejection]:
    """Within one message, no two transactions share an EndToEndId (DU04), InstrId (DU05), TxId or UETR (DU03);
    no two returns share a RtrId or return the same original UETR (DU03)."""
    references: list[tuple[str, str, str, Iterable[tuple[Hashable, str]]]] = []
    if isinstance(command, CreditTransfer | FinancialInstitutionTransfer):
        transactions = command.transactions
        references = [
            (
                duplicate_end_to_end_id,
                "EndToEndId",
                "PmtId/EndToEndId",
                [(tx.end_to_end_id, tx.path) for tx in transactions],
            ),
            (
                duplicate_instruction_id,
                "InstrId",
                "PmtId/InstrId",
                [(tx.instruction_id, tx.path) for tx in transactions],
            ),
            (duplicate_transaction, "TxId", "PmtId/TxId", [(tx.transaction_id, tx.path) for tx in transactions]),
            (duplicate_transaction, "UETR", "PmtId/UETR", [(tx.uetr, tx.path) for tx in transactions]),
        ]
    elif isinstance(command, PaymentReturn):
        returns = command.transactions
        references = [
            (duplicate_transaction, "RtrId", "RtrId", [(tx.return_id, tx.path) for tx in returns]),
            (duplicate_transaction, "OrgnlUETR", "OrgnlUETR", [(tx.original_uetr, tx.path) for tx in returns]),
        ]
    rejections = []
    for code, name, relative_path, values in references:
        first_seen: dict[Hashable, str] = {}
        for value, path in values:
            if value is None:
                continue
            if value in first_seen:
                shown = str(value) if isinstance(value, uuid.UUID) else excerpt(str(value))
                text = f"{name} {shown} is also the {name} of {first_seen[value]}"
                rejections.append(_business(code, f"{path}/{relative_path}", text))
            else:
                first_seen[value] = path
    return rejections


business_rules: tuple[BusinessRule, ...] = (
    number_of_transactions_matches,
    group_totals_match,
    amounts_in_range,
    settlement_date_in_window,
    bics_well_formed,
    agents_registered,
    sender_is_debtor,
    references_unique,
)


def _roubles(kopecks: int) -> str:
    return f"{text_from_kopecks(kopecks)} {currency_code}"
