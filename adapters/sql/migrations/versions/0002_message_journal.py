"""Message journal: messages in and out, payments, idempotency claims, mailboxes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

mailbox_seq_type = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "messages",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("direction", sa.String(3), nullable=False),
        sa.Column("sender_bic", sa.String(11), nullable=True),
        sa.Column("receiver_bic", sa.String(11), nullable=True),
        sa.Column("message_type", sa.String(16), nullable=True),
        sa.Column("reference", sa.String(35), nullable=True),
        sa.Column("idempotency_key", sa.String(80), nullable=True, unique=True),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("payload_sha256", sa.LargeBinary(32), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("answers_id", sa.Uuid(), nullable=True),
        sa.Column("created_at_us", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("direction IN ('in', 'out')", name="message_direction_known"),
    )
    op.create_index("messages_by_reference", "messages", ["sender_bic", "reference"])
    op.create_index("messages_by_answered", "messages", ["answers_id"])
    op.create_table(
        "payments",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("transfer_id", sa.Uuid(), nullable=False),
        sa.Column("message_id", sa.Uuid(), sa.ForeignKey("messages.id"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("debtor_bic", sa.String(11), nullable=False),
        sa.Column("creditor_bic", sa.String(11), nullable=False),
        sa.Column("uetr", sa.Uuid(), nullable=False),
        sa.Column("end_to_end_id", sa.String(35), nullable=False),
        sa.Column("instruction_id", sa.String(35), nullable=True),
        sa.Column("transaction_id", sa.String(35), nullable=True),
        sa.Column("amount_kopecks", sa.BigInteger(), nullable=False),
        sa.Column("settlement_date", sa.String(10), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason_code", sa.String(4), nullable=True),
        sa.Column("original_payment_id", sa.Uuid(), nullable=True),
        sa.Column("created_at_us", sa.BigInteger(), nullable=False),
        sa.Column("settled_at_us", sa.BigInteger(), nullable=True),
        sa.CheckConstraint("state IN ('settled', 'rejected', 'warehoused', 'cancelled')", name="payment_state_known"),
        sa.CheckConstraint("amount_kopecks > 0", name="payment_amount_positive"),
    )
    op.create_index("payments_by_message", "payments", ["message_id", "position"])
    op.create_index("payments_by_transfer", "payments", ["transfer_id"])
    op.create_index("payments_by_uetr", "payments", ["uetr"])
    op.create_index("payments_by_end_to_end_id", "payments", ["debtor_bic", "end_to_end_id"])
    op.create_index("payments_warehoused_by_date", "payments", ["state", "settlement_date"])
    op.create_table(
        "claims",
        sa.Column("key", sa.String(120), primary_key=True),
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("created_at_us", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "mailbox",
        sa.Column("seq", mailbox_seq_type, primary_key=True, autoincrement=True),
        sa.Column("recipient_bic", sa.String(11), nullable=False),
        sa.Column("message_id", sa.Uuid(), sa.ForeignKey("messages.id"), nullable=False),
        sa.Column("created_at_us", sa.BigInteger(), nullable=False),
        sa.Column("delivered_at_us", sa.BigInteger(), nullable=True),
        sa.Column("delivery_attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at_us", sa.BigInteger(), nullable=True),
    )
    op.create_index("mailbox_by_recipient", "mailbox", ["recipient_bic", "seq"])
    op.create_index("mailbox_undelivered", "mailbox", ["next_attempt_at_us"])


def downgrade() -> None:
    op.drop_index("mailbox_undelivered", table_name="mailbox")
    op.drop_index("mailbox_by_recipient", table_name="mailbox")
    op.drop_table("mailbox")
    op.drop_table("claims")
    for index in ("payments_by_transfer", "payments_warehoused_by_date", "payments_by_end_to_end_id", "payments_by_uetr", "payments_by_message"):
        op.drop_index(index, table_name="payments")
    op.drop_table("payments")
    op.drop_index("messages_by_answered", table_name="messages")
    op.drop_index("messages_by_reference", table_name="messages")
    op.drop_table("messages")
