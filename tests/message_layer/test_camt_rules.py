"""Each usage-guideline and business rule over camt.056, camt.050 and camt.060 refuses its failing input with its
ISO code, element path and layer, and the team's valid fixtures pass every rule through intake()."""

from __future__ import annotations

import dataclasses
from datetime import date
from types import MappingProxyType

import pytest

from gateway import bounds
from gateway.messages.commands import (
    AccountReportingRequest,
    CancellationRequest,
    LiquidityDirection,
    LiquidityTransfer,
)
from gateway.messages.identity import MessageId
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

cancellation = "camt.056.001.08-gateway-envelope.xml"  # Alfa -> the gateway, two TxInf, 2026-05-12
recall = "camt.056.001.08-vtb-recalls-duplicate.xml"  # bare, VTB -> Alfa, one TxInf with its own Assgnr
burn = "camt.050.001.05-gateway-envelope-burn.xml"  # VTB, wallet -> RTGS, Dbtr and Cdtr VTB, 2026-05-12
mint = "camt.050.001.05-gateway-envelope-mint.xml"  # Alfa, RTGS -> wallet, no Dbtr, Cdtr or SttlmDt
reports = "camt.060.001.05-gateway-envelope.xml"  # Alfa: camt.053 2026-05-08..11, camt.052 today since 09:00

cxl = "/Envelope/Document/FIToFIPmtCxlReq"
lqt = "/Envelope/Document/LqdtyCdtTrf/LqdtyCdtTrf"
rpt = "/Envelope/Document/AcctRptgReq"
sender_in_header = "/Envelope/AppHdr/Fr/FIId/FinInstnId/BICFI"

rtgs_accounts = MappingProxyType(
    {sberbank: "30101810400000000225", vtb: "30101810700000000187", alfa: "30101810200000000593"}
)
wallets = frozenset({"SABRRUMMXXX/main", "SABRRUMMXXX/clients", "VTBRRUMMXXX/main", "ALFARUMMXXX/main"})


def on(
    day: date,
    *,
    participants: frozenset[str] = banks,
    suspended: frozenset[str] = frozenset(),
    days_ahead: int = 0,
    authenticated: str | None = None,
) -> RuleContext:
    """support.context with the banks' RTGS accounts and wallets, as the demo config registers them."""
    plain = context(
        day, participants=participants, suspended=suspended, days_ahead=days_ahead, authenticated=authenticated
    )
    return dataclasses.replace(plain, rtgs_accounts=rtgs_accounts, wallets=wallets)


today = on(date(2026, 5, 12))


def _refusal(data: bytes, rule_context: RuleContext, layer: Layer) -> list[tuple[str, str]]:
    result = refused(data, rule_context)
    assert {r.layer for r in result.rejections} == {layer}, result.rejections
    return [(r.code, r.path) for r in result.rejections]


def _usage(data: bytes, rule_context: RuleContext = today) -> list[tuple[str, str]]:
    return _refusal(data, rule_context, Layer.USAGE_GUIDELINE)


def _business(data: bytes, rule_context: RuleContext = today) -> list[tuple[str, str]]:
    return _refusal(data, rule_context, Layer.BUSINESS)


def _edited(name: str, *edits: tuple[str, str]) -> bytes:
    data = fixture(name)
    for old, new in edits:
        data = edited(data, old, new)
    return data


@pytest.mark.parametrize(
    ("name", "rule_context", "kind"),
    [
        (cancellation, today, CancellationRequest),
        ("camt.056.001.08-busmsg.xml", on(date(2025, 3, 14)), CancellationRequest),
        (recall, on(date(2026, 4, 20)), CancellationRequest),
        (burn, today, LiquidityTransfer),
        (mint, today, LiquidityTransfer),
        (
            "camt.050.001.05-sberbank-rtgs-to-wallet.xml",
            on(date(2026, 4, 15), authenticated=sberbank),
            LiquidityTransfer,
        ),
        (reports, today, AccountReportingRequest),
        ("camt.060.001.05-sberbank-asks-wallet-reports.xml", on(date(2026, 4, 15)), AccountReportingRequest),
    ],
)
def test_team_fixtures_pass_every_rule(name: str, rule_context: RuleContext, kind: type) -> None:
    result = accepted(fixture(name), rule_context)
    assert isinstance(result.command, kind)
    assert result.message_id == MessageId.parse(name[:15])


@pytest.mark.parametrize(
    ("name", "layer", "found"),
    [
        (
            "camt.050.001.05-refused-wallet-to-wallet.xml",
            Layer.USAGE_GUIDELINE,
            [("AC14", f"{lqt}/CdtrAcct")],
        ),
        (
            "camt.050.001.05-refused-other-banks-rtgs-account.xml",
            Layer.BUSINESS,
            [("AG01", f"{lqt}/DbtrAcct/Id/Othr/Id")],
        ),
        (
            "camt.056.001.08-refused-whole-message.xml",
            Layer.USAGE_GUIDELINE,
            [("CH21", f"{cxl}/Undrlyg/TxInf"), ("AG03", f"{cxl}/Undrlyg/OrgnlGrpInfAndCxl/GrpCxl")],
        ),
        (
            "camt.060.001.05-refused-sequence-and-notifications.xml",
            Layer.USAGE_GUIDELINE,
            [
                ("AG03", f"{rpt}/RptgReq/ReqdMsgNmId"),
                ("CH21", f"{rpt}/RptgReq/RptgPrd"),
                ("CH17", f"{rpt}/RptgReq/RptgSeq"),
            ],
        ),
    ],
)
def test_refused_fixtures_are_refused_for_their_reason(name: str, layer: Layer, found: list[tuple[str, str]]) -> None:
    assert _refusal(fixture(name), today, layer) == found


def test_liquidity_direction_of_the_fixtures() -> None:
    for name, direction in ((mint, LiquidityDirection.MINT), (burn, LiquidityDirection.BURN)):
        command = accepted(fixture(name), today).command
        assert isinstance(command, LiquidityTransfer) and command.direction is direction


def test_a_refusal_quotes_the_reference_of_a_bare_camt_document() -> None:
    # No AppHdr: the answer quotes camt.050 MsgHdr/MsgId, camt.056 Assgnmt/Id, camt.060 GrpHdr/MsgId.
    liquidity = fixture("camt.050.001.05-sberbank-rtgs-to-wallet.xml")
    assert refused(liquidity, on(date(2026, 4, 15))).reference == "SABR-LQT-20260415-0001"
    assert refused(fixture(recall), on(date(2026, 4, 20), participants=banks - {alfa})).reference == (
        "VTBR-CXL-20260420-000118"
    )
    statement = edited(fixture("camt.060.001.05-sberbank-asks-wallet-reports.xml"), "<Tp>ALLL</Tp>", "<Tp>CHNG</Tp>", 2)
    assert refused(statement, on(date(2026, 4, 15))).reference == "SABR-ARQ-20260415-0012"


# Usage-guideline rules ----------------------------------------------------------------------------------------


def test_rub_only() -> None:
    data = _edited(
        cancellation, ('<OrgnlIntrBkSttlmAmt Ccy="RUB">250500.75<', '<OrgnlIntrBkSttlmAmt Ccy="USD">250500.75<')
    )
    assert _usage(data) == [("AM03", f"{cxl}/Undrlyg/TxInf[2]/OrgnlIntrBkSttlmAmt")]
    data = _edited(mint, ('<AmtWthCcy Ccy="RUB">', '<AmtWthCcy Ccy="EUR">'))
    assert _usage(data) == [("AM03", f"{lqt}/TrfdAmt/AmtWthCcy")]
    data = _edited(
        "camt.060.001.05-sberbank-asks-wallet-reports.xml", ('<Amt Ccy="RUB">100000.00<', '<Amt Ccy="CNY">100000.00<')
    )
    assert _usage(data, on(date(2026, 4, 15))) == [("AM03", "/Document/AcctRptgReq/RptgReq/ReqdTxTp/FlrLmt/Amt")]


def test_account_currency_rub() -> None:
    assert _usage(_edited(burn, ("<Ccy>RUB</Ccy>", "<Ccy>USD</Ccy>"))) == [("AC09", f"{lqt}/CdtrAcct/Ccy")]
    assert _usage(_edited(reports, ("<Ccy>RUB</Ccy>", "<Ccy>CNY</Ccy>"))) == [("AC09", f"{rpt}/RptgReq/Acct/Ccy")]


def test_uetr_required() -> None:
    data = _edited(cancellation, ("<OrgnlUETR>f2a94d07-61c8-4e35-b0d2-7c3e8a195b46</OrgnlUETR>", ""))
    assert _usage(data) == [("CH21", f"{cxl}/Undrlyg/TxInf[2]/OrgnlUETR")]
    data = _edited(burn, ("<UETR>5b7e2c90-8d14-4f6a-a3e7-19c04d6f2b85</UETR>", ""))
    assert _usage(data) == [("CH21", f"{lqt}/LqdtyTrfId/UETR")]
    data = fixture(mint)
    data = data[: data.index(b"<LqdtyTrfId>")] + data[data.index(b"</LqdtyTrfId>") + len(b"</LqdtyTrfId>") :]
    assert _usage(data) == [("CH21", f"{lqt}/LqdtyTrfId/UETR")]


def test_bicfi_required() -> None:
    pty = "<Pty><Nm>АО «Альфа-Банк»</Nm></Pty>"
    data = _edited(
        cancellation, ("<Assgnr><Agt><FinInstnId><BICFI>ALFARUMMXXX</BICFI></FinInstnId></Agt>", f"<Assgnr>{pty}")
    )
    assert _usage(data) == [("RC02", f"{cxl}/Assgnmt/Assgnr")]
    data = _edited(
        cancellation,
        (
            "<Assgne><Agt><FinInstnId><BICFI>CBRFRUMMXXX</BICFI>",
            "<Assgne><Agt><FinInstnId><ClrSysMmbId><MmbId>044525000</MmbId></ClrSysMmbId>",
        ),
    )
    assert _usage(data) == [("RC02", f"{cxl}/Assgnmt/Assgne/Agt/FinInstnId/BICFI")]
    nameless = "<FinInstnId><Nm>Банк ВТБ (ПАО)</Nm></FinInstnId>"
    data = _edited(burn, ("<Dbtr><FinInstnId><BICFI>VTBRRUMMXXX</BICFI></FinInstnId>", f"<Dbtr>{nameless}"))
    assert _usage(data) == [("RC03", f"{lqt}/Dbtr/FinInstnId/BICFI")]
    data = _edited(burn, ("<Cdtr><FinInstnId><BICFI>VTBRRUMMXXX</BICFI></FinInstnId>", f"<Cdtr>{nameless}"))
    assert _usage(data) == [("RC04", f"{lqt}/Cdtr/FinInstnId/BICFI")]
    data = _edited(
        reports,
        (
            "<AcctOwnr><Agt><FinInstnId><BICFI>ALFARUMMXXX</BICFI></FinInstnId></Agt></AcctOwnr>\n        <RptgPrd>",
            f"<AcctOwnr>{pty}</AcctOwnr><RptgPrd>",
        ),
    )
    assert _usage(data) == [("RC02", f"{rpt}/RptgReq[2]/AcctOwnr")]


def test_a_case_may_be_opened_by_a_party_that_is_no_bank() -> None:
    data = _edited(
        cancellation,
        (
            "<Cretr><Agt><FinInstnId><BICFI>ALFARUMMXXX</BICFI></FinInstnId></Agt></Cretr>",
            "<Cretr><Pty><Nm>ООО «Балтийская верфь-Сервис»</Nm></Pty></Cretr>",
        ),
    )
    accepted(data, today)


def test_transactions_present_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bounds, "transactions_per_message_max", 1)
    assert _usage(fixture(cancellation)) == [("AM18", f"{cxl}/Undrlyg/TxInf[2]")]
    monkeypatch.setattr(bounds, "reporting_requests_per_message_max", 1)
    assert _usage(fixture(reports)) == [("AM18", f"{rpt}/RptgReq[2]")]


def test_reporting_requests_bound_holds_an_answer_per_wallet() -> None:
    # Up to 16 wallets a bank (gateway.bounds), each with an intraday report and a statement.
    assert bounds.reporting_requests_per_message_max == 32


def test_cancellation_reason_required() -> None:
    data = _edited(cancellation, ("<Rsn><Cd>AM09</Cd></Rsn>", ""))
    assert _usage(data) == [("CH21", f"{cxl}/Undrlyg/TxInf[2]/CxlRsnInf")]
    data = _edited(cancellation, ("<Rsn><Cd>AM09</Cd></Rsn>", "<Rsn><Prtry>НЕВЕРНАЯ СУММА</Prtry></Rsn>"))
    assert _usage(data) == [("CH21", f"{cxl}/Undrlyg/TxInf[2]/CxlRsnInf")]
    # The original group's reason stands for every transaction under it.
    data = _edited(
        cancellation,
        ("<Rsn><Cd>AM09</Cd></Rsn>", ""),
        (
            "</OrgnlCreDtTm>\n        </OrgnlGrpInfAndCxl>",
            "</OrgnlCreDtTm><CxlRsnInf><Rsn><Cd>CUST</Cd></Rsn></CxlRsnInf></OrgnlGrpInfAndCxl>",
        ),
    )
    accepted(data, today)


def test_cancellation_per_transaction() -> None:
    group_end = "</OrgnlCreDtTm>\n        </OrgnlGrpInfAndCxl>"
    data = _edited(cancellation, (group_end, "</OrgnlCreDtTm><GrpCxl>true</GrpCxl></OrgnlGrpInfAndCxl>"))
    assert _usage(data) == [("AG03", f"{cxl}/Undrlyg/OrgnlGrpInfAndCxl/GrpCxl")]
    accepted(_edited(cancellation, (group_end, "</OrgnlCreDtTm><GrpCxl>false</GrpCxl></OrgnlGrpInfAndCxl>")), today)


def test_cancelled_message_settled_by_gateway() -> None:
    data = _edited(cancellation, ("<OrgnlMsgNmId>pacs.008.001.08<", "<OrgnlMsgNmId>pacs.003.001.08<"))
    assert _usage(data) == [("CH16", f"{cxl}/Undrlyg/OrgnlGrpInfAndCxl/OrgnlMsgNmId")]
    data = _edited(recall, ("<OrgnlMsgNmId>pacs.008.001.08<", "<OrgnlMsgNmId>camt.050.001.05<"))
    assert _usage(data, on(date(2026, 4, 20))) == [
        ("CH16", "/Document/FIToFIPmtCxlReq/Undrlyg/TxInf/OrgnlGrpInf/OrgnlMsgNmId")
    ]
    for settled in ("pacs.009.001.08", "pacs.004.001.09"):
        accepted(_edited(cancellation, ("<OrgnlMsgNmId>pacs.008.001.08<", f"<OrgnlMsgNmId>{settled}<")), today)


wallet_main = "<Id><Othr><Id>VTBRRUMMXXX/main</Id><SchmeNm><Prtry>CRUB-WALLET</Prtry></SchmeNm></Othr></Id>"
rtgs_vtb = "<Id><Othr><Id>30101810700000000187</Id></Othr></Id>"


def test_liquidity_accounts_named() -> None:
    data = fixture(burn)
    data = data[: data.index(b"<DbtrAcct>")] + data[data.index(b"</DbtrAcct>") + len(b"</DbtrAcct>") :]
    assert _usage(data) == [("AC02", f"{lqt}/DbtrAcct")]
    data = _edited(burn, (rtgs_vtb, "<Id><IBAN>RU0204452560040702810412345678901</IBAN></Id>"))
    assert _usage(data) == [("AC03", f"{lqt}/CdtrAcct/Id/IBAN")]
    data = _edited(burn, ("<Prtry>CRUB-WALLET</Prtry>", "<Prtry>WALLET</Prtry>"))
    assert _usage(data) == [("AC02", f"{lqt}/DbtrAcct/Id/Othr/Id")]
    data = _edited(burn, ("<Id>VTBRRUMMXXX/main</Id>", "<Id>main</Id>"))
    assert _usage(data) == [("AC02", f"{lqt}/DbtrAcct/Id/Othr/Id")]
    data = _edited(burn, (wallet_main, "<Id><Othr><Id>30101810700000000187</Id></Othr></Id>"))
    assert _usage(data) == [("AC14", f"{lqt}/CdtrAcct")]  # RTGS to RTGS


def test_reported_message_supported() -> None:
    data = _edited(reports, ("<ReqdMsgNmId>camt.052.001.08<", "<ReqdMsgNmId>camt.052.001.02<"))
    assert _usage(data) == [("AG03", f"{rpt}/RptgReq[2]/ReqdMsgNmId")]


def test_reported_account_is_wallet() -> None:
    data = _edited(
        reports,
        (
            "<Id><Othr><Id>ALFARUMMXXX/main</Id><SchmeNm><Prtry>CRUB-WALLET</Prtry></SchmeNm></Othr></Id>",
            "<Id><Othr><Id>30101810200000000593</Id></Othr></Id>",
        ),
    )
    assert _usage(data) == [("AC01", f"{rpt}/RptgReq/Acct/Id/Othr/Id")]


def test_reporting_period_sane() -> None:
    data = _edited(reports, ("<ToDt>2026-05-11<", "<ToDt>2026-05-07<"))
    assert _usage(data) == [("DT01", f"{rpt}/RptgReq/RptgPrd/FrToDt/ToDt")]
    one_day = (
        "<FrToDt><FrDt>2026-05-12</FrDt></FrToDt>",
        "<FrToDt><FrDt>2026-05-12</FrDt><ToDt>2026-05-12</ToDt></FrToDt>",
    )
    data = _edited(
        reports, one_day, ("<FrTm>09:00:00+03:00</FrTm>", "<FrTm>09:00:00+03:00</FrTm><ToTm>08:59:59+03:00</ToTm>")
    )
    assert _usage(data) == [("DT01", f"{rpt}/RptgReq[2]/RptgPrd/FrToTm/ToTm")]
    # 09:00 Moscow is 06:00 UTC: 07:00Z is after it.
    data = _edited(
        reports, one_day, ("<FrTm>09:00:00+03:00</FrTm>", "<FrTm>09:00:00+03:00</FrTm><ToTm>07:00:00Z</ToTm>")
    )
    accepted(data, today)
    data = _edited(reports, ("<FrTm>09:00:00+03:00</FrTm>", "<FrTm>09:00:00+03:00</FrTm><ToTm>18:00:00</ToTm>"))
    assert _usage(data) == [("DT01", f"{rpt}/RptgReq[2]/RptgPrd/FrToTm")]


def test_reporting_query_type_supported() -> None:
    data = _edited(
        reports, ("<Tp>ALLL</Tp>\n        </RptgPrd>\n        <ReqdBalTp>", "<Tp>MODF</Tp></RptgPrd><ReqdBalTp>")
    )
    assert _usage(data) == [("AG03", f"{rpt}/RptgReq/RptgPrd/Tp")]


# Business rules -----------------------------------------------------------------------------------------------


def test_cancellation_control_data_matches() -> None:
    assert _business(_edited(cancellation, ("<NbOfTxs>2<", "<NbOfTxs>3<"))) == [("AM19", f"{cxl}/CtrlData/NbOfTxs")]
    data = _edited(cancellation, ("<CtrlSum>3120500.75<", "<CtrlSum>3120500.76<"))
    assert _business(data) == [("AM16", f"{cxl}/CtrlData/CtrlSum")]


@pytest.mark.parametrize(("roubles", "code"), [("0", "AM01"), ("1000000000000000.01", "AM02")])
def test_amounts_in_range(roubles: str, code: str) -> None:
    data = _edited(mint, (">1200000000.00</AmtWthCcy>", f">{roubles}</AmtWthCcy>"))
    assert _business(data) == [(code, f"{lqt}/TrfdAmt/AmtWthCcy")]
    data = _edited(burn, ("<AmtWthtCcy>750000000.00<", f"<AmtWthtCcy>{roubles}<"))
    assert _business(data) == [(code, f"{lqt}/TrfdAmt/AmtWthtCcy")]


def test_cancelled_amount_in_range() -> None:
    data = _edited(
        cancellation,
        ('<OrgnlIntrBkSttlmAmt Ccy="RUB">250500.75<', '<OrgnlIntrBkSttlmAmt Ccy="RUB">0<'),
        ("<CtrlSum>3120500.75<", "<CtrlSum>2870000.00<"),
    )
    assert _business(data) == [("AM01", f"{cxl}/Undrlyg/TxInf[2]/OrgnlIntrBkSttlmAmt")]


def test_liquidity_settlement_date_in_window() -> None:
    assert _business(fixture(burn), on(date(2026, 5, 13))) == [("DT01", f"{lqt}/SttlmDt")]
    assert _business(fixture(burn), on(date(2026, 5, 11))) == [("DT04", f"{lqt}/SttlmDt")]
    # Payments may be warehoused for days ahead; a conversion never is: its SttlmDt is the day it arrives.
    assert _business(fixture(burn), on(date(2026, 5, 11), days_ahead=1)) == [("DT04", f"{lqt}/SttlmDt")]
    accepted(fixture(burn), on(date(2026, 5, 12), days_ahead=1))
    accepted(fixture(mint), on(date(2031, 1, 1)))  # no SttlmDt: settles on the day it arrives


def test_bics_well_formed() -> None:
    data = _edited(
        cancellation, ("<Assgne><Agt><FinInstnId><BICFI>CBRFRUMMXXX<", "<Assgne><Agt><FinInstnId><BICFI>CBR1RUMMXXX<")
    )
    assert _business(data) == [("RC01", f"{cxl}/Assgnmt/Assgne/Agt/FinInstnId/BICFI")]


def test_agents_registered() -> None:
    without_sberbank = on(date(2026, 5, 12), participants=banks - {sberbank})
    accepted(fixture(cancellation), without_sberbank)
    data = _edited(
        cancellation, ("<Assgne><Agt><FinInstnId><BICFI>CBRFRUMMXXX<", "<Assgne><Agt><FinInstnId><BICFI>SABRRUMMXXX<")
    )
    assert _business(data, without_sberbank) == [("RC02", f"{cxl}/Assgnmt/Assgne/Agt/FinInstnId/BICFI")]
    vtb_suspended = on(date(2026, 5, 12), suspended=frozenset({vtb}))
    assert _business(fixture(burn), vtb_suspended) == [
        ("AG11", f"{lqt}/Cdtr/FinInstnId/BICFI"),
        ("AG10", f"{lqt}/Dbtr/FinInstnId/BICFI"),
    ]
    # Without Dbtr, the sender is the debtor.
    alfa_suspended = on(date(2026, 5, 12), suspended=frozenset({alfa}))
    assert _business(fixture(mint), alfa_suspended) == [("AG10", sender_in_header)]
    without_alfa = on(date(2026, 5, 12), participants=banks - {alfa})
    assert ("DNOR", sender_in_header) in _business(fixture(mint), without_alfa)
    data = _edited(reports, ("<AcctSvcr><FinInstnId><BICFI>CBRFRUMMXXX<", "<AcctSvcr><FinInstnId><BICFI>SABRRUMMXXX<"))
    assert _business(data, without_sberbank) == [("RC02", f"{rpt}/RptgReq/AcctSvcr/FinInstnId/BICFI")]


def test_sender_is_debtor() -> None:
    data = _edited(burn, ("<Dbtr><FinInstnId><BICFI>VTBRRUMMXXX<", "<Dbtr><FinInstnId><BICFI>ALFARUMMXXX<"))
    assert _business(data) == [("AG01", f"{lqt}/Dbtr/FinInstnId/BICFI")]
    # A bare camt.050 names no sender: without an authenticated one, nothing may be debited.
    bare = fixture("camt.050.001.05-sberbank-rtgs-to-wallet.xml")
    assert _business(bare, on(date(2026, 4, 15))) == [("AG01", "/Document/LqdtyCdtTrf/MsgHdr")]
    # The AppHdr names a bank other than the one the transport authenticated.
    assert _business(fixture(reports), on(date(2026, 5, 12), authenticated=vtb)) == [("AG01", sender_in_header)]
    assert _business(fixture(cancellation), on(date(2026, 5, 12), authenticated=sberbank)) == [
        ("AG01", sender_in_header)
    ]


def test_references_unique() -> None:
    data = _edited(
        cancellation,
        ("<OrgnlUETR>f2a94d07-61c8-4e35-b0d2-7c3e8a195b46<", "<OrgnlUETR>8d5c1f0a-3b2e-4c7d-9a61-0f4e2b7c9d13<"),
    )
    assert _business(data) == [("DU03", f"{cxl}/Undrlyg/TxInf[2]/OrgnlUETR")]
    data = _edited(cancellation, ("<CxlId>ALFA-CXL-0007-2<", "<CxlId>ALFA-CXL-0007-1<"))
    assert _business(data) == [("DU03", f"{cxl}/Undrlyg/TxInf[2]/CxlId")]
    data = _edited(reports, ("<Id>ALFA-ARQ-0004-2<", "<Id>ALFA-ARQ-0004-1<"))
    assert _business(data) == [("DU03", f"{rpt}/RptgReq[2]/Id")]


def test_sender_is_assigner() -> None:
    data = _edited(
        cancellation, ("<Fr><FIId><FinInstnId><BICFI>ALFARUMMXXX<", "<Fr><FIId><FinInstnId><BICFI>VTBRRUMMXXX<")
    )
    assert _business(data) == [("AG01", f"{cxl}/Assgnmt/Assgnr/Agt/FinInstnId/BICFI")]
    # A bare request is sent by its assigner; a transaction's own assigner must be the same bank.
    data = _edited(recall, ("<Assgnr><FinInstnId><BICFI>VTBRRUMMXXX<", "<Assgnr><FinInstnId><BICFI>ALFARUMMXXX<"))
    assert _business(data, on(date(2026, 4, 20))) == [
        ("AG01", "/Document/FIToFIPmtCxlReq/Undrlyg/TxInf/Assgnr/FinInstnId/BICFI")
    ]
    assert _business(fixture(recall), on(date(2026, 4, 20), authenticated=alfa)) == [
        ("AG01", "/Document/FIToFIPmtCxlReq/Assgnmt/Assgnr/Agt/FinInstnId/BICFI"),
        ("AG01", "/Document/FIToFIPmtCxlReq/Undrlyg/TxInf/Assgnr/FinInstnId/BICFI"),
    ]


def test_liquidity_accounts_owned_by_sender() -> None:
    alfa_wallet = "<Id>ALFARUMMXXX/main</Id>"
    data = _edited(mint, (alfa_wallet, "<Id>VTBRRUMMXXX/main</Id>"))
    assert _business(data) == [("AG01", f"{lqt}/CdtrAcct/Id/Othr/Id")]
    data = _edited(mint, (alfa_wallet, "<Id>ALFARUMMXXX/clients</Id>"))  # Alfa holds no such wallet
    assert _business(data) == [("AC03", f"{lqt}/CdtrAcct/Id/Othr/Id")]
    data = _edited(mint, ("<Id>30101810200000000593<", "<Id>30101810200000000594<"))  # no one's RTGS account
    assert _business(data) == [("AC02", f"{lqt}/DbtrAcct/Id/Othr/Id")]
    data = _edited(burn, ("<Cdtr><FinInstnId><BICFI>VTBRRUMMXXX<", "<Cdtr><FinInstnId><BICFI>SABRRUMMXXX<"))
    assert _business(data) == [("AG01", f"{lqt}/Cdtr/FinInstnId/BICFI")]
    # A wallet named by an 8-character BIC is the same wallet.
    accepted(_edited(mint, (alfa_wallet, "<Id>ALFARUMM/main</Id>")), today)
    # A caller that passes no accounts knows none: every account is refused, never silently accepted.
    assert _business(fixture(mint), context(date(2026, 5, 12))) == [
        ("AC03", f"{lqt}/CdtrAcct/Id/Othr/Id"),
        ("AC02", f"{lqt}/DbtrAcct/Id/Othr/Id"),
    ]


def test_reports_asked_by_owner() -> None:
    data = _edited(reports, ("<Id>ALFARUMMXXX/main</Id>", "<Id>VTBRRUMMXXX/main</Id>"))
    assert _business(data) == [("AG01", f"{rpt}/RptgReq/Acct/Id/Othr/Id")]
    data = _edited(reports, ("<Id>ALFARUMMXXX/main</Id>", "<Id>ALFARUMMXXX/clients</Id>"))
    assert _business(data) == [("AC01", f"{rpt}/RptgReq/Acct/Id/Othr/Id")]
    owner = "<AcctOwnr><Agt><FinInstnId><BICFI>ALFARUMMXXX<"
    data = _edited(
        reports,
        (
            owner + "/BICFI></FinInstnId></Agt></AcctOwnr>\n        <RptgPrd>",
            "<AcctOwnr><Agt><FinInstnId><BICFI>SABRRUMMXXX</BICFI></FinInstnId></Agt></AcctOwnr><RptgPrd>",
        ),
    )
    assert _business(data) == [("AG01", f"{rpt}/RptgReq[2]/AcctOwnr/Agt/FinInstnId/BICFI")]
    sberbank_request = fixture("camt.060.001.05-sberbank-asks-wallet-reports.xml")
    data = edited(
        sberbank_request,
        "<MsgSndr><Agt><FinInstnId><BICFI>SABRRUMMXXX<",
        "<MsgSndr><Agt><FinInstnId><BICFI>VTBRRUMMXXX<",
    )
    assert _business(data, on(date(2026, 4, 15), authenticated=sberbank)) == [
        ("AG01", "/Document/AcctRptgReq/GrpHdr/MsgSndr/Agt/FinInstnId/BICFI")
    ]
    # A bare request naming no sender reports on nothing unless the transport authenticated the sender.
    start = sberbank_request.index(b"<MsgSndr>")
    anonymous = (
        sberbank_request[:start] + sberbank_request[sberbank_request.index(b"</MsgSndr>") + len(b"</MsgSndr>") :]
    )
    assert _business(anonymous, on(date(2026, 4, 15))) == [("AG01", "/Document/AcctRptgReq/GrpHdr/MsgSndr")]
    accepted(anonymous, on(date(2026, 4, 15), authenticated=sberbank))


def test_reporting_period_reportable() -> None:
    # On Monday the 11th, Monday's statement is not closed yet and Tuesday is in the future.
    assert _business(fixture(reports), on(date(2026, 5, 11))) == [
        ("DT01", f"{rpt}/RptgReq/RptgPrd/FrToDt/ToDt"),
        ("DT04", f"{rpt}/RptgReq[2]/RptgPrd/FrToDt/FrDt"),
    ]
    # 11 April to 11 May is 20 + 11 = 31 days, the most one request may span; 10 April makes 32.
    accepted(_edited(reports, ("<FrDt>2026-05-08<", "<FrDt>2026-04-11<")), today)
    data = _edited(reports, ("<FrDt>2026-05-08<", "<FrDt>2026-04-10<"))
    assert _business(data) == [("DT01", f"{rpt}/RptgReq/RptgPrd/FrToDt")]
    # An open-ended statement from today covers no closed day; from yesterday it covers one.
    data = _edited(reports, ("<FrDt>2026-05-08</FrDt><ToDt>2026-05-11</ToDt>", "<FrDt>2026-05-12</FrDt>"))
    assert _business(data) == [("DT01", f"{rpt}/RptgReq/RptgPrd/FrToDt/FrDt")]
    accepted(_edited(reports, ("<FrDt>2026-05-08</FrDt><ToDt>2026-05-11</ToDt>", "<FrDt>2026-05-11</FrDt>")), today)
    # An open-ended intraday report counts its days up to today: 13 April to 12 May is 30 days.
    accepted(_edited(reports, ("<FrDt>2026-05-12</FrDt></FrToDt>", "<FrDt>2026-04-13</FrDt></FrToDt>")), today)
    data = _edited(reports, ("<FrDt>2026-05-12</FrDt></FrToDt>", "<FrDt>2026-04-01</FrDt></FrToDt>"))
    assert _business(data) == [("DT01", f"{rpt}/RptgReq[2]/RptgPrd/FrToDt")]


def test_rule_context_accounts_are_canonical() -> None:
    with pytest.raises(AssertionError):
        dataclasses.replace(today, rtgs_accounts={"SABRRUMM": "30101810400000000225"})
    with pytest.raises(AssertionError):
        dataclasses.replace(today, wallets=frozenset({"SABRRUMM/main"}))
    with pytest.raises(AssertionError):
        dataclasses.replace(today, wallets=frozenset({"SABRRUMMXXX/Main"}))
