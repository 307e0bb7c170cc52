"""Ledger core: participants, accounts, transfers, pending transfers, chain head and its signatures.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

account_id_type = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "participants",
        sa.Column("bic", sa.String(11), primary_key=True),
        sa.Column("name", sa.String(140), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("clearing_code", sa.String(35), nullable=True),
        sa.Column("rtgs_account", sa.String(34), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at_us", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("role IN ('central_bank', 'bank')", name="participant_role_known"),
        sa.CheckConstraint("status IN ('active', 'suspended')", name="participant_status_known"),
    )
    op.create_table(
        "accounts",
        sa.Column("id", account_id_type, primary_key=True, autoincrement=True),
        sa.Column("code", sa.String(64), nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("owner_bic", sa.String(11), sa.ForeignKey("participants.bic"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("transfer_max_kopecks", sa.BigInteger(), nullable=True),
        sa.Column("balance_max_kopecks", sa.BigInteger(), nullable=True),
        sa.Column("posted_kopecks", sa.BigInteger(), nullable=False),
        sa.Column("debits_pending_kopecks", sa.BigInteger(), nullable=False),
        sa.Column("credits_pending_kopecks", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("kind IN ('issuance', 'wallet', 'reserve')", name="account_kind_known"),
        sa.CheckConstraint("status IN ('active', 'suspended')", name="account_status_known"),
        sa.CheckConstraint("kind = 'issuance' OR posted_kopecks >= 0", name="account_not_negative"),
    )
    op.create_index(
        "one_issuance_account", "accounts", ["kind"], unique=True,
        sqlite_where=sa.text("kind = 'issuance'"), postgresql_where=sa.text("kind = 'issuance'"),
    )
    op.create_index(
        "one_reserve_account", "accounts", ["kind"], unique=True,
        sqlite_where=sa.text("kind = 'reserve'"), postgresql_where=sa.text("kind = 'reserve'"),
    )
    op.create_table(
        "transfers",
        sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("id", sa.Uuid(), nullable=False, unique=True),
        sa.Column("debit_account_id", sa.BigInteger(), nullable=False),
        sa.Column("credit_account_id", sa.BigInteger(), nullable=False),
        sa.Column("amount_kopecks", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("phase", sa.String(16), nullable=False),
        sa.Column("pending_id", sa.Uuid(), nullable=True),
        sa.Column("reference", sa.String(140), nullable=False),
        sa.Column("uetr", sa.Uuid(), nullable=True),
        sa.Column("timeout_seconds", sa.BigInteger(), nullable=False),
        sa.Column("created_at_us", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
    )
    op.create_table(
        "pending_transfers",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("debit_account_id", sa.BigInteger(), nullable=False),
        sa.Column("credit_account_id", sa.BigInteger(), nullable=False),
        sa.Column("amount_kopecks", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("expires_at_us", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
    )
    op.create_index("pending_transfers_by_expiry", "pending_transfers", ["status", "expires_at_us"])
    op.create_table(
        "ledger_head",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
        sa.Column("created_at_us", sa.BigInteger(), nullable=False),
        sa.Column("accounts_version", sa.BigInteger(), nullable=False),
        sa.Column("emission_cap_kopecks", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name="ledger_head_single_row"),
    )
    op.create_table(
        "chain_signatures",
        sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
        sa.Column("signature", sa.LargeBinary(64), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("signed_at_us", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    for table in ("chain_signatures", "ledger_head", "pending_transfers", "transfers"):
        op.drop_table(table)
    op.drop_index("one_reserve_account", table_name="accounts")
    op.drop_index("one_issuance_account", table_name="accounts")
    op.drop_table("accounts")
    op.drop_table("participants")
