"""A journal written before payment identities changed (claims per debtor agent, EndToEndId claimed, no original
MsgId on payments) upgrades in place: its UETRs become universal claims, the earlier claimant keeping one that two
banks had used, EndToEndId claims go, TxIds are claimed, each payment learns its GrpHdr/MsgId, and the gateway, the
journal and `ledger verify` go on working on it."""

from __future__ import annotations

import sqlalchemy as sa
from gateway_adapters.sql.migrate import downgrade_to, upgrade_to_head

from gateway.ledger.signing import load_public_key
from gateway.ledger.verify import verify_ledger
from tests.settlement.builders import SBER, VTB, Tx, pacs_008, pacs_028, today_in_moscow
from tests.settlement.conftest import GatewayUnderTest, Message, StatusReport


async def _claims(gw: GatewayUnderTest) -> dict[str, object]:
    async with gw.gateway.store.engine.connect() as connection:
        rows = await connection.execute(sa.text("SELECT key, message_id FROM claims"))
        return {row.key: row.message_id for row in rows}


async def test_an_upgraded_journal_keeps_every_payment_once_and_answers_as_before(gw: GatewayUnderTest) -> None:
    engine = gw.gateway.store.engine
    paid = Tx(SBER, VTB, 100_00, end_to_end_id="INV-1", transaction_id="SBER-TX-1")
    other = Tx(SBER, VTB, 50_00, end_to_end_id="INV-1")
    report = await gw.settle(pacs_008(SBER, "SBER-OLD-1", [paid, other], today_in_moscow()))
    assert report.group_status == "ACSC"
    [record] = await gw.payments(SBER, paid.uetr)

    await downgrade_to(engine, "0004")
    before = await _claims(gw)
    assert f"uetr|{SBER}|{paid.uetr}" in before and f"e2e|{SBER}|INV-1" in before
    # The state the old keys allowed: another bank claimed the same UETR later, for a message of its own.
    async with engine.begin() as connection:
        await connection.execute(
            sa.text("INSERT INTO claims (key, message_id, created_at_us) VALUES (:key, :message, :at)"),
            {"key": f"uetr|ALFARUMMXXX|{paid.uetr}", "message": record.message_id.hex if engine.dialect.name ==
             "sqlite" else record.message_id, "at": record.created_at_us + 1},
        )  # fmt: skip

    await upgrade_to_head(engine)
    after = await _claims(gw)
    assert not [key for key in after if key.startswith("e2e|") or key.count("|") == 2 and key.startswith("uetr|")]
    assert {f"uetr|{paid.uetr}", f"uetr|{other.uetr}", f"txid|{SBER}|SBER-TX-1"} <= set(after)
    [upgraded] = await gw.payments(SBER, paid.uetr)
    assert upgraded.group_message_id == "SBER-OLD-1"

    # The upgraded journal still refuses a resend, answers a status request by the original message, and verifies.
    resent = await gw.settle(pacs_008(SBER, "SBER-OLD-2", [Tx(SBER, VTB, 100_00, uetr=paid.uetr)], today_in_moscow()))
    assert (resent.group_status, resent.transactions[0].reasons) == ("RJCT", ("DUPL",))
    asked = StatusReport(Message.read((await gw.post(pacs_028(SBER, "SBER-OLD-ASK", [paid.uetr]))).body))
    assert [(s.status, s.xml.text("OrgnlGrpInf/OrgnlMsgId")) for s in asked.transactions] == [("ACSC", "SBER-OLD-1")]
    public_key = load_public_key(gw.config.central_bank.signing_key_file)
    verified = await verify_ledger(gw.gateway.store, public_key)
    assert verified.ok, verified.first_break
