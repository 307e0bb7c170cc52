"""Business days and reconciliation: each business day's boundary on the ledger (the last transfer it holds), fixed
as it closes; the breaks reconciliations found and their runs; and the camt.050 references every conversion
carries onto the ledger, the RTGS and the reports.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

run_id_type = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "business_days",
        sa.Column("business_date", sa.String(10), primary_key=True),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("cutoff_at_us", sa.BigInteger(), nullable=False),
        sa.Column("first_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=True),
        sa.Column("opened_at_us", sa.BigInteger(), nullable=False),
        sa.Column("closed_at_us", sa.BigInteger(), nullable=True),
        sa.Column("closed_by", sa.String(64), nullable=True),
        sa.CheckConstraint("state IN ('open', 'closing', 'closed')", name="business_day_state_known"),
        sa.CheckConstraint("(state = 'open') = (last_seq IS NULL)", name="business_day_bounded_once_closing"),
    )
    op.create_table(
        "reconciliation_breaks",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("fingerprint", sa.String(200), nullable=False, unique=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("business_date", sa.String(10), nullable=False),
        sa.Column("first_seen_date", sa.String(10), nullable=False),
        sa.Column("last_seen_date", sa.String(10), nullable=False),
        sa.Column("first_seen_at_us", sa.BigInteger(), nullable=False),
        sa.Column("last_seen_at_us", sa.BigInteger(), nullable=False),
        sa.Column("resolved_at_us", sa.BigInteger(), nullable=True),
        sa.Column("amount_kopecks", sa.BigInteger(), nullable=True),
        sa.Column("expected_kopecks", sa.BigInteger(), nullable=True),
        sa.Column("account", sa.String(64), nullable=True),
        sa.Column("references_json", sa.String(4000), nullable=False),
        sa.Column("description", sa.String(1000), nullable=False),
    )
    op.create_index("reconciliation_breaks_open", "reconciliation_breaks", ["resolved_at_us", "business_date"])
    op.create_table(
        "reconciliation_runs",
        sa.Column("id", run_id_type, primary_key=True, autoincrement=True),
        sa.Column("business_date", sa.String(10), nullable=False),
        sa.Column("run_at_us", sa.BigInteger(), nullable=False),
        sa.Column("breaks_open", sa.Integer(), nullable=False),
        sa.Column("breaks_new", sa.Integer(), nullable=False),
        sa.Column("breaks_resolved", sa.Integer(), nullable=False),
    )
    op.create_index("reconciliation_runs_by_date", "reconciliation_runs", ["business_date", "run_at_us"])
    with op.batch_alter_table("conversions") as batch:
        batch.add_column(sa.Column("end_to_end_id", sa.String(35), nullable=True))
        batch.add_column(sa.Column("uetr", sa.Uuid(), nullable=True))
    op.create_index("conversions_by_uetr", "conversions", ["uetr"])


def downgrade() -> None:
    op.drop_index("conversions_by_uetr", table_name="conversions")
    with op.batch_alter_table("conversions") as batch:
        batch.drop_column("uetr")
        batch.drop_column("end_to_end_id")
    op.drop_index("reconciliation_runs_by_date", table_name="reconciliation_runs")
    op.drop_table("reconciliation_runs")
    op.drop_index("reconciliation_breaks_open", table_name="reconciliation_breaks")
    op.drop_table("reconciliation_breaks")
    op.drop_table("business_days")
