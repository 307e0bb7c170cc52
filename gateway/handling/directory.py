"""Who is who, as of one read of the registry: participants, their status and the wallet each settles on.

Read from the database (where operators' suspensions and additions live), not from the config, and refreshed every
few seconds: a stale snapshot can only be wrong about a suspension for that long, and the ledger itself refuses a
suspended account's transfers in any case.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType

from gateway import bounds
from gateway.domain.ledger import Account, AccountKind, AccountStatus
from gateway.ledger.ports import Participant
from gateway.messages.rules import RuleContext
from gateway.registry import account_code

# The wallet payments settle on when a participant has several: "main" if it has one, else its first.
settlement_wallet_name = "main"


@dataclass(frozen=True, slots=True)
class Directory:
    central_bank_bic: str
    participants: dict[str, Participant]  # by canonical BIC, the central bank included
    settlement_wallets: dict[str, int]  # canonical BIC -> account id of the wallet payments settle on
    settlement_wallet_codes: dict[str, str]  # canonical BIC -> that wallet's code, <BIC>/<name>
    wallet_codes: frozenset[str]  # every wallet's ledger code, <BIC>/<name>
    wallet_ids: dict[str, int]  # every wallet's account id by its code
    settlement_days_ahead_max: int
    # Rule contexts by (business date, authenticated BIC): built once, as checking one costs a pass over every
    # participant, which would otherwise be paid by every message.
    _contexts: dict[tuple[date, str | None], RuleContext] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def build(
        cls,
        central_bank_bic: str,
        participants: list[Participant],
        accounts: list[Account],
        settlement_days_ahead_max: int,
    ) -> Directory:
        wallets: dict[str, int] = {}
        codes: dict[str, str] = {}
        for account in sorted(accounts, key=lambda a: a.id):
            if account.kind is not AccountKind.WALLET:
                continue
            preferred = account.code == account_code(account.owner_bic, settlement_wallet_name)
            if preferred or account.owner_bic not in wallets:
                wallets[account.owner_bic] = account.id
                codes[account.owner_bic] = account.code
        wallet_ids = {a.code: a.id for a in accounts if a.kind is AccountKind.WALLET}
        return cls(
            central_bank_bic, {p.bic: p for p in participants}, wallets, codes, frozenset(wallet_ids), wallet_ids,
            settlement_days_ahead_max,
        )

    def rule_context(self, today: date, authenticated_bic: str | None) -> RuleContext:
        key = (today, authenticated_bic)
        context = self._contexts.get(key)
        if context is None:
            banks = [p for p in self.participants.values() if p.bic != self.central_bank_bic]
            context = RuleContext(
                today=today,
                central_bank_bic=self.central_bank_bic,
                participants=frozenset(p.bic for p in banks if p.status is AccountStatus.ACTIVE),
                suspended_participants=frozenset(p.bic for p in banks if p.status is AccountStatus.SUSPENDED),
                settlement_days_ahead_max=self.settlement_days_ahead_max,
                authenticated_bic=authenticated_bic,
                rtgs_accounts=MappingProxyType({p.bic: p.rtgs_account for p in banks}),
                wallets=self.wallet_codes,
            )
            if len(self._contexts) > bounds.rule_contexts_cached_max:
                self._contexts.clear()
            self._contexts[key] = context
        return context

    def is_known(self, bic: str) -> bool:
        return bic in self.participants

    def is_bank(self, bic: str) -> bool:
        """A registered participant other than the central bank."""
        return bic in self.participants and bic != self.central_bank_bic
