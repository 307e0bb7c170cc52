"""Over real HTTP, pacs.008 and pacs.009 move exactly their amounts, answer an official pacs.002 and forward the payment
to the creditor agent; every refusal names its ISO reason code and moves nothing; pacs.028 reports a payment's status
to the bank that sent it and to no other."""

from __future__ import annotations

import asyncio
import copy
import time
import uuid
from datetime import date, datetime
from pathlib import Path

import pytest
from lxml import etree

from gateway import bounds
from gateway.domain.journal import PaymentState, payment_transfer_id
from gateway.domain.ledger import AccountStatus
from tests.settlement.builders import (
    ALFA,
    CBRF,
    SBER,
    VTB,
    Tx,
    app_hdr,
    envelope,
    pacs_008,
    pacs_009,
    pacs_028,
    today_in_moscow,
)
from tests.settlement.conftest import (
    FUNDED_TOTAL,
    FUNDING,
    ClientFactory,
    GatewayUnderTest,
    Message,
    StatusReport,
    TxStatus,
    message_reject,
)

msk = "+03:00"
fixtures = Path(__file__).resolve().parents[1] / "schemas" / "fixtures"


# --------------------------------------------------------------------------------------------------------------
# Helpers: what a bank sent, and what the gateway must have made of it
# --------------------------------------------------------------------------------------------------------------


def sent_transactions(payload: bytes) -> list[etree._Element]:
    """The CdtTrfTxInf elements of a message as the bank sent it."""
    root = etree.fromstring(payload)
    document = root[1]
    namespace = etree.QName(document).namespace
    return document.findall(f"{{{namespace}}}*/{{{namespace}}}CdtTrfTxInf")


def without_settlement_fields(transaction: etree._Element) -> bytes:
    """The transaction in canonical form, less the two elements the gateway writes into a forwarded copy and the
    indentation between elements."""
    stripped = copy.deepcopy(transaction)
    for child in list(stripped):
        if etree.QName(child).localname in ("IntrBkSttlmDt", "SttlmTmIndctn"):
            stripped.remove(child)
    for element in stripped.iter():
        if element.text is not None and not element.text.strip() and len(element):
            element.text = None
        if element.tail is not None and not element.tail.strip():
            element.tail = None
    return etree.tostring(stripped, method="c14n")


def assert_settled(status: TxStatus, debtor: str, tx: Tx, started: float, finished: float) -> datetime:
    """ACSC, no reason, the settlement time of the request (to the second, Moscow time) and the ledger transfer id."""
    assert status.uetr == str(tx.uetr)
    assert status.end_to_end_id == tx.end_to_end_id
    assert (status.status, status.reasons) == ("ACSC", ())
    assert status.settled_at is not None and status.settled_at.endswith(msk), status.settled_at
    settled_at = datetime.fromisoformat(status.settled_at)
    assert int(started) <= settled_at.timestamp() <= finished, (started, status.settled_at, finished)
    assert status.clearing_reference == payment_transfer_id(debtor, tx.uetr).hex
    return settled_at


def assert_rejected(status: TxStatus, tx: Tx, code: str) -> None:
    assert status.uetr == str(tx.uetr)
    assert (status.status, status.reasons) == ("RJCT", (code,))
    assert status.settled_at is None and status.clearing_reference is None


def assert_answer_envelope(report: StatusReport, receiver: str, original_id: str, original_type: str) -> None:
    """AppHdr from the gateway to the sender, related to the message answered; GrpHdr agents likewise."""
    header = report.message.app_hdr
    assert (report.message.sender, report.message.receiver) == (CBRF, receiver)
    assert header.text("MsgDefIdr") == "pacs.002.001.10"
    assert header.text("Rltd/Fr/FIId/FinInstnId/BICFI") == receiver
    assert header.text("Rltd/To/FIId/FinInstnId/BICFI") == CBRF
    assert header.text("Rltd/BizMsgIdr") == original_id
    assert header.text("Rltd/MsgDefIdr") == original_type
    group_header = report.body.one("GrpHdr")
    assert group_header.text("MsgId") == header.text("BizMsgIdr")
    assert group_header.text("InstgAgt/FinInstnId/BICFI") == CBRF
    assert group_header.text("InstdAgt/FinInstnId/BICFI") == receiver
    assert report.group.text("OrgnlMsgId") == original_id
    assert report.group.text("OrgnlMsgNmId") == original_type


def assert_forward(
    message: Message, creditor: str, debtor: str, original_id: str, sent: list[etree._Element],
    statuses: list[TxStatus], total: str,
) -> None:
    """A forwarded pacs.008/009: from the gateway to the creditor agent, related to the debtor agent's message, each
    transaction as sent except for the settlement date and credit time the ledger gave it."""
    message.assert_official()
    original_type = "pacs.008.001.08" if message.kind == "pacs.008.001.08" else "pacs.009.001.08"
    assert (message.sender, message.receiver) == (CBRF, creditor)
    assert message.app_hdr.text("MsgDefIdr") == original_type
    assert message.app_hdr.text("Rltd/BizMsgIdr") == original_id
    assert message.app_hdr.text("Rltd/Fr/FIId/FinInstnId/BICFI") == debtor
    body = message.document.one("FIToFICstmrCdtTrf" if original_type.startswith("pacs.008") else "FICdtTrf")
    group = body.one("GrpHdr")
    assert group.text("MsgId") == message.app_hdr.text("BizMsgIdr")
    assert group.text("InstgAgt/FinInstnId/BICFI") == CBRF
    assert group.text("InstdAgt/FinInstnId/BICFI") == creditor
    assert group.text("NbOfTxs") == str(len(sent))
    assert group.text("TtlIntrBkSttlmAmt") == total
    assert group.attribute("TtlIntrBkSttlmAmt", "Ccy") == "RUB"
    forwarded = body.all("CdtTrfTxInf")
    assert len(forwarded) == len(sent) == len(statuses)
    for copy_sent, original, status in zip(forwarded, sent, statuses, strict=True):
        assert without_settlement_fields(copy_sent.element) == without_settlement_fields(original)
        assert status.settled_at is not None
        assert copy_sent.text("IntrBkSttlmDt") == status.settled_at[:10]
        assert copy_sent.text("SttlmTmIndctn/CdtDtTm") == status.settled_at
        assert copy_sent.one("SttlmTmIndctn").children() == ["CdtDtTm"]


async def assert_nothing_moved(gw: GatewayUnderTest) -> None:
    assert await gw.balances() == FUNDING
    assert await gw.wallets_total() == FUNDED_TOTAL
    assert await gw.payments_settled() == {}


async def inbound_status(gw: GatewayUnderTest, sender: str, reference: str) -> str:
    rows = await gw.rows(
        "SELECT status FROM messages WHERE direction = 'in' AND sender_bic = :sender AND reference = :reference",
        sender=sender, reference=reference,
    )  # fmt: skip
    assert len(rows) == 1, rows
    return rows[0][0]


# --------------------------------------------------------------------------------------------------------------
# Settlement
# --------------------------------------------------------------------------------------------------------------


async def test_a_pacs_008_settles_answers_the_sender_and_forwards_to_the_creditor_agent(gw: GatewayUnderTest) -> None:
    tx = Tx(SBER, VTB, 1_234_56, remittance="Счёт № 4417 от 20.11.2026 за поставку проката; НДС 20% — 205.76")
    payload = pacs_008(SBER, "SBER-20261124-0001", [tx], today_in_moscow())
    started = time.time()
    answer = await gw.post(payload)
    finished = time.time()

    assert answer.status == 200 and answer.headers["X-Gateway-Outcome"] == "accepted"
    assert answer.headers["Content-Type"] == "application/xml; charset=utf-8"
    report = StatusReport(Message.read(answer.body))
    report.message.assert_official()
    assert_answer_envelope(report, SBER, "SBER-20261124-0001", "pacs.008.001.08")
    assert report.group.text("OrgnlNbOfTxs") == "1"
    assert report.group_status == "ACSC" and report.counts == {}
    [status] = report.transactions
    settled_at = assert_settled(status, SBER, tx, started, finished)

    # 3,000,000.00 - 1,234.56 and 2,000,000.00 + 1,234.56; Alfa untouched; no kopeck created or lost.
    assert await gw.balances() == {SBER: 2_998_765_44, VTB: 2_001_234_56, ALFA: 1_000_000_00}
    assert await gw.wallets_total() == FUNDED_TOTAL
    assert await gw.payments_settled() == {status.clearing_reference: (SBER, VTB, 1_234_56)}
    [record] = await gw.payments(SBER, tx.uetr)
    assert (record.state, record.creditor_bic, record.amount_kopecks) == (PaymentState.SETTLED, VTB, 1_234_56)
    assert record.end_to_end_id == tx.end_to_end_id and record.reason_code is None
    assert await inbound_status(gw, SBER, "SBER-20261124-0001") == "accepted"

    # The sender's mailbox holds the answer it got on HTTP; the creditor agent's the forwarded payment.
    assert [m.payload for m in await gw.whole_mailbox(SBER)] == [answer.body]
    [forward] = await gw.whole_mailbox(VTB)
    assert forward.kind == "pacs.008.001.08"
    assert_forward(forward, VTB, SBER, "SBER-20261124-0001", sent_transactions(payload), [status], "1234.56")
    assert settled_at.date() == today_in_moscow()
    assert await gw.whole_mailbox(ALFA) == []


async def test_a_multi_transaction_pacs_008_settles_each_and_forwards_one_message_per_creditor(
    gw: GatewayUnderTest,
) -> None:
    to_vtb = Tx(SBER, VTB, 100_000_00, remittance="Аренда офиса, ноябрь 2026")
    to_alfa = Tx(SBER, ALFA, 250_000_50, remittance="Возврат займа по договору № 3-З")
    to_vtb_again = Tx(SBER, VTB, 1, remittance="Проверочный платёж, 1 копейка")
    payload = pacs_008(SBER, "SBER-MULTI-7", [to_vtb, to_alfa, to_vtb_again], today_in_moscow())
    started = time.time()
    report = await gw.settle(payload)
    finished = time.time()

    assert_answer_envelope(report, SBER, "SBER-MULTI-7", "pacs.008.001.08")
    assert report.group.text("OrgnlNbOfTxs") == "3"
    assert report.group_status == "ACSC" and report.counts == {}
    statuses = report.transactions
    for status, tx in zip(statuses, [to_vtb, to_alfa, to_vtb_again], strict=True):
        assert_settled(status, SBER, tx, started, finished)

    # Sberbank pays 100,000.00 + 250,000.50 + 0.01 = 350,000.51; VTB gets 100,000.01, Alfa 250,000.50.
    assert await gw.balances() == {SBER: 2_649_999_49, VTB: 2_100_000_01, ALFA: 1_250_000_50}
    assert await gw.wallets_total() == FUNDED_TOTAL
    assert await gw.payments_settled() == {
        statuses[0].clearing_reference: (SBER, VTB, 100_000_00),
        statuses[1].clearing_reference: (SBER, ALFA, 250_000_50),
        statuses[2].clearing_reference: (SBER, VTB, 1),
    }

    sent = sent_transactions(payload)
    [for_vtb] = await gw.whole_mailbox(VTB)
    assert_forward(for_vtb, VTB, SBER, "SBER-MULTI-7", [sent[0], sent[2]], [statuses[0], statuses[2]], "100000.01")
    [for_alfa] = await gw.whole_mailbox(ALFA)
    assert_forward(for_alfa, ALFA, SBER, "SBER-MULTI-7", [sent[1]], [statuses[1]], "250000.50")
    assert [m.payload for m in await gw.whole_mailbox(SBER)] == [report.message.payload]


async def test_a_fully_detailed_pacs_008_is_forwarded_element_for_element(gw: GatewayUnderTest) -> None:
    """The project's richest pacs.008 sample (addresses, tax ids, structured remittance, a foreign-namespace
    SplmtryData), sent as today's payment: the creditor agent gets every element of it."""
    today = today_in_moscow().isoformat()
    document = (fixtures / "pacs.008.001.08-sberbank-to-vtb-invoice.xml").read_text(encoding="utf-8")
    document = document[document.index("<Document"):].replace("2026-03-16", today)
    payload = envelope(app_hdr(SBER, "SABR20260316-0000417", "pacs.008.001.08"), document)
    started = time.time()
    report = await gw.settle(payload)
    finished = time.time()

    assert report.group_status == "ACSC"
    [status] = report.transactions
    uetr = uuid.UUID("1edf9ec9-9cf3-437b-b270-1f6ccd9638c6")
    sent = Tx(SBER, VTB, 250_000_00, end_to_end_id="PP1523-20260316", uetr=uetr)
    assert_settled(status, SBER, sent, started, finished)
    assert await gw.balances() == {SBER: 2_750_000_00, VTB: 2_250_000_00, ALFA: 1_000_000_00}
    [forward] = await gw.whole_mailbox(VTB)
    assert_forward(forward, VTB, SBER, "SABR20260316-0000417", sent_transactions(payload), [status], "250000.00")
    forwarded = forward.document.one("FIToFICstmrCdtTrf/CdtTrfTxInf")
    # The settlement time indication goes where the schema wants it: after SttlmPrty, before AccptncDtTm.
    names = forwarded.children()
    assert names[names.index("SttlmPrty") + 1 : names.index("SttlmPrty") + 3] == ["SttlmTmIndctn", "AccptncDtTm"]
    assert forwarded.text("IntrBkSttlmDt") == today


async def test_a_pacs_009_moves_the_institutions_own_funds_and_is_forwarded(gw: GatewayUnderTest) -> None:
    loan = Tx(ALFA, SBER, 500_000_00, remittance="МБК овернайт по ген. соглашению № 12/2019, ставка 16.00%")
    fee = Tx(ALFA, VTB, 125_000_25, remittance="Комиссия по агентскому договору № 88")
    payload = pacs_009(ALFA, "ALFA-MM-0031", [loan, fee], today_in_moscow())
    started = time.time()
    report = await gw.settle(payload)
    finished = time.time()

    assert_answer_envelope(report, ALFA, "ALFA-MM-0031", "pacs.009.001.08")
    assert report.group_status == "ACSC"
    statuses = report.transactions
    assert_settled(statuses[0], ALFA, loan, started, finished)
    assert_settled(statuses[1], ALFA, fee, started, finished)

    # Alfa pays 500,000.00 + 125,000.25 = 625,000.25 of its 1,000,000.00.
    assert await gw.balances() == {SBER: 3_500_000_00, VTB: 2_125_000_25, ALFA: 374_999_75}
    assert await gw.wallets_total() == FUNDED_TOTAL
    [record] = await gw.payments(ALFA, loan.uetr)
    assert record.kind.value == "pacs.009" and record.state is PaymentState.SETTLED

    sent = sent_transactions(payload)
    [for_sber] = await gw.whole_mailbox(SBER)
    assert for_sber.kind == "pacs.009.001.08"
    assert_forward(for_sber, SBER, ALFA, "ALFA-MM-0031", [sent[0]], [statuses[0]], "500000.00")
    forwarded = for_sber.document.one("FICdtTrf/CdtTrfTxInf")
    assert forwarded.text("Dbtr/FinInstnId/BICFI") == ALFA and forwarded.text("Cdtr/FinInstnId/BICFI") == SBER
    [for_vtb] = await gw.whole_mailbox(VTB)
    assert_forward(for_vtb, VTB, ALFA, "ALFA-MM-0031", [sent[1]], [statuses[1]], "125000.25")
    assert [m.payload for m in await gw.whole_mailbox(ALFA)] == [report.message.payload]


# --------------------------------------------------------------------------------------------------------------
# The ledger refuses one transaction: the others of the message still settle
# --------------------------------------------------------------------------------------------------------------


async def test_insufficient_funds_rejects_that_transaction_am04_and_the_rest_settle(gw: GatewayUnderTest) -> None:
    first = Tx(VTB, SBER, 1_500_000_00)
    too_much = Tx(VTB, ALFA, 600_000_00)  # VTB has 500,000.00 left after the first
    third = Tx(VTB, ALFA, 400_000_00)
    payload = pacs_008(VTB, "VTB-MIXED-1", [first, too_much, third], today_in_moscow())
    started = time.time()
    report = await gw.settle(payload)
    finished = time.time()

    assert report.group_status == "PART"  # some settled, some rejected
    assert report.counts == {"ACSC": 2, "RJCT": 1}
    assert report.group.text("OrgnlNbOfTxs") == "3"
    statuses = report.transactions
    assert_settled(statuses[0], VTB, first, started, finished)
    assert_rejected(statuses[1], too_much, "AM04")
    assert_settled(statuses[2], VTB, third, started, finished)

    # VTB: 2,000,000.00 - 1,500,000.00 - 400,000.00; the 600,000.00 never left.
    assert await gw.balances() == {SBER: 4_500_000_00, VTB: 100_000_00, ALFA: 1_400_000_00}
    assert await gw.wallets_total() == FUNDED_TOTAL
    assert payment_transfer_id(VTB, too_much.uetr).hex not in await gw.payments_settled()
    [record] = await gw.payments(VTB, too_much.uetr)
    assert (record.state, record.reason_code) == (PaymentState.REJECTED, "AM04")
    assert await inbound_status(gw, VTB, "VTB-MIXED-1") == "partially_accepted"

    sent = sent_transactions(payload)
    [for_alfa] = await gw.whole_mailbox(ALFA)  # the rejected 600,000.00 is not forwarded
    assert_forward(for_alfa, ALFA, VTB, "VTB-MIXED-1", [sent[2]], [statuses[2]], "400000.00")
    [for_sber] = await gw.whole_mailbox(SBER)
    assert_forward(for_sber, SBER, VTB, "VTB-MIXED-1", [sent[0]], [statuses[0]], "1500000.00")
    assert [m.payload for m in await gw.whole_mailbox(VTB)] == [report.message.payload]


async def test_a_payment_above_the_payers_transfer_limit_is_rejected_am02(gw: GatewayUnderTest) -> None:
    above = Tx(SBER, VTB, 1_000_000_01)  # Sberbank may send at most 1,000,000.00 at once
    at_limit = Tx(SBER, VTB, 1_000_000_00)
    report = await gw.settle(pacs_008(SBER, "SBER-LIMIT-1", [above, at_limit], today_in_moscow()))

    assert report.group_status == "PART" and report.counts == {"ACSC": 1, "RJCT": 1}
    assert_rejected(report.transactions[0], above, "AM02")
    assert report.transactions[1].status == "ACSC"
    assert await gw.balances() == {SBER: 2_000_000_00, VTB: 3_000_000_00, ALFA: 1_000_000_00}
    [record] = await gw.payments(SBER, above.uetr)
    assert (record.state, record.reason_code) == (PaymentState.REJECTED, "AM02")


async def test_a_payment_taking_the_creditor_above_its_balance_limit_is_rejected_am02(gw: GatewayUnderTest) -> None:
    await gw.mint({ALFA: 3_000_000_00})  # Alfa now holds 4,000,000.00 of its 5,000,000.00 ceiling
    above = Tx(VTB, ALFA, 1_000_000_01)
    to_ceiling = Tx(VTB, ALFA, 1_000_000_00)
    report = await gw.settle(pacs_008(VTB, "VTB-CEILING-1", [above, to_ceiling], today_in_moscow()))

    assert report.counts == {"ACSC": 1, "RJCT": 1}
    assert_rejected(report.transactions[0], above, "AM02")
    assert report.transactions[1].status == "ACSC"
    assert await gw.balances() == {SBER: 3_000_000_00, VTB: 1_000_000_00, ALFA: 5_000_000_00}
    assert await gw.wallets_total() == FUNDED_TOTAL + 3_000_000_00


# --------------------------------------------------------------------------------------------------------------
# Rules refuse the whole message: a pacs.002 RJCT (or an admi.002), and nothing moves
# --------------------------------------------------------------------------------------------------------------


async def wait_for_status(gw: GatewayUnderTest, bic: str, status: AccountStatus) -> None:
    deadline = time.monotonic() + 10
    while gw.environment.directory.participants[bic].status is not status:
        assert time.monotonic() < deadline, f"the directory never saw {bic} {status}"
        await asyncio.sleep(0.02)


async def test_a_suspended_participant_is_refused_once_the_directory_refreshes(
    make_gateway: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bounds, "directory_refresh_seconds", 0.05)
    gw = await make_gateway()

    assert await gw.gateway.store.set_participant_status(VTB, AccountStatus.SUSPENDED)
    await wait_for_status(gw, VTB, AccountStatus.SUSPENDED)
    to_suspended = Tx(SBER, VTB, 10_000_00)
    report = await gw.settle(pacs_008(SBER, "SBER-TO-SUSPENDED", [to_suspended], today_in_moscow()))
    assert report.group_status == "RJCT" and report.group_reasons == ["AG11"]
    assert_rejected(report.transactions[0], to_suspended, "AG11")

    from_suspended = Tx(VTB, ALFA, 10_000_00)
    report = await gw.settle(pacs_008(VTB, "VTB-WHILE-SUSPENDED", [from_suspended], today_in_moscow()))
    assert report.group_status == "RJCT" and report.group_reasons == ["AG10"]
    assert_rejected(report.transactions[0], from_suspended, "AG10")
    await assert_nothing_moved(gw)

    # Resumed, the same payment (under a new message id) settles.
    assert await gw.gateway.store.set_participant_status(VTB, AccountStatus.ACTIVE)
    await wait_for_status(gw, VTB, AccountStatus.ACTIVE)
    report = await gw.settle(pacs_008(SBER, "SBER-AFTER-RESUME", [to_suspended], today_in_moscow()))
    assert report.group_status == "ACSC"
    assert await gw.balances() == {SBER: 2_990_000_00, VTB: 2_010_000_00, ALFA: 1_000_000_00}


async def test_a_suspension_the_directory_has_not_seen_yet_is_refused_by_the_ledger(
    make_gateway: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bounds, "directory_refresh_seconds", 3600.0)  # the snapshot stays stale
    gw = await make_gateway()
    assert await gw.gateway.store.set_participant_status(VTB, AccountStatus.SUSPENDED)
    assert gw.environment.directory.participants[VTB].status is AccountStatus.ACTIVE

    to_suspended = Tx(SBER, VTB, 10_000_00)
    to_active = Tx(SBER, ALFA, 20_000_00)
    report = await gw.settle(pacs_008(SBER, "SBER-STALE-DIR", [to_suspended, to_active], today_in_moscow()))
    assert report.counts == {"ACSC": 1, "RJCT": 1}
    assert_rejected(report.transactions[0], to_suspended, "AG11")
    assert report.transactions[1].status == "ACSC"
    assert await gw.balances() == {SBER: 2_980_000_00, VTB: 2_000_000_00, ALFA: 1_020_000_00}


async def test_an_unknown_creditor_agent_is_refused_cnor(gw: GatewayUnderTest) -> None:
    unknown = Tx(SBER, "GAZPRUMMXXX", 5_000_00)
    known = Tx(SBER, VTB, 5_000_00)
    report = await gw.settle(pacs_008(SBER, "SBER-UNKNOWN-CDTR", [unknown, known], today_in_moscow()))
    assert report.group_status == "RJCT" and report.group_reasons == ["CNOR"]
    assert_rejected(report.transactions[0], unknown, "CNOR")
    assert_rejected(report.transactions[1], known, "NARR")  # refused with its message: see the group's reasons
    await assert_nothing_moved(gw)
    assert await inbound_status(gw, SBER, "SBER-UNKNOWN-CDTR") == "rejected"
    assert [m.payload for m in await gw.whole_mailbox(SBER)] == [report.message.payload]
    assert await gw.whole_mailbox(VTB) == []


async def test_debiting_another_banks_wallet_is_refused_ag01(gw: GatewayUnderTest) -> None:
    theft = Tx(VTB, SBER, 500_000_00)  # Sberbank's message naming VTB as the debtor agent
    answer = await gw.post(pacs_008(SBER, "SBER-NOT-MINE", [theft], today_in_moscow()))
    assert answer.status == 200 and answer.headers["X-Gateway-Outcome"] == "rejected"
    report = StatusReport(Message.read(answer.body))
    report.message.assert_official()
    assert report.message.receiver == SBER
    assert report.group_status == "RJCT" and report.group_reasons == ["AG01"]
    assert_rejected(report.transactions[0], theft, "AG01")
    await assert_nothing_moved(gw)
    assert await gw.whole_mailbox(VTB) == []


async def test_a_message_not_addressed_to_the_gateway_gets_an_admi_002_rc02(gw: GatewayUnderTest) -> None:
    payload = pacs_008(SBER, "SBER-TO-VTB", [Tx(SBER, VTB, 7_00)], today_in_moscow(), to=VTB)
    answer = await gw.post(payload)
    assert answer.status == 200 and answer.headers["X-Gateway-Outcome"] == "rejected"
    message = Message.read(answer.body)
    message.assert_official()
    assert (message.sender, message.receiver) == (CBRF, SBER)
    assert message.app_hdr.text("Rltd/BizMsgIdr") == "SBER-TO-VTB"
    reject = message_reject(answer.body)
    assert reject.text("RltdRef/Ref") == "SBER-TO-VTB"
    assert reject.text("Rsn/RjctgPtyRsn") == "RC02"
    await assert_nothing_moved(gw)
    assert [m.payload for m in await gw.whole_mailbox(SBER)] == [answer.body]
    assert await gw.whole_mailbox(VTB) == []


unacceptable_xml = {
    "not XML": (b"PAYMENT 100 RUB FROM SABRRUMMXXX TO VTBRRUMMXXX", "not well-formed"),
    "truncated XML": (b"<Envelope><AppHdr>", "not well-formed"),
    "a DOCTYPE": (
        b'<?xml version="1.0"?><!DOCTYPE Envelope [<!ENTITY x "x">]>'
        + pacs_008(SBER, "SBER-DOCTYPE", [Tx(SBER, VTB, 1_00)], date(2026, 11, 24)).split(b"\n", 1)[1],
        "DOCTYPE",
    ),
}


async def test_a_message_that_is_not_acceptable_xml_gets_an_admi_002_ff01(gw: GatewayUnderTest) -> None:
    for case, (payload, words) in unacceptable_xml.items():
        answer = await gw.post(payload)
        assert answer.status == 200 and answer.headers["X-Gateway-Outcome"] == "rejected", case
        message = Message.read(answer.body)
        message.assert_official()
        assert message.sender == CBRF, case
        reject = message_reject(answer.body)
        assert reject.text("Rsn/RjctgPtyRsn") == "FF01", case
        assert words in reject.text("Rsn/RsnDesc"), case
        assert reject.text("RltdRef/Ref") == "NONREF", case  # nothing the gateway could read names the message
    await assert_nothing_moved(gw)
    for bank in (SBER, VTB, ALFA):  # nobody can be named, so nobody's mailbox gets it
        assert await gw.whole_mailbox(bank) == []


async def test_a_wrong_number_of_transactions_is_refused_am19(gw: GatewayUnderTest) -> None:
    txs = [Tx(SBER, VTB, 1_00), Tx(SBER, ALFA, 2_00)]
    report = await gw.settle(pacs_008(SBER, "SBER-NBOFTXS", txs, today_in_moscow(), number_of_transactions=3))
    assert report.group_status == "RJCT" and report.group_reasons == ["AM19"]
    assert report.group.text("OrgnlNbOfTxs") == "2"
    assert [t.status for t in report.transactions] == ["RJCT", "RJCT"]
    await assert_nothing_moved(gw)


async def test_a_currency_other_than_rub_is_refused_am03(gw: GatewayUnderTest) -> None:
    euros = Tx(SBER, VTB, 1_000_00, currency="EUR")
    roubles = Tx(SBER, VTB, 1_000_00)
    report = await gw.settle(pacs_008(SBER, "SBER-EUR", [euros, roubles], today_in_moscow()))
    assert report.group_status == "RJCT" and report.group_reasons == ["AM03"]
    assert_rejected(report.transactions[0], euros, "AM03")
    assert_rejected(report.transactions[1], roubles, "NARR")
    await assert_nothing_moved(gw)


# --------------------------------------------------------------------------------------------------------------
# pacs.028: status of a payment, to its sender only
# --------------------------------------------------------------------------------------------------------------


async def test_a_status_request_reports_settled_rejected_and_unknown_and_hides_other_banks_payments(
    gw: GatewayUnderTest,
) -> None:
    settled = Tx(SBER, VTB, 100_00)
    rejected = Tx(SBER, VTB, 1_000_000_01)  # above Sberbank's limit: AM02
    first = await gw.settle(pacs_008(SBER, "SBER-STS-1", [settled, rejected], today_in_moscow()))
    vtbs = Tx(VTB, ALFA, 300_00)
    await gw.settle(pacs_008(VTB, "VTB-STS-1", [vtbs], today_in_moscow()))
    unknown = uuid.uuid4()

    answer = await gw.post(pacs_028(SBER, "SBER-ASK-1", [settled.uetr, rejected.uetr, unknown, vtbs.uetr]))
    assert answer.status == 200
    report = StatusReport(Message.read(answer.body))
    report.message.assert_official()
    assert (report.message.sender, report.message.receiver) == (CBRF, SBER)
    assert report.message.app_hdr.text("Rltd/BizMsgIdr") == "SBER-ASK-1"
    assert report.message.app_hdr.text("Rltd/MsgDefIdr") == "pacs.028.001.03"
    assert not report.body.has("OrgnlGrpInfAndSts")
    statuses = report.transactions
    assert [s.uetr for s in statuses] == [str(settled.uetr), str(rejected.uetr), str(unknown), str(vtbs.uetr)]

    # Settled: ACSC with the same settlement time and ledger reference as the original answer.
    original = first.transactions[0]
    assert (statuses[0].status, statuses[0].reasons) == ("ACSC", ())
    assert statuses[0].settled_at == original.settled_at
    assert statuses[0].clearing_reference == original.clearing_reference
    assert_rejected(statuses[1], rejected, "AM02")  # the stored reason
    # Unknown: its references as asked, no TxSts (the gateway cannot say it was rejected: it never had it), AG09.
    assert (statuses[2].status, statuses[2].reasons) == (None, ("AG09",))
    assert statuses[2].settled_at is None and statuses[2].clearing_reference is None
    # VTB's payment is answered exactly as an unknown one: nothing of it shows.
    assert (statuses[3].status, statuses[3].reasons) == (None, ("AG09",))
    unknown_text = " ".join(statuses[2].xml.texts("StsRsnInf/AddtlInf")).replace(str(unknown), "<uetr>")
    assert " ".join(statuses[3].xml.texts("StsRsnInf/AddtlInf")).replace(str(vtbs.uetr), "<uetr>") == unknown_text
    assert statuses[3].end_to_end_id is None
    assert vtbs.end_to_end_id.encode() not in answer.body

    # ... while VTB itself is told it settled.
    report = StatusReport(Message.read((await gw.post(pacs_028(VTB, "VTB-ASK-1", [vtbs.uetr]))).body))
    assert [(s.uetr, s.status) for s in report.transactions] == [(str(vtbs.uetr), "ACSC")]
    # Each status answer is also in its asker's mailbox, after the payments' answers.
    kinds = [(m.kind, m.app_hdr.text("Rltd/BizMsgIdr")) for m in await gw.whole_mailbox(SBER)]
    assert kinds == [("pacs.002.001.10", "SBER-STS-1"), ("pacs.002.001.10", "SBER-ASK-1")]
    assert await gw.balances() == {SBER: 2_999_900_00, VTB: 1_999_800_00, ALFA: 1_000_300_00}


async def test_a_status_request_not_addressed_to_the_gateway_is_refused_and_reveals_nothing(
    gw: GatewayUnderTest,
) -> None:
    settled = Tx(SBER, VTB, 100_00)
    await gw.settle(pacs_008(SBER, "SBER-STS-2", [settled], today_in_moscow()))
    document = (
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.028.001.03"><FIToFIPmtStsReq><GrpHdr>'
        "<MsgId>VTB-ASK-2</MsgId><CreDtTm>2026-11-24T12:00:00+03:00</CreDtTm></GrpHdr>"
        f"<TxInf><OrgnlUETR>{settled.uetr}</OrgnlUETR></TxInf></FIToFIPmtStsReq></Document>"
    )
    answer = await gw.post(envelope(app_hdr(VTB, "VTB-ASK-2", "pacs.028.001.03", to=SBER), document))
    assert message_reject(answer.body).text("Rsn/RjctgPtyRsn") == "RC02"
    assert str(settled.uetr).encode() not in answer.body

