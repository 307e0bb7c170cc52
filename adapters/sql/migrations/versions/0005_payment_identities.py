"""Payment identities: a UETR is claimed once for every participant (it was claimed per debtor agent), EndToEndId is
no longer a key, (instructing agent, TxId) is; each payment records the GrpHdr/MsgId of the message that carried it,
so that a later OrgnlMsgId can be matched.

Existing claims move to the new keys: `uetr|<debtor>|<uetr>` becomes `uetr|<uetr>` (where two banks had claimed
one UETR, the earlier claim keeps it), `e2e|...` claims go, and every live payment with a TxId claims it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from lxml import etree

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_messages_per_pass = 500

payments = sa.table(
    "payments",
    sa.column("message_id", sa.Uuid()),
    sa.column("debtor_bic", sa.String()),
    sa.column("uetr", sa.Uuid()),
    sa.column("end_to_end_id", sa.String()),
    sa.column("transaction_id", sa.String()),
    sa.column("kind", sa.String()),
    sa.column("state", sa.String()),
    sa.column("created_at_us", sa.BigInteger()),
    sa.column("group_message_id", sa.String()),
)
messages = sa.table(
    "messages", sa.column("id", sa.Uuid()), sa.column("payload", sa.LargeBinary()), sa.column("reference", sa.String())
)
claims = sa.table(
    "claims", sa.column("key", sa.String()), sa.column("message_id", sa.Uuid()), sa.column("created_at_us", sa.BigInteger())
)


def _group_message_id(payload: bytes, fallback: str) -> str:
    """GrpHdr/MsgId of the Document in a journaled message (which passed the gateway's intake when it arrived), read
    with a parser that resolves nothing and fetches nothing; the message's journal reference if it holds none."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(payload, parser)
    except etree.XMLSyntaxError:
        return fallback
    found = root.xpath(
        "(//*[local-name()='Document']/*/*[local-name()='GrpHdr']/*[local-name()='MsgId'])[1]/text()"
    )
    return str(found[0]) if found else fallback


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("payments") as batch:
        batch.add_column(sa.Column("group_message_id", sa.String(35), nullable=True))
    carried = sa.select(payments.c.message_id).distinct().scalar_subquery()
    query = sa.select(messages.c.id, messages.c.payload, messages.c.reference).where(messages.c.id.in_(carried))
    pending: list[dict[str, object]] = []
    for row in bind.execute(query):
        group = _group_message_id(bytes(row.payload), row.reference or "NOTPROVIDED")
        pending.append({"message": row.id, "group": group})
        if len(pending) >= _messages_per_pass:
            _write_groups(bind, pending)
            pending = []
    _write_groups(bind, pending)
    with op.batch_alter_table("payments") as batch:
        batch.alter_column("group_message_id", existing_type=sa.String(35), nullable=False)
    op.create_index("payments_by_group_message_id", "payments", ["debtor_bic", "group_message_id"])

    # Claims: the universal UETR key, no EndToEndId key, the TxId key.
    old = bind.execute(sa.select(claims).where(claims.c.key.like("uetr|%|%")).order_by(claims.c.created_at_us)).all()
    kept: dict[str, object] = {}
    for claim in old:
        uetr = claim.key.rsplit("|", 1)[1]
        kept.setdefault(f"uetr|{uetr}", claim)
    bind.execute(sa.delete(claims).where(claims.c.key.like("uetr|%|%")))
    bind.execute(sa.delete(claims).where(claims.c.key.like("e2e|%")))
    if kept:
        bind.execute(sa.insert(claims), [
            {"key": key, "message_id": claim.message_id, "created_at_us": claim.created_at_us}
            for key, claim in kept.items()
        ])
    live = bind.execute(
        sa.select(payments.c.debtor_bic, payments.c.transaction_id, payments.c.message_id, payments.c.created_at_us)
        .where(payments.c.state != "rejected", payments.c.transaction_id.is_not(None), payments.c.kind != "pacs.004")
        .order_by(payments.c.created_at_us)
    ).all()
    transaction_claims: dict[str, dict[str, object]] = {}
    for payment in live:
        key = f"txid|{payment.debtor_bic}|{payment.transaction_id}"
        transaction_claims.setdefault(
            key, {"key": key, "message_id": payment.message_id, "created_at_us": payment.created_at_us}
        )
    if transaction_claims:
        bind.execute(sa.insert(claims), list(transaction_claims.values()))


def _write_groups(bind: sa.Connection, groups: list[dict[str, object]]) -> None:
    if not groups:
        return
    statement = (
        sa.update(payments)
        .where(payments.c.message_id == sa.bindparam("message"))
        .values(group_message_id=sa.bindparam("group"))
    )
    bind.execute(statement, groups)


def downgrade() -> None:
    bind = op.get_bind()
    bind.execute(sa.delete(claims).where(claims.c.key.like("txid|%")))
    bind.execute(sa.delete(claims).where(claims.c.key.like("uetr|%")))
    live = bind.execute(
        sa.select(payments.c.debtor_bic, payments.c.uetr, payments.c.end_to_end_id, payments.c.message_id,
                  payments.c.created_at_us)
        .where(payments.c.state != "rejected", payments.c.kind != "pacs.004")
        .order_by(payments.c.created_at_us)
    ).all()
    restored: dict[str, dict[str, object]] = {}
    for payment in live:
        for key in (f"uetr|{payment.debtor_bic}|{payment.uetr}", f"e2e|{payment.debtor_bic}|{payment.end_to_end_id}"):
            restored.setdefault(
                key, {"key": key, "message_id": payment.message_id, "created_at_us": payment.created_at_us}
            )
    if restored:
        bind.execute(sa.insert(claims), list(restored.values()))
    op.drop_index("payments_by_group_message_id", table_name="payments")
    with op.batch_alter_table("payments") as batch:
        batch.drop_column("group_message_id")
