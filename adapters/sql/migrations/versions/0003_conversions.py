"""Conversions between fiat and cryptoroubles, and the central bank's emission controls.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

change_id_type = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "conversions",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("message_id", sa.Uuid(), sa.ForeignKey("messages.id"), nullable=False),
        sa.Column("bank_bic", sa.String(11), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("rtgs_account", sa.String(34), nullable=False),
        sa.Column("wallet_account_id", sa.BigInteger(), nullable=False),
        sa.Column("wallet_code", sa.String(64), nullable=False),
        sa.Column("amount_kopecks", sa.BigInteger(), nullable=False),
        sa.Column("business_date", sa.String(10), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason_code", sa.String(4), nullable=True),
        sa.Column("reason_text", sa.String(140), nullable=True),
        sa.Column("request_message_id", sa.String(35), nullable=False),
        sa.Column("transaction_id", sa.String(35), nullable=True),
        sa.Column("created_at_us", sa.BigInteger(), nullable=False),
        sa.Column("deadline_at_us", sa.BigInteger(), nullable=False),
        sa.Column("updated_at_us", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("direction IN ('mint', 'burn')", name="conversion_direction_known"),
        sa.CheckConstraint(
            "state IN ('received', 'fiat_held', 'committing', 'crediting', 'unwinding', 'settled', 'rejected')",
            name="conversion_state_known",
        ),
        sa.CheckConstraint("amount_kopecks > 0", name="conversion_amount_positive"),
    )
    op.create_index("conversions_by_message", "conversions", ["message_id"])
    op.create_index("conversions_by_state", "conversions", ["state"])
    op.create_index("conversions_by_bank_day", "conversions", ["bank_bic", "business_date"])
    op.create_table(
        "conversion_limits",
        sa.Column("bank_bic", sa.String(11), sa.ForeignKey("participants.bic"), primary_key=True),
        sa.Column("daily_kopecks", sa.BigInteger(), nullable=False),
        sa.Column("set_at_us", sa.BigInteger(), nullable=False),
        sa.Column("set_by", sa.String(140), nullable=False),
    )
    op.create_table(
        "emission_control_changes",
        sa.Column("id", change_id_type, primary_key=True, autoincrement=True),
        sa.Column("subject", sa.String(24), nullable=False),
        sa.Column("previous_kopecks", sa.BigInteger(), nullable=True),
        sa.Column("new_kopecks", sa.BigInteger(), nullable=True),
        sa.Column("set_at_us", sa.BigInteger(), nullable=False),
        sa.Column("set_by", sa.String(140), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("emission_control_changes")
    op.drop_table("conversion_limits")
    for index in ("conversions_by_bank_day", "conversions_by_state", "conversions_by_message"):
        op.drop_index(index, table_name="conversions")
    op.drop_table("conversions")
