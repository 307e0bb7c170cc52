"""camt.060 answered over real HTTP: an intraday camt.052 and a paged camt.053 of a bank's wallets, whose balances
and entries are the ledger's to the kopeck, the official schemas' idea of valid, and refusals of what is too long or
not the sender's."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest

from gateway import bounds
from gateway.domain.calendar import business_zone
from tests.settlement.builders import (
    ALFA,
    SBER,
    VTB,
    ReportAsk,
    Tx,
    camt_060,
    pacs_008,
    today_in_moscow,
)
from tests.settlement.conftest import GatewayUnderTest, Message, Xml, message_reject

day_us = 86_400 * 1_000_000
camt_052, camt_053 = "camt.052.001.08", "camt.053.001.08"


async def _pay(gw: GatewayUnderTest) -> tuple[Tx, Tx, Tx]:
    """Three payments today touching Sberbank's main wallet (funded with 3,000,000.00 by a mint today):
    -1,250.00, -300.00, +100.00, in this order. It ends the day at 2,998,550.00."""
    today = today_in_moscow()
    out_1, out_2, back = Tx(SBER, VTB, 1_250_00), Tx(SBER, ALFA, 300_00), Tx(VTB, SBER, 100_00)
    assert (await gw.settle(pacs_008(SBER, "PAY-R1", [out_1], today))).group_status == "ACSC"
    assert (await gw.settle(pacs_008(SBER, "PAY-R2", [out_2], today))).group_status == "ACSC"
    assert (await gw.settle(pacs_008(VTB, "PAY-R3", [back], today))).group_status == "ACSC"
    return out_1, out_2, back


def _balances(statement: Xml) -> dict[str, tuple[str, str]]:
    return {
        balance.text("Tp/CdOrPrtry/Cd"): (balance.text("Amt"), balance.text("CdtDbtInd"))
        for balance in statement.all("Bal")
    }


def _entries(statement: Xml) -> list[tuple[str, str, str]]:
    """(amount, side, sub-family code) of each entry, in order."""
    return [
        (entry.text("Amt"), entry.text("CdtDbtInd"), entry.text("BkTxCd/Domn/Fmly/SubFmlyCd"))
        for entry in statement.all("Ntry")
    ]


async def test_an_intraday_report_lists_todays_postings_between_balances_that_add_up(gw: GatewayUnderTest) -> None:
    out_1, _, back = await _pay(gw)
    answer = await gw.post(camt_060(SBER, "REP-1", [ReportAsk(camt_052, f"{SBER}/main", today_in_moscow(), None)]))
    assert answer.status == 200, answer.body
    report = Message.read(answer.body)
    report.assert_official()
    assert report.kind == camt_052 and report.receiver == SBER
    assert report.app_hdr.text("Rltd/BizMsgIdr") == "REP-1"
    body = report.document.one("BkToCstmrAcctRpt")
    assert body.text("GrpHdr/OrgnlBizQry/MsgId") == "REP-1"
    statement = body.one("Rpt")
    assert statement.text("Acct/Id/Othr/Id") == f"{SBER}/main"
    # The wallet opened the day empty; the mint, two payments out and one in: by hand, 3,000,000.00 - 1,250.00
    # - 300.00 + 100.00 = 2,998,550.00, all of it available (nothing is held).
    assert _balances(statement) == {
        "OPBD": ("0.00", "CRDT"),
        "ITBD": ("2998550.00", "CRDT"),
        "ITAV": ("2998550.00", "CRDT"),
    }
    assert _entries(statement) == [
        ("3000000.00", "CRDT", "TOPG"),
        ("1250.00", "DBIT", "DMCT"),
        ("300.00", "DBIT", "DMCT"),
        ("100.00", "CRDT", "DMCT"),
    ]
    paid_out, paid_in = statement.all("Ntry")[1], statement.all("Ntry")[3]
    assert paid_out.text("BkTxCd/Domn/Fmly/Cd") == "ICDT" and paid_in.text("BkTxCd/Domn/Fmly/Cd") == "RCDT"
    assert paid_out.text("NtryDtls/TxDtls/Refs/MsgId") == "PAY-R1"
    assert paid_out.text("NtryDtls/TxDtls/Refs/EndToEndId") == out_1.end_to_end_id
    assert paid_out.text("NtryDtls/TxDtls/Refs/UETR") == str(out_1.uetr)
    assert paid_in.text("NtryDtls/TxDtls/RltdAgts/DbtrAgt/FinInstnId/BICFI") == VTB
    assert paid_in.text("NtryDtls/TxDtls/Refs/EndToEndId") == back.end_to_end_id
    # The same report waits in the bank's mailbox, last in it.
    assert (await gw.whole_mailbox(SBER))[-1].payload == answer.body


async def test_a_statement_of_a_closed_day_covers_every_wallet_of_the_owner_in_pages(gw: GatewayUnderTest) -> None:
    await _pay(gw)
    real_today = today_in_moscow()
    real_clock = gw.environment.clock_us
    assert gw.gateway.reports is not None
    gw.gateway.reports.reports.page_entries_max = 3
    # Before the day closes, there is no statement of it to give: today is reported by a camt.052.
    early = await gw.post(camt_060(SBER, "STM-0", [ReportAsk(camt_053, None, real_today, real_today)]))
    assert message_reject(early.body).text("Rsn/RjctgPtyRsn") == "DT01"
    gw.environment.clock_us = lambda: real_clock() + day_us  # tomorrow: today's cut-off (midnight) has passed
    [closed] = await gw.gateway.days.close_due()
    assert closed.business_date == real_today and closed.state == "closed"
    # Closing the day put every wallet's end-of-day statement in its owner's mailbox.
    end_of_day = [m for m in await gw.whole_mailbox(SBER) if m.kind == camt_053]
    answer = await gw.post(camt_060(SBER, "STM-1", [ReportAsk(camt_053, None, real_today, real_today)]))
    assert answer.status == 200, answer.body
    asked = [m for m in await gw.whole_mailbox(SBER) if m.kind == camt_053][len(end_of_day):]
    assert asked[0].payload == answer.body  # the first page also came back on HTTP
    for sent in (end_of_day, asked):
        for message in sent:
            message.assert_official()
        statements = [m.document.one("BkToCstmrStmt/Stmt") for m in sent]
        pages = [
            (s.text("Acct/Id/Othr/Id"), s.text("StmtPgntn/PgNb"), s.text("StmtPgntn/LastPgInd")) for s in statements
        ]
        # Wallets in code order; the main wallet's four postings in pages of three.
        assert pages == [
            (f"{SBER}/clients", "1", "true"), (f"{SBER}/main", "1", "false"), (f"{SBER}/main", "2", "true")
        ]  # fmt: skip
        clients, main_1, main_2 = statements
        assert _balances(clients) == {"OPBD": ("0.00", "CRDT"), "CLBD": ("0.00", "CRDT")} and _entries(clients) == []
        # Page 1: 0.00 + 3,000,000.00 - 1,250.00 - 300.00 = 2,998,450.00; page 2: + 100.00 = 2,998,550.00.
        assert _balances(main_1) == {"OPBD": ("0.00", "CRDT"), "ITBD": ("2998450.00", "CRDT")}
        assert [amount for amount, _, _ in _entries(main_1)] == ["3000000.00", "1250.00", "300.00"]
        assert _balances(main_2) == {"ITBD": ("2998450.00", "CRDT"), "CLBD": ("2998550.00", "CRDT")}
        assert _entries(main_2) == [("100.00", "CRDT", "DMCT")]
        assert main_2.text("Bal[2]/Dt/Dt") == real_today.isoformat()  # closing booked on the business day
    # The statements the close wrote relate to nothing; the ones asked for relate to the camt.060.
    assert all(not m.app_hdr.has("Rltd") for m in end_of_day)
    assert all(m.app_hdr.text("Rltd/BizMsgIdr") == "STM-1" for m in asked)
    # The day after holds nothing yet: the same balance opens and closes it.
    tomorrow = real_today + timedelta(days=1)
    answer = await gw.post(camt_060(SBER, "REP-2", [ReportAsk(camt_052, f"{SBER}/main", tomorrow, None)]))
    later = Message.read(answer.body).document.one("BkToCstmrAcctRpt/Rpt")
    assert _balances(later)["OPBD"] == _balances(later)["ITBD"] == ("2998550.00", "CRDT")
    assert _entries(later) == []


async def test_a_period_too_long_to_report_is_refused_and_another_banks_wallet_is_not_shown(
    gw: GatewayUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _pay(gw)
    assert gw.gateway.reports is not None
    gw.gateway.reports.reports.page_entries_max = 2
    monkeypatch.setattr(bounds, "report_pages_max", 1)  # 2 entries at most; the main wallet holds 4
    ask = ReportAsk(camt_052, f"{SBER}/main", today_in_moscow(), None)
    refused = message_reject((await gw.post(camt_060(SBER, "REP-3", [ask]))).body)
    assert refused.text("Rsn/RjctgPtyRsn") == "NARR"
    assert "shorter period" in refused.text("Rsn/RsnDesc")
    # Narrowed to the hours after the mint and the payments, the period holds nothing: answered.
    narrowed = ReportAsk(camt_052, f"{SBER}/main", today_in_moscow(), None, ("23:59:58+03:00", "23:59:59+03:00"))
    answer = await gw.post(camt_060(SBER, "REP-4", [narrowed]))
    assert Message.read(answer.body).kind == camt_052
    # VTB may not read Sberbank's wallet.
    stranger = message_reject((await gw.post(camt_060(VTB, "REP-5", [ask], owner=VTB))).body)
    assert stranger.text("Rsn/RjctgPtyRsn") == "AG01"


async def test_the_shipped_statement_example_is_answered_by_yesterdays_camt_053_once_that_day_closed(
    gw: GatewayUnderTest,
) -> None:
    from gateway.replay.examples import example_path
    from gateway.replay.fill import Filler

    await _pay(gw)
    real_today = today_in_moscow()
    real_clock = gw.environment.clock_us
    example = example_path("camt.060-statement")
    assert example is not None
    tomorrow_noon = datetime.combine(real_today + timedelta(days=1), time(12, 0), tzinfo=business_zone)
    filled = Filler(tomorrow_noon).fill(example.read_text(encoding="utf-8"), example.name).encode()
    # Asked before the day closed, it is refused: a statement covers closed business days only.
    gw.environment.clock_us = lambda: real_clock() + day_us
    early = await gw.post(filled)
    refusal = message_reject(early.body)
    assert refusal.text("Rsn/RjctgPtyRsn") == "NARR"
    assert refusal.text("Rsn/RsnDesc").startswith(f"no closed business day from {real_today} to {real_today}")
    [closed] = await gw.gateway.days.close_due()
    assert closed.business_date == real_today
    # The same file with fresh identifiers, once the day is closed: yesterday's statement of Sberbank's main wallet.
    filled = Filler(tomorrow_noon).fill(example.read_text(encoding="utf-8"), example.name).encode()
    answer = await gw.post(filled)
    assert answer.status == 200, answer.body
    message = Message.read(answer.body)
    message.assert_official()
    statement = message.document.one("BkToCstmrStmt/Stmt")
    assert statement.text("Acct/Id/Othr/Id") == f"{SBER}/main"
    # 0.00 + 3,000,000.00 (the fixture's mint) - 1,250.00 - 300.00 + 100.00, by hand: 2,998,550.00.
    assert _balances(statement) == {"OPBD": ("0.00", "CRDT"), "CLBD": ("2998550.00", "CRDT")}
    assert [amount for amount, _, _ in _entries(statement)] == ["3000000.00", "1250.00", "300.00", "100.00"]


async def test_a_camt_060_sent_again_is_answered_from_the_journal_with_the_reports_it_first_had(
    gw: GatewayUnderTest,
) -> None:
    await _pay(gw)
    today = today_in_moscow()
    request = camt_060(SBER, "REP-AGAIN", [ReportAsk(camt_052, f"{SBER}/main", today, None)])
    first = await gw.post(request)
    assert first.status == 200, first.body
    reports_after_first = [m.payload for m in await gw.whole_mailbox(SBER) if m.kind == camt_052]
    # Money moves between the two sends: a fresh report would show it; the repeated request must not.
    assert (await gw.settle(pacs_008(VTB, "PAY-R4", [Tx(VTB, SBER, 7_00)], today))).group_status == "ACSC"
    again = await gw.post(request)
    assert again.status == 200 and again.body == first.body
    # Nothing new in the mailbox: the reports were delivered once, with the first request.
    assert [m.payload for m in await gw.whole_mailbox(SBER) if m.kind == camt_052] == reports_after_first
    entries = _entries(Message.read(again.body).document.one("BkToCstmrAcctRpt/Rpt"))
    assert ("7.00", "CRDT", "DMCT") not in entries
