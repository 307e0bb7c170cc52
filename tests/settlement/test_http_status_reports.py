"""Over real HTTP, a bank configured with status_reports = "exceptions" gets the pacs.002 answering its payment message
with the group status and counts of every transaction but TxInfAndSts only for those not settled, valid by the
official XSD and the same bytes on a repeat; a bank left at the default still gets every transaction, and a later
report for a warehoused payment names its transaction whatever the setting."""

from __future__ import annotations

from datetime import timedelta

from gateway.domain.journal import PaymentState, payment_transfer_id
from tests.settlement.builders import ALFA, SBER, VTB, Tx, pacs_008, today_in_moscow
from tests.settlement.conftest import (
    FUNDED_TOTAL,
    FUNDING,
    ClientFactory,
    GatewayUnderTest,
    StatusReport,
    status_report,
)

day_us = 86_400 * 1_000_000


async def exceptions_only_for_sberbank(make_gateway: ClientFactory) -> GatewayUnderTest:
    """Sberbank asks for exceptions-only answers; VTB and Alfa are left at the default."""
    gw = await make_gateway(participant_toml={SBER: 'status_reports = "exceptions"\n'})
    assert {p.bic: p.status_reports for p in gw.config.participants} == {SBER: "exceptions", VTB: "full", ALFA: "full"}
    assert await gw.balances() == FUNDING
    return gw


async def test_a_message_that_all_settles_is_answered_acsc_without_transactions(make_gateway: ClientFactory) -> None:
    gw = await exceptions_only_for_sberbank(make_gateway)
    paid = [Tx(SBER, VTB, 100_000_00), Tx(SBER, ALFA, 250_000_50), Tx(SBER, VTB, 1), Tx(SBER, ALFA, 99_99)]
    answer = await gw.post(pacs_008(SBER, "SBER-EXC-ALL", paid, today_in_moscow()))

    assert answer.status == 200 and answer.headers["X-Gateway-Outcome"] == "accepted"
    report = status_report(answer.body)
    report.message.assert_official()
    assert report.group.text("OrgnlMsgId") == "SBER-EXC-ALL"
    assert report.group.text("OrgnlNbOfTxs") == "4"
    assert report.group_status == "ACSC" and report.counts == {}
    assert report.transactions == []
    assert not report.body.has("TxInfAndSts")

    # Every transaction settled all the same: Sberbank paid 100,000.00 + 250,000.50 + 0.01 + 99.99 = 350,100.50.
    assert await gw.balances() == {SBER: 2_649_899_50, VTB: 2_100_000_01, ALFA: 1_250_100_49}
    assert await gw.wallets_total() == FUNDED_TOTAL
    assert await gw.payments_settled() == {
        payment_transfer_id(SBER, tx.uetr).hex: (SBER, tx.creditor_agent, tx.kopecks) for tx in paid
    }
    for tx in paid:
        [record] = await gw.payments(SBER, tx.uetr)
        assert record.state is PaymentState.SETTLED
    # The creditor agents get their payments forwarded as ever; the sender's mailbox holds the answer it got.
    assert [m.kind for m in await gw.whole_mailbox(VTB)] == ["pacs.008.001.08"]
    assert [m.kind for m in await gw.whole_mailbox(ALFA)] == ["pacs.008.001.08"]
    assert [m.payload for m in await gw.whole_mailbox(SBER)] == [answer.body]


async def test_a_message_with_one_refused_transaction_lists_only_that_one(make_gateway: ClientFactory) -> None:
    gw = await exceptions_only_for_sberbank(make_gateway)
    first, second, third = Tx(SBER, VTB, 1_000_000_00), Tx(SBER, ALFA, 1_000_000_00), Tx(SBER, VTB, 600_000_00)
    too_much = Tx(SBER, ALFA, 500_000_00)  # Sberbank holds 400,000.00 after the first three
    last = Tx(SBER, VTB, 400_000_00)
    report = await gw.settle(pacs_008(SBER, "SBER-EXC-PART", [first, second, third, too_much, last], today_in_moscow()))

    assert report.group_status == "PART"
    assert report.group.text("OrgnlNbOfTxs") == "5"
    assert report.counts == {"ACSC": 4, "RJCT": 1}
    [refused] = report.transactions
    assert refused.uetr == str(too_much.uetr) and refused.end_to_end_id == too_much.end_to_end_id
    assert (refused.status, refused.reasons) == ("RJCT", ("AM04",))
    assert refused.settled_at is None and refused.clearing_reference is None

    # 3,000,000.00 - 1,000,000.00 - 1,000,000.00 - 600,000.00 - 400,000.00; the 500,000.00 never left.
    assert await gw.balances() == {SBER: 0, VTB: 4_000_000_00, ALFA: 2_000_000_00}
    assert await gw.wallets_total() == FUNDED_TOTAL
    assert payment_transfer_id(SBER, too_much.uetr).hex not in await gw.payments_settled()
    [record] = await gw.payments(SBER, too_much.uetr)
    assert (record.state, record.reason_code) == (PaymentState.REJECTED, "AM04")


async def test_a_bank_left_at_the_default_gets_every_transaction(make_gateway: ClientFactory) -> None:
    gw = await exceptions_only_for_sberbank(make_gateway)
    paid, too_much = Tx(VTB, SBER, 1_500_000_00), Tx(VTB, ALFA, 600_000_00)  # VTB holds 500,000.00 after the first
    also_paid = Tx(VTB, ALFA, 1_00)
    report = await gw.settle(pacs_008(VTB, "VTB-FULL-1", [paid, too_much, also_paid], today_in_moscow()))

    assert report.group_status == "PART" and report.counts == {"ACSC": 2, "RJCT": 1}
    assert [(t.uetr, t.status, t.reasons) for t in report.transactions] == [
        (str(paid.uetr), "ACSC", ()), (str(too_much.uetr), "RJCT", ("AM04",)), (str(also_paid.uetr), "ACSC", ()),
    ]
    all_settled = await gw.settle(pacs_008(ALFA, "ALFA-FULL-1", [Tx(ALFA, SBER, 5_00), Tx(ALFA, VTB, 7_00)],
                                           today_in_moscow()))
    assert all_settled.group_status == "ACSC"
    assert [t.status for t in all_settled.transactions] == ["ACSC", "ACSC"]


async def test_a_repeat_gets_the_same_bytes_and_moves_nothing(make_gateway: ClientFactory) -> None:
    gw = await exceptions_only_for_sberbank(make_gateway)
    payload = pacs_008(SBER, "SBER-EXC-TWICE", [Tx(SBER, VTB, 10_00), Tx(SBER, ALFA, 20_00)], today_in_moscow())
    first = await gw.post(payload)
    assert first.status == 200 and first.headers["X-Gateway-Outcome"] == "accepted"
    assert status_report(first.body).transactions == []

    again = await gw.post(payload)
    assert again.status == 200 and again.headers["X-Gateway-Outcome"] == "replayed"
    assert again.body == first.body
    assert await gw.balances() == {SBER: 2_999_970_00, VTB: 2_000_010_00, ALFA: 1_000_020_00}


async def test_a_warehoused_payment_is_listed_pending_and_its_later_report_names_it(
    make_gateway: ClientFactory,
) -> None:
    gw = await exceptions_only_for_sberbank(make_gateway)
    today = today_in_moscow()
    now, later = Tx(SBER, VTB, 300_00), Tx(SBER, ALFA, 700_00, settlement_date=today + timedelta(days=1))
    report = await gw.settle(pacs_008(SBER, "SBER-EXC-LATER", [now, later], today))

    assert report.group_status == "PART" and report.counts == {"ACSC": 1, "PDNG": 1}
    [pending] = report.transactions
    assert (pending.uetr, pending.status, pending.reasons) == (str(later.uetr), "PDNG", ())

    real_clock = gw.environment.clock_us
    gw.environment.clock_us = lambda: real_clock() + day_us
    assert await gw.gateway.warehouse.settle_due(100) == 1
    reports = [StatusReport(m) for m in await gw.whole_mailbox(SBER) if m.kind == "pacs.002.001.10"]
    assert [m.message.payload for m in reports[:1]] == [report.message.payload]
    [on_its_day] = reports[1:]
    on_its_day.message.assert_official()
    [settled] = on_its_day.transactions
    assert (settled.uetr, settled.status) == (str(later.uetr), "ACSC")
    assert await gw.balances() == {SBER: 2_999_000_00, VTB: 2_000_300_00, ALFA: 1_000_700_00}
