"""Returns, future-dated payments (warehoused, released on their day, cancelled by camt.056), cancellation of settled
payments passed to the creditor agent, camt.054 notifications, and a client hanging up mid-request, over real HTTP."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

from gateway.domain.journal import PaymentState
from tests.settlement.builders import (
    ALFA,
    SBER,
    VTB,
    Tx,
    camt_029,
    camt_056,
    pacs_004,
    pacs_008,
    pacs_028,
    today_in_moscow,
)
from tests.settlement.conftest import (
    FUNDING,
    GatewayUnderTest,
    Message,
    message_reject,
    status_report,
)

day_us = 86_400 * 1_000_000


def _statuses(payload: bytes, name: str) -> list[str]:
    return re.findall(rf"<{name}>([A-Z]+)</{name}>".encode(), payload)  # type: ignore[arg-type]


async def test_a_return_moves_the_money_back_once_and_never_more_than_settled(gw: GatewayUnderTest) -> None:
    today = today_in_moscow()
    paid = Tx(SBER, VTB, 1_250_00)
    assert (await gw.settle(pacs_008(SBER, "PAY-1", [paid], today))).group_status == "ACSC"
    too_much = await gw.settle(pacs_004(VTB, "RET-0", [(paid.uetr, 1_250_01)], today))
    assert too_much.transactions[0].status == "RJCT" and too_much.transactions[0].reasons == ("AM02",)

    returned = await gw.settle(pacs_004(VTB, "RET-1", [(paid.uetr, 1_000_00)], today))
    assert returned.group_status == "ACSC"
    # 3,000,000.00 - 1,250.00 + 1,000.00 and 2,000,000.00 + 1,250.00 - 1,000.00
    assert await gw.balances() == {SBER: 2_999_750_00, VTB: 2_000_250_00, ALFA: FUNDING[ALFA]}
    again = await gw.settle(pacs_004(VTB, "RET-2", [(paid.uetr, 250_00)], today))
    assert again.transactions[0].reasons == ("DUPL",)
    assert await gw.balances() == {SBER: 2_999_750_00, VTB: 2_000_250_00, ALFA: FUNDING[ALFA]}
    # Only the bank that was paid can return a payment.
    stranger = await gw.settle(pacs_004(ALFA, "RET-3", [(paid.uetr, 1_00)], today))
    assert stranger.transactions[0].status == "RJCT"
    forwarded = [m for m in await gw.whole_mailbox(SBER) if m.kind == "pacs.004.001.09"]
    assert len(forwarded) == 1
    forwarded[0].assert_official()
    assert forwarded[0].document.text("PmtRtr/TxInf/OrgnlUETR") == str(paid.uetr)
    assert forwarded[0].document.text("PmtRtr/TxInf/RtrdIntrBkSttlmAmt") == "1000.00"


async def test_a_future_dated_payment_waits_settles_on_its_day_and_tells_both_banks(gw: GatewayUnderTest) -> None:
    tomorrow = today_in_moscow() + timedelta(days=1)
    later = Tx(SBER, ALFA, 700_00, settlement_date=tomorrow)
    pending = await gw.settle(pacs_008(SBER, "FUT-1", [later], tomorrow))
    assert pending.transactions[0].status == "PDNG"
    assert await gw.balances() == FUNDING
    assert await gw.gateway.warehouse.settle_due(100) == 0  # not today

    real_clock = gw.environment.clock_us
    gw.environment.clock_us = lambda: real_clock() + day_us
    assert await gw.gateway.warehouse.settle_due(100) == 1
    assert await gw.gateway.warehouse.settle_due(100) == 0  # released once
    assert await gw.balances() == {SBER: FUNDING[SBER] - 700_00, VTB: FUNDING[VTB], ALFA: FUNDING[ALFA] + 700_00}
    reports = [m for m in await gw.whole_mailbox(SBER) if m.kind == "pacs.002.001.10"]
    assert [status_report(m.payload).transactions[0].status for m in reports] == ["PDNG", "ACSC"]
    forwarded = [m for m in await gw.whole_mailbox(ALFA) if m.kind == "pacs.008.001.08"]
    assert len(forwarded) == 1
    forwarded[0].assert_official()
    status = status_report((await gw.post(pacs_028(SBER, "STS-F", [later.uetr]))).body)
    assert status.transactions[0].status == "ACSC"


async def test_a_released_payment_short_of_funds_is_rejected_on_its_day(gw: GatewayUnderTest) -> None:
    tomorrow = today_in_moscow() + timedelta(days=1)
    big = Tx(VTB, ALFA, 2_000_000_01, settlement_date=tomorrow)  # VTB holds 2,000,000.00
    assert (await gw.settle(pacs_008(VTB, "FUT-2", [big], tomorrow))).transactions[0].status == "PDNG"
    real_clock = gw.environment.clock_us
    gw.environment.clock_us = lambda: real_clock() + day_us
    assert await gw.gateway.warehouse.settle_due(100) == 1
    assert await gw.balances() == FUNDING
    reports = [m for m in await gw.whole_mailbox(VTB) if m.kind == "pacs.002.001.10"]
    last = status_report(reports[-1].payload).transactions[0]
    assert (last.status, last.reasons) == ("RJCT", ("AM04",))
    assert [p.state for p in await gw.payments(VTB, big.uetr)] == [PaymentState.REJECTED]
    # Refused on its day, it gave up its UETR and EndToEndId, as a payment refused on arrival never takes them: the
    # corrected resend, same references and an amount VTB holds, settles.
    corrected = Tx(VTB, ALFA, 2_000_000_00, end_to_end_id=big.end_to_end_id, uetr=big.uetr)
    resent = await gw.settle(pacs_008(VTB, "FUT-2-AGAIN", [corrected], today_in_moscow() + timedelta(days=1)))
    assert resent.transactions[0].status == "ACSC", resent.transactions[0]
    assert await gw.balances() == {SBER: FUNDING[SBER], VTB: 0, ALFA: FUNDING[ALFA] + 2_000_000_00}


async def test_camt_056_cancels_warehoused_passes_on_settled_and_refuses_unknown(gw: GatewayUnderTest) -> None:
    today, tomorrow = today_in_moscow(), today_in_moscow() + timedelta(days=1)
    settled, waiting, unknown = Tx(SBER, VTB, 10_00), Tx(SBER, ALFA, 20_00, settlement_date=tomorrow), Tx(SBER, VTB, 1)
    await gw.settle(pacs_008(SBER, "PAY-A", [settled], today))
    await gw.settle(pacs_008(SBER, "PAY-B", [waiting], tomorrow))

    answer = await gw.post(camt_056(SBER, "CXL-1", [settled, waiting, unknown]))
    assert answer.status == 200
    resolution = Message.read(answer.body)
    assert resolution.kind == "camt.029.001.09"
    resolution.assert_official()
    assert _statuses(answer.body, "Conf") == [b"PDCR"]
    assert _statuses(answer.body, "TxCxlSts") == [b"PDCR", b"ACCR", b"RJCR"]
    assert b"<Cd>NOOR</Cd>" in answer.body
    assert [p.state for p in await gw.payments(SBER, waiting.uetr)] == [PaymentState.CANCELLED]

    # The creditor agent of the settled payment gets the request, cut to its own transaction.
    requests = [m for m in await gw.whole_mailbox(VTB) if m.kind == "camt.056.001.08"]
    assert len(requests) == 1
    requests[0].assert_official()
    assert requests[0].document.texts("FIToFIPmtCxlReq/Undrlyg/TxInf/OrgnlUETR") == [str(settled.uetr)]
    assert not any(m.kind == "camt.056.001.08" for m in await gw.whole_mailbox(ALFA))

    # The cancelled payment never settles.
    real_clock = gw.environment.clock_us
    gw.environment.clock_us = lambda: real_clock() + day_us
    assert await gw.gateway.warehouse.settle_due(100) == 0
    assert await gw.balances() == {SBER: FUNDING[SBER] - 10_00, VTB: FUNDING[VTB] + 10_00, ALFA: FUNDING[ALFA]}
    # The same request again is answered from the journal, byte for byte.
    assert (await gw.post(camt_056(SBER, "CXL-1", [settled, waiting, unknown]))).body == answer.body


async def test_a_client_hanging_up_mid_request_leaves_the_message_settled_once(gw: GatewayUnderTest) -> None:
    paid = Tx(SBER, VTB, 42_00)
    payload = pacs_008(SBER, "HANGUP-1", [paid], today_in_moscow())
    host, port = gw.client.server.host, gw.client.server.port
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(
        b"POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/xml\r\n"
        + f"Content-Length: {len(payload)}\r\n\r\n".encode() + payload
    )
    await writer.drain()
    writer.close()  # gone before the answer
    for _ in range(200):
        if await gw.payments(SBER, paid.uetr):
            break
        await asyncio.sleep(0.01)
    assert [p.state for p in await gw.payments(SBER, paid.uetr)] == [PaymentState.SETTLED]
    # Its answer waits in the mailbox; the retry gets the same answer and moves nothing more.
    first = [m for m in await gw.whole_mailbox(SBER) if m.kind == "pacs.002.001.10"]
    assert len(first) == 1
    assert (await gw.post(payload)).body == first[0].payload
    assert await gw.balances() == {SBER: FUNDING[SBER] - 42_00, VTB: FUNDING[VTB] + 42_00, ALFA: FUNDING[ALFA]}


async def test_the_creditor_agents_camt_029_goes_back_to_the_bank_that_asked(gw: GatewayUnderTest) -> None:
    settled = Tx(SBER, VTB, 10_00)
    await gw.settle(pacs_008(SBER, "PAY-C", [settled], today_in_moscow()))
    assert (await gw.post(camt_056(SBER, "CXL-2", [settled]))).status == 200

    answer = await gw.post(camt_029(VTB, "RSL-1", SBER, [settled]))
    assert (answer.status, answer.body, answer.headers["X-Gateway-Outcome"]) == (202, b"", "accepted")
    routed = [m for m in await gw.whole_mailbox(SBER) if m.kind == "camt.029.001.09"]
    assert len(routed) == 2  # the gateway's own PDCR, then VTB's answer
    routed[-1].assert_official()
    assert (routed[-1].sender, routed[-1].receiver) == ("CBRFRUMMXXX", SBER)
    assert routed[-1].document.text("RsltnOfInvstgtn/Assgnmt/Id") == "RSL-1"
    assert routed[-1].document.text("RsltnOfInvstgtn/CxlDtls/TxInfAndSts/OrgnlUETR") == str(settled.uetr)
    assert (await gw.post(camt_029(VTB, "RSL-1", SBER, [settled]))).headers["X-Gateway-Outcome"] == "replayed"

    # Alfa never received that payment: it cannot answer for it (AG09 PaymentNotReceived, as for any payment Alfa
    # does not hold: nothing tells it that Sberbank's payment exists).
    refused = await gw.post(camt_029(ALFA, "RSL-2", SBER, [settled]))
    assert refused.status == 200
    assert message_reject(refused.body).text("Rsn/RjctgPtyRsn") == "AG09"
    assert len([m for m in await gw.whole_mailbox(SBER) if m.kind == "camt.029.001.09"]) == 2
