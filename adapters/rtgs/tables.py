"""The embedded RTGS simulator's tables. They stand for a separate system, so they live in their own MetaData (not
the gateway's `Base`, not its Alembic migrations) and the simulator creates them itself; every name starts `rtgs_`
so that they can share the gateway's database without clashing.

How they evolve: `metadata.create_all` creates a missing table with every column; a column added to a table after
databases with that table existed is listed in `added_columns`, nullable, and `evolve` adds it to such a database
when the simulator opens it (rows from before read it as NULL). Nothing is ever dropped or renamed.

No foreign keys: bookings name the pseudo-account OPENING, which has no row, and a released mark has no account.
The simulator checks every reference under its row locks instead.
"""

from __future__ import annotations

from typing import Any

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
    inspect,
    text,
)
from sqlalchemy.engine import Connection

from gateway import bounds
from gateway.messages.reports import reference_chars_max  # Max35Text, the camt.050's identifiers

# Identifier widths, as the Bank of Russia's RTGS uses them (20-digit accounts, IBAN-wide columns for the rest).
account_number_chars_max = 34
bic_chars_max = 11
operation_chars_max = 16
outcome_chars_max = 24
fingerprint_bytes = 32  # SHA-256

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
_booking_id_type = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData()


def _camt_050_references() -> list[Column[Any]]:
    """The references of the bank's camt.050 a hold or a booking is for (gateway.conversion.ports.FiatReferences):
    all NULL for what no camt.050 caused (an opening balance, a release mark) and for rows written before the
    simulator kept references; else message_id and end_to_end_id set (NOTPROVIDED when the bank gave none). No
    CHECK ties them together: a CHECK cannot be added to an existing SQLite table, and the simulator asserts it."""
    return [
        Column("message_id", String(reference_chars_max), nullable=True),  # the camt.050's MsgHdr/MsgId
        Column("end_to_end_id", String(reference_chars_max), nullable=True),  # its LqdtyTrfId/EndToEndId
        Column("transaction_id", String(reference_chars_max), nullable=True),  # its LqdtyTrfId/TxId
        Column("uetr", Uuid, nullable=True),  # its LqdtyTrfId/UETR
    ]


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
    *_camt_050_references(),  # what the commit books with
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
    *_camt_050_references(),  # a credit's own, a commit's its hold's
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

# Columns added after the first release of these tables, in the order they were added: (table, column name).
added_columns: tuple[tuple[Table, str], ...] = tuple(
    (table, name) for table in (holds, bookings) for name in ("message_id", "end_to_end_id", "transaction_id", "uetr")
)


def evolve(connection: Connection) -> list[str]:
    """Add to an existing database the columns it lacks among `added_columns`; returns them as table.column. Runs
    inside the transaction that creates the tables (serialised across processes by the simulator's open)."""
    inspector = inspect(connection)
    present: dict[str, set[str]] = {}
    added = []
    for table, name in added_columns:
        if table.name not in present:
            present[table.name] = {column["name"] for column in inspector.get_columns(table.name)}
        if name in present[table.name]:
            continue
        column = table.c[name]
        assert column.nullable, f"{table.name}.{name}: a column added later must be nullable, for the rows before it"
        quote = connection.dialect.identifier_preparer.quote
        column_type = column.type.compile(dialect=connection.dialect)
        connection.execute(text(f"ALTER TABLE {quote(table.name)} ADD COLUMN {quote(name)} {column_type}"))
        added.append(f"{table.name}.{name}")
    return added
