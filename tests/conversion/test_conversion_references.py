"""A conversion can be tied together end to end: its camt.025 names the transfer in full (the camt.050's TxId, UETR
and EndToEndId, amount, day, the ledger transfer), the ledger transfer carries the camt.050's reference and UETR,
and the bank's camt.052 and camt.054 entries carry the same references; its UETR is claimed like a payment's."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from gateway.app import make_app
from gateway.config import load_config
from gateway.domain.ledger import Phase, TransferKind
from tests.conftest import write_config
from tests.conversion.conftest import ConversionGateway, receipt
from tests.settlement.builders import CBRF, SBER, VTB, ReportAsk, Tx, camt_050, camt_060, pacs_008, today_in_moscow
from tests.settlement.conftest import Message, Xml, status_report


@pytest.fixture
async def cgw(aiohttp_client, database_url: str, tmp_path: Path) -> ConversionGateway:  # type: ignore[no-untyped-def]
    """Sberbank asks for a camt.054 for every credit; every bank's RTGS account opens at 1,000,000.00."""
    path = write_config(
        tmp_path, database_url, rtgs_toml='opening_balance_rub = "1000000.00"',
        participant_toml={SBER: "credit_notifications = true\n"},
    )
    client = await aiohttp_client(make_app(load_config(path, environ={}), upgrade_database=True, plain_http=True))
    return ConversionGateway(client, load_config(path, environ={}))


def _references(transaction: Xml) -> dict[str, str]:
    refs = transaction.one("Refs")
    return {name: refs.text(name) for name in ("MsgId", "EndToEndId", "TxId", "UETR", "ClrSysRef") if refs.has(name)}


async def test_a_mint_and_a_burn_carry_the_camt_050s_references_everywhere(cgw: ConversionGateway) -> None:
    mint_uetr, burn_uetr = uuid.uuid4(), uuid.uuid4()
    mint = receipt((await cgw.post(camt_050(SBER, "LQ-REF-1", 250_000_00, uetr=mint_uetr))).body)
    assert mint.codes == ["ACSC"]
    # The receipt names the conversion in full, as the camt.050 gave it (builders.camt_050: E2E-<MsgId>,
    # TX-<MsgId>), with the amount, the day and the two agents.
    named = mint.message.document.one("Rct/RctDtls/OrgnlPmtId/LngBizId")
    assert named.text("TxId") == "TX-LQ-REF-1" and named.text("EndToEndId") == "E2E-LQ-REF-1"
    assert named.text("UETR") == str(mint_uetr)
    assert named.text("IntrBkSttlmAmt") == "250000.00" and named.text("IntrBkSttlmDt") == today_in_moscow().isoformat()
    assert (named.text("InstgAgt/FinInstnId/BICFI"), named.text("InstdAgt/FinInstnId/BICFI")) == (SBER, CBRF)
    # ... and the ledger transfer that issued it, which carries the camt.050's reference and UETR.
    [described] = mint.descriptions
    transfer_hex = described.rsplit("ledger transfer ", 1)[1]
    ledger = {t.id.hex: t async for t in cgw.gateway.store.transfers_in_order()}
    posted = ledger[transfer_hex]
    assert posted.kind is TransferKind.MINT and posted.phase is Phase.POST_PENDING
    assert (posted.reference, posted.uetr, posted.amount_kopecks) == (f"{SBER}:LQ-REF-1", mint_uetr, 250_000_00)

    burn = receipt((await cgw.post(camt_050(SBER, "LQ-REF-2", 40_000_00, direction="burn", uetr=burn_uetr))).body)
    assert burn.codes == ["ACSC"]
    burn_hex = burn.descriptions[0].rsplit("ledger transfer ", 1)[1]

    # Sberbank's camt.054 for the mint's credit: the same references, the ledger transfer as AcctSvcrRef.
    notifications = [m for m in await cgw.whole_mailbox(SBER) if m.kind == "camt.054.001.08"]
    assert len(notifications) == 1  # a burn is a debit: no credit notification
    notifications[0].assert_official()
    entry = notifications[0].document.one("BkToCstmrDbtCdtNtfctn/Ntfctn/Ntry")
    assert (entry.text("Amt"), entry.text("CdtDbtInd"), entry.text("AcctSvcrRef")) == ("250000.00", "CRDT", transfer_hex)
    assert entry.text("BkTxCd/Domn/Fmly/SubFmlyCd") == "TOPG"
    mint_references = {
        "MsgId": "LQ-REF-1", "EndToEndId": "E2E-LQ-REF-1", "TxId": "TX-LQ-REF-1", "UETR": str(mint_uetr),
        "ClrSysRef": transfer_hex,
    }
    assert _references(entry.one("NtryDtls/TxDtls")) == mint_references

    # The intraday report: the mint and the burn, each with its camt.050's references.
    report = Message.read(
        (await cgw.post(camt_060(SBER, "REP-REF", [ReportAsk("camt.052.001.08", f"{SBER}/main", today_in_moscow(), None)]))).body
    )
    report.assert_official()
    entries = report.document.all("BkToCstmrAcctRpt/Rpt/Ntry")
    assert [(e.text("Amt"), e.text("CdtDbtInd"), e.text("AcctSvcrRef")) for e in entries] == [
        ("250000.00", "CRDT", transfer_hex), ("40000.00", "DBIT", burn_hex)
    ]  # fmt: skip
    assert _references(entries[0].one("NtryDtls/TxDtls")) == mint_references
    assert _references(entries[1].one("NtryDtls/TxDtls")) == {
        "MsgId": "LQ-REF-2", "EndToEndId": "E2E-LQ-REF-2", "TxId": "TX-LQ-REF-2", "UETR": str(burn_uetr),
        "ClrSysRef": burn_hex,
    }


async def test_a_uetr_is_one_payment_or_one_conversion_never_both(cgw: ConversionGateway) -> None:
    first = uuid.uuid4()
    assert receipt((await cgw.post(camt_050(SBER, "LQ-U1", 100_000_00, uetr=first))).body).codes == ["ACSC"]
    # The same UETR in another camt.050: refused DUPL, nothing converted.
    again = receipt((await cgw.post(camt_050(SBER, "LQ-U2", 5_00, uetr=first))).body)
    assert again.codes == ["RJCT", "DUPL"]
    assert (await cgw.accounts())[f"{SBER}/main"] == 100_000_00
    # ... or in a payment, by any bank.
    paid = status_report((await cgw.post(pacs_008(SBER, "PAY-U3", [Tx(SBER, VTB, 1_00, uetr=first)], today_in_moscow()))).body)
    assert paid.group_status == "RJCT"
    assert [r for t in paid.transactions for r in t.reasons] + paid.group_reasons == ["DUPL"]
    # A payment's UETR is as much taken for a conversion.
    payment_uetr = uuid.uuid4()
    assert (await cgw.settle(pacs_008(SBER, "PAY-U4", [Tx(SBER, VTB, 2_00, uetr=payment_uetr)], today_in_moscow()))).group_status == "ACSC"
    taken = receipt((await cgw.post(camt_050(VTB, "LQ-U5", 5_00, uetr=payment_uetr))).body)
    assert taken.codes == ["RJCT", "DUPL"]
