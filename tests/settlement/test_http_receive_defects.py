"""What the receive fuzzer (bench/fuzz_receive.py) found mishandled, over real HTTP: an AppHdr party named without a
BICFI and a camt.029 sender named so get RC02 (they were HTTP 500), and a camt.056 naming settled payments of two
creditor agents passes each its own part on (it was HTTP 500)."""

from __future__ import annotations

import pytest

from tests.settlement.builders import (
    ALFA,
    CBRF,
    SBER,
    VTB,
    Tx,
    camt_029,
    camt_056,
    pacs_008,
    pacs_028,
    today_in_moscow,
)
from tests.settlement.conftest import FUNDING, GatewayUnderTest, Message, message_reject


def _party(bic: str) -> bytes:
    return f"<FIId><FinInstnId><BICFI>{bic}</BICFI></FinInstnId></FIId>".encode()


# A bank named other than by FIId/FinInstnId/BICFI: a clearing code (its BIK), an empty FinInstnId, an organisation.
parties_without_bicfi = {
    "clearing code": b"<FIId><FinInstnId><ClrSysMmbId><MmbId>044525225</MmbId></ClrSysMmbId></FinInstnId></FIId>",
    "empty FinInstnId": b"<FIId><FinInstnId/></FIId>",
    "OrgId": b"<OrgId><Nm>Sberbank</Nm></OrgId>",
}


@pytest.mark.parametrize("party", parties_without_bicfi.values(), ids=parties_without_bicfi.keys())
async def test_an_apphdr_sender_without_a_bicfi_gets_an_admi_002_rc02(gw: GatewayUnderTest, party: bytes) -> None:
    payload = pacs_028(SBER, "SBER-FR-1", [Tx(SBER, VTB, 1_00).uetr])
    payload = payload.replace(b"<Fr>" + _party(SBER) + b"</Fr>", b"<Fr>" + party + b"</Fr>")
    answer = await gw.post(payload)
    assert (answer.status, answer.headers["X-Gateway-Outcome"]) == (200, "rejected")
    message = Message.read(answer.body)
    message.assert_official()
    # No sender can be named (the development mode trusts Fr): the answer goes back on HTTP only.
    assert (message.sender, message.receiver) == (CBRF, CBRF)
    assert not message.app_hdr.has("Rltd"), "a Rltd copies its parties by BIC, and this sender has none"
    reject = message_reject(answer.body)
    assert reject.text("Rsn/RjctgPtyRsn") == "RC02"
    assert reject.text("Rsn/ErrLctn") == "/Envelope/AppHdr/Fr"
    assert reject.text("RltdRef/Ref") == "SBER-FR-1"
    assert await gw.balances() == FUNDING


@pytest.mark.parametrize("party", parties_without_bicfi.values(), ids=parties_without_bicfi.keys())
async def test_an_apphdr_receiver_without_a_bicfi_gets_an_admi_002_rc02(gw: GatewayUnderTest, party: bytes) -> None:
    payload = pacs_008(SBER, "SBER-TO-1", [Tx(SBER, VTB, 5_00)], today_in_moscow())
    payload = payload.replace(b"<To>" + _party(CBRF) + b"</To>", b"<To>" + party + b"</To>")
    answer = await gw.post(payload)
    assert (answer.status, answer.headers["X-Gateway-Outcome"]) == (200, "rejected")
    message = Message.read(answer.body)
    message.assert_official()
    assert (message.sender, message.receiver) == (CBRF, SBER)
    assert not message.app_hdr.has("Rltd")
    reject = message_reject(answer.body)
    assert reject.text("Rsn/RjctgPtyRsn") == "RC02"
    assert reject.text("Rsn/ErrLctn") == "/Envelope/AppHdr/To"
    assert await gw.balances() == FUNDING
    assert [m.payload for m in await gw.whole_mailbox(SBER)] == [answer.body]


async def test_a_camt_029_whose_sender_has_no_bicfi_gets_rc02(gw: GatewayUnderTest) -> None:
    settled = Tx(SBER, VTB, 10_00)
    await gw.settle(pacs_008(SBER, "PAY-R", [settled], today_in_moscow()))
    assert (await gw.post(camt_056(SBER, "CXL-R", [settled]))).status == 200
    payload = camt_029(VTB, "RSL-R", SBER, [settled])
    payload = payload.replace(b"<Fr>" + _party(VTB) + b"</Fr>", b"<Fr>" + parties_without_bicfi["clearing code"] + b"</Fr>")
    answer = await gw.post(payload)
    assert (answer.status, answer.headers["X-Gateway-Outcome"]) == (200, "rejected")
    Message.read(answer.body).assert_official()
    reject = message_reject(answer.body)
    assert (reject.text("Rsn/RjctgPtyRsn"), reject.text("Rsn/ErrLctn")) == ("RC02", "/Envelope/AppHdr/Fr")
    # Nothing went on to the bank that asked: only the gateway's own camt.029 (PDCR) is in its mailbox.
    assert len([m for m in await gw.whole_mailbox(SBER) if m.kind == "camt.029.001.09"]) == 1


async def test_a_camt_056_naming_two_creditor_agents_passes_each_its_own_part(gw: GatewayUnderTest) -> None:
    to_vtb, to_alfa = Tx(SBER, VTB, 10_00), Tx(SBER, ALFA, 20_00)
    await gw.settle(pacs_008(SBER, "PAY-2", [to_vtb, to_alfa], today_in_moscow()))
    answer = await gw.post(camt_056(SBER, "CXL-2", [to_vtb, to_alfa]))
    assert answer.status == 200
    resolution = Message.read(answer.body)
    resolution.assert_official()
    assert resolution.document.texts("RsltnOfInvstgtn/CxlDtls/TxInfAndSts/TxCxlSts") == ["PDCR", "PDCR"]
    for creditor, tx in ((VTB, to_vtb), (ALFA, to_alfa)):
        requests = [m for m in await gw.whole_mailbox(creditor) if m.kind == "camt.056.001.08"]
        assert len(requests) == 1, creditor
        requests[0].assert_official()
        assert requests[0].document.texts("FIToFIPmtCxlReq/Undrlyg/TxInf/OrgnlUETR") == [str(tx.uetr)]
