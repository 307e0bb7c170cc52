"""Conversions between fiat roubles and cryptoroubles: a camt.050 in, the saga across the RTGS and the ledger, a
camt.025 out. The states and their order are in gateway.domain.conversion; this module takes the steps.

Each step is one call to one system, then one database transaction that records what happened: the ledger's
transfers (pending, posted or voided) together with the conversion's new state, the step's claim and, at the end,
the receipt in the bank's mailbox. A crash between the call and the record leaves the state where it was; the next
driver repeats the call with the same id, and the RTGS or the ledger answers it as it did the first time.

Who drives: the request itself, inline, until the conversion is finished or the RTGS stops answering; then the
background resumer (every gateway process runs one), which also picks up whatever a crashed process left. Until
the fiat is committed, a conversion past its deadline unwinds; from the commit on it only goes forward.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from gateway import bounds
from gateway.config import Config
from gateway.conversion.ports import (
    ConversionReads,
    FiatReferences,
    Rtgs,
    RtgsOutcome,
    RtgsUnavailable,
)
from gateway.domain.calendar import instant
from gateway.domain.conversion import (
    ConversionDirection,
    ConversionRecord,
    ConversionState,
    ConversionUpdate,
    ConversionUse,
    conversion_reference,
    leave_key,
    step_id,
)
from gateway.domain.journal import (
    JournalRows,
    MessageStatus,
    PaymentState,
    StoredMessage,
    uetr_key,
)
from gateway.domain.ledger import Phase, TransferKind, TransferRequest, TransferResult
from gateway.domain.money import text_from_kopecks
from gateway.handling.journaling import Journaling, outbound_records
from gateway.handling.received import Received, Reply
from gateway.ledger.ports import JournalConflict
from gateway.messages import answers, codes
from gateway.messages.answers import Outbound, conversion_entry_info
from gateway.messages.commands import (
    BusinessHeader,
    LiquidityDirection,
    LiquidityTransfer,
)
from gateway.messages.intake import reread
from gateway.messages.rejections import Rejection
from gateway.messages.reports import LongPaymentIdentification

log = logging.getLogger(__name__)

camt_050 = "camt.050.001.05"

# Why a conversion was refused, as ISO external status reason codes.
_rtgs_reasons: dict[RtgsOutcome, tuple[str, str]] = {
    RtgsOutcome.INSUFFICIENT_FUNDS: (codes.insufficient_funds, "insufficient fiat roubles available on the RTGS account"),
    RtgsOutcome.UNKNOWN_ACCOUNT: (codes.incorrect_account_number, "the RTGS does not know the account"),
    RtgsOutcome.ACCOUNT_BLOCKED: (codes.blocked_account, "the RTGS account is blocked"),
    RtgsOutcome.HOLD_NOT_FOUND: (codes.narrative, "the RTGS lost the hold on the fiat roubles"),
    RtgsOutcome.HOLD_RELEASED: (codes.narrative, "the RTGS released the hold on the fiat roubles"),
    RtgsOutcome.REQUEST_CONFLICT: (codes.narrative, "the RTGS refused the request as a conflicting repeat"),
}
_ledger_reasons: dict[TransferResult, tuple[str, str]] = {
    TransferResult.INSUFFICIENT_FUNDS: (codes.insufficient_funds, "insufficient cryptoroubles in the wallet"),
    TransferResult.EMISSION_CAP_EXCEEDED: (
        codes.amount_exceeds_clearing_system_limit, "the central bank's emission cap would be exceeded"
    ),
    TransferResult.DEBIT_ACCOUNT_SUSPENDED: (codes.agent_suspended, "the wallet is suspended"),
    TransferResult.CREDIT_ACCOUNT_SUSPENDED: (codes.agent_suspended, "the wallet is suspended"),
    TransferResult.TRANSFER_ABOVE_LIMIT: (codes.not_allowed_amount, "above the wallet's limit for one transfer"),
    TransferResult.BALANCE_ABOVE_LIMIT: (codes.not_allowed_amount, "would take the wallet above its balance limit"),
    TransferResult.AMOUNT_TOO_LARGE: (codes.not_allowed_amount, "above the largest amount the ledger moves"),
}
over_daily_limit = (
    codes.amount_exceeds_agreed_limit, "above the bank's daily conversion limit set by the central bank"
)
timed_out = (
    codes.aborted_settlement_timeout, "the RTGS did not confirm the fiat leg in time: nothing was converted"
)


def _ledger_reason(result: TransferResult) -> tuple[str, str]:
    return _ledger_reasons.get(result, (codes.narrative, f"the ledger refused the conversion: {result.value}"))


@dataclass(slots=True)
class _Step:
    """The BatchAttachment of one step: claims leaving the state it read, checks the daily limit for a new
    conversion, and turns the ledger's results into the step's journal rows."""

    claim: tuple[str, UUID] | None  # (leave key, the inbound message's id)
    uses: tuple[ConversionUse, ...]
    decide: Callable[[Sequence[TransferResult], int], JournalRows]
    message_key: str | None = None  # the inbound message's own idempotency key, when this step journals it
    uetr_key: str | None = None  # the camt.050's UETR, claimed as every UETR is, when this step journals it

    @property
    def claim_keys(self) -> Sequence[str]:
        keys = () if self.claim is None else (self.claim[0],)
        return tuple(key for key in (*keys, self.message_key, self.uetr_key) if key is not None)

    @property
    def expected_payment_states(self) -> Sequence[tuple[UUID, PaymentState]]:
        return ()

    @property
    def conversion_uses(self) -> Sequence[ConversionUse]:
        return self.uses

    def journal(self, results: Sequence[TransferResult], settled_at_us: int) -> JournalRows:
        rows = self.decide(results, settled_at_us)
        if self.claim is None or not rows.conversion_updates:
            return rows  # a step that changed nothing claims nothing: the state may still be left
        return JournalRows(
            messages=rows.messages, mailbox=rows.mailbox, conversions=rows.conversions,
            conversion_updates=rows.conversion_updates, step_claims=(self.claim,),
        )


class Conversions:
    """Runs conversion sagas. Shares the process's auto-batcher with settlement; holds no state that another
    process would need: everything it knows is in the database."""

    def __init__(
        self,
        config: Config,
        journaling: Journaling,
        store: ConversionReads,
        rtgs: Rtgs,
        issuance_account_id: int,
        clock_us: Callable[[], int],
        after_step: Callable[[str], None] | None = None,
    ) -> None:
        self.gateway_bic = config.central_bank.bic
        self._timeout_us = config.rtgs.conversion_timeout_seconds * 1_000_000
        self._pending_timeout_seconds = config.limits.pending_timeout_seconds_max
        self.journaling = journaling
        self._batcher = journaling.batcher
        self._journal = journaling.journal
        self._store = store
        self.rtgs = rtgs
        self._issuance_account_id = issuance_account_id
        self._clock_us = clock_us
        self._calendar = config.business_days.calendar
        self._credit_notified = frozenset(p.bic for p in config.participants if p.credit_notifications)
        self.after_step = after_step or (lambda step: None)
        self._driving: set[UUID] = set()  # conversions this process is driving now: the resumer leaves them be

    # --- a camt.050 arrives --------------------------------------------------------------------------------------

    async def handle(self, message: Received) -> Reply:
        """Accept the conversion (journal, claim, daily limit), drive it as far as it goes now, and answer."""
        command = message.command
        assert isinstance(command, LiquidityTransfer)
        direction = command.direction
        assert direction is not None, "the usage guideline refuses a camt.050 that is neither mint nor burn"
        wallet_account, rtgs_account = (
            (command.credit_account, command.debit_account)
            if direction is LiquidityDirection.MINT
            else (command.debit_account, command.credit_account)
        )
        assert wallet_account is not None and wallet_account.identification is not None
        assert rtgs_account is not None and rtgs_account.identification is not None
        wallet_code = wallet_account.identification
        wallet_ids = message.directory.wallet_ids
        assert wallet_code in wallet_ids, "the business rules refuse a wallet that is not the sender's"
        inbound = self.journaling.inbound(message, MessageStatus.ACCEPTED, claimed=True)
        received_at_us, today = message.received_at_us, message.business_date
        conversion = ConversionRecord(
            id=uuid.uuid4(), message_id=inbound.id, bank_bic=message.sender_bic,
            direction=ConversionDirection(direction.value), rtgs_account=rtgs_account.identification,
            wallet_account_id=wallet_ids[wallet_code], wallet_code=wallet_code,
            amount_kopecks=command.amount.kopecks, business_date=today, state=ConversionState.RECEIVED,
            reason_code=None, reason_text=None, request_message_id=command.message_id,
            transaction_id=command.transaction_id, end_to_end_id=command.end_to_end_id, uetr=command.uetr,
            created_at_us=received_at_us,
            deadline_at_us=received_at_us + self._timeout_us, updated_at_us=received_at_us,
        )
        use = ConversionUse(message.sender_bic, today, conversion.amount_kopecks)
        # A UETR is universally unique: a conversion's is claimed as a payment's is, so that neither reuses it.
        claimed_uetr = None if command.uetr is None else uetr_key(command.uetr)
        accept = _Step(
            None, (use,),
            lambda results, at: JournalRows(
                messages=(inbound,), conversions=(conversion,),
                step_claims=() if claimed_uetr is None else ((claimed_uetr, inbound.id),),
            ),
            inbound.idempotency_key, claimed_uetr,
        )
        try:
            await self._batcher.submit((), accept)
        except JournalConflict:
            replay = await self.journaling.replay(message, self)
            if replay is not None:
                return replay
            # Not a repeat: its UETR was used before, or else the daily limit would be passed.
            if claimed_uetr is not None and await self._journal.taken_claims([claimed_uetr]):
                text = f"UETR {command.uetr} was already used by another payment or conversion"
                return await self._refuse(message, codes.duplicate_payment, text, claimed=True)
            code, text = over_daily_limit
            return await self._refuse(message, code, text, claimed=True)
        self.after_step(f"{conversion.direction.value}.{conversion.state.value}")
        self._driving.add(conversion.id)
        try:
            conversion = await self._drive(conversion)
        finally:
            self._driving.discard(conversion.id)
        if conversion.finished:
            answer = await self._journal.answer_to(inbound.id, message.sender_bic, newest=True)
            assert answer is not None, "a finished conversion's receipt is journaled with its last step"
            outcome = "accepted" if conversion.state is ConversionState.SETTLED else "rejected"
            return Reply(200, answer.payload, outcome, message.message_type)
        pending = self._receipt(conversion, message.header, received_at_us)
        await self._batcher.submit((), _Step(None, (), lambda results, at: JournalRows(
            messages=tuple(outbound_records(self.gateway_bic, [pending], inbound.id, at, mailbox=False)[0])
        )))
        return Reply(200, pending.payload, "pending", message.message_type)

    async def repeat(self, message: Received, first: StoredMessage) -> Reply:
        """A conversion's latest receipt: the final one once it has one."""
        reply = await self.journaling.first_answer(message, first, newest=True)
        if reply is not None:
            return reply
        # The first copy is still being converted (its request has not answered yet): pending, as it is.
        conversion = await self._store.conversion_of_message(first.id)
        assert conversion is not None, "a claimed camt.050 without an answer is a conversion under way"
        receipt = self._receipt(conversion, message.header, message.received_at_us)
        return Reply(200, receipt.payload, "replayed", message.message_type)

    async def refuse(self, message: Received, rejection: Rejection) -> Reply:
        """A camt.050 refused as a whole is answered with a camt.025 RJCT, as every conversion outcome is."""
        return await self._refuse(message, rejection.code, rejection.text, claimed=False)

    async def _refuse(self, message: Received, code: str, text: str, *, claimed: bool) -> Reply:
        """A camt.050 refused before anything moved: the message and its receipt journaled, no conversion. The
        receipt quotes the camt.050's own MsgId and TxId. `claimed`: the message keeps its id, so that a repeat
        gets this same refusal."""
        command = message.command
        assert isinstance(command, LiquidityTransfer)
        receipt = self._camt_025(message.sender_bic, message.header, message.received_at, command.message_id,
                                 command.transaction_id, ("RJCT", text), (code, text))
        rejected = self.journaling.inbound(message, MessageStatus.REJECTED, claimed=claimed, reason_code=code)

        def decide(results: Sequence[TransferResult], at: int) -> JournalRows:
            messages, mailbox = outbound_records(self.gateway_bic, [receipt], rejected.id, at)
            return JournalRows(messages=(rejected, *messages), mailbox=mailbox)

        try:
            await self._batcher.submit((), _Step(None, (), decide, rejected.idempotency_key))
        except JournalConflict:
            # The same message settled its claim in between: answer as a repeat.
            replay = await self.journaling.replay(message, self)
            assert replay is not None
            return replay
        return Reply(200, receipt.payload, "rejected", message.message_type, message.reference, code)

    # --- driving the saga ----------------------------------------------------------------------------------------

    async def resume(self) -> int:
        """Drive every unfinished conversion this process is not already driving (those a crash left, or whose
        RTGS call failed). Returns how many finished."""
        finished = 0
        for conversion in await self._store.unfinished(bounds.conversions_resumed_max):
            if conversion.id in self._driving:
                continue
            self._driving.add(conversion.id)
            try:
                conversion = await self._drive(conversion)
            finally:
                self._driving.discard(conversion.id)
            finished += conversion.finished
        return finished

    async def _drive(self, conversion: ConversionRecord) -> ConversionRecord:
        """Take steps until the conversion is finished, the RTGS does not answer, or a step cannot be taken."""
        while not conversion.finished:
            try:
                taken = await self._step(conversion)
            except RtgsUnavailable as error:
                log.warning("conversion %s waits for the RTGS (%s): %s", conversion.id, conversion.state, error)
                return conversion
            except JournalConflict:
                taken = None  # another driver took this step first: carry on from where it left the conversion
            reloaded = await self._store.conversion(conversion.id)
            assert reloaded is not None
            if taken is False and reloaded.state is conversion.state:
                return reloaded  # stuck: logged by the step, retried by the next resumer pass
            conversion = reloaded
        return conversion

    async def _step(self, c: ConversionRecord) -> bool:
        """One step from c's state. Returns False when it could not move the conversion (and said why)."""
        now_us = self._clock_us()
        mint = c.direction is ConversionDirection.MINT
        state = c.state
        before_commit = state in (ConversionState.RECEIVED, ConversionState.FIAT_HELD)
        if before_commit and now_us > c.deadline_at_us:
            await self._transition(c, ConversionState.UNWINDING, reason=timed_out)
            return True
        if state is ConversionState.RECEIVED and mint:
            outcome = await self.rtgs.reserve(c.id, c.rtgs_account, c.amount_kopecks, _fiat_references(c))
            self.after_step("mint.reserve.returned")
            if outcome is RtgsOutcome.DONE:
                await self._transition(c, ConversionState.FIAT_HELD)
            else:
                await self._transition(c, ConversionState.REJECTED, reason=_rtgs_reason(outcome, c))
            return True
        if state is ConversionState.RECEIVED:  # burn: the cryptoroubles first, pending until the fiat is credited
            await self._ledger_step(c, self._pending(c, TransferKind.BURN), ConversionState.CREDITING,
                                    ConversionState.REJECTED)
            return True
        if state is ConversionState.FIAT_HELD:
            await self._ledger_step(c, self._pending(c, TransferKind.MINT), ConversionState.COMMITTING,
                                    ConversionState.UNWINDING)
            return True
        if state is ConversionState.COMMITTING or state is ConversionState.CREDITING:
            if mint:
                outcome = await self.rtgs.commit(step_id(c.id, "commit"), c.id)
                self.after_step("mint.commit.returned")
            else:
                outcome = await self.rtgs.credit_from_reserve(
                    step_id(c.id, "credit"), c.rtgs_account, c.amount_kopecks, _fiat_references(c)
                )
                self.after_step("burn.credit.returned")
            if outcome is not RtgsOutcome.DONE:
                await self._transition(c, ConversionState.UNWINDING, reason=_rtgs_reason(outcome, c))
                return True
            return await self._post(c)
        assert state is ConversionState.UNWINDING, state
        if mint:
            outcome = await self.rtgs.release(step_id(c.id, "release"), c.id)
            self.after_step("mint.release.returned")
            if outcome is not RtgsOutcome.DONE:
                # Only a committed hold refuses a release, and a conversion whose commit may have happened never
                # unwinds: this is a broken invariant, for an operator, not something to paper over.
                log.critical("conversion %s: the RTGS refused to release hold %s: %s", c.id, c.id, outcome)
                return False
        void = TransferRequest(
            id=step_id(c.id, "void"), debit_account_id=0, credit_account_id=0, amount_kopecks=0,
            kind=TransferKind.MINT if mint else TransferKind.BURN, reference=conversion_reference(c), uetr=c.uetr,
            phase=Phase.VOID_PENDING, pending_id=step_id(c.id, "pending"),
        )
        # Voiding a pending transfer that was never made (refused before it) fails harmlessly: nothing was held.
        await self._submit(c, [void], lambda results: (ConversionState.REJECTED, None))
        return True

    async def _post(self, c: ConversionRecord) -> bool:
        """The fiat leg is done: post the pending transfer. Should the ledger have expired it meanwhile (the RTGS
        was down for longer than the longest pending timeout), the same amount is posted as a single transfer, so
        that supply and reserve still move together."""
        post = TransferRequest(
            id=step_id(c.id, "post"), debit_account_id=0, credit_account_id=0, amount_kopecks=0,
            kind=TransferKind.MINT, reference=conversion_reference(c), uetr=c.uetr, phase=Phase.POST_PENDING,
            pending_id=step_id(c.id, "pending"),
        )
        posted = await self._submit(c, [post], _settled_if_posted)
        if posted:
            return True
        late = self._single(c)
        settled = await self._submit(c, [late], _settled_if_posted)
        if not settled:
            log.critical("conversion %s: the fiat leg is done but the ledger refuses the %s", c.id, c.direction.value)
        return settled

    async def _ledger_step(
        self, c: ConversionRecord, request: TransferRequest, success: ConversionState, failure: ConversionState
    ) -> None:
        def decide(results: Sequence[TransferResult]) -> tuple[ConversionState, tuple[str, str] | None]:
            result = results[0]
            if result is TransferResult.OK or result is TransferResult.EXISTS:
                return success, None
            return failure, _ledger_reason(result)

        await self._submit(c, [request], decide)

    async def _transition(
        self, c: ConversionRecord, new_state: ConversionState, reason: tuple[str, str] | None = None
    ) -> None:
        await self._submit(c, [], lambda results: (new_state, reason))

    async def _submit(
        self,
        c: ConversionRecord,
        requests: list[TransferRequest],
        decide: Callable[[Sequence[TransferResult]], tuple[ConversionState, tuple[str, str] | None] | None],
    ) -> bool:
        """Apply the requests and record the state `decide` picks from their results (None: stay). The receipt
        goes with the step that finishes the conversion. Returns whether the state changed."""
        reached: ConversionState | None = None
        # The final receipt relates to the camt.050 it answers (AppHdr/Rltd), whichever process finishes it.
        request = await self._journal.message(c.message_id)
        assert request is not None, f"conversion {c.id}: its camt.050 is journaled with it"
        request_header, _ = reread(request.payload)

        def rows(results: Sequence[TransferResult], at_us: int) -> JournalRows:
            nonlocal reached
            decided = decide(results)
            if decided is None:
                return JournalRows()
            new_state, reason = decided
            if new_state is ConversionState.REJECTED and reason is None:
                reason = (c.reason_code or codes.narrative, c.reason_text or "the conversion was unwound")
            code, text = reason if reason is not None else (None, None)
            update = ConversionUpdate(c.id, c.state, new_state, code, text, at_us)
            reached = new_state
            if new_state not in (ConversionState.SETTLED, ConversionState.REJECTED):
                return JournalRows(conversion_updates=(update,))
            # The posting that settled it (the post of the pending transfer, or a late single one) is named in the
            # receipt and in a mint's credit notification, as a payment's transfer is in its pacs.002 and camt.054.
            posted = requests[0].id if new_state is ConversionState.SETTLED else None
            outbound = [self._final_receipt(c, new_state, code, text, at_us, request_header, posted)]
            if posted is not None and c.direction is ConversionDirection.MINT and c.bank_bic in self._credit_notified:
                outbound.append(self._credit_notification(c, posted, at_us))
            messages, mailbox = outbound_records(self.gateway_bic, outbound, c.message_id, at_us)
            return JournalRows(messages=tuple(messages), mailbox=mailbox, conversion_updates=(update,))

        await self._batcher.submit(requests, _Step((leave_key(c.id, c.state), c.message_id), (), rows))
        if reached is None:
            return False
        self.after_step(f"{c.direction.value}.{reached.value}")
        return True

    # --- transfers and receipts --------------------------------------------------------------------------------

    def _pending(self, c: ConversionRecord, kind: TransferKind) -> TransferRequest:
        issuance, wallet = self._issuance_account_id, c.wallet_account_id
        debit, credit = (issuance, wallet) if kind is TransferKind.MINT else (wallet, issuance)
        return TransferRequest(
            id=step_id(c.id, "pending"), debit_account_id=debit, credit_account_id=credit,
            amount_kopecks=c.amount_kopecks, kind=kind, reference=conversion_reference(c), uetr=c.uetr, phase=Phase.PENDING,
            timeout_seconds=self._pending_timeout_seconds,
        )

    def _single(self, c: ConversionRecord) -> TransferRequest:
        mint = c.direction is ConversionDirection.MINT
        issuance, wallet = self._issuance_account_id, c.wallet_account_id
        return TransferRequest(
            id=step_id(c.id, "late"), debit_account_id=issuance if mint else wallet,
            credit_account_id=wallet if mint else issuance, amount_kopecks=c.amount_kopecks,
            kind=TransferKind.MINT if mint else TransferKind.BURN, reference=conversion_reference(c), uetr=c.uetr,
        )

    def _receipt(self, c: ConversionRecord, header: BusinessHeader | None, now_us: int) -> Outbound:
        text = "accepted: the RTGS has not confirmed the fiat leg yet; the final receipt follows in the mailbox"
        return self._camt_025(c.bank_bic, header, instant(now_us), c.request_message_id, c.transaction_id,
                              ("PDNG", text), payment=self._named(c))

    def _final_receipt(
        self, c: ConversionRecord, state: ConversionState, code: str | None, text: str | None, now_us: int,
        answering: BusinessHeader | None, posted: UUID | None,
    ) -> Outbound:
        amount = text_from_kopecks(c.amount_kopecks)
        if state is ConversionState.SETTLED:
            assert posted is not None
            legs = (c.rtgs_account, c.wallet_code) if c.direction is ConversionDirection.MINT else (c.wallet_code, c.rtgs_account)
            done = f"converted {amount} RUB {legs[0]} -> {legs[1]}; ledger transfer {posted.hex}"
            handlings: tuple[tuple[str, str], ...] = (("ACSC", done),)
        else:
            assert code is not None and text is not None
            handlings = (("RJCT", f"{amount} RUB not converted: {text}"[:140]), (code, text))
        return self._camt_025(c.bank_bic, answering, instant(now_us), c.request_message_id, c.transaction_id,
                              *handlings, payment=self._named(c))

    def _named(self, c: ConversionRecord) -> LongPaymentIdentification:
        """The conversion in a receipt's OrgnlPmtId/LngBizId: the camt.050's references, amount and day."""
        return LongPaymentIdentification(
            transaction_id=c.transaction_id, uetr=c.uetr, kopecks=c.amount_kopecks, settlement_date=c.business_date,
            instructing_agent_bic=c.bank_bic, instructed_agent_bic=self.gateway_bic, end_to_end_id=c.end_to_end_id,
        )

    def _credit_notification(self, c: ConversionRecord, posted: UUID, at_us: int) -> Outbound:
        """A camt.054 for a mint's credit to the wallet, for a bank that asked for one for every credit."""
        credit = answers.Credit(
            wallet_code=c.wallet_code, kopecks=c.amount_kopecks, settled_at=instant(at_us),
            value_date=self._calendar.business_date_at(at_us), transfer_id=posted,
            message_id=c.request_message_id, end_to_end_id=c.end_to_end_id, instruction_id=None,
            transaction_id=c.transaction_id, uetr=c.uetr, debtor_agent_bic=None, creditor_agent_bic=None,
            kind=TransferKind.MINT, additional_info=conversion_entry_info[TransferKind.MINT],
        )
        configured = self.journaling.recipients.get(c.bank_bic)
        return answers.credit_notification(self.gateway_bic, c.bank_bic, instant(at_us), [credit], configured)

    def _camt_025(
        self, bank_bic: str, answering: BusinessHeader | None, now: datetime, request_message_id: str,
        transaction_id: str | None, *handlings: tuple[str, str], payment: LongPaymentIdentification | None = None,
    ) -> Outbound:
        """A receipt for the bank, in its configured AppHdr version if it has one."""
        configured = self.journaling.recipients.get(bank_bic)
        return answers.receipt(self.gateway_bic, bank_bic, now, answering, request_message_id, camt_050,
                               transaction_id, handlings, configured, payment)


def _settled_if_posted(results: Sequence[TransferResult]) -> tuple[ConversionState, None] | None:
    if results[0] is TransferResult.OK or results[0] is TransferResult.EXISTS:
        return ConversionState.SETTLED, None
    log.error("posting a conversion's transfer failed: %s", results[0].value)
    return None


def _rtgs_reason(outcome: RtgsOutcome, c: ConversionRecord) -> tuple[str, str]:
    code, text = _rtgs_reasons[outcome]
    if outcome is RtgsOutcome.REQUEST_CONFLICT:
        log.error("conversion %s: the RTGS saw a conflicting repeat of one of its requests", c.id)
    return code, f"{text} ({c.rtgs_account})" if outcome is not RtgsOutcome.REQUEST_CONFLICT else text


def _fiat_references(c: ConversionRecord) -> FiatReferences:
    """What the RTGS books the conversion's fiat leg with: its camt.050's references, to match it by (a commit
    books with its hold's, which the reserve gave)."""
    return FiatReferences(c.request_message_id, c.end_to_end_id, c.transaction_id, c.uetr)

