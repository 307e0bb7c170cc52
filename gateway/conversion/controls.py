"""The central bank's emission controls: the emission cap (total cryptorouble supply) and each bank's daily
conversion limit (both directions together, per Moscow business day). The HTTP admin routes and the CLI both act
through this service; every change is recorded with who made it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gateway.conversion.ports import ControlChange, ControlsStore
from gateway.domain.ledger import AccountKind
from gateway.ledger.ports import LedgerStore, RegistryStore


class NotARegisteredBank(Exception):
    """Daily limits are set for registered banks, never for the central bank itself."""


@dataclass(frozen=True, slots=True)
class EmissionOverview:
    emission_cap_kopecks: int
    supply_kopecks: int
    pending_mints_kopecks: int
    daily_limits_kopecks: dict[str, int]  # by bank BIC; a bank without one converts without a daily limit
    changes: tuple[ControlChange, ...]  # newest first


class EmissionControls:
    def __init__(
        self, controls: ControlsStore, ledger: LedgerStore, registry: RegistryStore, central_bank_bic: str,
        clock_us: Callable[[], int],
    ) -> None:
        self._controls = controls
        self._ledger = ledger
        self._registry = registry
        self.central_bank_bic = central_bank_bic
        self._clock_us = clock_us

    async def overview(self, changes_max: int) -> EmissionOverview:
        head = await self._ledger.head()
        issuance = next(a for a in await self._ledger.accounts() if a.kind is AccountKind.ISSUANCE)
        return EmissionOverview(
            emission_cap_kopecks=head.emission_cap_kopecks,
            supply_kopecks=-issuance.posted_kopecks,
            pending_mints_kopecks=issuance.debits_pending_kopecks,
            daily_limits_kopecks=dict(sorted((await self._controls.daily_limits()).items())),
            changes=tuple(await self._controls.changes(changes_max)),
        )

    async def set_emission_cap(self, cap_kopecks: int, set_by: str) -> int:
        """Returns the previous cap. Raises CapBelowIssued when what is issued or pending exceeds the new cap."""
        assert cap_kopecks > 0, "callers refuse a cap that is not positive"
        return await self._controls.set_emission_cap(cap_kopecks, set_by, self._clock_us())

    async def set_daily_limit(self, bank_bic: str, daily_kopecks: int | None, set_by: str) -> int | None:
        """Returns the previous limit (None: there was none). Raises NotARegisteredBank."""
        assert daily_kopecks is None or daily_kopecks > 0, "callers refuse a limit that is not positive"
        if bank_bic == self.central_bank_bic or bank_bic not in {p.bic for p in await self._registry.participants()}:
            raise NotARegisteredBank(f"{bank_bic} is not a registered bank")
        return await self._controls.set_daily_limit(bank_bic, daily_kopecks, set_by, self._clock_us())
