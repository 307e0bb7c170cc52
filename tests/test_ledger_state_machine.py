"""Any mix of batches, replays, suspensions and expiries settles as a plain dict model predicts, invariants intact."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import uuid
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from gateway.config import load_config
from gateway.domain.ledger import (
    AccountStatus,
    Phase,
    TransferKind,
    TransferRequest,
    TransferResult,
)
from gateway.ledger.batcher import AutoBatcher
from gateway.ledger.signing import load_public_key
from gateway.ledger.verify import verify_ledger
from tests.conftest import (
    BANKS,
    LedgerUnderTest,
    create_pg_database,
    drop_pg_database,
    open_ledger,
    require_postgres,
    write_config,
)

R = TransferResult
K = TransferKind

# What the test config promises (tests/conftest.py write_config), restated here so the model owes nothing to the core.
BANK_BICS = tuple(bic for bic, *_ in BANKS)
WALLET_CODES = tuple(f"{bic}/{wallet}" for bic in BANK_BICS for wallet in ("main", "clients"))
EMISSION_CAP = 1_000_000_000_00
SBER_TRANSFER_MAX = 1_000_000_00
ALFA_BALANCE_MAX = 5_000_000_00
AMOUNT_MAX = 10**17
REFERENCE_CHARS_MAX = 140
PENDING_TIMEOUT_DEFAULT_S = 300
PENDING_TIMEOUT_MAX_S = 24 * 3600
START_US = 1_900_000_000_000_000
UNKNOWN_ACCOUNT = 987_654

ISSUANCE, WALLET, RESERVE = "issuance", "wallet", "reserve"
RESOLUTIONS = (Phase.POST_PENDING, Phase.VOID_PENDING)
ALLOWED_KINDS = {
    (WALLET, WALLET): {K.PAYMENT, K.RETURN, K.ADJUSTMENT},
    (ISSUANCE, WALLET): {K.MINT},
    (WALLET, ISSUANCE): {K.BURN},
}


@dataclass
class ModelAccount:
    id: int
    code: str
    kind: str
    owner: str
    transfer_max: int | None
    balance_max: int | None
    posted: int = 0
    debits_pending: int = 0
    credits_pending: int = 0


@dataclass
class ModelPending:
    debit: int
    credit: int
    amount: int
    kind: TransferKind
    expires_at_us: int
    status: str  # "pending", "posted", "voided"


@dataclass(frozen=True)
class Stored:
    request: TransferRequest
    timeout_seconds: int  # as stored: the default filled in for a pending transfer


class Model:
    """The ledger as the module docstring of gateway.domain.ledger describes it, one request at a time."""

    def __init__(self, accounts: dict[int, ModelAccount]) -> None:
        self.accounts = accounts
        self.issuance = next(a for a in accounts.values() if a.kind == ISSUANCE)
        self.reserve = next(a for a in accounts.values() if a.kind == RESERVE)
        self.suspended: set[str] = set()
        self.stored: dict[uuid.UUID, Stored] = {}
        self.pending: dict[uuid.UUID, ModelPending] = {}
        self.transfer_count = 0

    @property
    def supply(self) -> int:
        return -self.issuance.posted

    def headroom(self) -> int:
        """How much more may be minted (counting pending mints) before the cap."""
        return EMISSION_CAP - self.supply - self.issuance.debits_pending

    def apply(self, request: TransferRequest, now_us: int) -> TransferResult:
        earlier = self.stored.get(request.id)
        if earlier is not None:
            return R.EXISTS if same_content(earlier, request) else R.ID_CONFLICT
        result, timeout_seconds = self._settle(request, now_us)
        if result is R.OK:
            self.stored[request.id] = Stored(request, timeout_seconds)
            self.transfer_count += 1
        return result

    def void(self, pending_id: uuid.UUID) -> None:
        """A void issued by the expiry sweeper (its transfer id is the ledger's own)."""
        pending = self.pending[pending_id]
        assert pending.status == "pending"
        self._release(pending)
        pending.status = "voided"
        self.transfer_count += 1

    def _settle(self, r: TransferRequest, now_us: int) -> tuple[TransferResult, int]:
        if len(r.reference) > REFERENCE_CHARS_MAX:
            return R.REFERENCE_TOO_LONG, 0
        if r.phase in RESOLUTIONS:
            return self._resolve(r, now_us), 0
        if r.pending_id is not None:
            return R.PENDING_FIELDS_MUST_BE_EMPTY, 0
        if type(r.amount_kopecks) is not int:
            return R.AMOUNT_NOT_WHOLE_KOPECKS, 0
        if r.amount_kopecks <= 0:
            return R.AMOUNT_MUST_BE_POSITIVE, 0
        if r.amount_kopecks > AMOUNT_MAX:
            return R.AMOUNT_TOO_LARGE, 0
        if r.debit_account_id == r.credit_account_id:
            return R.ACCOUNTS_MUST_DIFFER, 0
        if r.phase is Phase.SINGLE and r.timeout_seconds != 0:
            return R.TIMEOUT_OUT_OF_RANGE, 0
        if r.phase is Phase.PENDING and not 0 <= r.timeout_seconds <= PENDING_TIMEOUT_MAX_S:
            return R.TIMEOUT_OUT_OF_RANGE, 0
        debit, credit = self.accounts.get(r.debit_account_id), self.accounts.get(r.credit_account_id)
        if debit is None:
            return R.DEBIT_ACCOUNT_NOT_FOUND, 0
        if credit is None:
            return R.CREDIT_ACCOUNT_NOT_FOUND, 0
        if r.kind not in ALLOWED_KINDS.get((debit.kind, credit.kind), set()):
            return R.KIND_NOT_ALLOWED_FOR_ACCOUNTS, 0
        if debit.owner in self.suspended:
            return R.DEBIT_ACCOUNT_SUSPENDED, 0
        if credit.owner in self.suspended:
            return R.CREDIT_ACCOUNT_SUSPENDED, 0
        amount = r.amount_kopecks
        if r.kind is K.MINT:
            if amount > self.headroom():
                return R.EMISSION_CAP_EXCEEDED, 0
        else:
            if debit.transfer_max is not None and amount > debit.transfer_max:
                return R.TRANSFER_ABOVE_LIMIT, 0
            if debit.posted - debit.debits_pending < amount:
                return R.INSUFFICIENT_FUNDS, 0
        if credit.balance_max is not None and credit.posted + credit.credits_pending + amount > credit.balance_max:
            return R.BALANCE_ABOVE_LIMIT, 0
        if r.phase is Phase.SINGLE:
            self._post(debit.id, credit.id, amount, r.kind)
            return R.OK, 0
        timeout_seconds = r.timeout_seconds or PENDING_TIMEOUT_DEFAULT_S
        debit.debits_pending += amount
        credit.credits_pending += amount
        self.pending[r.id] = ModelPending(
            debit.id, credit.id, amount, r.kind, now_us + timeout_seconds * 1_000_000, "pending"
        )
        return R.OK, timeout_seconds

    def _resolve(self, r: TransferRequest, now_us: int) -> TransferResult:
        if r.debit_account_id or r.credit_account_id or r.amount_kopecks or r.timeout_seconds:
            return R.PENDING_FIELDS_MUST_BE_EMPTY
        pending = self.pending.get(r.pending_id) if r.pending_id is not None else None
        if pending is None:
            return R.PENDING_NOT_FOUND
        if pending.status == "posted":
            return R.PENDING_ALREADY_POSTED
        if pending.status == "voided":
            return R.PENDING_ALREADY_VOIDED
        if r.phase is Phase.POST_PENDING and now_us >= pending.expires_at_us:
            return R.PENDING_EXPIRED
        # A suspended bank's wallets cannot move money (`gateway participants suspend`); releasing a hold moves none.
        if r.phase is Phase.POST_PENDING and self.accounts[pending.debit].owner in self.suspended:
            return R.DEBIT_ACCOUNT_SUSPENDED
        if r.phase is Phase.POST_PENDING and self.accounts[pending.credit].owner in self.suspended:
            return R.CREDIT_ACCOUNT_SUSPENDED
        self._release(pending)
        if r.phase is Phase.POST_PENDING:
            self._post(pending.debit, pending.credit, pending.amount, pending.kind)
            pending.status = "posted"
        else:
            pending.status = "voided"
        return R.OK

    def _release(self, pending: ModelPending) -> None:
        self.accounts[pending.debit].debits_pending -= pending.amount
        self.accounts[pending.credit].credits_pending -= pending.amount

    def _post(self, debit: int, credit: int, amount: int, kind: TransferKind) -> None:
        self.accounts[debit].posted -= amount
        self.accounts[credit].posted += amount
        if kind is K.MINT:
            self.reserve.posted += amount
        elif kind is K.BURN:
            self.reserve.posted -= amount


def same_content(earlier: Stored, r: TransferRequest) -> bool:
    """The idempotency contract: the same id with the same content is EXISTS. A resolution's kind is ignored (it
    comes from the pending transfer), and a pending transfer's replay may leave the timeout 0 (the default)."""
    s = earlier.request
    common = (
        r.phase is s.phase
        and r.pending_id == s.pending_id
        and r.reference == s.reference
        and r.uetr == s.uetr
        and type(r.amount_kopecks) is int  # 100.0 == 100 in Python, but a float is never the same request
    )
    if s.phase in RESOLUTIONS:
        fields_empty = (r.debit_account_id, r.credit_account_id, r.amount_kopecks, r.timeout_seconds) == (0, 0, 0, 0)
        return common and fields_empty
    return (
        common
        and (r.debit_account_id, r.credit_account_id, r.amount_kopecks, r.kind)
        == (s.debit_account_id, s.credit_account_id, s.amount_kopecks, s.kind)
        and (r.timeout_seconds == earlier.timeout_seconds or (r.phase is Phase.PENDING and r.timeout_seconds == 0))
    )


class LedgerMachine(RuleBasedStateMachine):
    """Drives the real Ledger on a fresh database per example; subclasses say which database."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.directory = Path(tempfile.mkdtemp(prefix="ledger-sm-"))
        self.now_us = START_US
        self.database_url = self.make_database()
        self.config = load_config(write_config(self.directory, self.database_url))
        self.under_test = self.run(open_ledger(self.config, clock_us=lambda: self.now_us))
        self.ledger = self.under_test.ledger
        self.store = self.under_test.store
        self.model = Model(self._model_accounts())
        self.history: list[TransferRequest] = []  # every request sent, for replays
        self.next_id = 1

    # --- plumbing ------------------------------------------------------------------------------------------------

    def make_database(self) -> str:
        raise NotImplementedError

    def drop_database(self) -> None:
        pass

    def run(self, awaitable):  # type: ignore[no-untyped-def]
        return self.loop.run_until_complete(awaitable)

    def _model_accounts(self) -> dict[int, ModelAccount]:
        accounts = {}
        for code, account in self.under_test.accounts.items():
            owner, _, name = code.partition("/")
            kind = {"issuance": ISSUANCE, "reserve": RESERVE}.get(name, WALLET)
            transfer_max = SBER_TRANSFER_MAX if owner == "SABRRUMMXXX" else None
            balance_max = ALFA_BALANCE_MAX if owner == "ALFARUMMXXX" else None
            # The database must hold what the config promised; from here on the model keeps its own books.
            assert (account.kind.value, account.owner_bic) == (kind, owner), code
            assert (account.transfer_max_kopecks, account.balance_max_kopecks) == (transfer_max, balance_max), code
            accounts[account.id] = ModelAccount(account.id, code, kind, owner, transfer_max, balance_max)
        assert sorted(a.code for a in accounts.values() if a.kind == WALLET) == sorted(WALLET_CODES)
        return accounts

    def teardown(self) -> None:
        try:
            if getattr(self, "store", None) is not None:
                try:
                    public_key = load_public_key(self.config.central_bank.signing_key_file)
                    report = self.run(verify_ledger(self.store, public_key))
                    assert report.ok, report.breaks
                finally:
                    self.run(self.store.close())
                    close = getattr(self.ledger, "close", None)
                    if close is not None:
                        close()
        finally:
            self.loop.close()
            self.drop_database()
            shutil.rmtree(self.directory, ignore_errors=True)

    def new_id(self) -> uuid.UUID:
        self.next_id += 1
        return uuid.UUID(int=self.next_id)

    def id_of(self, code: str) -> int:
        return self.under_test.id_of(code)

    # --- drawing requests ----------------------------------------------------------------------------------------

    def request(self, debit: int, credit: int, amount: object, kind: TransferKind, **fields: object) -> TransferRequest:
        return TransferRequest(
            id=self.new_id(),
            debit_account_id=debit,
            credit_account_id=credit,
            amount_kopecks=amount,  # type: ignore[arg-type]
            kind=kind,
            reference=fields.pop("reference", "SABRRUMMXXX:MSG-SM"),  # type: ignore[arg-type]
            uetr=fields.pop("uetr", None) or uuid.UUID(int=self.next_id << 64),  # type: ignore[arg-type]
            **fields,  # type: ignore[arg-type]
        )

    def resolution(self, phase: Phase, pending_id: uuid.UUID | None, **fields: object) -> TransferRequest:
        return TransferRequest(
            id=self.new_id(),
            debit_account_id=fields.pop("debit", 0),  # type: ignore[arg-type]
            credit_account_id=0,
            amount_kopecks=fields.pop("amount", 0),  # type: ignore[arg-type]
            kind=K.PAYMENT,
            reference="CBRFRUMMXXX:RESOLVE",
            phase=phase,
            pending_id=pending_id,
        )

    def available(self, account_id: int) -> int:
        account = self.model.accounts[account_id]
        return account.posted - account.debits_pending

    def draw_amount(self, data: st.DataObject, debit_id: int) -> int:
        """Mostly amounts the debit account can afford, sometimes just past its funds or the Sberbank limit."""
        available = self.available(debit_id)
        return data.draw(
            st.one_of(
                st.integers(1, max(1, available)),
                st.integers(1, max(1, available // 10)),
                st.sampled_from([available, available + 1, SBER_TRANSFER_MAX, SBER_TRANSFER_MAX + 1]).filter(
                    lambda a: a > 0
                ),
            ),
            label="amount",
        )

    def draw_mint_amount(self, data: st.DataObject, credit_id: int) -> int:
        credit = self.model.accounts[credit_id]
        headroom = self.model.headroom()
        room = headroom if credit.balance_max is None else credit.balance_max - credit.posted - credit.credits_pending
        # Edges: the ceiling and the cap exactly, one kopeck past them, and the most that would fit if pending
        # credits did not count towards the ceiling.
        edges = [room, room + 1, room + credit.credits_pending, headroom, headroom + 1]
        return data.draw(
            st.one_of(
                *[st.integers(1, 10_000_000_00)] * 4,
                st.integers(100_000_000_00, 400_000_000_00),  # large enough to reach the cap in a few
                *[st.sampled_from(edges).filter(lambda a: a > 0)] * 2,
            ),
            label="mint amount",
        )

    def draw_request(self, data: st.DataObject, batch: list[TransferRequest]) -> TransferRequest:
        what = data.draw(
            st.sampled_from(
                ["mint"] * 3 + ["burn"] + ["wallet"] * 4 + ["pending"] * 3 + ["post"] * 3 + ["void"]
                + ["invalid"] * 2 + ["replay_same", "replay_different"]
            ),
            label="what",
        )  # fmt: skip
        earlier = self.history + batch
        if what.startswith("replay") and earlier:
            original = data.draw(st.sampled_from(earlier), label="replayed")
            if what == "replay_same":
                return self.same_again(data, original)
            return self.changed(data, original)
        if what in ("post", "void"):
            return self.draw_resolution(data, Phase.POST_PENDING if what == "post" else Phase.VOID_PENDING, batch)
        if what == "invalid":
            return self.draw_invalid(data)
        phase = Phase.PENDING if what == "pending" else Phase.SINGLE
        timeout = (
            data.draw(st.sampled_from([0, 1, 1, 5, 5, 30, PENDING_TIMEOUT_MAX_S]), label="timeout")
            if phase is Phase.PENDING
            else 0
        )
        shape = (
            what
            if what != "pending"
            else data.draw(st.sampled_from(["mint", "mint", "burn", "wallet", "wallet"]), label="pending shape")
        )
        if shape == "mint":
            credit = self.id_of(data.draw(st.sampled_from(WALLET_CODES), label="credit"))
            amount = self.draw_mint_amount(data, credit)
            return self.request(self.under_test.issuance, credit, amount, K.MINT, phase=phase, timeout_seconds=timeout,
                                reference="CBRFRUMMXXX:MINT")  # fmt: skip
        if shape == "burn":
            debit = self.id_of(data.draw(st.sampled_from(WALLET_CODES), label="debit"))
            amount = self.draw_amount(data, debit)
            return self.request(debit, self.under_test.issuance, amount, K.BURN, phase=phase, timeout_seconds=timeout)
        debit_code, credit_code = data.draw(st.permutations(WALLET_CODES), label="wallets")[:2]
        debit, credit = self.id_of(debit_code), self.id_of(credit_code)
        kind = data.draw(st.sampled_from([K.PAYMENT, K.RETURN, K.ADJUSTMENT]), label="kind")
        return self.request(debit, credit, self.draw_amount(data, debit), kind, phase=phase, timeout_seconds=timeout)

    def draw_resolution(self, data: st.DataObject, phase: Phase, batch: list[TransferRequest]) -> TransferRequest:
        live = [pid for pid, p in self.model.pending.items() if p.status == "pending"]
        in_batch = [r.id for r in batch if r.phase is Phase.PENDING]
        singles = [r.id for r in self.history if r.phase is Phase.SINGLE]
        choices = [st.just(uuid.UUID(int=(1 << 127) | self.next_id))]  # never used as an id
        if live:
            choices += [st.sampled_from(live)] * 4
        frozen = [pid for pid in live if self.touches_suspended(self.model.pending[pid])]
        if frozen:
            choices += [st.sampled_from(frozen)] * 4  # holds of a bank suspended since: voidable, not postable
        if in_batch:
            choices += [st.sampled_from(in_batch)] * 2
        if self.model.pending:
            choices.append(st.sampled_from(list(self.model.pending)))  # perhaps already posted or voided
        if singles:
            choices.append(st.sampled_from(singles))  # a transfer that is not a pending one
        return self.resolution(phase, data.draw(st.one_of(choices), label="pending id"))

    def touches_suspended(self, pending: ModelPending) -> bool:
        owners = {self.model.accounts[pending.debit].owner, self.model.accounts[pending.credit].owner}
        return bool(owners & self.model.suspended)

    def draw_invalid(self, data: st.DataObject) -> TransferRequest:
        sber, vtb = self.id_of("SABRRUMMXXX/main"), self.id_of("VTBRRUMMXXX/main")
        alfa_wallets = (self.id_of("ALFARUMMXXX/main"), self.id_of("ALFARUMMXXX/clients"))
        issuance, reserve = self.under_test.issuance, self.under_test.reserve
        defect = data.draw(
            st.sampled_from(
                ["not_positive", "same_account", "unknown_debit", "unknown_credit", "kind", "transfer_limit",
                 "balance_limit", "cap", "too_large", "not_whole", "timeout", "reference", "pending_fields",
                 "resolution_fields", "resolution_without_id"]
            ),
            label="defect",
        )  # fmt: skip
        if defect == "not_positive":
            return self.request(vtb, sber, data.draw(st.integers(-(10**12), 0)), K.PAYMENT)
        if defect == "same_account":
            return self.request(vtb, vtb, 1_00, K.PAYMENT)
        if defect == "unknown_debit":
            return self.request(UNKNOWN_ACCOUNT, vtb, 1_00, K.PAYMENT)
        if defect == "unknown_credit":
            return self.request(vtb, UNKNOWN_ACCOUNT, 1_00, K.PAYMENT)
        if defect == "kind":
            debit, credit, kind = data.draw(
                st.sampled_from(
                    [(vtb, sber, K.MINT), (vtb, sber, K.BURN), (issuance, vtb, K.PAYMENT), (vtb, issuance, K.PAYMENT),
                     (vtb, issuance, K.MINT), (issuance, vtb, K.BURN), (reserve, vtb, K.MINT), (vtb, reserve, K.BURN),
                     (issuance, reserve, K.MINT), (reserve, issuance, K.BURN), (issuance, vtb, K.ADJUSTMENT)]
                ),
                label="route",
            )  # fmt: skip
            return self.request(debit, credit, 1_00, kind)
        if defect == "transfer_limit":
            kind = data.draw(st.sampled_from([K.PAYMENT, K.RETURN, K.ADJUSTMENT]))
            return self.request(sber, vtb, SBER_TRANSFER_MAX + data.draw(st.integers(1, 10**9)), kind)
        if defect == "balance_limit":
            # Just past the ceiling, which counts credits still pending: aim at the Alfa wallet with the most of them.
            account = max((self.model.accounts[a] for a in alfa_wallets), key=lambda a: a.credits_pending)
            amount = max(1, ALFA_BALANCE_MAX - account.posted - account.credits_pending + 1)
            phase = data.draw(st.sampled_from([Phase.SINGLE, Phase.PENDING]), label="phase")
            return self.request(issuance, account.id, amount, K.MINT, phase=phase, reference="CBRFRUMMXXX:MINT")
        if defect == "cap":
            return self.request(issuance, vtb, max(1, self.model.headroom() + 1), K.MINT, reference="CBRFRUMMXXX:MINT")
        if defect == "too_large":
            return self.request(issuance, vtb, AMOUNT_MAX + 1, K.MINT, reference="CBRFRUMMXXX:MINT")
        if defect == "not_whole":
            return self.request(vtb, sber, data.draw(st.sampled_from([1.0, Decimal("1.00"), True])), K.PAYMENT)
        if defect == "timeout":
            phase, timeout = data.draw(st.sampled_from([(Phase.SINGLE, 5), (Phase.PENDING, -1),
                                                        (Phase.PENDING, PENDING_TIMEOUT_MAX_S + 1)]))  # fmt: skip
            return self.request(vtb, sber, 1_00, K.PAYMENT, phase=phase, timeout_seconds=timeout)
        if defect == "reference":
            return self.request(vtb, sber, 1_00, K.PAYMENT, reference="X" * (REFERENCE_CHARS_MAX + 1))
        if defect == "pending_fields":
            return self.request(vtb, sber, 1_00, K.PAYMENT, pending_id=self.new_id())
        if defect == "resolution_fields":
            target = data.draw(st.sampled_from(list(self.model.pending) or [self.new_id()]))
            field = data.draw(st.sampled_from(["debit", "amount"]))
            return self.resolution(Phase.POST_PENDING, target, **{field: 1})
        return self.resolution(data.draw(st.sampled_from(RESOLUTIONS)), None)

    def same_again(self, data: st.DataObject, original: TransferRequest) -> TransferRequest:
        """A replay with the same content, in each form the contract accepts as the same."""
        forms = ["as_is"]
        if original.phase is Phase.PENDING:
            forms.append("default_timeout")
        if original.phase in RESOLUTIONS:
            forms.append("other_kind")
        form = data.draw(st.sampled_from(forms), label="same form")
        if form == "default_timeout":
            return replace(original, timeout_seconds=0)
        if form == "other_kind":
            return replace(original, kind=K.ADJUSTMENT)
        return replace(original)

    def changed(self, data: st.DataObject, original: TransferRequest) -> TransferRequest:
        """The same id with different content."""
        if original.phase in RESOLUTIONS:
            changes = ["reference", "uetr", "pending_id", "phase", "timeout"]
        else:
            changes = ["reference", "uetr", "amount", "kind", "swap", "phase", "timeout", "float_amount"]
        change = data.draw(st.sampled_from(changes), label="change")
        if change == "timeout":  # 7 s is never asked for otherwise, so it differs from any stored timeout
            return replace(original, timeout_seconds=7)
        if change == "float_amount":
            amount = original.amount_kopecks
            return replace(original, amount_kopecks=float(amount) if type(amount) is int else amount)  # type: ignore[arg-type]
        if change == "reference":
            return replace(original, reference=original.reference[:100] + "-AGAIN")
        if change == "uetr":
            return replace(original, uetr=uuid.UUID(int=(3 << 125) | self.next_id))
        if change == "pending_id":
            return replace(original, pending_id=uuid.UUID(int=(1 << 127) | self.next_id))
        if change == "phase" and original.phase in RESOLUTIONS:
            other = Phase.VOID_PENDING if original.phase is Phase.POST_PENDING else Phase.POST_PENDING
            return replace(original, phase=other)
        if change == "phase":
            other = Phase.PENDING if original.phase is Phase.SINGLE else Phase.SINGLE
            return replace(original, phase=other, timeout_seconds=0)
        if change == "amount":
            amount = original.amount_kopecks
            return replace(original, amount_kopecks=amount + 1 if type(amount) is int else 1)
        if change == "kind":
            return replace(original, kind=K.RETURN if original.kind is not K.RETURN else K.PAYMENT)
        return replace(
            original, debit_account_id=original.credit_account_id, credit_account_id=original.debit_account_id
        )

    # --- rules -------------------------------------------------------------------------------------------------------

    @initialize(amounts=st.lists(st.integers(1, 3_000_000_00), min_size=len(WALLET_CODES), max_size=len(WALLET_CODES)))
    def fund_wallets(self, amounts: list[int]) -> None:
        """Every example starts with money in every wallet, so that payments and pending transfers can succeed."""
        mints = [
            self.request(self.under_test.issuance, self.id_of(code), amount, K.MINT, reference="CBRFRUMMXXX:MINT")
            for code, amount in zip(WALLET_CODES, amounts, strict=True)
        ]
        assert [self.model.apply(r, self.now_us) for r in mints] == [R.OK] * len(mints)
        assert self.run(self.ledger.apply(mints)) == [R.OK] * len(mints)
        self.history.extend(mints)

    @rule(data=st.data())
    def apply_batch(self, data: st.DataObject) -> None:
        batch: list[TransferRequest] = []
        for _ in range(data.draw(st.integers(1, 20), label="batch size")):
            batch.append(self.draw_request(data, batch))
        # One Ledger.apply, or concurrent submitters sharing the auto-batcher (each submission in order, split over
        # batches when larger than one): either way the results are those of the requests one by one, in order.
        expected = [self.model.apply(r, self.now_us) for r in batch]
        self.history.extend(batch)
        if data.draw(st.booleans(), label="through the batcher"):
            cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(batch) - 1)), max_size=4), label="cuts"))
            parts = [batch[a:b] for a, b in zip([0, *cuts], [*cuts, len(batch)]) if batch[a:b]]
            actual = self.run(self._through_batcher(parts, data.draw(st.integers(1, 8), label="batch max")))
        else:
            actual = self.run(self.ledger.apply(batch))
        assert actual == expected, [(r.phase.value, r.kind.value, a, e) for r, a, e in zip(batch, actual, expected)]
        for result in expected:
            event(f"result: {result.value}")  # pytest --hypothesis-show-statistics shows what was exercised

    async def _through_batcher(self, parts: list[list[TransferRequest]], batch_max: int) -> list[TransferResult]:
        batcher = AutoBatcher(self.ledger, batch_max, 0, 10_000)
        await batcher.start()
        try:
            # Tasks start in creation order, so the submissions are queued in the order of `parts`.
            results = await asyncio.gather(*(batcher.submit(part) for part in parts))
        finally:
            await batcher.stop()
        return [x for part in results for x in part]

    @precondition(lambda self: self.model.stored)
    @rule(data=st.data())
    def replay_stored(self, data: st.DataObject) -> None:
        """Replays of stored transfers alone: each is EXISTS or ID_CONFLICT, and the ledger does not move."""
        stored = [s.request for s in self.model.stored.values()]
        replays, expected = [], []
        for _ in range(data.draw(st.integers(1, 6), label="replays")):
            original = data.draw(st.sampled_from(stored), label="replayed")
            same = data.draw(st.booleans(), label="same")
            replays.append(self.same_again(data, original) if same else self.changed(data, original))
            expected.append(R.EXISTS if same else R.ID_CONFLICT)
        head_before, accounts_before = self.run(self.store.head()), self.run(self.store.accounts())
        assert [self.model.apply(r, self.now_us) for r in replays] == expected
        assert self.run(self.ledger.apply(replays)) == expected
        assert self.run(self.store.head()) == head_before
        assert self.run(self.store.accounts()) == accounts_before

    @rule(data=st.data())
    def set_participant_status(self, data: st.DataObject) -> None:
        if self.model.suspended and data.draw(st.sampled_from([True, True, False]), label="resume one suspended"):
            bic, suspend = data.draw(st.sampled_from(sorted(self.model.suspended)), label="bic"), False
        else:
            # The central bank cannot be suspended. Banks holding live pending transfers are the interesting ones.
            holders = [self.model.accounts[p.debit].owner for p in self.model.pending.values() if p.status == "pending"]
            holders = [bic for bic in holders if bic in BANK_BICS]
            bic = data.draw(st.sampled_from(BANK_BICS + tuple(holders[:3]) * 2), label="bic")
            suspend = data.draw(st.booleans(), label="suspend")
        status = AccountStatus.SUSPENDED if suspend else AccountStatus.ACTIVE
        assert self.run(self.store.set_participant_status(bic, status))
        if suspend:
            self.model.suspended.add(bic)
        else:
            self.model.suspended.discard(bic)

    @rule(data=st.data())
    def advance_clock(self, data: st.DataObject) -> None:
        """Time passes, sometimes exactly to the next expiry; the sweeper, if it runs, voids the oldest expired
        pending transfers, at most `limit`."""
        upcoming = [p.expires_at_us for p in self.model.pending.values() if p.status == "pending"]
        next_expiry_us = min((t for t in upcoming if t > self.now_us), default=None)
        if next_expiry_us is not None and data.draw(st.booleans(), label="to the next expiry"):
            self.now_us = next_expiry_us
        else:
            seconds = data.draw(st.sampled_from([1, 1, 4, 5, 6, 29, 31, 299, 301, 3600, PENDING_TIMEOUT_MAX_S]))
            self.now_us += seconds * 1_000_000
        if not data.draw(st.sampled_from([True, False, False]), label="sweep"):
            return
        limit = data.draw(st.integers(1, 4), label="limit")
        expired = sorted(
            (p.expires_at_us, pid) for pid, p in self.model.pending.items()
            if p.status == "pending" and p.expires_at_us <= self.now_us
        )  # fmt: skip
        voided = self.run(self.ledger.void_expired(limit))
        event(f"swept: {voided} of {len(expired)} expired")
        assert voided == min(limit, len(expired))
        if not voided:
            return
        cut_us = expired[voided - 1][0]
        surely = [pid for expires_at_us, pid in expired if expires_at_us < cut_us]
        tied = [pid for expires_at_us, pid in expired if expires_at_us == cut_us]
        # Pending transfers expiring at the same microsecond may be swept in any order: ask which were.
        statuses = {p.id: p.status.value for p in self.run(self.store.pending_transfers())}
        tied_voided = [pid for pid in tied if statuses[pid] == "voided"]
        assert len(surely) + len(tied_voided) == voided
        for pid in surely + tied_voided:
            self.model.void(pid)

    # --- invariants ----------------------------------------------------------------------------------------------

    @invariant()
    def ledger_matches_model_and_invariants_hold(self) -> None:
        accounts = {a.id: a for a in self.run(self.store.accounts())}
        issuance = accounts[self.under_test.issuance]
        reserve = accounts[self.under_test.reserve]
        wallets = [a for a in accounts.values() if a.kind.value == WALLET]
        assert issuance.posted_kopecks + sum(w.posted_kopecks for w in wallets) == 0
        assert reserve.posted_kopecks == -issuance.posted_kopecks
        assert -issuance.posted_kopecks + issuance.debits_pending_kopecks <= EMISSION_CAP
        for wallet in wallets:
            assert wallet.posted_kopecks >= 0, wallet
            assert wallet.posted_kopecks - wallet.debits_pending_kopecks >= 0, wallet
        stored = {
            a.id: (a.posted_kopecks, a.debits_pending_kopecks, a.credits_pending_kopecks) for a in accounts.values()
        }
        model = {a.id: (a.posted, a.debits_pending, a.credits_pending) for a in self.model.accounts.values()}
        assert stored == model
        suspended = {a.owner_bic for a in accounts.values() if a.status is AccountStatus.SUSPENDED}
        assert suspended == self.model.suspended
        count = self.run(self.store.transfer_count())
        assert count == self.model.transfer_count
        assert self.run(self.store.head()).seq == count
        pending = {p.id: p.status.value for p in self.run(self.store.pending_transfers())}
        assert pending == {pid: p.status for pid, p in self.model.pending.items()}


class SqliteLedgerMachine(LedgerMachine):
    def make_database(self) -> str:
        return f"sqlite+aiosqlite:///{self.directory / 'ledger.sqlite3'}"


class PostgresLedgerMachine(LedgerMachine):
    def make_database(self) -> str:
        return create_pg_database()

    def drop_database(self) -> None:
        drop_pg_database(self.database_url)


machine_settings = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def test_ledger_matches_the_model_on_sqlite() -> None:
    run_state_machine_as_test(
        SqliteLedgerMachine, settings=settings(machine_settings, max_examples=50, stateful_step_count=25)
    )


@pytest.mark.postgres
def test_ledger_matches_the_model_on_postgres() -> None:
    require_postgres()
    run_state_machine_as_test(
        PostgresLedgerMachine, settings=settings(machine_settings, max_examples=10, stateful_step_count=25)
    )


# --- core bugs the machine found, pinned so that they stay fixed whatever the machine happens to draw --------------


def _transfer(
    debit: int, credit: int, amount: object, kind: TransferKind = K.PAYMENT, **fields: object
) -> TransferRequest:
    return TransferRequest(uuid.uuid4(), debit, credit, amount, kind, "SABRRUMMXXX:MSG-PIN", **fields)  # type: ignore[arg-type]


def _resolve(phase: Phase, pending: TransferRequest) -> TransferRequest:
    return TransferRequest(uuid.uuid4(), 0, 0, 0, K.PAYMENT, "CBRFRUMMXXX:RESOLVE", phase=phase, pending_id=pending.id)


async def test_a_suspended_banks_pending_transfer_cannot_be_posted(ledger: LedgerUnderTest) -> None:
    """A suspended bank's wallets cannot move money, so a hold taken before the suspension can be voided, not posted."""
    sber, vtb = ledger.id_of("SABRRUMMXXX/main"), ledger.id_of("VTBRRUMMXXX/main")
    outgoing = _transfer(sber, vtb, 40_00, phase=Phase.PENDING)
    incoming = _transfer(vtb, sber, 30_00, phase=Phase.PENDING)
    released = _transfer(vtb, sber, 20_00, phase=Phase.PENDING)
    funding = [_transfer(ledger.issuance, account, 100_00, K.MINT) for account in (sber, vtb)]
    assert await ledger.ledger.apply([*funding, outgoing, incoming, released]) == [R.OK] * 5
    assert await ledger.store.set_participant_status("SABRRUMMXXX", AccountStatus.SUSPENDED)
    results = await ledger.ledger.apply(
        [
            _resolve(Phase.POST_PENDING, outgoing),
            _resolve(Phase.POST_PENDING, incoming),
            _resolve(Phase.VOID_PENDING, released),
        ]
    )
    balances = await ledger.balances()
    assert results == [R.DEBIT_ACCOUNT_SUSPENDED, R.CREDIT_ACCOUNT_SUSPENDED, R.OK], (
        f"posted for a suspended bank: results {results}, Sberbank main now {balances['SABRRUMMXXX/main']}"
    )
    assert (balances["SABRRUMMXXX/main"], balances["VTBRRUMMXXX/main"]) == (100_00, 100_00)


async def test_a_replay_the_ledger_would_refuse_as_new_is_not_answered_exists(ledger: LedgerUnderTest) -> None:
    """EXISTS means the same content: a replay that differs in a field the ledger refuses on a new request (a timeout
    on a single or resolving transfer, a non-integer amount) is a conflict or that refusal, never EXISTS."""
    vtb, alfa = ledger.id_of("VTBRRUMMXXX/main"), ledger.id_of("ALFARUMMXXX/main")
    funding = _transfer(ledger.issuance, vtb, 100_00, K.MINT)
    held = _transfer(vtb, alfa, 10_00, phase=Phase.PENDING)
    post = _resolve(Phase.POST_PENDING, held)
    assert await ledger.ledger.apply([funding, held, post]) == [R.OK] * 3
    replays = {
        "single with a timeout": (replace(funding, timeout_seconds=5), R.TIMEOUT_OUT_OF_RANGE),
        "resolution with a timeout": (replace(post, timeout_seconds=5), R.PENDING_FIELDS_MUST_BE_EMPTY),
        "amount as a float": (replace(funding, amount_kopecks=100_00.0), R.AMOUNT_NOT_WHOLE_KOPECKS),  # type: ignore[arg-type]
    }
    results = await ledger.ledger.apply([request for request, _ in replays.values()])
    answered = {what: result for what, result in zip(replays, results, strict=True)}
    wrong = {what: result for what, result in answered.items() if result not in (R.ID_CONFLICT, replays[what][1])}
    assert not wrong, f"replays answered as if identical: {wrong}"
