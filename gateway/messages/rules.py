"""Usage-guideline and business rules over the commands readers produce. Errors are data: every rule returns the
rejections it found, each with an ISO 20022 ExternalStatusReason1Code, the element path and its layer.

Usage-guideline rules (Layer.USAGE_GUIDELINE) are the cryptoruble scheme's restrictions of the standard, true or
false of a message alone. Business rules (Layer.BUSINESS) check the message's own consistency and hold it against
the world: the sender, the known participants, their accounts and today, passed in as a RuleContext, never read
from globals.

Every rule takes any Command and answers for the message kinds it concerns, returning nothing for the others; the
rules shared by several kinds read them through the uniform views below (_settled, _agents, _sender).
docs/usage-guidelines.md lists every rule by name with its codes (tests/message_layer/test_usage_guidelines_doc.py
keeps the two in step).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from datetime import date, timedelta
from types import MappingProxyType
from typing import NamedTuple, TypeAlias

from gateway import bounds
from gateway.config import canonical_bic, is_bic
from gateway.domain.money import currency_code, text_from_kopecks
from gateway.messages.codes import (
    agent_suspended,
    bank_identifier_incorrect,
    creditor_agent_suspended,
    creditor_bank_not_registered,
    debtor_bank_not_registered,
    duplicate_instruction_id,
    duplicate_transaction,
    element_content_incorrect,
    element_not_admitted,
    future_date_not_supported,
    incorrect_account_number,
    invalid_account_currency,
    invalid_bank_identifier,
    invalid_creditor_account_number,
    invalid_creditor_account_type,
    invalid_creditor_bank_identifier,
    invalid_date,
    invalid_debtor_account_number,
    invalid_debtor_bank_identifier,
    invalid_group_control_sum,
    invalid_group_number_of_transactions,
    invalid_number_of_transactions,
    not_allowed_amount,
    not_allowed_currency,
    required_element_missing,
    transaction_forbidden,
    transaction_not_supported,
    zero_amount,
)
from gateway.messages.commands import (
    Account,
    AccountReportingRequest,
    AccountRole,
    Agent,
    Amount,
    BusinessHeader,
    CancellationRequest,
    Command,
    CreditTransfer,
    FinancialInstitutionTransfer,
    LiquidityTransfer,
    Party,
    PaymentReturn,
    ReturnGroupHeader,
    StatusRequest,
    TransferGroupHeader,
    wallet_scheme,
)
from gateway.messages.rejections import Layer, Rejection, excerpt

# Settlement methods the gateway settles: through the clearing (the cryptoruble ledger), or by the instructed
# agent, the central bank, on the wallets it services. INGA (the sender settles on its own books) and COVE
# (settlement by a separate cover payment) move no cryptorubles through the gateway.
settlement_methods = frozenset({"CLRG", "INDA"})

# The messages a cancellation request (camt.056) may cancel: those the gateway settles.
cancellable_message_names = frozenset({"pacs.008.001.08", "pacs.009.001.08", "pacs.004.001.09"})

# The reports a bank may ask for (camt.060 ReqdMsgNmId): intraday (camt.052) and statement (camt.053). Debit and
# credit notifications (camt.054) are sent for each posting as it settles, never on request.
reportable_message_names = frozenset({"camt.052.001.08", "camt.053.001.08"})
# The balance types (ExternalBalanceType1Code) each report carries, and the entry statuses reports list.
reported_balance_types = MappingProxyType({
    "camt.052.001.08": frozenset({"OPBD", "ITBD", "ITAV"}),
    "camt.053.001.08": frozenset({"OPBD", "CLBD"}),
})
entry_statuses = ("BOOK", "PDNG")
# RptgPrd/Tp: everything in the period. CHNG and MODF (what changed since the last report) need a record of the
# reports sent, which the gateway does not keep.
reporting_query_types = frozenset({"ALLL"})

# A wallet's Id/Othr/Id: its ledger code, <BIC>/<wallet name>, as gateway.config registers wallet names.
_wallet_code_pattern = re.compile(r"(?P<bic>[A-Z0-9]{8}(?:[A-Z0-9]{3})?)/(?P<name>[a-z][a-z0-9_-]{0,31})")


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
    # The accounts camt.050 and camt.060 name: each participant's RTGS account number at the central bank, by
    # canonical BIC, and every wallet's ledger code (<canonical BIC>/<name>, as gateway.registry names them). Unless
    # the caller passes them none is known, and every account a message names is refused as not registered.
    rtgs_accounts: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    wallets: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        authenticated = () if self.authenticated_bic is None else (self.authenticated_bic,)
        for bic in (
            self.central_bank_bic,
            *self.participants,
            *self.suspended_participants,
            *authenticated,
            *self.rtgs_accounts,
        ):
            assert is_bic(bic), f"{bic!r} is not a BIC"
            assert canonical_bic(bic) == bic, f"{bic!r} is not in its canonical 11-character form"
        assert not self.participants & self.suspended_participants, "a participant is active or suspended, not both"
        assert 0 <= self.settlement_days_ahead_max <= 366, self.settlement_days_ahead_max
        for code in self.wallets:
            match = _wallet_code_pattern.fullmatch(code)
            assert match is not None, f"{code!r} is not a wallet code"
            assert is_bic(match["bic"]), f"{code!r} does not name its owner by a BIC"
            assert canonical_bic(match["bic"]) == match["bic"], f"{code!r} does not name its owner canonically"

    def is_known(self, bic: str) -> bool:
        bic = canonical_bic(bic)
        return bic == self.central_bank_bic or bic in self.participants or bic in self.suspended_participants

    def is_suspended(self, bic: str) -> bool:
        return canonical_bic(bic) in self.suspended_participants


UsageGuidelineRule: TypeAlias = Callable[[Command, BusinessHeader | None], list[Rejection]]
BusinessRule: TypeAlias = Callable[[Command, BusinessHeader | None, RuleContext], list[Rejection]]


def check_usage_guideline(command: Command, header: BusinessHeader | None) -> list[Rejection]:
    with SharedViews(command):
        return [rejection for rule in usage_guideline_rules for rejection in rule(command, header)]


def check_business(command: Command, header: BusinessHeader | None, context: RuleContext) -> list[Rejection]:
    with SharedViews(command):
        return [rejection for rule in business_rules for rejection in rule(command, header, context)]


class SharedViews:
    """A block in which every rule run on `command` reads one set of its views (_Views), each built once: a message
    of thousands of transactions is then walked once per view, not once per rule. check_usage_guideline and
    check_business open one each; a caller running both on one command (intake) opens one around them, which they
    join."""

    __slots__ = ("_token", "_views")

    def __init__(self, command: Command) -> None:
        self._views = _Views(command)
        self._token: Token[_Views | None] | None = None

    def __enter__(self) -> None:
        shared = _shared_views.get()
        if shared is None or shared.command is not self._views.command:
            self._token = _shared_views.set(self._views)

    def __exit__(self, *_: object) -> None:
        if self._token is not None:
            _shared_views.reset(self._token)
            self._token = None


def _usage(code: str, path: str, text: str) -> Rejection:
    return Rejection(code, path, text, Layer.USAGE_GUIDELINE)


def _business(code: str, path: str, text: str) -> Rejection:
    return Rejection(code, path, text, Layer.BUSINESS)


def _body_path(group_path: str) -> str:
    return group_path.rpartition("/")[0]


# --------------------------------------------------------------------------------------------------------------
# A uniform view of what the rules need from the messages
# --------------------------------------------------------------------------------------------------------------


class _Settled(NamedTuple):
    """One transaction that moves money: its amount and date, where they are, and who pays and is paid. (A
    NamedTuple, immutable like a frozen dataclass, and three times cheaper to build: there is one per transaction.)"""

    path: str
    amount: Amount
    amount_path: str
    settlement_date: date | None
    # Whose wallet is debited (pacs.009: Dbtr; pacs.004: the returning bank; camt.050: Dbtr, the sender itself).
    debtor_agent: Agent | None
    creditor_agent: Agent | None  # whose wallet is credited


class _Views:
    """The uniform views of one command that several rules read, each built when a rule first asks for it. Rules
    run within SharedViews share one; a rule run on its own builds its own."""

    __slots__ = ("_agents", "_bic_verdicts", "_settled", "command")

    def __init__(self, command: Command) -> None:
        self.command = command
        self._settled: list[_Settled] | None = None
        self._agents: list[tuple[Agent, str]] | None = None
        self._bic_verdicts: dict[str, bool] = {}  # a message names few banks, each many times

    @property
    def settled(self) -> list[_Settled]:
        if self._settled is None:
            self._settled = _settled_view(self.command)
        return self._settled

    @property
    def agents(self) -> list[tuple[Agent, str]]:
        if self._agents is None:
            self._agents = list(_agents_view(self.command))
        return self._agents

    def is_bic(self, text: str) -> bool:
        verdict = self._bic_verdicts.get(text)
        if verdict is None:
            verdict = self._bic_verdicts[text] = is_bic(text)
        return verdict


# The views of the command being checked, within SharedViews (a ContextVar, so that checks running in other threads
# or tasks never see them).
_shared_views: ContextVar[_Views | None] = ContextVar("_shared_views", default=None)


def _views(command: Command) -> _Views:
    shared = _shared_views.get()
    if shared is not None and shared.command is command:
        return shared
    return _Views(command)


def _group(command: Command) -> TransferGroupHeader | ReturnGroupHeader | None:
    """The group header of the payment messages that settle (pacs.008, pacs.009, pacs.004)."""
    if isinstance(command, CreditTransfer | FinancialInstitutionTransfer | PaymentReturn):
        return command.group
    return None


def _settled(command: Command) -> list[_Settled]:
    return _views(command).settled


def _agents(command: Command) -> list[tuple[Agent, str]]:
    """Every agent the command names, with the code for a missing or invalid identifier of that role."""
    return _views(command).agents


def _settled_view(command: Command) -> list[_Settled]:
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
    if isinstance(command, LiquidityTransfer):
        return [
            _Settled(
                command.path,
                command.amount,
                command.amount_path,
                command.settlement_date,
                command.debtor,
                command.creditor,
            )
        ]
    return []


def _agents_view(command: Command) -> Iterator[tuple[Agent, str]]:
    if isinstance(command, CancellationRequest):
        yield from _optional(*_cancellation_agents(command))
        return
    if isinstance(command, LiquidityTransfer):  # in message order: Cdtr comes first
        if command.creditor is not None:
            yield command.creditor, invalid_creditor_bank_identifier
        if command.debtor is not None:
            yield command.debtor, invalid_debtor_bank_identifier
        return
    if isinstance(command, AccountReportingRequest):
        if command.message_sender is not None:
            yield from _optional(command.message_sender.agent)
        for request in command.requests:
            yield from _optional(request.account_owner.agent, request.account_servicer)
        return
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


def _cancellation_agents(command: CancellationRequest) -> Iterator[Agent | None]:
    """Every agent a cancellation request names, in message order: the assignment's, the cases' creators (None for
    a Pty), each transaction's own assigner and assignee."""
    yield command.assignment.assigner.agent
    yield command.assignment.assignee.agent
    if command.case is not None:
        yield command.case.creator.agent
    for underlying in command.underlyings:
        if underlying.original_group is not None and underlying.original_group.case is not None:
            yield underlying.original_group.case.creator.agent
        for tx in underlying.transactions:
            if tx.case is not None:
                yield tx.case.creator.agent
            yield tx.assigner
            yield tx.assignee


def _parties_that_are_banks(command: Command) -> Iterator[Party]:
    """The Party40Choice elements where the gateway needs a bank, not a Pty: the camt.056 assigner and assignee
    (they route the case) and every camt.060 account owner (wallets belong to banks)."""
    if isinstance(command, CancellationRequest):
        yield command.assignment.assigner
        yield command.assignment.assignee
    elif isinstance(command, AccountReportingRequest):
        for request in command.requests:
            yield request.account_owner


def _bic_path(agent: Agent) -> str:
    return f"{agent.path}/FinInstnId/BICFI"


def _sender(command: Command, header: BusinessHeader | None, context: RuleContext) -> tuple[str | None, str]:
    """Who sent the message and where that is said: AppHdr/Fr; for a bare Document, the authenticated participant,
    else the bank the Document names as its sender (GrpHdr/InstgAgt; camt.056 Assgnmt/Assgnr; camt.060
    GrpHdr/MsgSndr; a camt.050 names none). None when no one is named, with the path where the sender belongs."""
    if header is not None:
        return header.from_bic, f"{header.path}/Fr/FIId/FinInstnId/BICFI"
    if context.authenticated_bic is not None:
        return context.authenticated_bic, ""
    named: Agent | None
    if isinstance(command, CancellationRequest):
        named, where = command.assignment.assigner.agent, command.assignment.assigner.path
    elif isinstance(command, AccountReportingRequest):
        sender = command.message_sender
        named, where = (None, f"{command.path}/MsgSndr") if sender is None else (sender.agent, sender.path)
    elif isinstance(command, LiquidityTransfer):
        named, where = None, f"{_body_path(command.path)}/MsgHdr"
    else:
        named, where = command.group.instructing_agent, f"{command.group.path}/InstgAgt"
    if named is None:
        return None, where
    return named.bic, _bic_path(named)


def _identified_sender(command: Command, header: BusinessHeader | None, context: RuleContext) -> str | None:
    """The sender's canonical BIC; None when none is named or it is no BIC (other rules answer for that)."""
    sender, _ = _sender(command, header, context)
    return None if sender is None or not is_bic(sender) else canonical_bic(sender)


def wallet_code_of(account: Account) -> str | None:
    """A wallet's ledger code with its owner's BIC in canonical form; None unless the account is named as a wallet
    with an Id of the form <BIC>/<wallet name>."""
    if account.role is not AccountRole.WALLET:
        return None
    assert account.identification is not None, "a wallet is named by Id/Othr/Id"
    match = _wallet_code_pattern.fullmatch(account.identification)
    if match is None or not is_bic(match["bic"]):
        return None
    return f"{canonical_bic(match['bic'])}/{match['name']}"


def _wallet_owner(code: str) -> str:
    return code.partition("/")[0]


def _account_id_path(account: Account) -> str:
    return f"{account.path}/Id/Othr/Id" if account.identification is not None else f"{account.path}/Id/IBAN"


# --------------------------------------------------------------------------------------------------------------
# Usage-guideline rules
# --------------------------------------------------------------------------------------------------------------


def rub_only(command: Command, header: BusinessHeader | None) -> list[Rejection]:
    """Every amount the gateway settles, every group total of them, every original amount a cancellation quotes
    and every floor limit of a report request is in roubles (AM03)."""
    amounts = [(item.amount, item.amount_path) for item in _settled(command)]
    group = _group(command)
    if isinstance(group, TransferGroupHeader) and group.total_amount is not None:
        amounts.insert(0, (group.total_amount, f"{group.path}/TtlIntrBkSttlmAmt"))
    if isinstance(group, ReturnGroupHeader) and group.total_returned_amount is not None:
        amounts.insert(0, (group.total_returned_amount, f"{group.path}/TtlRtrdIntrBkSttlmAmt"))
    if isinstance(command, CancellationRequest):
        amounts += [
            (tx.original_amount, f"{tx.path}/OrgnlIntrBkSttlmAmt")
            for tx in command.transactions
            if tx.original_amount is not None
        ]
    if isinstance(command, AccountReportingRequest):
        amounts += [
            (limit.amount, f"{limit.path}/Amt")
            for request in command.requests
            if request.transaction_type is not None
            for limit in request.transaction_type.floor_limits
        ]
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
    """Every transaction carries its UETR (a liquidity transfer in LqdtyTrfId), or the original's (returns, status
    requests, cancellations) (CH21): the gateway's idempotency and every later reference to the transaction rest
    on it."""
    missing: list[str] = []
    if isinstance(command, CreditTransfer | FinancialInstitutionTransfer):
        missing = [f"{tx.path}/PmtId/UETR" for tx in command.transactions if tx.uetr is None]
    elif isinstance(command, PaymentReturn | CancellationRequest):
        missing = [f"{tx.path}/OrgnlUETR" for tx in command.transactions if tx.original_uetr is None]
    elif isinstance(command, StatusRequest):
        missing = [f"{request.path}/OrgnlUETR" for request in command.transactions if request.original_uetr is None]
    elif isinstance(command, LiquidityTransfer) and command.uetr is None:
        missing = [f"{command.path}/LqdtyTrfId/UETR"]
    return [_usage(required_element_missing, path, "the UETR is required") for path in missing]


def bicfi_required(command: Command, header: BusinessHeader | None) -> list[Rejection]:
    """The sender (AppHdr/Fr) and every agent are identified by a BICFI (RC02, or RC03/RC04 for the debtor and
    creditor agents): wallets are keyed by BIC, a clearing code or a name alone routes nowhere. A camt.056 assigner
    and assignee and a camt.060 account owner are agents (Agt), not parties (Pty) (RC02)."""
    rejections = []
    if header is not None and header.from_bic is None:
        rejections.append(
            _usage(invalid_bank_identifier, f"{header.path}/Fr", "the sender must be named by FIId/BICFI")
        )
    for party in _parties_that_are_banks(command):
        if party.agent is None:
            text = "a bank is expected here: Agt with FinInstnId/BICFI, not Pty"
            rejections.append(_usage(invalid_bank_identifier, party.path, text))
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
    """A message holds at least one transaction (a status request: one original message or transaction; a
    cancellation request: one TxInf in every Undrlyg) (CH21) and at most bounds.transactions_per_message_max, or for a
    camt.060 at most bounds.reporting_requests_per_message_max report requests (AM18). A camt.050 holds one, always."""
    if isinstance(command, LiquidityTransfer):
        return []
    if isinstance(command, AccountReportingRequest):  # the schema requires one RptgReq
        paths = [request.path for request in command.requests]
        most, what = bounds.reporting_requests_per_message_max, "report requests (RptgReq)"
    elif isinstance(command, CancellationRequest):
        missing = [underlying for underlying in command.underlyings if not underlying.transactions]
        if missing:
            text = "the gateway cancels transaction by transaction: name each one in a TxInf"
            return [_usage(required_element_missing, f"{underlying.path}/TxInf", text) for underlying in missing]
        paths, most, what = [tx.path for tx in command.transactions], bounds.transactions_per_message_max, "transactions"
    else:
        if isinstance(command, StatusRequest):
            if command.original_groups or command.transactions:
                return []
            text = "name at least one original message or transaction"
            return [_usage(required_element_missing, f"{_body_path(command.group.path)}/TxInf", text)]
        transactions = _settled(command)
        if not transactions:  # pacs.004 allows none in the standard; the gateway returns transaction by transaction
            text = "a return names each transaction it returns"
            return [_usage(required_element_missing, f"{_body_path(command.group.path)}/TxInf", text)]
        if len(transactions) <= bounds.transactions_per_message_max:
            return []
        paths, most, what = [item.path for item in transactions], bounds.transactions_per_message_max, "transactions"
    if len(paths) <= most:
        return []
    text = f"{len(paths)} {what}; at most {most} are accepted in one message"
    return [_usage(invalid_number_of_transactions, paths[most], text)]


def account_currency_rub(command: Command, header: BusinessHeader | None) -> list[Rejection]:
    """An account named with its currency (Ccy) in a liquidity transfer or a report request is a rouble account
    (AC09): the RTGS accounts and wallets the gateway knows hold roubles only."""
    accounts: list[Account | None] = []
    if isinstance(command, LiquidityTransfer):
        accounts = [command.credit_account, command.debit_account]  # in message order
    elif isinstance(command, AccountReportingRequest):
        accounts = [request.account for request in command.requests]
    return [
        _usage(invalid_account_currency, f"{account.path}/Ccy", f"currency {excerpt(currency)} is not {currency_code}")
        for account in accounts
        if account is not None and (currency := account.currency) is not None and currency != currency_code
    ]


# Cancellation requests (camt.056) ------------------------------------------------------------------------------


def cancellation_reason_required(command: Command, header: BusinessHeader | None) -> list[Rejection]:
    """Every cancellation gives a coded reason, an ExternalCancellationReason1Code (a duplicate payment, fraud, a
    technical problem, the customer's request ...), its own or its original group's (CH21). A proprietary reason
    alone is not enough."""
    if not isinstance(command, CancellationRequest):
        return []
    rejections = []
    for underlying in command.underlyings:
        group = underlying.original_group
        if group is not None and any(reason.code for reason in group.reasons):
            continue
        rejections += [
            _usage(required_element_missing, f"{tx.path}/CxlRsnInf", "a cancellation needs CxlRsnInf/Rsn/Cd")
            for tx in underlying.transactions
            if not any(reason.code for reason in tx.reasons)
        ]
    return rejections


def cancellation_per_transaction(command: Command, header: BusinessHeader | None) -> list[Rejection]:
    """A request cancels transactions one by one, each named in a TxInf: cancelling a whole original message
    (OrgnlGrpInfAndCxl/GrpCxl true) is not offered (AG03)."""
    if not isinstance(command, CancellationRequest):
        return []
    return [
        _usage(
            transaction_not_supported,
            f"{underlying.original_group.path}/GrpCxl",
            "a whole message is not cancelled at once: name each of its transactions in a TxInf",
        )
        for underlying in command.underlyings
        if underlying.original_group is not None and underlying.original_group.group_cancellation is True
    ]


def cancelled_message_settled_by_gateway(command: Command, header: BusinessHeader | None) -> list[Rejection]:
    """Every original message a cancellation names (OrgnlGrpInfAndCxl/OrgnlMsgNmId, TxInf/OrgnlGrpInf/
    OrgnlMsgNmId) is a kind the gateway settles: pacs.008.001.08, pacs.009.001.08 or pacs.004.001.09 (CH16)."""
    if not isinstance(command, CancellationRequest):
        return []
    named: list[tuple[str, str]] = []
    for underlying in command.underlyings:
        group = underlying.original_group
        if group is not None:
            named.append((group.original_message.message_name_id, f"{group.path}/OrgnlMsgNmId"))
        named += [
            (tx.original_message.message_name_id, f"{tx.path}/OrgnlGrpInf/OrgnlMsgNmId")
            for tx in underlying.transactions
            if tx.original_message is not None
        ]
    allowed = ", ".join(sorted(cancellable_message_names))
    return [
        _usage(element_content_incorrect, path, f"{excerpt(name)} is not a message the gateway settles ({allowed})")
        for name, path in named
        if name not in cancellable_message_names
    ]


# Liquidity transfers (camt.050) --------------------------------------------------------------------------------


def liquidity_accounts_named(command: Command, header: BusinessHeader | None) -> list[Rejection]:
    """A liquidity transfer names both accounts, one the RTGS account (Id/Othr/Id without SchmeNm) and the other a
    wallet (Id/Othr/Id <BIC>/<wallet name>, SchmeNm/Prtry CRUB-WALLET): RTGS to wallet mints, wallet to RTGS
    burns. AC02 for a debit account, AC03 for a credit account, that is missing or named otherwise; AC14 when both
    are of one kind, which converts nothing."""
    if not isinstance(command, LiquidityTransfer):
        return []
    rejections = []
    for account, name, code in (  # in message order: CdtrAcct comes first
        (command.credit_account, "CdtrAcct", invalid_creditor_account_number),
        (command.debit_account, "DbtrAcct", invalid_debtor_account_number),
    ):
        if account is None:
            text = "a liquidity transfer names both its accounts: the RTGS account and the wallet"
            rejections.append(_usage(code, f"{command.path}/{name}", text))
        elif account.role is None:
            text = f"name an RTGS account by Id/Othr/Id alone, a wallet by Id/Othr/Id and SchmeNm/Prtry {wallet_scheme}"
            rejections.append(_usage(code, _account_id_path(account), text))
        elif account.role is AccountRole.WALLET and wallet_code_of(account) is None:
            text = f"wallet {excerpt(account.identification or '')} is not named <BIC>/<wallet name>"
            rejections.append(_usage(code, _account_id_path(account), text))
    if rejections or command.direction is not None:
        return rejections
    assert command.credit_account is not None and command.credit_account.role is not None
    kind = "wallets" if command.credit_account.role is AccountRole.WALLET else "RTGS accounts"
    text = f"both accounts are {kind}: a liquidity transfer goes from the RTGS account to a wallet or back"
    return [_usage(invalid_creditor_account_type, command.credit_account.path, text)]


# Account reporting requests (camt.060) -------------------------------------------------------------------------


def reported_message_supported(command: Command, header: BusinessHeader | None) -> list[Rejection]:
    """Every report asked for (ReqdMsgNmId) is a camt.052.001.08 intraday report or a camt.053.001.08 statement
    (AG03)."""
    if not isinstance(command, AccountReportingRequest):
        return []
    allowed = " or ".join(sorted(reportable_message_names))
    return [
        _usage(
            transaction_not_supported,
            f"{request.path}/ReqdMsgNmId",
            f"{excerpt(request.requested_message_name_id)} is not a report the gateway sends on request; ask {allowed}",
        )
        for request in command.requests
        if request.requested_message_name_id not in reportable_message_names
    ]


def reported_account_is_wallet(command: Command, header: BusinessHeader | None) -> list[Rejection]:
    """An account reported on, when named (Acct), is a wallet: Id/Othr/Id <BIC>/<wallet name> with SchmeNm/Prtry
    CRUB-WALLET (AC01). Without Acct, every wallet of the owner is reported on. RTGS accounts are reported by the
    central bank's RTGS, not by the gateway."""
    if not isinstance(command, AccountReportingRequest):
        return []
    return [
        _usage(
            incorrect_account_number,
            _account_id_path(request.account),
            f"the gateway reports on wallets only, named <BIC>/<wallet name> with SchmeNm/Prtry {wallet_scheme}",
        )
        for request in command.requests
        if request.account is not None and wallet_code_of(request.account) is None
    ]


def reporting_period_required(command: Command, header: BusinessHeader | None) -> list[Rejection]:
    """Every report request names its period (RptgPrd) (CH21): the gateway reports over dates."""
    if not isinstance(command, AccountReportingRequest):
        return []
    return [
        _usage(required_element_missing, f"{request.path}/RptgPrd", "name the days to report on in RptgPrd/FrToDt")
        for request in command.requests
        if request.period is None
    ]


def reporting_sequence_not_admitted(command: Command, header: BusinessHeader | None) -> list[Rejection]:
    """No report request names report sequence numbers (RptgSeq) (CH17): the gateway reports by period only."""
    if not isinstance(command, AccountReportingRequest):
        return []
    return [
        _usage(element_not_admitted, f"{request.path}/RptgSeq", "report sequences are not offered; use RptgPrd")
        for request in command.requests
        if request.sequence_range_present
    ]


def reporting_period_sane(command: Command, header: BusinessHeader | None) -> list[Rejection]:
    """A reporting period ends no earlier than it starts: ToDt not before FrDt, and when FrDt and ToDt are one day,
    ToTm not before FrTm; FrTm and ToTm are both given with a UTC offset or both without (DT01)."""
    if not isinstance(command, AccountReportingRequest):
        return []
    rejections = []
    for request in command.requests:
        period = request.period
        if period is None:
            continue
        if period.to_date is not None and period.to_date < period.from_date:
            text = f"the period ends on {period.to_date}, before it starts on {period.from_date}"
            rejections.append(_usage(invalid_date, f"{period.path}/FrToDt/ToDt", text))
            continue
        if period.from_time is None or period.to_time is None:
            continue
        if (period.from_time.utcoffset() is None) != (period.to_time.utcoffset() is None):
            text = "FrTm and ToTm are both given with a UTC offset, or both without"
            rejections.append(_usage(invalid_date, f"{period.path}/FrToTm", text))
        elif period.to_date == period.from_date and period.to_time < period.from_time:
            text = f"on one day, the period ends at {period.to_time} before it starts at {period.from_time}"
            rejections.append(_usage(invalid_date, f"{period.path}/FrToTm/ToTm", text))
    return rejections


def reporting_query_type_supported(command: Command, header: BusinessHeader | None) -> list[Rejection]:
    """Every reporting period asks for everything in it (RptgPrd/Tp ALLL) (AG03)."""
    if not isinstance(command, AccountReportingRequest):
        return []
    return [
        _usage(
            transaction_not_supported,
            f"{request.period.path}/Tp",
            f"query type {excerpt(request.period.query_type)} is not offered; use ALLL",
        )
        for request in command.requests
        if request.period is not None and request.period.query_type not in reporting_query_types
    ]


def requested_selection_supported(command: Command, header: BusinessHeader | None) -> list[Rejection]:
    """A report's selection asks for what the gateway reports (AG03): ReqdTxTp/Sts BOOK (postings) or PDNG (the
    holds of pending conversions, in a camt.052), not a proprietary status; ReqdBalTp the balance types that report
    carries: OPBD, ITBD and ITAV in a camt.052, OPBD and CLBD in a camt.053, each by its code."""
    if not isinstance(command, AccountReportingRequest):
        return []
    rejections = []
    for request in command.requests:
        balance_types = reported_balance_types.get(request.requested_message_name_id, frozenset())
        kind = request.transaction_type
        if kind is not None and (kind.status_proprietary is not None or kind.status_code not in (None, *entry_statuses)):
            status = kind.status_code or kind.status_proprietary or ""
            text = f"entry status {excerpt(status)} is not reported; ask BOOK or PDNG"
            rejections.append(_usage(transaction_not_supported, f"{kind.path}/Sts", text))
        for asked in request.balance_types:
            if asked.code is None or asked.code not in balance_types:
                shown = asked.code or asked.proprietary or ""
                allowed = ", ".join(sorted(balance_types))
                text = f"balance type {excerpt(shown)} is not in a {request.requested_message_name_id}; ask {allowed}"
                rejections.append(_usage(transaction_not_supported, f"{asked.path}/CdOrPrtry", text))
    return rejections


usage_guideline_rules: tuple[UsageGuidelineRule, ...] = (
    transactions_present_and_bounded,
    rub_only,
    settlement_method_supported,
    uetr_required,
    bicfi_required,
    settlement_date_required,
    return_reason_required,
    account_currency_rub,
    cancellation_reason_required,
    cancellation_per_transaction,
    cancelled_message_settled_by_gateway,
    liquidity_accounts_named,
    reported_message_supported,
    reported_account_is_wallet,
    reporting_period_required,
    reporting_sequence_not_admitted,
    reporting_period_sane,
    reporting_query_type_supported,
    requested_selection_supported,
)


# --------------------------------------------------------------------------------------------------------------
# Business rules
# --------------------------------------------------------------------------------------------------------------


def number_of_transactions_matches(
    command: Command, header: BusinessHeader | None, context: RuleContext
) -> list[Rejection]:
    """GrpHdr/NbOfTxs (a cancellation request's CtrlData/NbOfTxs) is the number of transactions in the message
    (AM19)."""
    if isinstance(command, CancellationRequest):
        stated, count = command.number_of_transactions, len(command.transactions)
        if stated is None or stated == count:
            return []
        text = f"NbOfTxs is {stated} but the message holds {count} transactions"
        return [_business(invalid_group_number_of_transactions, f"{command.path}/CtrlData/NbOfTxs", text)]
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
    amounts; a cancellation request's CtrlData/CtrlSum, the sum of the original amounts it quotes (AM16)."""
    if isinstance(command, CancellationRequest):
        stated = command.control_sum_kopecks
        quoted = sum(tx.original_amount.kopecks for tx in command.transactions if tx.original_amount is not None)
        if stated is None or stated == quoted:
            return []
        text = f"states {_roubles(stated)} but the original amounts sum to {_roubles(quoted)}"
        return [_business(invalid_group_control_sum, f"{command.path}/CtrlData/CtrlSum", text)]
    group = _group(command)
    if group is None:
        return []
    total = sum([item.amount.kopecks for item in _settled(command)])
    stated: list[tuple[int, str]] = []  # (kopecks, the element stating them)
    if group.control_sum_kopecks is not None:
        stated.append((group.control_sum_kopecks, "CtrlSum"))
    if isinstance(group, TransferGroupHeader) and group.total_amount is not None:
        stated.append((group.total_amount.kopecks, "TtlIntrBkSttlmAmt"))
    if isinstance(group, ReturnGroupHeader) and group.total_returned_amount is not None:
        stated.append((group.total_returned_amount.kopecks, "TtlRtrdIntrBkSttlmAmt"))
    return [
        _business(
            invalid_group_control_sum,
            f"{group.path}/{name}",
            f"states {_roubles(kopecks)} but the amounts sum to {_roubles(total)}",
        )
        for kopecks, name in stated
        if kopecks != total
    ]


def amounts_in_range(command: Command, header: BusinessHeader | None, context: RuleContext) -> list[Rejection]:
    """Every amount settled, and every original amount a cancellation quotes, is positive (AM01 for zero; the XSD
    refuses negatives) and at most bounds.transfer_amount_kopecks_max (AM02): no other was ever settled."""
    amounts = [(item.amount, item.amount_path) for item in _settled(command)]
    if isinstance(command, CancellationRequest):
        amounts += [
            (tx.original_amount, f"{tx.path}/OrgnlIntrBkSttlmAmt")
            for tx in command.transactions
            if tx.original_amount is not None
        ]
    rejections = []
    for amount, path in amounts:
        if 0 < amount.kopecks <= bounds.transfer_amount_kopecks_max:
            continue
        if amount.kopecks == 0:
            rejections.append(_business(zero_amount, path, "the amount is zero"))
        elif amount.kopecks > bounds.transfer_amount_kopecks_max:
            limit = _roubles(bounds.transfer_amount_kopecks_max)
            rejections.append(_business(not_allowed_amount, path, f"the amount exceeds {limit}"))
    return rejections


def settlement_date_in_window(command: Command, header: BusinessHeader | None, context: RuleContext) -> list[Rejection]:
    """Every interbank settlement date stated, group or transaction, is today or up to the context's days ahead
    (later payments are warehoused): DT01 for a past date, DT04 for one beyond the window. A liquidity transfer's
    SttlmDt is today: a conversion runs when it arrives, and none is kept for a later day (DT04)."""
    group = _group(command)
    # (date, where its element is, the element's name): the path is written only for a rejection.
    if isinstance(command, LiquidityTransfer):
        dated = [(command.settlement_date, command.path, "SttlmDt")]
    elif group is not None:
        dated = [(group.settlement_date, group.path, "IntrBkSttlmDt")]
        dated += [(item.settlement_date, item.path, "IntrBkSttlmDt") for item in _settled(command)]
    else:
        return []
    today = context.today
    days_ahead = 0 if isinstance(command, LiquidityTransfer) else context.settlement_days_ahead_max
    last = today + timedelta(days=days_ahead)
    rejections = []
    for value, holder_path, name in dated:
        if value is None or today <= value <= last:
            continue
        path = f"{holder_path}/{name}"
        if value < today:
            rejections.append(_business(invalid_date, path, f"settlement date {value} is before today, {today}"))
        else:
            rejections.append(_business(future_date_not_supported, path, f"settlement date {value} is after {last}"))
    return rejections


def bics_well_formed(command: Command, header: BusinessHeader | None, context: RuleContext) -> list[Rejection]:
    """Every BIC is an ISO 9362 BIC as participants are registered: 4 letters, 2 letters, 2 and optionally 3
    letters or digits (RC01). The XSD also lets digits into the first four."""
    views = _views(command)
    rejections = []
    if header is not None:
        for bic, role in ((header.from_bic, "Fr"), (header.to_bic, "To")):
            if bic and not views.is_bic(bic):
                path = f"{header.path}/{role}/FIId/FinInstnId/BICFI"
                rejections.append(_business(bank_identifier_incorrect, path, _not_registrable(bic)))
    for agent, _ in views.agents:
        bic = agent.bic
        if bic is not None and not views.is_bic(bic):
            rejections.append(_business(bank_identifier_incorrect, _bic_path(agent), _not_registrable(bic)))
    return rejections


def _not_registrable(bic: str) -> str:
    return f"{excerpt(bic)} is not a BIC the gateway registers"


def agents_registered(command: Command, header: BusinessHeader | None, context: RuleContext) -> list[Rejection]:
    """The debtor and creditor agents are registered and active (DNOR/CNOR when unknown, AG10/AG11 when
    suspended); any other agent named is registered (RC02). A liquidity transfer without Dbtr has the sender for
    its debtor."""
    views = _views(command)
    rejections = []
    if isinstance(command, LiquidityTransfer) and command.debtor is None:
        sender, sender_path = _sender(command, header, context)
        if sender is not None and is_bic(sender):
            rejections += _registered(context, sender, sender_path, debtor_bank_not_registered, agent_suspended)
    paying = {item.debtor_agent.path for item in views.settled if item.debtor_agent is not None}
    paid = {item.creditor_agent.path for item in views.settled if item.creditor_agent is not None}
    standing: dict[str, tuple[bool, bool]] = {}  # BIC -> (known, suspended): a message names few banks, often
    for agent, _ in views.agents:
        bic = agent.bic
        if bic is None or not views.is_bic(bic):
            continue  # the usage guideline or bics_well_formed has answered for it
        verdict = standing.get(bic)
        if verdict is None:
            verdict = standing[bic] = (context.is_known(bic), context.is_suspended(bic))
        known, suspended = verdict
        if agent.path in paying:
            unknown_code, suspended_code = debtor_bank_not_registered, agent_suspended
        elif agent.path in paid:
            unknown_code, suspended_code = creditor_bank_not_registered, creditor_agent_suspended
        else:
            if not known:
                rejections.append(_business(invalid_bank_identifier, _bic_path(agent), f"{bic} is not a participant"))
            continue
        if not known:
            rejections.append(_business(unknown_code, _bic_path(agent), f"{bic} is not a participant"))
        elif suspended:
            rejections.append(_business(suspended_code, _bic_path(agent), f"participant {bic} is suspended"))
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
    the authenticated participant, else the bank the Document names (GrpHdr/InstgAgt, camt.056 Assgnmt/Assgnr,
    camt.060 GrpHdr/MsgSndr; a camt.050 names none, so a bare one needs an authenticated sender)."""
    sender, sender_path = _sender(command, header, context)
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
    sender_canonical = canonical_bic(sender)
    return [
        _business(
            transaction_forbidden, _bic_path(item.debtor_agent), f"{sender} may not debit {item.debtor_agent.bic}"
        )
        for item in settled
        if item.debtor_agent is not None
        and item.debtor_agent.bic is not None
        and canonical_bic(item.debtor_agent.bic) != sender_canonical
    ]


def references_unique(command: Command, header: BusinessHeader | None, context: RuleContext) -> list[Rejection]:
    """Within one message, no two transactions share an InstrId (DU05), TxId or UETR (DU03); no two returns share
    a RtrId or return the same original UETR, no two cancellations share a CxlId or cancel the same original UETR,
    no two report requests share an Id (DU03). EndToEndId is the debtor customers' reference: two customers may
    give the same one, and NOTPROVIDED is a legal value, so it may repeat."""
    references: list[tuple[str, str, str, Iterable[tuple[Hashable, str]]]] = []
    if isinstance(command, CreditTransfer | FinancialInstitutionTransfer):
        transactions = command.transactions
        if len(transactions) > 1:  # a single transaction shares its references with no other
            references = [
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
    elif isinstance(command, CancellationRequest):
        cancellations = command.transactions
        references = [
            (duplicate_transaction, "CxlId", "CxlId", [(tx.cancellation_id, tx.path) for tx in cancellations]),
            (duplicate_transaction, "OrgnlUETR", "OrgnlUETR", [(tx.original_uetr, tx.path) for tx in cancellations]),
        ]
    elif isinstance(command, AccountReportingRequest):
        requests = command.requests
        references = [(duplicate_transaction, "Id", "Id", [(request.request_id, request.path) for request in requests])]
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


def sender_is_assigner(command: Command, header: BusinessHeader | None, context: RuleContext) -> list[Rejection]:
    """A bank asks to cancel only what it sent: the cancellation's assigner (Assgnmt/Assgnr, and each TxInf/Assgnr
    given) is the sender (AG01). That the sender was the original's debtor agent is checked against the payment
    itself, when the gateway finds it."""
    if not isinstance(command, CancellationRequest):
        return []
    sender = _identified_sender(command, header, context)
    if sender is None:
        _, sender_path = _sender(command, header, context)
        return [_business(transaction_forbidden, sender_path, "the sender is not identified, so it may cancel nothing")]
    assigners = [command.assignment.assigner.agent, *(tx.assigner for tx in command.transactions)]
    return [
        _business(transaction_forbidden, _bic_path(agent), f"{sender} may not act as assigner {agent.bic}")
        for agent in assigners
        # An assigner without a BICFI, or with a malformed one, is refused by bicfi_required or bics_well_formed.
        if agent is not None and agent.bic is not None and is_bic(agent.bic) and canonical_bic(agent.bic) != sender
    ]


def liquidity_accounts_owned_by_sender(
    command: Command, header: BusinessHeader | None, context: RuleContext
) -> list[Rejection]:
    """A liquidity transfer moves roubles between the sender's own registered accounts: its RTGS account and one of
    its wallets, and credits no other bank (Cdtr) (AG01 for another participant's account or bank; AC02 for a debit
    account, AC03 for a credit account, that is not registered)."""
    if not isinstance(command, LiquidityTransfer):
        return []
    sender = _identified_sender(command, header, context)
    if sender is None:
        return []  # sender_is_debtor refuses the transfer: nothing may be debited for no one
    rejections = []
    creditor = command.creditor
    credited = None if creditor is None or creditor.bic is None or not is_bic(creditor.bic) else creditor.bic
    if creditor is not None and credited is not None and canonical_bic(credited) != sender:
        text = f"{sender} may not convert roubles for {credited}: a liquidity transfer stays within one bank"
        rejections.append(_business(transaction_forbidden, _bic_path(creditor), text))
    for account, code in (  # in message order: CdtrAcct comes first
        (command.credit_account, invalid_creditor_account_number),
        (command.debit_account, invalid_debtor_account_number),
    ):
        if account is not None:
            rejections += _owned_account(account, code, sender, context)
    return rejections


def _owned_account(account: Account, unknown_code: str, sender: str, context: RuleContext) -> list[Rejection]:
    path = _account_id_path(account)
    if account.role is AccountRole.WALLET:
        code = wallet_code_of(account)
        if code is None:
            return []  # the usage guideline refused its name
        if _wallet_owner(code) != sender:
            return [_business(transaction_forbidden, path, f"wallet {code} is not one of {sender}'s")]
        if code not in context.wallets:
            return [_business(unknown_code, path, f"no wallet {code} is registered")]
        return []
    number = account.identification
    if account.role is not AccountRole.RTGS or number is None:
        return []  # the usage guideline refused its name
    if context.rtgs_accounts.get(sender) == number:
        return []
    owners = sorted(bic for bic, registered in context.rtgs_accounts.items() if registered == number)
    if owners:
        return [_business(transaction_forbidden, path, f"RTGS account {number} is {owners[0]}'s, not {sender}'s")]
    return [_business(unknown_code, path, f"{excerpt(number)} is not the RTGS account registered for {sender}")]


def reports_asked_by_owner(command: Command, header: BusinessHeader | None, context: RuleContext) -> list[Rejection]:
    """A bank asks for reports on its own wallets only: the message sender named (GrpHdr/MsgSndr), every account
    owner and the owner of every wallet named are the sender (AG01), and every wallet named is registered (AC01)."""
    if not isinstance(command, AccountReportingRequest):
        return []
    sender = _identified_sender(command, header, context)
    if sender is None:
        _, sender_path = _sender(command, header, context)
        text = "the sender is not identified, so no account may be reported on"
        return [_business(transaction_forbidden, sender_path, text)]
    named = [] if command.message_sender is None else [command.message_sender.agent]
    named += [request.account_owner.agent for request in command.requests]
    rejections = [
        _business(transaction_forbidden, _bic_path(agent), f"{sender} may not ask for the reports of {agent.bic}")
        for agent in named
        if agent is not None and agent.bic is not None and is_bic(agent.bic) and canonical_bic(agent.bic) != sender
    ]
    for request in command.requests:
        account = request.account
        code = None if account is None else wallet_code_of(account)
        if account is None or code is None:
            continue
        if _wallet_owner(code) != sender:
            text = f"wallet {code} is not one of {sender}'s"
            rejections.append(_business(transaction_forbidden, _account_id_path(account), text))
        elif code not in context.wallets:
            text = f"no wallet {code} is registered"
            rejections.append(_business(incorrect_account_number, _account_id_path(account), text))
    return rejections


def reporting_period_reportable(
    command: Command, header: BusinessHeader | None, context: RuleContext
) -> list[Rejection]:
    """A reporting period lies in the past or today (DT04 for a date after today), spans at most
    bounds.reporting_period_days_max days up to its end or today (DT01), and a statement (camt.053) covers closed
    business days only, before today (DT01)."""
    if not isinstance(command, AccountReportingRequest):
        return []
    rejections = []
    for request in command.requests:
        period = request.period
        if period is None:
            continue
        dates_path = f"{period.path}/FrToDt"
        late = [
            (value, f"{dates_path}/{name}")
            for value, name in ((period.from_date, "FrDt"), (period.to_date, "ToDt"))
            if value is not None and value > context.today
        ]
        rejections += [
            _business(future_date_not_supported, path, f"{value} is after today, {context.today}")
            for value, path in late
        ]
        if late:
            continue
        last = context.today if period.to_date is None else period.to_date
        days = (last - period.from_date).days + 1
        if days > bounds.reporting_period_days_max:
            text = f"the period spans {days} days; at most {bounds.reporting_period_days_max} are reported at once"
            rejections.append(_business(invalid_date, dates_path, text))
        statement = request.requested_message_name_id == "camt.053.001.08"
        if statement and period.to_date is None and period.from_date == context.today:
            text = "a statement covers closed business days, before today; ask camt.052.001.08 for today"
            rejections.append(_business(invalid_date, f"{dates_path}/FrDt", text))
        elif statement and period.to_date == context.today:
            text = "a statement covers closed business days, before today; ask camt.052.001.08 for today"
            rejections.append(_business(invalid_date, f"{dates_path}/ToDt", text))
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
    sender_is_assigner,
    liquidity_accounts_owned_by_sender,
    reports_asked_by_owner,
    reporting_period_reportable,
)


def _roubles(kopecks: int) -> str:
    return f"{text_from_kopecks(kopecks)} {currency_code}"
