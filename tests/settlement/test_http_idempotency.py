"""Over real HTTP, a message or payment sent again never settles twice: the same bytes get the same answer, a reused
MsgId, UETR (by any bank) or TxId gets DUPL while the rest settles, an EndToEndId may repeat, and only a rejected
payment's UETR may be used again."""

from __future__ import annotations

from gateway.domain.journal import PaymentState, payment_transfer_id
from tests.settlement.builders import (
    ALFA,
    SBER,
    VTB,
    Tx,
    pacs_008,
    pacs_028,
    today_in_moscow,
)
from tests.settlement.conftest import (
    FUNDED_TOTAL,
    GatewayUnderTest,
    Message,
    StatusReport,
    message_reject,
)


async def test_the_same_message_twice_gets_the_identical_answer_and_moves_money_once(gw: GatewayUnderTest) -> None:
    payload = pacs_008(SBER, "SBER-TWICE-1", [Tx(SBER, VTB, 250_000_00), Tx(SBER, ALFA, 50)], today_in_moscow())
    first = await gw.post(payload)
    assert first.status == 200 and first.headers["X-Gateway-Outcome"] == "accepted"
    assert StatusReport(Message.read(first.body)).group_status == "ACSC"
    other = await gw.settle(pacs_008(VTB, "VTB-BETWEEN", [Tx(VTB, ALFA, 1_00)], today_in_moscow()))
    assert other.group_status == "ACSC"

    for _ in range(2):
        again = await gw.post(payload)
        assert again.status == 200 and again.headers["X-Gateway-Outcome"] == "replayed"
        assert again.body == first.body

    # Sberbank paid 250,000.00 + 0.50 once; VTB paid Alfa 1.00.
    assert await gw.balances() == {SBER: 2_749_999_50, VTB: 2_249_999_00, ALFA: 1_000_001_50}
    assert await gw.wallets_total() == FUNDED_TOTAL
    assert len(await gw.payments_settled()) == 3
    # One answer in the sender's mailbox and one forward per creditor agent: a replay delivers nothing new.
    assert [m.payload for m in await gw.whole_mailbox(SBER)] == [first.body]
    assert [m.kind for m in await gw.whole_mailbox(VTB)] == ["pacs.008.001.08", "pacs.002.001.10"]
    assert [m.app_hdr.text("Rltd/BizMsgIdr") for m in await gw.whole_mailbox(ALFA)] == ["SBER-TWICE-1", "VTB-BETWEEN"]


async def test_the_same_message_id_with_other_content_is_refused_dupl_and_moves_nothing(gw: GatewayUnderTest) -> None:
    original = pacs_008(SBER, "SBER-ID-1", [Tx(SBER, VTB, 100_00)], today_in_moscow())
    first = await gw.post(original)
    assert StatusReport(Message.read(first.body)).group_status == "ACSC"
    different = Tx(SBER, VTB, 200_00)
    answer = await gw.post(pacs_008(SBER, "SBER-ID-1", [different], today_in_moscow()))

    assert answer.status == 200 and answer.headers["X-Gateway-Outcome"] == "rejected"
    Message.read(answer.body).assert_official()
    reject = message_reject(answer.body)
    assert reject.text("Rsn/RjctgPtyRsn") == "DUPL"
    assert reject.text("RltdRef/Ref") == "SBER-ID-1"
    assert await gw.balances() == {SBER: 2_999_900_00, VTB: 2_000_100_00, ALFA: 1_000_000_00}
    assert len(await gw.payments_settled()) == 1
    assert await gw.payments(SBER, different.uetr) == []
    # The original is still answered as before, and the refusal reached the sender's mailbox too.
    assert (await gw.post(original)).body == first.body
    assert [m.kind for m in await gw.whole_mailbox(SBER)] == ["pacs.002.001.10", "admi.002.001.01"]
    assert len(await gw.whole_mailbox(VTB)) == 1


async def test_a_new_message_reusing_a_settled_uetr_gets_that_transaction_dupl_and_the_rest_settle(
    gw: GatewayUnderTest,
) -> None:
    paid = Tx(SBER, VTB, 100_00)
    first = await gw.settle(pacs_008(SBER, "SBER-UETR-1", [paid], today_in_moscow()))
    resent = Tx(SBER, VTB, 100_00, uetr=paid.uetr)  # same UETR, new EndToEndId
    fresh = Tx(SBER, ALFA, 5_00)
    report = await gw.settle(pacs_008(SBER, "SBER-UETR-2", [resent, fresh], today_in_moscow()))

    assert report.group_status == "PART" and report.counts == {"ACSC": 1, "RJCT": 1}
    [duplicate, settled] = report.transactions
    assert (duplicate.uetr, duplicate.status, duplicate.reasons) == (str(paid.uetr), "RJCT", ("DUPL",))
    assert duplicate.clearing_reference is None
    assert settled.status == "ACSC"
    # 100.00 once to VTB, 5.00 to Alfa.
    assert await gw.balances() == {SBER: 2_999_895_00, VTB: 2_000_100_00, ALFA: 1_000_005_00}
    assert await gw.payments_settled() == {
        payment_transfer_id(SBER, paid.uetr).hex: (SBER, VTB, 100_00),
        payment_transfer_id(SBER, fresh.uetr).hex: (SBER, ALFA, 5_00),
    }
    assert len(await gw.whole_mailbox(VTB)) == 1  # VTB is never told about the duplicate
    # Asked about the UETR, the gateway still reports the payment that settled under it.
    status = StatusReport(Message.read((await gw.post(pacs_028(SBER, "SBER-UETR-ASK", [paid.uetr]))).body))
    [asked] = status.transactions
    assert (asked.status, asked.reasons) == ("ACSC", ())
    assert asked.clearing_reference == first.transactions[0].clearing_reference


async def test_an_end_to_end_id_is_the_customers_reference_and_may_repeat(gw: GatewayUnderTest) -> None:
    paid = Tx(SBER, VTB, 100_00, end_to_end_id="INV-4417-2026")
    await gw.settle(pacs_008(SBER, "SBER-E2E-1", [paid], today_in_moscow()))
    # Another customer of the same bank gives the same reference; two more give none (NOTPROVIDED), in one message.
    again = Tx(SBER, VTB, 100_00, end_to_end_id="INV-4417-2026")
    unreferenced = [Tx(SBER, ALFA, 7_00, end_to_end_id="NOTPROVIDED"), Tx(SBER, VTB, 3_00, end_to_end_id="NOTPROVIDED")]
    report = await gw.settle(pacs_008(SBER, "SBER-E2E-2", [again, *unreferenced], today_in_moscow()))
    assert report.group_status == "ACSC"
    later = await gw.settle(pacs_008(SBER, "SBER-E2E-3", [Tx(SBER, ALFA, 1_00, end_to_end_id="NOTPROVIDED")],
                                     today_in_moscow()))  # fmt: skip
    assert later.group_status == "ACSC"
    # The references go on untouched: the creditor agent's forwarded copy carries the customer's EndToEndId.
    forwarded = [m for m in await gw.whole_mailbox(VTB) if m.kind == "pacs.008.001.08"]
    assert [m.document.texts("FIToFICstmrCdtTrf/CdtTrfTxInf/PmtId/EndToEndId") for m in forwarded] == [
        ["INV-4417-2026"], ["INV-4417-2026", "NOTPROVIDED"],
    ]  # fmt: skip
    assert await gw.balances() == {SBER: 2_999_789_00, VTB: 2_000_203_00, ALFA: 1_000_008_00}


async def test_a_transaction_id_is_unique_per_instructing_agent(gw: GatewayUnderTest) -> None:
    first = Tx(SBER, VTB, 10_00, transaction_id="SBER-TX-77")
    await gw.settle(pacs_008(SBER, "SBER-TXID-1", [first], today_in_moscow()))
    reused = Tx(SBER, VTB, 20_00, transaction_id="SBER-TX-77")
    report = await gw.settle(pacs_008(SBER, "SBER-TXID-2", [reused], today_in_moscow()))
    assert (report.group_status, report.transactions[0].reasons) == ("RJCT", ("DUPL",))
    # Another bank's TxId space is its own.
    theirs = await gw.settle(pacs_008(VTB, "VTB-TXID-1", [Tx(VTB, SBER, 1_00, transaction_id="SBER-TX-77")],
                                      today_in_moscow()))  # fmt: skip
    assert theirs.group_status == "ACSC"
    assert await gw.balances() == {SBER: 2_999_991_00, VTB: 2_000_009_00, ALFA: 1_000_000_00}


async def test_a_uetr_another_bank_used_is_a_duplicate(gw: GatewayUnderTest) -> None:
    paid = Tx(SBER, VTB, 100_00)
    await gw.settle(pacs_008(SBER, "SBER-U-1", [paid], today_in_moscow()))
    copied = Tx(ALFA, VTB, 1, uetr=paid.uetr)
    report = await gw.settle(pacs_008(ALFA, "ALFA-U-1", [copied], today_in_moscow()))
    assert (report.group_status, report.transactions[0].reasons) == ("RJCT", ("DUPL",))
    assert await gw.balances() == {SBER: 2_999_900_00, VTB: 2_000_100_00, ALFA: 1_000_000_00}
    [record] = await gw.payments(ALFA, paid.uetr)
    assert (record.state, record.reason_code) == (PaymentState.REJECTED, "DUPL")


async def test_a_rejected_payments_uetr_may_be_used_again_and_then_settles(gw: GatewayUnderTest) -> None:
    too_much = Tx(VTB, SBER, 2_500_000_00)  # VTB holds 2,000,000.00
    refused_payload = pacs_008(VTB, "VTB-RETRY-1", [too_much], today_in_moscow())
    refused = await gw.post(refused_payload)
    report = StatusReport(Message.read(refused.body))
    assert report.group_status == "RJCT" and report.transactions[0].reasons == ("AM04",)
    assert await gw.payments_settled() == {}

    await gw.mint({VTB: 1_000_000_00})  # now 3,000,000.00
    # The refused message sent again is the same message: answered as before, still moving nothing.
    assert (await gw.post(refused_payload)).body == refused.body
    assert await gw.balances() == {SBER: 3_000_000_00, VTB: 3_000_000_00, ALFA: 1_000_000_00}

    retried = Tx(VTB, SBER, 2_500_000_00, uetr=too_much.uetr, end_to_end_id=too_much.end_to_end_id)
    report = await gw.settle(pacs_008(VTB, "VTB-RETRY-2", [retried], today_in_moscow()))
    assert report.group_status == "ACSC"
    assert report.transactions[0].clearing_reference == payment_transfer_id(VTB, too_much.uetr).hex
    assert await gw.balances() == {SBER: 5_500_000_00, VTB: 500_000_00, ALFA: 1_000_000_00}
    records = await gw.payments(VTB, too_much.uetr)
    assert sorted((r.state, r.reason_code) for r in records) == [
        (PaymentState.REJECTED, "AM04"), (PaymentState.SETTLED, None),
    ]  # fmt: skip
    # Asked about the UETR, the gateway reports the attempt that settled, not the one refused before it.
    status = StatusReport(Message.read((await gw.post(pacs_028(VTB, "VTB-RETRY-ASK", [too_much.uetr]))).body))
    assert [(s.status, s.reasons) for s in status.transactions] == [("ACSC", ())]
    # Once settled, the UETR is taken for good.
    again = await gw.settle(pacs_008(VTB, "VTB-RETRY-3", [Tx(VTB, SBER, 1_00, uetr=too_much.uetr)], today_in_moscow()))
    assert again.transactions[0].reasons == ("DUPL",)
    assert await gw.balances() == {SBER: 5_500_000_00, VTB: 500_000_00, ALFA: 1_000_000_00}
