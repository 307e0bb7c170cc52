"""Each usage-guideline and business rule refuses its failing input with its ISO code, path and layer."""

from __future__ import annotations

from datetime import date

import pytest

from gateway import bounds
from gateway.messages.rejections import Layer
from gateway.messages.rules import RuleContext
from tests.message_layer.support import (
    accepted,
    alfa,
    banks,
    context,
    edited,
    fixture,
    refused,
    sberbank,
    vtb,
)

invoice = "pacs.008.001.08-sberbank-to-vtb-invoice.xml"  # bare, one transaction, 2026-03-16, sent by Sberbank
batch = "pacs.008.001.08-alfa-tax-and-contractor.xml"  # bare, two transactions, 2026-03-25, sent by Alfa
enveloped = "pacs.008.001.08-gateway-envelope.xml"  # AppHdr from Sberbank, two transactions, 2025-03-14
loan = "pacs.009.001.08-alfa-interbank-loan-to-sberbank.xml"  # bare, 2026-04-02
cover = "pacs.009.001.08-sberbank-cover-via-cbrf.xml"  # bare, no GrpHdr/InstgAgt, 2026-04-10
returned = "pacs.004.001.09-vtb-returns-closed-account.xml"  # bare, 2026-03-17, sent by VTB
status_request = "pacs.028.001.03-bare-document.xml"

invoice_group = "/Document/FIToFICstmrCdtTrf/GrpHdr"
invoice_tx = "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf"
batch_tx2 = "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[2]"
return_tx = "/Document/PmtRtr/TxInf"

on_invoice_day = context(date(2026, 3, 16))
on_batch_day = context(date(2026, 3, 25))
on_return_day = context(date(2026, 3, 17))


def _refusal(data: bytes, rule_context: RuleContext, layer: Layer) -> list[tuple[str, str]]:
    result = refused(data, rule_context)
    assert {r.layer for r in result.rejections} == {layer}, result.rejections
    return [(r.code, r.path) for r in result.rejections]


def _usage(data: bytes, rule_context: RuleContext) -> list[tuple[str, str]]:
    return _refusal(data, rule_context, Layer.USAGE_GUIDELINE)


def _business(data: bytes, rule_context: RuleContext) -> list[tuple[str, str]]:
    return _refusal(data, rule_context, Layer.BUSINESS)


@pytest.mark.parametrize(
    ("name", "rule_context"),
    [
        (invoice, on_invoice_day),
        (batch, on_batch_day),
        (enveloped, context(date(2025, 3, 14))),
        (loan, context(date(2026, 4, 2))),
        (cover, context(date(2026, 4, 10), authenticated=sberbank)),
        ("pacs.009.001.08-swift-envelope.xml", context(date(2025, 3, 14), authenticated=alfa)),
        (returned, on_return_day),
        ("pacs.028.001.03-sberbank-asks-cover-status.xml", context(date(2026, 4, 10))),
        (status_request, context(date(2025, 3, 14))),
    ],
)
def test_team_fixtures_pass_every_rule(name: str, rule_context: RuleContext) -> None:
    accepted(fixture(name), rule_context)


# Usage-guideline rules ----------------------------------------------------------------------------------------


def test_rub_only() -> None:
    data = edited(fixture(invoice), '<IntrBkSttlmAmt Ccy="RUB">', '<IntrBkSttlmAmt Ccy="USD">')
    assert _usage(data, on_invoice_day) == [("AM03", f"{invoice_tx}/IntrBkSttlmAmt")]
    data = edited(fixture(invoice), '<TtlIntrBkSttlmAmt Ccy="RUB">', '<TtlIntrBkSttlmAmt Ccy="CNY">')
    assert _usage(data, on_invoice_day) == [("AM03", f"{invoice_group}/TtlIntrBkSttlmAmt")]
    data = edited(fixture(returned), '<RtrdIntrBkSttlmAmt Ccy="RUB">', '<RtrdIntrBkSttlmAmt Ccy="EUR">')
    assert _usage(data, on_return_day) == [("AM03", f"{return_tx}/RtrdIntrBkSttlmAmt")]


@pytest.mark.parametrize("method", ["INGA", "COVE"])
def test_settlement_method_is_clearing_or_instructed_agent(method: str) -> None:
    data = edited(fixture(invoice), "<SttlmMtd>CLRG</SttlmMtd>", f"<SttlmMtd>{method}</SttlmMtd>")
    assert _usage(data, on_invoice_day) == [("AG03", f"{invoice_group}/SttlmInf/SttlmMtd")]


def test_uetr_required() -> None:
    data = edited(fixture(invoice), "<UETR>1edf9ec9-9cf3-437b-b270-1f6ccd9638c6</UETR>", "")
    assert _usage(data, on_invoice_day) == [("CH21", f"{invoice_tx}/PmtId/UETR")]
    data = edited(fixture(returned), "<OrgnlUETR>1edf9ec9-9cf3-437b-b270-1f6ccd9638c6</OrgnlUETR>", "")
    assert _usage(data, on_return_day) == [("CH21", f"{return_tx}/OrgnlUETR")]
    data = edited(fixture(status_request), "<OrgnlUETR>0c6f2b8e-7d41-4f3a-a5c9-3e2d1b0a9f87</OrgnlUETR>", "")
    assert _usage(data, context(date(2025, 3, 14))) == [("CH21", "/Document/FIToFIPmtStsReq/TxInf/OrgnlUETR")]


def test_bicfi_required() -> None:
    data = edited(fixture(invoice), "<BICFI>SABRRUMMXXX</BICFI>\n          <ClrSysMmbId>", "<ClrSysMmbId>")
    assert _usage(data, on_invoice_day) == [("RC03", f"{invoice_tx}/DbtrAgt/FinInstnId/BICFI")]
    data = edited(fixture(invoice), "<BICFI>VTBRRUMMXXX</BICFI>\n          <ClrSysMmbId>", "<ClrSysMmbId>")
    assert _usage(data, on_invoice_day) == [("RC04", f"{invoice_tx}/CdtrAgt/FinInstnId/BICFI")]
    data = edited(
        fixture(invoice),
        "<InstgAgt><FinInstnId><BICFI>SABRRUMMXXX</BICFI></FinInstnId></InstgAgt>",
        "<InstgAgt><FinInstnId><Nm>ПАО Сбербанк</Nm></FinInstnId></InstgAgt>",
    )
    assert _usage(data, on_invoice_day) == [("RC02", f"{invoice_group}/InstgAgt/FinInstnId/BICFI")]
    data = edited(
        fixture(loan),
        "<BICFI>ALFARUMMXXX</BICFI>\n          <ClrSysMmbId>",
        "<ClrSysMmbId>",
    )
    assert _usage(data, context(date(2026, 4, 2))) == [("RC03", "/Document/FICdtTrf/CdtTrfTxInf/Dbtr/FinInstnId/BICFI")]
    data = edited(
        fixture(enveloped),
        "<Fr><FIId><FinInstnId><BICFI>SABRRUMMXXX</BICFI></FinInstnId></FIId></Fr>",
        "<Fr><OrgId><Nm>ПАО Сбербанк</Nm></OrgId></Fr>",
    )
    assert _usage(data, context(date(2025, 3, 14))) == [("RC02", "/Envelope/AppHdr/Fr")]


def test_settlement_date_required() -> None:
    data = edited(fixture(batch), "<IntrBkSttlmDt>2026-03-25</IntrBkSttlmDt>", "")
    assert _usage(data, on_batch_day) == [
        ("DT01", "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf/IntrBkSttlmDt"),
        ("DT01", f"{batch_tx2}/IntrBkSttlmDt"),
    ]


def test_return_reason_required() -> None:
    data = edited(fixture(returned), "<Rsn><Cd>AC04</Cd></Rsn>", "")
    assert _usage(data, on_return_day) == [("CH21", f"{return_tx}/RtrRsnInf")]


def test_transactions_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bounds, "transactions_per_message_max", 1)
    assert _usage(fixture(batch), on_batch_day) == [("AM18", batch_tx2)]


def test_transactions_present() -> None:
    data = fixture(returned)
    data = data[: data.index(b"<TxInf>")] + data[data.index(b"</TxInf>") + len(b"</TxInf>") :]
    assert _usage(data, on_return_day) == [("CH21", "/Document/PmtRtr/TxInf")]
    data = fixture(status_request)
    data = data[: data.index(b"<TxInf>")] + data[data.index(b"</TxInf>") + len(b"</TxInf>") :]
    assert _usage(data, context(date(2025, 3, 14))) == [("CH21", "/Document/FIToFIPmtStsReq/TxInf")]


# Business rules -----------------------------------------------------------------------------------------------


def test_number_of_transactions_matches() -> None:
    data = edited(fixture(invoice), "<NbOfTxs>1</NbOfTxs>", "<NbOfTxs>2</NbOfTxs>")
    assert _business(data, on_invoice_day) == [("AM19", f"{invoice_group}/NbOfTxs")]


def test_group_totals_match() -> None:
    data = edited(fixture(batch), "<CtrlSum>1961250.00</CtrlSum>", "<CtrlSum>1961250.01</CtrlSum>")
    assert _business(data, on_batch_day) == [("AM16", "/Document/FIToFICstmrCdtTrf/GrpHdr/CtrlSum")]
    data = edited(
        fixture(batch), '<TtlIntrBkSttlmAmt Ccy="RUB">1961250.00<', '<TtlIntrBkSttlmAmt Ccy="RUB">1961249.99<'
    )
    assert _business(data, on_batch_day) == [("AM16", "/Document/FIToFICstmrCdtTrf/GrpHdr/TtlIntrBkSttlmAmt")]
    data = edited(
        fixture(returned), '<TtlRtrdIntrBkSttlmAmt Ccy="RUB">250000.00<', '<TtlRtrdIntrBkSttlmAmt Ccy="RUB">1<'
    )
    assert _business(data, on_return_day) == [("AM16", "/Document/PmtRtr/GrpHdr/TtlRtrdIntrBkSttlmAmt")]


@pytest.mark.parametrize(("roubles", "code"), [("0", "AM01"), ("1000000000000000.01", "AM02")])
def test_amount_positive_and_below_the_maximum(roubles: str, code: str) -> None:
    data = fixture(invoice)
    for element in ("TtlIntrBkSttlmAmt", "IntrBkSttlmAmt"):
        data = edited(data, f'<{element} Ccy="RUB">250000.00<', f'<{element} Ccy="RUB">{roubles}<')
    assert _business(data, on_invoice_day) == [(code, f"{invoice_tx}/IntrBkSttlmAmt")]


def test_settlement_date_within_the_window() -> None:
    dates = [f"{invoice_group}/IntrBkSttlmDt", f"{invoice_tx}/IntrBkSttlmDt"]
    assert _business(fixture(invoice), context(date(2026, 3, 17))) == [("DT01", path) for path in dates]
    assert _business(fixture(invoice), context(date(2026, 3, 15))) == [("DT04", path) for path in dates]
    accepted(fixture(invoice), context(date(2026, 3, 15), days_ahead=1))


def test_bics_well_formed() -> None:
    # The XSD lets digits into a BIC's first four characters; ISO 9362 and the participant register do not.
    data = edited(
        fixture(invoice),
        "<BICFI>VTBRRUMMXXX</BICFI>\n          <ClrSysMmbId>",
        "<BICFI>1TBRRUMMXXX</BICFI><ClrSysMmbId>",
    )
    assert _business(data, on_invoice_day) == [("RC01", f"{invoice_tx}/CdtrAgt/FinInstnId/BICFI")]


def test_agents_registered_and_active() -> None:
    without_vtb = context(date(2026, 3, 16), participants=banks - {vtb})
    assert _business(fixture(invoice), without_vtb) == [
        ("RC02", f"{invoice_group}/InstdAgt/FinInstnId/BICFI"),
        ("CNOR", f"{invoice_tx}/CdtrAgt/FinInstnId/BICFI"),
    ]
    without_sberbank = context(date(2026, 3, 16), participants=banks - {sberbank})
    assert _business(fixture(invoice), without_sberbank) == [
        ("RC02", f"{invoice_group}/InstgAgt/FinInstnId/BICFI"),
        ("DNOR", f"{invoice_tx}/DbtrAgt/FinInstnId/BICFI"),
    ]
    vtb_suspended = context(date(2026, 3, 16), suspended=frozenset({vtb}))
    assert _business(fixture(invoice), vtb_suspended) == [("AG11", f"{invoice_tx}/CdtrAgt/FinInstnId/BICFI")]
    sberbank_suspended = context(date(2026, 3, 16), suspended=frozenset({sberbank}))
    assert _business(fixture(invoice), sberbank_suspended) == [("AG10", f"{invoice_tx}/DbtrAgt/FinInstnId/BICFI")]


def test_debtor_agent_is_the_sender() -> None:
    on_day = context(date(2025, 3, 14))
    data = edited(
        fixture(enveloped), "<Fr><FIId><FinInstnId><BICFI>SABRRUMMXXX", "<Fr><FIId><FinInstnId><BICFI>ALFARUMMXXX"
    )
    assert _business(data, on_day) == [
        ("AG01", "/Envelope/Document/FIToFICstmrCdtTrf/CdtTrfTxInf/DbtrAgt/FinInstnId/BICFI"),
        ("AG01", "/Envelope/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[2]/DbtrAgt/FinInstnId/BICFI"),
    ]
    # The AppHdr names a bank other than the one the transport authenticated.
    assert _business(fixture(enveloped), context(date(2025, 3, 14), authenticated=vtb)) == [
        ("AG01", "/Envelope/AppHdr/Fr/FIId/FinInstnId/BICFI")
    ]
    # pacs.009: the debtor institution itself is debited.
    data = edited(fixture(loan), "<InstgAgt><FinInstnId><BICFI>ALFARUMMXXX", "<InstgAgt><FinInstnId><BICFI>VTBRRUMMXXX")
    assert _business(data, context(date(2026, 4, 2))) == [
        ("AG01", "/Document/FICdtTrf/CdtTrfTxInf/Dbtr/FinInstnId/BICFI")
    ]
    # A bare Document with neither an authenticated sender nor GrpHdr/InstgAgt debits no one.
    assert _business(fixture(cover), context(date(2026, 4, 10))) == [("AG01", "/Document/FICdtTrf/GrpHdr/InstgAgt")]
    # pacs.004: the returning bank (RtrChain/DbtrAgt) is the sender.
    data = edited(
        fixture(returned),
        "<InstgAgt><FinInstnId><BICFI>VTBRRUMMXXX",
        "<InstgAgt><FinInstnId><BICFI>ALFARUMMXXX",
        count=2,
    )
    assert _business(data, on_return_day) == [("AG01", f"{return_tx}/RtrChain/DbtrAgt/FinInstnId/BICFI")]


@pytest.mark.parametrize(
    ("old", "new", "code", "element"),
    [
        ("<InstrId>ALFA-000981-2<", "<InstrId>ALFA-000981-1<", "DU05", "InstrId"),
        ("<UETR>46c41864-4fc5-4ba9-b330-54b2c7f45f7f<", "<UETR>4b3dbf5c-13d8-40de-85b7-b6605bdbce6d<", "DU03", "UETR"),
    ],
)
def test_references_unique_within_the_message(old: str, new: str, code: str, element: str) -> None:
    data = edited(fixture(batch), old, new)
    assert _business(data, on_batch_day) == [(code, f"{batch_tx2}/PmtId/{element}")]


@pytest.mark.parametrize("repeated", ["ENP-2026-03-7703123456", "NOTPROVIDED"])
def test_end_to_end_ids_may_repeat_within_the_message(repeated: str) -> None:
    # The debtor customers' reference: two customers may give the same one, and NOTPROVIDED is a legal value.
    data = edited(fixture(batch), "<EndToEndId>GPH-2026-014<", f"<EndToEndId>{repeated}<")
    if repeated != "ENP-2026-03-7703123456":
        data = edited(data, "<EndToEndId>ENP-2026-03-7703123456<", f"<EndToEndId>{repeated}<")
    command = accepted(data, on_batch_day).command
    assert [tx.end_to_end_id for tx in command.transactions] == [repeated, repeated]


def test_transaction_ids_unique_within_the_message() -> None:
    data = edited(fixture(batch), "</EndToEndId>", "</EndToEndId><TxId>ALFA-TX-1</TxId>", count=2)
    assert _business(data, on_batch_day) == [("DU03", f"{batch_tx2}/PmtId/TxId")]


def test_returns_unique_within_the_message() -> None:
    data = fixture(returned)
    start, end = data.index(b"<TxInf>"), data.index(b"</TxInf>") + len(b"</TxInf>")
    data = data[:end] + data[start:end] + data[end:]
    data = edited(data, "<NbOfTxs>1</NbOfTxs>", "<NbOfTxs>2</NbOfTxs>")
    data = edited(data, '<TtlRtrdIntrBkSttlmAmt Ccy="RUB">250000.00<', '<TtlRtrdIntrBkSttlmAmt Ccy="RUB">500000.00<')
    assert _business(data, on_return_day) == [("DU03", f"{return_tx}[2]/RtrId"), ("DU03", f"{return_tx}[2]/OrgnlUETR")]
