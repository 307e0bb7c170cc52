"""Over real HTTP, a payment sent with a head.001.001.01 or .03 AppHdr is answered in that version, a bank configured
for an AppHdr version gets every message in it whichever flow writes it, and a forwarded payment goes in the
creditor's version, else .02."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gateway.messages.schemas import compiled
from tests.settlement.builders import (
    ALFA,
    CBRF,
    SBER,
    VTB,
    ReportAsk,
    Tx,
    camt_029,
    camt_050,
    camt_056,
    camt_060,
    pacs_008,
    pacs_028,
    today_in_moscow,
)
from tests.settlement.conftest import ClientFactory, GatewayUnderTest, Message, message_reject, status_report

head_01, head_02, head_03 = "head.001.001.01", "head.001.001.02", "head.001.001.03"
day_us = 86_400 * 1_000_000


def assert_valid_in_its_version(message: Message, version: str) -> None:
    """The AppHdr is of `version`, valid against our XSD and the official one of that version, as is the Document."""
    assert str(message.app_hdr_version) == version
    assert compiled().validate_element(message.app_hdr.element, message.app_hdr_version) == []
    assert compiled().validate_element(message.document.element, message.message_id) == []
    message.assert_official()


def creation_times(message: Message) -> list[str]:
    """CreDt of the AppHdr and of its related header."""
    return [message.app_hdr.text("CreDt"), *message.app_hdr.texts("Rltd/CreDt")]


@pytest.mark.parametrize("version", [head_01, head_03])
async def test_a_payment_is_answered_in_the_app_hdr_version_it_came_in(gw: GatewayUnderTest, version: str) -> None:
    reference = f"SBER-{version}-0001"
    tx = Tx(SBER, VTB, 12_345_67, remittance="Оплата по счёту № 88 от 23.11.2026")
    answer = await gw.post(pacs_008(SBER, reference, [tx], today_in_moscow(), app_hdr_version=version))

    assert answer.status == 200 and answer.headers["X-Gateway-Outcome"] == "accepted", answer.body
    report = status_report(answer.body)
    assert_valid_in_its_version(report.message, version)
    assert (report.message.sender, report.message.receiver) == (CBRF, SBER)
    assert report.message.app_hdr.text("Rltd/BizMsgIdr") == reference
    assert report.group_status == "ACSC"
    if version == head_01:  # UTC only, the request's 09:00:00Z quoted as it was
        assert all(time.endswith("Z") for time in creation_times(report.message))
    assert report.message.app_hdr.texts("Rltd/CreDt") == ["2026-11-24T09:00:00Z"]
    assert await gw.balances() == {SBER: 2_987_654_33, VTB: 2_012_345_67, ALFA: 1_000_000_00}

    # The creditor agent sent nothing and asked for no version: its forwarded payment comes in head.001.001.02.
    [forward] = await gw.whole_mailbox(VTB)
    assert forward.kind == "pacs.008.001.08"
    assert_valid_in_its_version(forward, head_02)
    assert forward.app_hdr.text("Rltd/BizMsgIdr") == reference
    assert [m.payload for m in await gw.whole_mailbox(SBER)] == [answer.body]


async def test_a_refusal_is_answered_in_the_app_hdr_version_it_came_in(gw: GatewayUnderTest) -> None:
    payload = pacs_008(SBER, "SBER-T2-TO-VTB", [Tx(SBER, VTB, 7_00)], today_in_moscow(), to=VTB, app_hdr_version=head_01)
    answer = await gw.post(payload)
    assert answer.status == 200 and answer.headers["X-Gateway-Outcome"] == "rejected"
    message = Message.read(answer.body)
    assert_valid_in_its_version(message, head_01)
    assert message_reject(answer.body).text("Rsn/RjctgPtyRsn") == "RC02"
    assert await gw.balances() == {SBER: 3_000_000_00, VTB: 2_000_000_00, ALFA: 1_000_000_00}


async def test_a_bank_configured_for_a_version_gets_every_message_in_it(make_gateway: ClientFactory) -> None:
    gw = await make_gateway(
        participant_toml={SBER: f'app_hdr_version = "{head_03}"\n', VTB: f'app_hdr_version = "{head_01}"\n'}
    )
    configured = {p.bic: p.app_hdr_version for p in gw.config.participants if p.app_hdr_version is not None}
    assert configured == {SBER: head_03, VTB: head_01}

    # Sberbank sends in head.001.001.01 and asked for head.001.001.03: its answer comes in .03.
    sent = pacs_008(SBER, "SBER-CFG-0001", [Tx(SBER, VTB, 1_000_00)], today_in_moscow(), app_hdr_version=head_01)
    report = status_report((await gw.post(sent)).body)
    assert report.group_status == "ACSC"
    assert_valid_in_its_version(report.message, head_03)
    # VTB asked for head.001.001.01: the payment forwarded to it comes so, every time in UTC.
    [forward] = await gw.whole_mailbox(VTB)
    assert_valid_in_its_version(forward, head_01)
    assert all(time.endswith("Z") for time in creation_times(forward))

    # VTB sends in head.001.001.02 and gets head.001.001.01; Alfa, credited and not configured, gets .02.
    sent = pacs_008(VTB, "VTB-CFG-0001", [Tx(VTB, ALFA, 2_000_00)], today_in_moscow())
    report = status_report((await gw.post(sent)).body)
    assert_valid_in_its_version(report.message, head_01)
    [forward] = await gw.whole_mailbox(ALFA)
    assert_valid_in_its_version(forward, head_02)

    # A message whose AppHdr the gateway cannot read is answered in the authenticated sender's version too. (Over
    # plain HTTP no sender is authenticated: the service is asked as the mTLS handler asks it.)
    invalid = sent.replace(b"<NbOfTxs>1</NbOfTxs>", b"<NbOfTxs>one</NbOfTxs>").replace(b"<CreDt>", b"<CreDt>x")
    reply = await gw.gateway.inbound.receive(invalid, VTB)
    refusal = Message.read(reply.body)
    assert (refusal.kind, refusal.receiver) == ("admi.002.001.01", VTB)
    assert_valid_in_its_version(refusal, head_01)


async def test_every_flow_writes_to_a_configured_bank_in_its_version(make_gateway: ClientFactory) -> None:
    """Sberbank asked for head.001.001.03 and VTB for head.001.001.01, and both send in .02: every message the
    gateway writes to either is in the version it asked for, whichever flow writes it (payments, warehouse, status,
    investigations, conversions, reports, the refusals of the inbound path and of the rules)."""
    gw = await make_gateway(
        participant_toml={
            SBER: f'app_hdr_version = "{head_03}"\n',
            VTB: f'app_hdr_version = "{head_01}"\ncredit_notifications = true\n',
        }
    )
    today, tomorrow = today_in_moscow(), today_in_moscow() + timedelta(days=1)
    paid, later = Tx(SBER, VTB, 10_00), Tx(SBER, VTB, 20_00, settlement_date=tomorrow)
    assert (await gw.settle(pacs_008(SBER, "CFG-PAY", [paid], today))).group_status == "ACSC"
    assert (await gw.settle(pacs_008(SBER, "CFG-LATER", [later], tomorrow))).group_status == "PDNG"
    assert status_report((await gw.post(pacs_028(SBER, "CFG-STS", [paid.uetr]))).body).transactions
    assert (await gw.post(camt_056(SBER, "CFG-CXL", [paid]))).status == 200  # passed on to VTB
    assert (await gw.post(camt_029(VTB, "CFG-RSL", SBER, [paid]))).status == 202  # passed back to Sberbank
    ask = ReportAsk("camt.052.001.08", f"{SBER}/main", today, None)
    assert Message.read((await gw.post(camt_060(SBER, "CFG-REP", [ask]))).body).kind == "camt.052.001.08"
    # No fiat at the embedded RTGS (no opening balance configured): the conversion is refused with a receipt.
    assert Message.read((await gw.post(camt_050(SBER, "CFG-LQ", 1_00))).body).kind == "camt.025.001.05"
    # Refused: a payment dated yesterday by a rule (a pacs.002), one addressed to VTB by the inbound path (an admi.002).
    yesterday = today - timedelta(days=1)
    assert (await gw.settle(pacs_008(SBER, "CFG-PAST", [Tx(SBER, VTB, 1_00)], yesterday))).group_status == "RJCT"
    misrouted = await gw.post(pacs_008(SBER, "CFG-TO-VTB", [Tx(SBER, VTB, 1_00)], today, to=VTB))
    assert message_reject(misrouted.body).text("Rsn/RjctgPtyRsn") == "RC02"
    real_clock = gw.environment.clock_us
    gw.environment.clock_us = lambda: real_clock() + day_us
    assert await gw.gateway.warehouse.settle_due(100) == 1  # the future-dated payment settles on its day

    sberbank = await gw.whole_mailbox(SBER)
    assert sorted(m.kind for m in sberbank) == [
        "admi.002.001.01",  # the payment addressed to VTB, refused
        "camt.025.001.05",  # the conversion's receipt
        "camt.029.001.09",  # the gateway's own PDCR, answering the cancellation request
        "camt.029.001.09",  # VTB's answer, passed on
        "camt.052.001.08",  # the report
        "pacs.002.001.10",  # the payment settled
        "pacs.002.001.10",  # the future-dated one accepted, PDNG
        "pacs.002.001.10",  # the status request answered
        "pacs.002.001.10",  # the future-dated one settled on its day
        "pacs.002.001.10",  # the payment dated yesterday, refused
    ]
    vtb = await gw.whole_mailbox(VTB)
    assert sorted(m.kind for m in vtb) == [
        "camt.054.001.08",  # the credit of the payment settled today
        "camt.054.001.08",  # and of the one settled on its day
        "camt.056.001.08",  # Sberbank's cancellation request, passed on
        "pacs.008.001.08",  # the payment forwarded
        "pacs.008.001.08",  # the future-dated one forwarded on its day
    ]
    for message in sberbank:
        assert_valid_in_its_version(message, head_03)
    for message in vtb:
        assert_valid_in_its_version(message, head_01)
        assert all(time.endswith("Z") for time in creation_times(message))
