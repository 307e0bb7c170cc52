"""Payment identities over real HTTP: a UETR is universal, so another bank can neither capture nor block a return by
reusing it; references to an original (pacs.004, camt.056, camt.029, pacs.028) match on everything they carry and
only for a party of the original; the pacs.002 of a return quotes it as CBPR+ does; a passed-on camt.056 assigns
the case to the creditor agent."""

from __future__ import annotations

import uuid

from tests.settlement.builders import (
    ALFA,
    CBRF,
    SBER,
    VTB,
    Returned,
    Tx,
    app_hdr,
    camt_056,
    envelope,
    pacs_004,
    pacs_008,
    pacs_028,
    today_in_moscow,
)
from tests.settlement.conftest import FUNDING, GatewayUnderTest, Message, StatusReport


async def _sberbank_pays_vtb(gw: GatewayUnderTest, kopecks: int = 1_000_00) -> Tx:
    paid = Tx(SBER, VTB, kopecks, end_to_end_id="INV-2026-0042")
    assert (await gw.settle(pacs_008(SBER, "SBER-PAY-1", [paid], today_in_moscow()))).group_status == "ACSC"
    return paid


async def test_a_third_bank_cannot_capture_a_return_by_reusing_the_uetr(gw: GatewayUnderTest) -> None:
    paid = await _sberbank_pays_vtb(gw)
    # Alfa pays VTB under Sberbank's UETR, hoping VTB's return of Sberbank's payment comes to it.
    copy = Tx(ALFA, VTB, 1_000_00, uetr=paid.uetr)
    refused = await gw.settle(pacs_008(ALFA, "ALFA-COPY-1", [copy], today_in_moscow()))
    assert (refused.group_status, refused.transactions[0].reasons) == ("RJCT", ("DUPL",))
    # VTB returns Sberbank's payment, named in full: the money goes back to Sberbank.
    returned = await gw.settle(pacs_004(VTB, "VTB-RTR-1", [
        Returned(paid.uetr, 1_000_00, original_message_id="SBER-PAY-1", end_to_end_id=paid.end_to_end_id),
    ], today_in_moscow()))  # fmt: skip
    assert returned.group_status == "ACSC"
    assert await gw.balances() == FUNDING
    forwarded = [m for m in await gw.whole_mailbox(SBER) if m.kind == "pacs.004.001.09"]
    assert len(forwarded) == 1 and not [m for m in await gw.whole_mailbox(ALFA) if m.kind == "pacs.004.001.09"]


async def test_a_third_bank_cannot_block_a_full_return_with_a_small_payment_under_the_uetr(
    gw: GatewayUnderTest,
) -> None:
    paid = await _sberbank_pays_vtb(gw, 250_000_00)
    blocker = await gw.settle(pacs_008(ALFA, "ALFA-BLOCK-1", [Tx(ALFA, VTB, 1, uetr=paid.uetr)], today_in_moscow()))
    assert blocker.transactions[0].reasons == ("DUPL",)
    returned = await gw.settle(pacs_004(VTB, "VTB-RTR-2", [(paid.uetr, 250_000_00)], today_in_moscow()))
    assert (returned.group_status, returned.transactions[0].reasons) == ("ACSC", ())
    assert await gw.balances() == FUNDING


async def test_a_return_must_match_its_original_in_full(gw: GatewayUnderTest) -> None:
    paid = await _sberbank_pays_vtb(gw)
    today = today_in_moscow()
    wrong_message = Returned(paid.uetr, 1_00, original_message_id="SBER-PAY-OTHER")
    wrong_name = Returned(paid.uetr, 1_00, original_message_id="SBER-PAY-1", original_message_name="pacs.009.001.08")
    wrong_reference = Returned(paid.uetr, 1_00, end_to_end_id="INV-2026-9999")
    for number, returned in enumerate((wrong_message, wrong_name, wrong_reference)):
        report = await gw.settle(pacs_004(VTB, f"VTB-RTR-X{number}", [returned], today))
        assert (report.group_status, report.transactions[0].reasons) == ("RJCT", ("AG09",)), returned
    # Only the bank that was paid may return it; nothing tells another bank the payment exists.
    stranger = await gw.settle(pacs_004(ALFA, "ALFA-RTR-1", [(paid.uetr, 1_00)], today))
    assert stranger.transactions[0].reasons == ("AG09",)
    # The funds go back to the original debtor agent, to no one else.
    elsewhere = await gw.settle(pacs_004(VTB, "VTB-RTR-ALFA", [Returned(paid.uetr, 1_00, back_to=ALFA)], today))
    assert elsewhere.transactions[0].reasons == ("RC04",)
    assert await gw.balances() == {SBER: FUNDING[SBER] - 1_000_00, VTB: FUNDING[VTB] + 1_000_00, ALFA: FUNDING[ALFA]}


async def test_the_status_report_of_a_return_quotes_it_as_cbpr_plus_does(gw: GatewayUnderTest) -> None:
    paid = await _sberbank_pays_vtb(gw)
    returned = await gw.settle(pacs_004(VTB, "VTB-RTR-3", [
        Returned(paid.uetr, 400_00, original_message_id="SBER-PAY-1", end_to_end_id=paid.end_to_end_id, back_to=SBER),
    ], today_in_moscow()))  # fmt: skip
    group = returned.group
    assert (group.text("OrgnlMsgId"), group.text("OrgnlMsgNmId")) == ("VTB-RTR-3", "pacs.004.001.09")
    [status] = returned.transactions
    assert status.xml.text("OrgnlInstrId") == "R-1"  # the return's RtrId
    assert status.xml.text("OrgnlEndToEndId") == paid.end_to_end_id  # the returned payment's references
    assert status.xml.text("OrgnlUETR") == str(paid.uetr)
    assert status.status == "ACSC"


async def test_a_cancellation_and_a_status_request_find_only_the_senders_own_payment(gw: GatewayUnderTest) -> None:
    paid = await _sberbank_pays_vtb(gw)
    # VTB, the creditor agent, may not cancel Sberbank's payment, nor learn anything of it.
    answer = await gw.post(camt_056(VTB, "VTB-CXL-1", [paid]))
    resolution = Message.read(answer.body)
    assert resolution.document.text("RsltnOfInvstgtn/Sts/Conf") == "RJCR"
    assert resolution.document.text("RsltnOfInvstgtn/CxlDtls/TxInfAndSts/CxlStsRsnInf/Rsn/Cd") == "NOOR"
    assert [m.kind for m in await gw.whole_mailbox(SBER)] == ["pacs.002.001.10"]  # nothing passed on
    # A status request names the payment; asked about by another bank, it is unknown.
    asked = StatusReport(Message.read((await gw.post(pacs_028(ALFA, "ALFA-ASK-1", [paid.uetr]))).body))
    assert [(s.status, s.reasons) for s in asked.transactions] == [(None, ("AG09",))]
    mine = StatusReport(Message.read((await gw.post(pacs_028(SBER, "SBER-ASK-1", [paid.uetr]))).body))
    assert [(s.status, s.reasons) for s in mine.transactions] == [("ACSC", ())]


async def test_a_status_request_echoes_its_request_id_and_matches_the_original_message(gw: GatewayUnderTest) -> None:
    paid = await _sberbank_pays_vtb(gw)
    unknown = uuid.uuid4()
    document = (
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.028.001.03"><FIToFIPmtStsReq><GrpHdr>'
        "<MsgId>SBER-ASK-2</MsgId><CreDtTm>2026-11-24T12:00:00+03:00</CreDtTm></GrpHdr>"
        "<TxInf><StsReqId>Q-1</StsReqId><OrgnlGrpInf><OrgnlMsgId>SBER-PAY-1</OrgnlMsgId>"
        f"<OrgnlMsgNmId>pacs.008.001.08</OrgnlMsgNmId></OrgnlGrpInf><OrgnlUETR>{paid.uetr}</OrgnlUETR></TxInf>"
        "<TxInf><StsReqId>Q-2</StsReqId><OrgnlGrpInf><OrgnlMsgId>SBER-PAY-2</OrgnlMsgId>"
        f"<OrgnlMsgNmId>pacs.008.001.08</OrgnlMsgNmId></OrgnlGrpInf><OrgnlUETR>{paid.uetr}</OrgnlUETR></TxInf>"
        f"<TxInf><StsReqId>Q-3</StsReqId><OrgnlUETR>{unknown}</OrgnlUETR></TxInf>"
        "</FIToFIPmtStsReq></Document>"
    )
    report = StatusReport(Message.read((await gw.post(envelope(app_hdr(SBER, "SBER-ASK-2", "pacs.028.001.03"),
                                                                  document))).body))  # fmt: skip
    report.message.assert_official()
    statuses = report.transactions
    assert [s.xml.text("StsId") for s in statuses] == ["Q-1", "Q-2", "Q-3"]
    assert [(s.status, s.reasons) for s in statuses] == [("ACSC", ()), (None, ("AG09",)), (None, ("AG09",))]
    assert statuses[0].xml.text("OrgnlGrpInf/OrgnlMsgId") == "SBER-PAY-1"


async def test_a_cancellation_passed_on_is_assigned_to_the_creditor_agent(gw: GatewayUnderTest) -> None:
    paid = await _sberbank_pays_vtb(gw)
    answer = await gw.post(camt_056(SBER, "SBER-CXL-1", [paid]))
    assert Message.read(answer.body).document.text("RsltnOfInvstgtn/Sts/Conf") == "PDCR"
    [passed_on] = [m for m in await gw.whole_mailbox(VTB) if m.kind == "camt.056.001.08"]
    passed_on.assert_official()
    assignment = "FIToFIPmtCxlReq/Assgnmt"
    assert passed_on.document.text(f"{assignment}/Assgnr/Agt/FinInstnId/BICFI") == CBRF
    assert passed_on.document.text(f"{assignment}/Assgne/Agt/FinInstnId/BICFI") == VTB
    assert passed_on.document.text(f"{assignment}/Id") != "SBER-CXL-1"  # the gateway's own assignment
    # The case stays the requester's.
    assert passed_on.document.text("FIToFIPmtCxlReq/Case/Cretr/Agt/FinInstnId/BICFI") == SBER
