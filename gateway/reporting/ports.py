"""What account reporting reads from the ledger and the message journal: one wallet's history over a period, as one
consistent snapshot (its balances and the movements between them agree to the kopeck)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol

from gateway.domain.ledger import TransferKind


@dataclass(frozen=True, slots=True)
class WalletMovement:
    """One posted transfer on the wallet (a single-phase transfer, or the post of a pending one), and the payment
    behind it when a message carried it."""

    transfer_id: uuid.UUID
    kind: TransferKind
    signed_kopecks: int  # credit to the wallet positive, debit negative; never zero
    created_at_us: int  # when the ledger posted it
    reference: str  # the transfer's reference on the ledger
    uetr: uuid.UUID | None
    message_reference: str | None  # the BizMsgIdr of the message that carried the payment
    end_to_end_id: str | None
    instruction_id: str | None
    transaction_id: str | None
    debtor_agent_bic: str | None
    creditor_agent_bic: str | None

    def __post_init__(self) -> None:
        assert isinstance(self.signed_kopecks, int) and self.signed_kopecks != 0, self.signed_kopecks


@dataclass(frozen=True, slots=True)
class WalletHold:
    """A pending transfer on the wallet (a conversion under way): reported as a PDNG entry, in no booked balance."""

    transfer_id: uuid.UUID
    kind: TransferKind
    signed_kopecks: int
    created_at_us: int


@dataclass(frozen=True, slots=True)
class WalletHistory:
    """A wallet's posted balance at the start and at the end of a period, and every posted movement in between in
    ledger order. `holds` and `debits_pending_kopecks` are as of the snapshot (now)."""

    opening_kopecks: int
    closing_kopecks: int
    movements: tuple[WalletMovement, ...]
    holds: tuple[WalletHold, ...]
    debits_pending_kopecks: int

    def __post_init__(self) -> None:
        moved = sum(movement.signed_kopecks for movement in self.movements)
        assert self.opening_kopecks + moved == self.closing_kopecks, (self.opening_kopecks, moved, self.closing_kopecks)


class AccountHistory(Protocol):
    async def wallet_history_between(
        self, account_id: int, after_seq: int, through_seq: int, movements_max: int,
        booked_from_us: int | None = None, booked_to_us: int | None = None,
    ) -> WalletHistory | None:
        """The wallet's history over the transfers with after_seq < seq <= through_seq (a business day's), narrowed
        to those booked in [booked_from_us, booked_to_us) when given, read in one snapshot; None when they hold more
        than movements_max movements (the caller refuses such a report rather than build it)."""
        ...
