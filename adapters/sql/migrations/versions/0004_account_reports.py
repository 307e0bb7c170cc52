"""Account reports: an account's transfers over a period, from either side, by index.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("transfers_by_debit_account", "transfers", ["debit_account_id", "created_at_us"])
    op.create_index("transfers_by_credit_account", "transfers", ["credit_account_id", "created_at_us"])


def downgrade() -> None:
    op.drop_index("transfers_by_credit_account", table_name="transfers")
    op.drop_index("transfers_by_debit_account", table_name="transfers")
