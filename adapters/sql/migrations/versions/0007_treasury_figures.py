"""Treasury figures: the reason code of each inbound message refused as a whole, and the indexes the treasury page's
queries need to stay cheap when polled every few seconds (measured in bench/treasury.py).

`messages.reason_code` is written as a refusal is journaled (the code its admi.002, pacs.002 or camt.025 leads
with); for refusals journaled before this revision it is read back from that answer. A message whose transactions
were judged one by one keeps it NULL: each rejected transaction's code is on its payment row.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from lxml import etree

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_messages_per_pass = 500
# Status codes of a camt.025's ReqHdlg that say what happened, not why: the reason is the other StsCd.
_receipt_statuses = frozenset({"ACSC", "RJCT", "PDNG"})

messages = sa.table(
    "messages",
    sa.column("id", sa.Uuid()),
    sa.column("direction", sa.String()),
    sa.column("status", sa.String()),
    sa.column("answers_id", sa.Uuid()),
    sa.column("payload", sa.LargeBinary()),
    sa.column("created_at_us", sa.BigInteger()),
    sa.column("reason_code", sa.String()),
)
payments = sa.table("payments", sa.column("message_id", sa.Uuid()))


def _leading_code(payload: bytes) -> str | None:
    """The reason code a journaled answer leads with: an admi.002's RjctgPtyRsn, a pacs.002's first StsRsnInf/Rsn/Cd,
    a camt.025's reason StsCd. Read with a parser that resolves nothing and fetches nothing."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(payload, parser)
    except etree.XMLSyntaxError:
        return None
    found = root.xpath(
        "//*[local-name()='Document']//*[local-name()='RjctgPtyRsn'"
        " or (local-name()='Cd' and parent::*[local-name()='Rsn'])"
        " or (local-name()='StsCd' and parent::*[local-name()='ReqHdlg'])]/text()"
    )
    codes = [str(text).strip() for text in found if str(text).strip() not in _receipt_statuses]
    return codes[0] if codes and len(codes[0]) <= 4 else None


def upgrade() -> None:
    op.add_column("messages", sa.Column("reason_code", sa.String(4), nullable=True))
    # Inbound messages by arrival, with what today's flows count of them: a scan of this index alone answers them.
    # Partial, so that the answers and forwards written with every payment cost no index entry.
    op.create_index(
        "messages_inbound_by_arrival", "messages", ["created_at_us", "sender_bic", "message_type", "status"],
        sqlite_where=sa.text("direction = 'in'"), postgresql_where=sa.text("direction = 'in'"),
    )
    op.create_index(
        "messages_refused_by_arrival", "messages", ["created_at_us"],
        sqlite_where=sa.text("reason_code IS NOT NULL"), postgresql_where=sa.text("reason_code IS NOT NULL"),
    )
    op.create_index(
        "payments_by_arrival", "payments", ["created_at_us", "debtor_bic", "kind", "state", "amount_kopecks"]
    )
    op.create_index(
        "payments_rejected_by_arrival", "payments", ["created_at_us"],
        sqlite_where=sa.text("state = 'rejected'"), postgresql_where=sa.text("state = 'rejected'"),
    )
    op.create_index("conversions_by_day", "conversions", ["business_date"])
    _backfill_reason_codes()


def _backfill_reason_codes() -> None:
    """Refusals journaled before this revision: the code their answer led with. Bounded passes, in (arrival, id)
    order, each starting after the last message of the one before."""
    connection = op.get_bind()
    answers = messages.alias("answers")
    after: tuple[int, object] | None = None
    while True:
        query = (
            sa.select(messages.c.id, messages.c.created_at_us)
            .where(
                messages.c.direction == "in",
                messages.c.status == "rejected",
                ~sa.exists().where(payments.c.message_id == messages.c.id),
            )
            .order_by(messages.c.created_at_us, messages.c.id)
            .limit(_messages_per_pass)
        )
        if after is not None:
            after_us, after_id = after
            query = query.where(
                sa.or_(
                    messages.c.created_at_us > after_us,
                    sa.and_(messages.c.created_at_us == after_us, messages.c.id > after_id),
                )
            )
        refused = connection.execute(query).all()
        for row in refused:
            answer = connection.execute(
                sa.select(answers.c.payload)
                .where(answers.c.answers_id == row.id, answers.c.direction == "out")
                .order_by(answers.c.created_at_us)
                .limit(1)
            ).scalar()
            code = None if answer is None else _leading_code(bytes(answer))
            if code is not None:
                connection.execute(messages.update().where(messages.c.id == row.id).values(reason_code=code))
        if len(refused) < _messages_per_pass:
            return
        after = (refused[-1].created_at_us, refused[-1].id)


def downgrade() -> None:
    op.drop_index("conversions_by_day", table_name="conversions")
    op.drop_index("payments_rejected_by_arrival", table_name="payments")
    op.drop_index("payments_by_arrival", table_name="payments")
    op.drop_index("messages_refused_by_arrival", table_name="messages")
    op.drop_index("messages_inbound_by_arrival", table_name="messages")
    # A plain ALTER on both databases (SQLite since 3.35): a batch copy of `messages` would have to drop the table
    # that payments, the mailbox and conversions refer to, which SQLite refuses with foreign keys on.
    op.execute("ALTER TABLE messages DROP COLUMN reason_code")
