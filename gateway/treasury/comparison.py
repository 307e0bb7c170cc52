"""The three-way comparison of one closed business day, pure: over what the ports returned (the ledger's and the
journal's records of the day, the RTGS's statement of the reserve account, the wallets' statements as read back), it
returns the day's figures and every break it finds. gateway.treasury.reconciliation reads, calls it and stores.

What it proves, each failure a break of the kind named:
  - every posting of the day (payment, return, mint, burn) has its settled message: a SETTLED payment naming its
    transfer, a SETTLED conversion whose post it is                                       posting_without_message
  - every settled payment and conversion has exactly one posting                          message_without_posting
  - that posting moved the message's amount between the message's accounts, under its references  amount_mismatch
  - every settled conversion's fiat leg is booked at the RTGS (a mint's commit bank -> reserve, a burn's credit
    reserve -> bank), by the end of the calendar day after the cut-off, with the same amount, account and, where the
    RTGS gives them, the same camt.050 references                         fiat_leg_missing / fiat_leg_different
  - every booking on the reserve account in the day is a conversion's fiat leg          fiat_without_conversion
  - at the day's close, supply (cryptoroubles issued) = the reserve account's fiat balance as of the cut-off,
    allowing for conversions in flight across the boundary; and the ledger's reserve mirror = supply
                                                                                          supply_not_reserve
  - each wallet's end-of-day camt.053 in the journal opens and closes with the ledger's balances and lists the day's
    postings on the wallet; a wallet with no statement is a break too                     statement_disagrees

Conversions in flight across the boundary. The saga books the fiat leg first and posts on the ledger after it, so a
conversion caught between the two at the cut-off has moved fiat but not yet supply (and a clock difference between
the two systems could show the reverse). For each conversion whose fiat leg the RTGS booked: if the booking is before
the cut-off and the posting after the day's last one (or not made yet), the reserve should hold its amount more than
supply (a burn: less); if the posting is in the day and the booking after the cut-off, the other way round. Nothing
else may differ: a leg that is missing, different or unasked-for shows in the supply check too, as it should.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from gateway.conversion.ports import FiatDirection, FiatEntry, FiatStatement
from gateway.domain.calendar import microseconds
from gateway.domain.conversion import (
    ConversionDirection,
    ConversionRecord,
    ConversionState,
    conversion_posting_ids,
    conversion_reference,
    fiat_leg_request_id,
)
from gateway.domain.journal import PaymentKind
from gateway.domain.ledger import AccountKind, TransferKind
from gateway.domain.money import text_from_kopecks
from gateway.domain.reconciliation import Break, BreakKind, description_chars_max
from gateway.handling.directory import settlement_wallet_name
from gateway.messages.statement_pages import StatementPage, Unreadable
from gateway.registry import account_code
from gateway.treasury.ports import DayRecords, LedgerAccount, Posting, SettledPayment

_in_flight_states = frozenset({ConversionState.COMMITTING, ConversionState.CREDITING})
_entries_quoted_max = 3  # postings or entries a statement break names; the rest are counted

StatedWallet = tuple[StatementPage, ...] | Unreadable  # a wallet's statement pages as read back, or why they could not be


@dataclass(frozen=True, slots=True)
class DayWindow:
    """A business day's time: from the previous business day's cut-off to its own."""

    business_date: date
    previous_business_date: date | None  # None for the first day the gateway recorded
    start_us: int
    end_us: int


@dataclass(frozen=True, slots=True)
class KindTotal:
    kind: str
    count: int
    kopecks: int


@dataclass(frozen=True, slots=True)
class DayFigures:
    """The day's figures a treasury analyst reads before the breaks."""

    postings: tuple[KindTotal, ...]  # the day's postings by transfer kind
    payments_settled: tuple[KindTotal, ...]  # settled payments of the day with their posting, by message
    conversions_settled: tuple[KindTotal, ...]  # settled conversions of the day, mints and burns
    fiat_legs_expected: int  # settled conversions of the day: each needs its fiat leg
    fiat_legs_matched: int  # ... found at the RTGS as its conversion says
    reserve_bookings: int  # bookings on the reserve account in the day
    reserve_bookings_accounted: int  # ... that are conversions' fiat legs
    supply_kopecks: int  # issued cryptoroubles as the day closed
    fiat_reserve_kopecks: int  # the reserve account's balance at the RTGS as of the cut-off
    in_flight_kopecks: int  # what the reserve should hold beyond supply for conversions across the boundary
    in_flight_conversions: int
    reserve_mirror_kopecks: int  # the ledger's reserve mirror as the day closed
    statements_expected: int  # wallets that must have an end-of-day statement of the day
    statements_agreeing: int

    @property
    def postings_count(self) -> int:
        return sum(total.count for total in self.postings)


@dataclass(frozen=True, slots=True)
class DayFindings:
    figures: DayFigures
    breaks: tuple[Break, ...]


def compare_day(
    records: DayRecords,
    fiat: FiatStatement,
    window: DayWindow,
    reserve_account: str,
    stated: Mapping[str, StatedWallet],
) -> DayFindings:
    comparison = _Comparison(records, fiat, window, reserve_account)
    comparison.postings()
    comparison.messages()
    comparison.fiat_legs()
    comparison.reserve_bookings()
    comparison.supply()
    comparison.statements(stated)
    return DayFindings(comparison.figures(), tuple(comparison.breaks))


class _Comparison:
    def __init__(self, records: DayRecords, fiat: FiatStatement, window: DayWindow, reserve_account: str) -> None:
        self.records = records
        self.fiat = fiat
        self.window = window
        self.reserve_account = reserve_account
        self.day = records.day
        assert self.day.last_seq is not None, "a closed day has its last posting"
        self.last_seq: int = self.day.last_seq
        self.business_date = records.day.business_date
        self.breaks: list[Break] = []
        self.issuance = next(a for a in records.accounts if a.kind is AccountKind.ISSUANCE)
        self.mirror = next(a for a in records.accounts if a.kind is AccountKind.RESERVE)
        self.settlement_wallets = _settlement_wallets(records.accounts)
        self.day_postings = {p.transfer_id: p for p in records.postings}
        self.all_postings = {p.transfer_id: p for p in records.other_postings} | self.day_postings
        self.payments_by_transfer: dict[UUID, list[SettledPayment]] = {}
        for payment in sorted(records.payments, key=lambda p: (p.settled_at_us, p.payment_id.hex)):
            self.payments_by_transfer.setdefault(payment.transfer_id, []).append(payment)
        self.payments_by_uetr: dict[UUID, list[SettledPayment]] = {}
        for payment in records.payments:
            self.payments_by_uetr.setdefault(payment.uetr, []).append(payment)
        self.conversion_of_posting: dict[UUID, ConversionRecord] = {}
        self.conversion_of_reference: dict[str, ConversionRecord] = {}
        self.conversion_of_leg: dict[UUID, ConversionRecord] = {}
        for conversion in records.conversions:
            for transfer_id in conversion_posting_ids(conversion):
                self.conversion_of_posting[transfer_id] = conversion
            self.conversion_of_reference[conversion_reference(conversion)] = conversion
            self.conversion_of_leg[fiat_leg_request_id(conversion)] = conversion
        self.fiat_entries: dict[UUID, list[FiatEntry]] = {}
        for entry in fiat.entries:
            self.fiat_entries.setdefault(entry.request_id, []).append(entry)
        self.settled_payments: list[SettledPayment] = []  # the day's, each with its posting
        self.settled_conversions: list[ConversionRecord] = []  # the day's: each needs its fiat leg
        self.fiat_legs_matched = 0
        self.reserve_bookings_seen = 0
        self.reserve_bookings_accounted = 0
        self.fiat_reserve_kopecks = 0
        self.in_flight_kopecks = 0
        self.in_flight_conversions = 0
        self.statements_expected = 0
        self.statements_agreeing = 0

    def found(
        self, kind: BreakKind, identity: tuple[str, ...], description: str, *, amount: int | None = None,
        expected: int | None = None, account: str | None = None, references: Iterable[tuple[str, str | None]] = (),
    ) -> None:
        kept = tuple((name, value) for name, value in dict(references).items() if value)
        if len(description) > description_chars_max:
            description = description[: description_chars_max - 1] + "…"
        self.breaks.append(
            Break(kind, self.business_date, identity, amount, expected, account, kept, description)
        )

    # --- postings and messages ------------------------------------------------------------------------------------

    def postings(self) -> None:
        """Every posting of the day has its settled message, and moved what the message says."""
        for posting in self.records.postings:
            if posting.kind in (TransferKind.PAYMENT, TransferKind.RETURN):
                self._payment_posting(posting)
            elif posting.kind in (TransferKind.MINT, TransferKind.BURN):
                self._conversion_posting(posting)
            else:
                self.found(
                    BreakKind.POSTING_WITHOUT_MESSAGE, (posting.transfer_id.hex,),
                    f"{_posting_text(posting)}: a {posting.kind.value} no message of the journal asked for",
                    amount=posting.amount_kopecks, account=posting.debit_account, references=_posting_refs(posting),
                )

    def _payment_posting(self, posting: Posting) -> None:
        owners = self.payments_by_transfer.get(posting.transfer_id, [])
        if owners:
            payment, *others = owners
            self.settled_payments.append(payment)
            differences = _payment_differences(posting, payment, self.settlement_wallets)
            if differences:
                self.found(
                    BreakKind.AMOUNT_MISMATCH, (posting.transfer_id.hex,),
                    f"{_posting_text(posting)} settles {_payment_text(payment)}, but " + "; ".join(differences),
                    amount=posting.amount_kopecks, expected=payment.amount_kopecks, account=posting.debit_account,
                    references=(*_payment_refs(payment), *_posting_refs(posting)),
                )
            for other in others:  # one posting for two messages: the second has none of its own
                self.found(
                    BreakKind.MESSAGE_WITHOUT_POSTING, (other.payment_id.hex,),
                    f"{_payment_text(other)} is settled by transfer {posting.transfer_id.hex}, which already settles"
                    f" {_payment_text(payment)}: it has no posting of its own",
                    expected=other.amount_kopecks, account=self.settlement_wallets.get(other.debtor_bic),
                    references=_payment_refs(other),
                )
            return
        # A return carries the UETR of the payment it returns: a twin is a payment of the same kind, by UETR.
        is_return = posting.kind is TransferKind.RETURN
        same_uetr = [] if posting.uetr is None else self.payments_by_uetr.get(posting.uetr, [])
        twin = next(
            (
                p for p in same_uetr
                if (p.kind is PaymentKind.RETURN) == is_return
                and p.transfer_id in self.all_postings and p.transfer_id != posting.transfer_id
            ),
            None,
        )
        if twin is not None:
            self.found(
                BreakKind.MESSAGE_WITHOUT_POSTING, (twin.payment_id.hex, posting.transfer_id.hex),
                f"{_payment_text(twin)} has two postings: transfer {twin.transfer_id.hex} settled it, and"
                f" {_posting_text(posting)} moved it again",
                amount=posting.amount_kopecks, expected=twin.amount_kopecks, account=posting.debit_account,
                references=(*_payment_refs(twin), *_posting_refs(posting)),
            )
            return
        self.found(
            BreakKind.POSTING_WITHOUT_MESSAGE, (posting.transfer_id.hex,),
            f"{_posting_text(posting)}: no settled pacs.008, pacs.009 or pacs.004 transaction names this transfer",
            amount=posting.amount_kopecks, account=posting.debit_account, references=_posting_refs(posting),
        )

    def _conversion_posting(self, posting: Posting) -> None:
        conversion = self.conversion_of_posting.get(posting.transfer_id)
        if conversion is None:
            twin = self.conversion_of_reference.get(posting.reference)
            if twin is not None and self._conversion_postings(twin):
                self.found(
                    BreakKind.MESSAGE_WITHOUT_POSTING, (twin.id.hex, posting.transfer_id.hex),
                    f"{_conversion_text(twin)} has two postings: {_posting_text(posting)} carries its reference"
                    " but is not its post",
                    amount=posting.amount_kopecks, expected=twin.amount_kopecks, account=twin.wallet_code,
                    references=(*_conversion_refs(twin), *_posting_refs(posting)),
                )
                return
            self.found(
                BreakKind.POSTING_WITHOUT_MESSAGE, (posting.transfer_id.hex,),
                f"{_posting_text(posting)}: no camt.050 conversion posted it (a {posting.kind.value} straight into"
                " the ledger changes supply with no fiat behind it)",
                amount=posting.amount_kopecks, account=posting.credit_account, references=_posting_refs(posting),
            )
            return
        if conversion.state is not ConversionState.SETTLED:
            self.found(
                BreakKind.POSTING_WITHOUT_MESSAGE, (posting.transfer_id.hex,),
                f"{_posting_text(posting)} is the post of {_conversion_text(conversion)}, which the journal says is"
                f" {conversion.state.value}, not settled",
                amount=posting.amount_kopecks, expected=conversion.amount_kopecks, account=conversion.wallet_code,
                references=(*_conversion_refs(conversion), *_posting_refs(posting)),
            )
            return
        postings = self._conversion_postings(conversion)
        if postings[0].transfer_id != posting.transfer_id:  # its post and the late single transfer both stand
            self.found(
                BreakKind.MESSAGE_WITHOUT_POSTING, (conversion.id.hex, posting.transfer_id.hex),
                f"{_conversion_text(conversion)} has two postings: {_posting_text(postings[0])} and"
                f" {_posting_text(posting)}",
                amount=posting.amount_kopecks, expected=conversion.amount_kopecks, account=conversion.wallet_code,
                references=(*_conversion_refs(conversion), *_posting_refs(posting)),
            )
            return
        self.settled_conversions.append(conversion)
        differences = _conversion_differences(posting, conversion, self.issuance.code)
        if differences:
            self.found(
                BreakKind.AMOUNT_MISMATCH, (posting.transfer_id.hex,),
                f"{_posting_text(posting)} posts {_conversion_text(conversion)}, but " + "; ".join(differences),
                amount=posting.amount_kopecks, expected=conversion.amount_kopecks, account=conversion.wallet_code,
                references=(*_conversion_refs(conversion), *_posting_refs(posting)),
            )

    def _conversion_postings(self, conversion: ConversionRecord) -> list[Posting]:
        found = [self.all_postings[t] for t in conversion_posting_ids(conversion) if t in self.all_postings]
        return sorted(found, key=lambda p: p.seq)

    def messages(self) -> None:
        """Every settled payment and conversion of the day has a posting (that it has only one: postings())."""
        window = self.window
        for payment in self.records.payments:
            if payment.transfer_id in self.all_postings or not self._dated_in_day(payment.settlement_date):
                continue  # it has its posting (checked with the day that holds it), or it belongs to another day
            self.found(
                BreakKind.MESSAGE_WITHOUT_POSTING, (payment.payment_id.hex,),
                f"{_payment_text(payment)} is settled, but its transfer {payment.transfer_id.hex} is nowhere in the"
                " ledger",
                expected=payment.amount_kopecks, account=self.settlement_wallets.get(payment.debtor_bic),
                references=(*_payment_refs(payment), ("transfer_id", payment.transfer_id.hex)),
            )
        for conversion in self.records.conversions:
            if conversion.state is not ConversionState.SETTLED or self._conversion_postings(conversion):
                continue
            if not window.start_us <= conversion.updated_at_us < window.end_us:
                continue  # settled on another day: that day's reconciliation reports it
            self.settled_conversions.append(conversion)
            self.found(
                BreakKind.MESSAGE_WITHOUT_POSTING, (conversion.id.hex,),
                f"{_conversion_text(conversion)} is settled, but the ledger holds no post of it",
                expected=conversion.amount_kopecks, account=conversion.wallet_code,
                references=_conversion_refs(conversion),
            )

    def _dated_in_day(self, settlement_date: date) -> bool:
        previous = self.window.previous_business_date
        return settlement_date <= self.business_date and (previous is None or settlement_date > previous)

    # --- the fiat side --------------------------------------------------------------------------------------------

    def fiat_legs(self) -> None:
        """Every settled conversion of the day has its fiat leg at the RTGS, as its camt.050 says."""
        for conversion in self.settled_conversions:
            request_id = fiat_leg_request_id(conversion)
            entries = self.fiat_entries.get(request_id, [])
            leg = "commit (bank -> reserve)" if conversion.direction is ConversionDirection.MINT else \
                "credit (reserve -> bank)"
            if not entries:
                to_date = self.fiat.to_date
                self.found(
                    BreakKind.FIAT_LEG_MISSING, (conversion.id.hex,),
                    f"{_conversion_text(conversion)} is settled, but the RTGS shows no {leg} of it on the reserve"
                    f" account {self.reserve_account} up to {to_date}",
                    expected=conversion.amount_kopecks, account=conversion.rtgs_account,
                    references=(*_conversion_refs(conversion), ("rtgs_request_id", request_id.hex)),
                )
                continue
            entry = entries[0]
            differences = _fiat_differences(conversion, entry)
            if len(entries) > 1:
                differences.append(f"the RTGS shows {len(entries)} bookings under its request id")
            if differences:
                self.found(
                    BreakKind.FIAT_LEG_DIFFERENT, (conversion.id.hex,),
                    f"the RTGS's {leg} of {_conversion_text(conversion)} differs: " + "; ".join(differences),
                    amount=entry.kopecks, expected=conversion.amount_kopecks, account=conversion.rtgs_account,
                    references=(*_conversion_refs(conversion), *_entry_refs(entry)),
                )
                continue
            self.fiat_legs_matched += 1

    def reserve_bookings(self) -> None:
        """Every booking on the reserve account in the day is a conversion's fiat leg."""
        window = self.window
        for entry in self.fiat.entries:
            if not window.start_us <= microseconds(entry.booked_at) < window.end_us:
                continue
            self.reserve_bookings_seen += 1
            conversion = self.conversion_of_leg.get(entry.request_id)
            if conversion is not None and (
                conversion.state is ConversionState.SETTLED or conversion.state in _in_flight_states
            ):
                self.reserve_bookings_accounted += 1
                continue
            direction = "into" if entry.direction is FiatDirection.CREDIT else "out of"
            why = (
                f"for {_conversion_text(conversion)}, which the journal says is {conversion.state.value}"
                if conversion is not None else "and no conversion asked for it"
            )
            signed = entry.kopecks if entry.direction is FiatDirection.CREDIT else -entry.kopecks
            self.found(
                BreakKind.FIAT_WITHOUT_CONVERSION, (entry.request_id.hex,),
                f"the RTGS booked {_rub(entry.kopecks)} {direction} the reserve account {self.reserve_account}"
                f" (counter-account {entry.counter_account}, {entry.booked_at.isoformat()}, \"{entry.reference}\") {why}",
                amount=signed, expected=0, account=entry.counter_account,
                references=(*(_conversion_refs(conversion) if conversion is not None else ()), *_entry_refs(entry)),
            )

    def supply(self) -> None:
        """At the close: supply = the fiat reserve as of the cut-off, allowing for conversions in flight across the
        boundary (see the module's docstring); and the ledger's reserve mirror = supply."""
        window = self.window
        supply = -self.issuance.closing_kopecks
        self.fiat_reserve_kopecks = self.fiat.opening_kopecks + sum(
            _signed(entry) for entry in self.fiat.entries if microseconds(entry.booked_at) < window.end_us
        )
        in_flight: list[str] = []
        for conversion in self.records.conversions:
            if conversion.state is not ConversionState.SETTLED and conversion.state not in _in_flight_states:
                continue
            entries = self.fiat_entries.get(fiat_leg_request_id(conversion), [])
            if not entries:
                continue  # no fiat leg: in flight it is not (a settled one is a break of its own)
            fiat_before = microseconds(entries[0].booked_at) < window.end_us
            postings = self._conversion_postings(conversion)
            posted_before = bool(postings) and postings[0].seq <= self.last_seq
            if fiat_before == posted_before:
                continue
            sign = 1 if conversion.direction is ConversionDirection.MINT else -1
            self.in_flight_kopecks += sign * conversion.amount_kopecks * (1 if fiat_before else -1)
            self.in_flight_conversions += 1
            in_flight.append(conversion.id.hex)
        expected = supply + self.in_flight_kopecks
        if self.fiat_reserve_kopecks != expected:
            allowance = (
                f", with {self.in_flight_conversions} conversions in flight across the cut-off"
                f" ({_rub(self.in_flight_kopecks)})" if self.in_flight_conversions else ""
            )
            self.found(
                BreakKind.SUPPLY_NOT_RESERVE, ("rtgs",),
                f"at the close of {self.business_date}: supply {_rub(supply)}{allowance}, so the reserve account"
                f" {self.reserve_account} should hold {_rub(expected)} at the RTGS as of the cut-off; it holds"
                f" {_rub(self.fiat_reserve_kopecks)} ({_rub(self.fiat_reserve_kopecks - expected, signed=True)})",
                amount=self.fiat_reserve_kopecks, expected=expected, account=self.reserve_account,
                references=[("conversions_in_flight", ",".join(in_flight))],
            )
        mirror = self.mirror.closing_kopecks
        if mirror != supply:
            self.found(
                BreakKind.SUPPLY_NOT_RESERVE, ("ledger_mirror",),
                f"at the close of {self.business_date}: the ledger's reserve mirror {self.mirror.code} holds"
                f" {_rub(mirror)}, supply is {_rub(supply)}",
                amount=mirror, expected=supply, account=self.mirror.code,
            )

    # --- statements -----------------------------------------------------------------------------------------------

    def statements(self, stated: Mapping[str, StatedWallet]) -> None:
        """Each wallet's end-of-day camt.053 says what the ledger says of the wallet that day."""
        day = self.day
        movements: dict[str, Counter[tuple[str, int]]] = {}
        for posting in self.records.postings:
            reference = posting.transfer_id.hex
            movements.setdefault(posting.debit_account, Counter())[(reference, -posting.amount_kopecks)] += 1
            movements.setdefault(posting.credit_account, Counter())[(reference, posting.amount_kopecks)] += 1
        claimed = {s.wallet_code: s for s in self.records.statements}
        for account in sorted(self.records.accounts, key=lambda a: a.code):
            if account.kind is not AccountKind.WALLET:
                continue
            ledger = movements.get(account.code, Counter())
            registered = account.owner_registered_at_us
            required = (
                account.opening_kopecks != 0 or account.closing_kopecks != 0 or bool(ledger)
                or (registered is not None and registered < day.cutoff_at_us)
            )
            pages = stated.get(account.code)
            statement_id = claimed[account.code].message_id.hex if account.code in claimed else None
            references = [("wallet", account.code), ("statement_message_id", statement_id)]
            identity = (self.business_date.isoformat(), account.code)
            if pages is None:
                if required:
                    self.statements_expected += 1
                    self.found(
                        BreakKind.STATEMENT_DISAGREES, identity,
                        f"{account.code} has no end-of-day camt.053 for {self.business_date} in the journal (claim"
                        f" statement|{self.business_date}|{account.code})",
                        expected=account.closing_kopecks, account=account.code, references=references,
                    )
                continue
            self.statements_expected += 1
            if isinstance(pages, Unreadable):
                self.found(
                    BreakKind.STATEMENT_DISAGREES, identity,
                    f"the end-of-day camt.053 of {account.code} for {self.business_date} cannot be read: {pages}",
                    expected=account.closing_kopecks, account=account.code, references=references,
                )
                continue
            problems = _statement_problems(pages, account, ledger, self.business_date)
            if problems:
                self.found(
                    BreakKind.STATEMENT_DISAGREES, identity,
                    f"the end-of-day camt.053 of {account.code} for {self.business_date} " + "; ".join(problems),
                    amount=pages[-1].closing_kopecks, expected=account.closing_kopecks, account=account.code,
                    references=references,
                )
                continue
            self.statements_agreeing += 1

    # --- figures --------------------------------------------------------------------------------------------------

    def figures(self) -> DayFigures:
        postings: dict[str, list[int]] = {}
        for posting in self.records.postings:
            totals = postings.setdefault(posting.kind.value, [0, 0])
            totals[0] += 1
            totals[1] += posting.amount_kopecks
        payments: dict[str, list[int]] = {}
        for payment in self.settled_payments:
            totals = payments.setdefault(payment.kind.value, [0, 0])
            totals[0] += 1
            totals[1] += payment.amount_kopecks
        conversions: dict[str, list[int]] = {}
        for conversion in self.settled_conversions:
            totals = conversions.setdefault(conversion.direction.value, [0, 0])
            totals[0] += 1
            totals[1] += conversion.amount_kopecks
        return DayFigures(
            postings=_totals(postings, [k.value for k in TransferKind]),
            payments_settled=_totals(payments, [k.value for k in PaymentKind]),
            conversions_settled=_totals(conversions, [d.value for d in ConversionDirection]),
            fiat_legs_expected=len(self.settled_conversions),
            fiat_legs_matched=self.fiat_legs_matched,
            reserve_bookings=self.reserve_bookings_seen,
            reserve_bookings_accounted=self.reserve_bookings_accounted,
            supply_kopecks=-self.issuance.closing_kopecks,
            fiat_reserve_kopecks=self.fiat_reserve_kopecks,
            in_flight_kopecks=self.in_flight_kopecks,
            in_flight_conversions=self.in_flight_conversions,
            reserve_mirror_kopecks=self.mirror.closing_kopecks,
            statements_expected=self.statements_expected,
            statements_agreeing=self.statements_agreeing,
        )


# --- comparisons of one item -----------------------------------------------------------------------------------------


def _settlement_wallets(accounts: Sequence[LedgerAccount]) -> dict[str, str]:
    """Each bank's settlement wallet, by BIC, chosen as gateway.handling.directory chooses it (its "main", else its
    first by account id): where its payments settle."""
    wallets: dict[str, str] = {}
    for account in sorted(accounts, key=lambda a: a.account_id):
        if account.kind is not AccountKind.WALLET:
            continue
        preferred = account.code == account_code(account.owner_bic, settlement_wallet_name)
        if preferred or account.owner_bic not in wallets:
            wallets[account.owner_bic] = account.code
    return wallets


def _payment_differences(posting: Posting, payment: SettledPayment, wallets: Mapping[str, str]) -> list[str]:
    differences = []
    if posting.amount_kopecks != payment.amount_kopecks:
        differences.append(f"it moved {_rub(posting.amount_kopecks)} where the message says {_rub(payment.amount_kopecks)}")
    expected_kind = TransferKind.RETURN if payment.kind is PaymentKind.RETURN else TransferKind.PAYMENT
    if posting.kind is not expected_kind:
        differences.append(f"it is a {posting.kind.value} where the message is a {payment.kind.value}")
    debit, credit = wallets.get(payment.debtor_bic), wallets.get(payment.creditor_bic)
    if posting.debit_account != debit:
        differences.append(f"it debited {posting.debit_account} where the debtor agent settles on {debit}")
    if posting.credit_account != credit:
        differences.append(f"it credited {posting.credit_account} where the creditor agent settles on {credit}")
    if posting.uetr != payment.uetr:
        differences.append(f"it carries UETR {posting.uetr} where the message says {payment.uetr}")
    if payment.sender_bic is not None:
        # Settled on arrival the reference names the AppHdr's BizMsgIdr; released from the warehouse, GrpHdr/MsgId.
        names = {f"{payment.sender_bic}:{payment.group_message_id}"}
        if payment.message_reference is not None:
            names.add(f"{payment.sender_bic}:{payment.message_reference}")
        if posting.reference not in names:
            differences.append(f"it carries reference {posting.reference!r} where the message is {sorted(names)[0]!r}")
    return differences


def _conversion_differences(posting: Posting, conversion: ConversionRecord, issuance_code: str) -> list[str]:
    differences = []
    if posting.amount_kopecks != conversion.amount_kopecks:
        differences.append(
            f"it moved {_rub(posting.amount_kopecks)} where the camt.050 says {_rub(conversion.amount_kopecks)}"
        )
    mint = conversion.direction is ConversionDirection.MINT
    if posting.kind is not (TransferKind.MINT if mint else TransferKind.BURN):
        differences.append(f"it is a {posting.kind.value} where the camt.050 asks for a {conversion.direction.value}")
    debit, credit = (issuance_code, conversion.wallet_code) if mint else (conversion.wallet_code, issuance_code)
    if posting.debit_account != debit:
        differences.append(f"it debited {posting.debit_account} where the camt.050 says {debit}")
    if posting.credit_account != credit:
        differences.append(f"it credited {posting.credit_account} where the camt.050 says {credit}")
    if posting.reference != conversion_reference(conversion):
        differences.append(f"it carries reference {posting.reference!r}, not {conversion_reference(conversion)!r}")
    if posting.uetr is not None and posting.uetr != conversion.uetr:
        differences.append(f"it carries UETR {posting.uetr} where the camt.050 says {conversion.uetr}")
    return differences


def _fiat_differences(conversion: ConversionRecord, entry: FiatEntry) -> list[str]:
    """A fiat leg against its conversion: amount, direction, the bank's account, and the camt.050's references when
    the RTGS gives them."""
    differences = []
    if entry.kopecks != conversion.amount_kopecks:
        differences.append(f"it booked {_rub(entry.kopecks)} where the camt.050 says {_rub(conversion.amount_kopecks)}")
    mint = conversion.direction is ConversionDirection.MINT
    expected_direction = FiatDirection.CREDIT if mint else FiatDirection.DEBIT
    if entry.direction is not expected_direction:
        differences.append(
            f"it {'credited' if entry.direction is FiatDirection.CREDIT else 'debited'} the reserve account where"
            f" a {conversion.direction.value} {'credits' if mint else 'debits'} it"
        )
    if entry.counter_account != conversion.rtgs_account:
        differences.append(f"its counter-account is {entry.counter_account} where the camt.050 names {conversion.rtgs_account}")
    references = entry.references
    if references is not None:
        pairs = (
            ("MsgId", references.message_id, conversion.request_message_id),
            ("EndToEndId", references.end_to_end_id, conversion.end_to_end_id),
            ("TxId", references.transaction_id, conversion.transaction_id),
            ("UETR", references.uetr, conversion.uetr),
        )
        for name, booked, asked in pairs:
            if booked != asked:
                differences.append(f"its {name} is {booked} where the camt.050's is {asked}")
    return differences


def _statement_problems(
    pages: Sequence[StatementPage], account: LedgerAccount, ledger: Counter[tuple[str, int]], business_date: date
) -> list[str]:
    problems = []
    states = {(page.wallet_code, page.business_date) for page in pages}
    if states != {(account.code, business_date)}:
        said = ", ".join(f"{code} on {when}" for code, when in sorted(states))
        problems.append(f"states {said}")
    numbers = [page.page_number for page in pages]
    if numbers != list(range(1, len(pages) + 1)):
        problems.append(f"has pages numbered {numbers}")
    if not pages[-1].last_page:
        problems.append(f"ends at page {pages[-1].page_number}, which is not marked last: its other pages are missing")
    opening, closing = pages[0].opening_kopecks, pages[-1].closing_kopecks
    if opening != account.opening_kopecks:
        problems.append(
            f"opens at {_balance(opening)} where the ledger opened the day at {_rub(account.opening_kopecks)}"
        )
    if closing != account.closing_kopecks:
        problems.append(
            f"closes at {_balance(closing)} where the ledger closed the day at {_rub(account.closing_kopecks)}"
        )
    stated = Counter((entry.reference or "", entry.signed_kopecks) for page in pages for entry in page.entries
                     if entry.booked)  # fmt: skip
    extra, missing = stated - ledger, ledger - stated
    if extra:
        problems.append(f"lists {extra.total()} entries the ledger did not post on the wallet that day: {_entries(extra)}")
    if missing:
        problems.append(f"misses {missing.total()} of the day's postings on the wallet: {_entries(missing)}")
    return problems


# --- texts -----------------------------------------------------------------------------------------------------------


def _rub(kopecks: int, *, signed: bool = False) -> str:
    sign = "+" if signed and kopecks > 0 else ""
    return f"{sign}{text_from_kopecks(kopecks)} RUB"


def _balance(kopecks: int | None) -> str:
    return "no balance" if kopecks is None else _rub(kopecks)


def _signed(entry: FiatEntry) -> int:
    return entry.kopecks if entry.direction is FiatDirection.CREDIT else -entry.kopecks


def _entries(counted: Counter[tuple[str, int]]) -> str:
    listed = [f"{reference or '(no NtryRef)'} {_rub(kopecks, signed=True)}" for reference, kopecks in
              sorted(counted.elements())[:_entries_quoted_max]]  # fmt: skip
    more = counted.total() - len(listed)
    return ", ".join(listed) + (f" and {more} more" if more > 0 else "")


def _totals(totals: Mapping[str, list[int]], order: Sequence[str]) -> tuple[KindTotal, ...]:
    return tuple(KindTotal(kind, *totals[kind]) for kind in order if kind in totals)


def _posting_text(posting: Posting) -> str:
    return (f"posting #{posting.seq} ({posting.kind.value} of {_rub(posting.amount_kopecks)}, {posting.debit_account}"
            f" -> {posting.credit_account}, reference {posting.reference!r})")


def _payment_text(payment: SettledPayment) -> str:
    return (f"the {payment.kind.value} transaction {payment.end_to_end_id!r} (UETR {payment.uetr}) of message"
            f" {payment.group_message_id!r} from {payment.sender_bic or payment.debtor_bic},"
            f" {_rub(payment.amount_kopecks)} from {payment.debtor_bic} to {payment.creditor_bic}")


def _conversion_text(conversion: ConversionRecord) -> str:
    return (f"the {conversion.direction.value} of {_rub(conversion.amount_kopecks)} for {conversion.bank_bic}"
            f" (camt.050 {conversion.request_message_id!r}, conversion {conversion.id.hex})")


def _posting_refs(posting: Posting) -> list[tuple[str, str | None]]:
    return [
        ("transfer_id", posting.transfer_id.hex),
        ("ledger_seq", str(posting.seq)),
        ("ledger_reference", posting.reference),
        ("transfer_uetr", None if posting.uetr is None else str(posting.uetr)),
    ]


def _payment_refs(payment: SettledPayment) -> list[tuple[str, str | None]]:
    return [
        ("payment_id", payment.payment_id.hex),
        ("BizMsgIdr", payment.message_reference),
        ("MsgId", payment.group_message_id),
        ("EndToEndId", payment.end_to_end_id),
        ("TxId", payment.transaction_id),
        ("UETR", str(payment.uetr)),
    ]


def _conversion_refs(conversion: ConversionRecord) -> list[tuple[str, str | None]]:
    return [
        ("conversion_id", conversion.id.hex),
        ("MsgId", conversion.request_message_id),
        ("EndToEndId", conversion.end_to_end_id),
        ("TxId", conversion.transaction_id),
        ("UETR", None if conversion.uetr is None else str(conversion.uetr)),
    ]


def _entry_refs(entry: FiatEntry) -> list[tuple[str, str | None]]:
    references = entry.references
    return [
        ("rtgs_entry_id", str(entry.entry_id)),
        ("rtgs_request_id", entry.request_id.hex),
        ("rtgs_reference", entry.reference),
        ("rtgs_MsgId", None if references is None else references.message_id),
        ("rtgs_EndToEndId", None if references is None else references.end_to_end_id),
        ("rtgs_TxId", None if references is None else references.transaction_id),
        ("rtgs_UETR", None if references is None or references.uetr is None else str(references.uetr)),
    ]
