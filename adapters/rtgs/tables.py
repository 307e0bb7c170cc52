"""The embedded RTGS simulator's tables. They stand for a separate system, so they live in their own MetaData (not
the gateway's `Base`, not its Alembic migrations) and the simulator creates them itself; every name starts `rtgs_`
so that they can share the gateway's database without clashing.

No foreign keys: bookings name the pseudo-account OPENING, which has no row, and a released mark has no account.
The simulator checks every reference under its row locks instead.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Uuid,
)

from gateway import bounds

# Identifier widths, as the Bank of Russia's RTGS uses them (20-digit accounts, IBAN-wide columns for the rest).
account_number_chars_max = 34
bic_chars_max = 11
operation_chars_max = 16
outcome_chars_max = 24
fingerprint_bytes = 32  # SHA-256

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
_booking_id_type = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData()

accounts = Table(
    "rtgs_accounts",
    metadata,
    Column("number", String(account_number_chars_max), primary_key=True),
    Column("owner_bic", String(bic_chars_max), nullable=False),
    Column("booked_kopecks", BigInteger, nullable=False),
    Column("held_kopecks", BigInteger, nullable=False),
    Column("blocked", Boolean, nullable=False),
    Column("created_at_us", BigInteger, nullable=False),
    CheckConstraint("held_kopecks >= 0", name="rtgs_account_held_not_negative"),
    # No overdraft: what is held is always covered by what is booked (so booked is never negative either).
    CheckConstraint("booked_kopecks >= held_kopecks", name="rtgs_account_no_overdraft"),
)

# A hold reserved by `reserve` has an account and a positive amount. A release of a hold id never reserved leaves a
# mark, state 'released' with no account and amount 0, so that the reserve arriving after it answers HOLD_RELEASED.
holds = Table(
    "rtgs_holds",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("account", String(account_number_chars_max), nullable=True),
    Column("amount_kopecks", BigInteger, nullable=False),
    Column("state", String(16), nullable=False),
    Column("created_at_us", BigInteger, nullable=False),
    Column("resolved_at_us", BigInteger, nullable=True),  # when it was committed or released
    CheckConstraint("state IN ('held', 'committed', 'released')", name="rtgs_hold_state_known"),
    CheckConstraint(
        "(account IS NOT NULL AND amount_kopecks > 0)"
        " OR (account IS NULL AND amount_kopecks = 0 AND state = 'released')",
        name="rtgs_hold_reserved_or_marked",
    ),
    CheckConstraint("(state = 'held') = (resolved_at_us IS NULL)", name="rtgs_hold_resolved_when_ended"),
)

# One row per booking; `id` is the entry id statements show. A statement of an account reads the rows where it is
# the debit or the credit side.
bookings = Table(
    "rtgs_bookings",
    metadata,
    Column("id", _booking_id_type, primary_key=True, autoincrement=True),
    Column("request_id", Uuid, nullable=False, unique=True),  # a request books at most once
    Column("debit_account", String(account_number_chars_max), nullable=False),
    Column("credit_account", String(account_number_chars_max), nullable=False),
    Column("amount_kopecks", BigInteger, nullable=False),
    Column("booked_at_us", BigInteger, nullable=False),
    Column("reference", String(bounds.reference_chars_max), nullable=False),
    CheckConstraint("amount_kopecks > 0", name="rtgs_booking_amount_positive"),
    CheckConstraint("debit_account <> credit_account", name="rtgs_booking_two_accounts"),
    Index("rtgs_bookings_by_debit_account", "debit_account", "booked_at_us"),
    Index("rtgs_bookings_by_credit_account", "credit_account", "booked_at_us"),
)

# The idempotency record: one row per request id, forever, refusals included. `fingerprint` is a digest of the
# operation and its arguments. `outcome` is NULL only inside the transaction that claimed the id; it is set before
# that transaction commits.
requests = Table(
    "rtgs_requests",
    metadata,
    Column("request_id", Uuid, primary_key=True),
    Column("operation", String(operation_chars_max), nullable=False),
    Column("fingerprint", LargeBinary(fingerprint_bytes), nullable=False),
    Column("outcome", String(outcome_chars_max), nullable=True),
    Column("created_at_us", BigInteger, nullable=False),
)
