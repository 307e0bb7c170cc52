"""camt.050 over HTTP on SQLite and PostgreSQL: mints and burns move fiat and cryptoroubles together, every refusal
gets its coded camt.025 (or admi.002) and moves nothing on either side, and replays never convert twice."""

from __future__ import annotations

import asyncio

from gateway.domain.ledger import AccountKind, AccountStatus
from gateway.ledger.ports import NewAccount, Participant
from tests.conversion.conftest import OPENING_FIAT, ConversionGateway, receipt
from tests.settlement.builders import ALFA, CBRF, SBER, VTB, camt_050
from tests.settlement.conftest import message_reject


async def test_mint_moves_fiat_into_the_reserve_and_issues_as_much(cgw: ConversionGateway) -> None:
    answer = await cgw.post(camt_050(SBER, "LQ-MINT-1", 250_000_00))
    assert answer.status == 200 and answer.headers["X-Gateway-Outcome"] == "accepted"
    got = receipt(answer.body)
    assert got.codes == ["ACSC"] and got.original_message_id == "LQ-MINT-1"
    assert got.message.app_hdr.text("Rltd/BizMsgIdr") == "LQ-MINT-1"  # the final receipt relates to its camt.050
    assert (await cgw.accounts())[f"{SBER}/main"] == 250_000_00
    assert await cgw.fiat(SBER) == (OPENING_FIAT - 250_000_00, 0)
    assert await cgw.fiat_reserve() == 250_000_00
    assert await cgw.pending_mints() == 0
    await cgw.assert_reserve_equals_supply()
    # The receipt is in the bank's mailbox too, exactly once.
    receipts = [m for m in await cgw.whole_mailbox(SBER) if m.kind == "camt.025.001.05"]
    assert [m.payload for m in receipts] == [answer.body]


async def test_burn_returns_cryptoroubles_as_fiat(cgw: ConversionGateway) -> None:
    assert receipt((await cgw.post(camt_050(VTB, "LQ-1", 400_000_00))).body).codes == ["ACSC"]
    answer = await cgw.post(camt_050(VTB, "LQ-2", 150_000_00, direction="burn"))
    assert receipt(answer.body).codes == ["ACSC"]
    assert (await cgw.accounts())[f"{VTB}/main"] == 250_000_00
    assert await cgw.fiat(VTB) == (OPENING_FIAT - 400_000_00 + 150_000_00, 0)
    assert await cgw.supply() == 250_000_00
    await cgw.assert_reserve_equals_supply()


async def test_conversion_into_a_second_wallet(cgw: ConversionGateway) -> None:
    assert receipt((await cgw.post(camt_050(SBER, "LQ-C", 10_00, wallet="clients"))).body).codes == ["ACSC"]
    accounts = await cgw.accounts()
    assert (accounts[f"{SBER}/clients"], accounts[f"{SBER}/main"]) == (10_00, 0)


async def test_replay_answers_the_same_receipt_and_converts_once(cgw: ConversionGateway) -> None:
    message = camt_050(ALFA, "LQ-R", 70_000_00)
    first = await cgw.post(message)
    again = await asyncio.gather(*(cgw.post(message) for _ in range(5)))
    assert {a.body for a in again} == {first.body}
    assert {a.headers["X-Gateway-Outcome"] for a in again} == {"replayed"}
    assert await cgw.fiat(ALFA) == (OPENING_FIAT - 70_000_00, 0)
    assert await cgw.supply() == 70_000_00
    # The same MsgId for another amount is a duplicate, answered and refused.
    other = receipt((await cgw.post(camt_050(ALFA, "LQ-R", 1_00))).body)
    assert other.codes == ["RJCT", "DUPL"]
    assert await cgw.supply() == 70_000_00
    await cgw.assert_reserve_equals_supply()


async def test_concurrent_conversions_of_one_bank_all_settle(cgw: ConversionGateway) -> None:
    answers = await asyncio.gather(*(cgw.post(camt_050(SBER, f"LQ-P-{i}", 1_000_00 + i)) for i in range(20)))
    assert [receipt(a.body).codes for a in answers] == [["ACSC"]] * 20
    expected = sum(1_000_00 + i for i in range(20))
    assert await cgw.supply() == expected
    assert await cgw.fiat(SBER) == (OPENING_FIAT - expected, 0)
    await cgw.assert_reserve_equals_supply()


async def test_insufficient_fiat_is_refused_and_holds_nothing(cgw: ConversionGateway) -> None:
    got = receipt((await cgw.post(camt_050(SBER, "LQ-BIG", OPENING_FIAT + 1))).body)
    assert got.codes == ["RJCT", "AM04"]
    assert await cgw.fiat(SBER) == (OPENING_FIAT, 0)
    assert await cgw.supply() == 0


async def test_insufficient_cryptoroubles_are_refused(cgw: ConversionGateway) -> None:
    await cgw.post(camt_050(SBER, "LQ-1", 100_00))
    got = receipt((await cgw.post(camt_050(SBER, "LQ-2", 100_01, direction="burn"))).body)
    assert got.codes == ["RJCT", "AM04"]
    assert (await cgw.accounts())[f"{SBER}/main"] == 100_00
    assert await cgw.fiat(SBER) == (OPENING_FIAT - 100_00, 0)
    await cgw.assert_reserve_equals_supply()


async def test_emission_cap_refuses_a_mint_and_releases_its_hold(cgw: ConversionGateway) -> None:
    response = await cgw.client.put(
        "/v1/admin/emission-cap", params={"participant": CBRF}, json={"emission_cap_rub": "500000.00"}
    )
    assert response.status == 200, await response.text()
    assert await response.json() == {"previous_rub": "1000000000.00", "emission_cap_rub": "500000.00"}
    assert receipt((await cgw.post(camt_050(SBER, "LQ-1", 400_000_00))).body).codes == ["ACSC"]
    got = receipt((await cgw.post(camt_050(VTB, "LQ-2", 100_000_01))).body)
    assert got.codes == ["RJCT", "AM13"]
    assert await cgw.fiat(VTB) == (OPENING_FIAT, 0)  # the hold was taken, then released
    assert await cgw.pending_mints() == 0
    assert receipt((await cgw.post(camt_050(VTB, "LQ-3", 100_000_00))).body).codes == ["ACSC"]  # exactly to the cap
    await cgw.assert_reserve_equals_supply()
    # A cap below what is issued would break the ledger: refused.
    response = await cgw.client.put(
        "/v1/admin/emission-cap", params={"participant": CBRF}, json={"emission_cap_rub": "499999.99"}
    )
    assert response.status == 409


async def test_daily_limit_counts_both_directions(cgw: ConversionGateway) -> None:
    response = await cgw.client.put(
        f"/v1/admin/conversion-limits/{ALFA}", params={"participant": CBRF}, json={"daily_limit_rub": "300000.00"}
    )
    assert response.status == 200, await response.text()
    assert receipt((await cgw.post(camt_050(ALFA, "LQ-1", 200_000_00))).body).codes == ["ACSC"]
    assert receipt((await cgw.post(camt_050(ALFA, "LQ-2", 50_000_00, direction="burn"))).body).codes == ["ACSC"]
    over = receipt((await cgw.post(camt_050(ALFA, "LQ-3", 50_000_01))).body)
    assert over.codes == ["RJCT", "AM14"]
    assert receipt((await cgw.post(camt_050(ALFA, "LQ-4", 50_000_00))).body).codes == ["ACSC"]
    # Another bank has no limit; a refused conversion never counted.
    assert receipt((await cgw.post(camt_050(VTB, "LQ-5", 900_000_00))).body).codes == ["ACSC"]
    assert await cgw.supply() == 200_000_00 - 50_000_00 + 50_000_00 + 900_000_00
    await cgw.assert_reserve_equals_supply()


async def test_daily_limit_holds_under_concurrency(cgw: ConversionGateway) -> None:
    await cgw.client.put(
        f"/v1/admin/conversion-limits/{SBER}", params={"participant": CBRF}, json={"daily_limit_rub": "10000.00"}
    )
    answers = await asyncio.gather(*(cgw.post(camt_050(SBER, f"LQ-{i}", 3_000_00)) for i in range(6)))
    codes = sorted(tuple(receipt(a.body).codes) for a in answers)
    assert codes == [("ACSC",)] * 3 + [("RJCT", "AM14")] * 3
    assert await cgw.supply() == 9_000_00


async def test_only_the_central_bank_sets_emission_controls(cgw: ConversionGateway) -> None:
    for params in ({"participant": SBER}, {}):
        response = await cgw.client.put("/v1/admin/emission-cap", params=params, json={"emission_cap_rub": "1.00"})
        assert response.status in (401, 403)
        response = await cgw.client.put(
            f"/v1/admin/conversion-limits/{SBER}", params=params, json={"daily_limit_rub": "1.00"}
        )
        assert response.status in (401, 403)
    response = await cgw.client.get("/v1/admin/emission", params={"participant": CBRF})
    body = await response.json()
    assert body["emission_cap_rub"] == "1000000000.00" and body["daily_limits_rub"] == {} and body["changes"] == []
    for bad in ({"emission_cap_rub": 5}, {"emission_cap_rub": "0.00"}, {"emission_cap_rub": "1.001"}, {"x": "1.00"}):
        response = await cgw.client.put("/v1/admin/emission-cap", params={"participant": CBRF}, json=bad)
        assert response.status == 400, bad
    response = await cgw.client.put(
        "/v1/admin/conversion-limits/NOTABANKXXX", params={"participant": CBRF}, json={"daily_limit_rub": "1.00"}
    )
    assert response.status == 404


async def test_an_account_the_rtgs_does_not_know_is_refused(cgw: ConversionGateway) -> None:
    # A bank registered while the gateway runs: its RTGS account is opened at the simulator on the next start only.
    await cgw.gateway.store.add_participant(
        Participant("TICSRUMMXXX", "T-Bank", "bank", None, "30101810145250000974", AccountStatus.ACTIVE),
        [NewAccount("TICSRUMMXXX/main", AccountKind.WALLET, "TICSRUMMXXX", None, None)],
    )
    cgw.environment.directory = await cgw.gateway.directory()
    got = receipt((await cgw.post(camt_050("TICSRUMMXXX", "LQ-T", 1_00, rtgs_account="30101810145250000974"))).body)
    assert got.codes == ["RJCT", "AC01"]
    assert await cgw.supply() == 0


async def test_a_suspended_bank_converts_nothing(cgw: ConversionGateway) -> None:
    await cgw.post(camt_050(SBER, "LQ-1", 100_00))
    assert await cgw.gateway.store.set_participant_status(SBER, AccountStatus.SUSPENDED)
    cgw.environment.directory = await cgw.gateway.directory()
    # The bank is both the creditor (Cdtr, named first) and the debtor of its own conversion: the admi.002 gives the
    # first reason, AG11, suspended agent of the credited side.
    for message, code in ((camt_050(SBER, "LQ-2", 100_00), "AG11"), (camt_050(SBER, "LQ-3", 50_00, direction="burn"), "AG11")):
        answer = await cgw.post(message)
        assert answer.status == 200
        assert message_reject(answer.body).text("Rsn/RjctgPtyRsn") == code
    assert await cgw.supply() == 100_00
    assert await cgw.fiat(SBER) == (OPENING_FIAT - 100_00, 0)


async def test_bad_amounts_and_foreign_accounts_move_nothing(cgw: ConversionGateway) -> None:
    # Each with the ISO code a bank's engineer would look up: AM01 zero amount, FF01 (the schema refuses a negative
    # amount), CH20 more decimals than the currency has, AG01 an account of another bank.
    cases = {
        "zero": (camt_050(SBER, "LQ-Z", 0), "AM01"),
        "negative": (camt_050(SBER, "LQ-N", 0, amount_text="-5.00"), "FF01"),
        "fraction of a kopeck": (camt_050(SBER, "LQ-F", 0, amount_text="10.005"), "CH20"),
        "another bank's RTGS account": (camt_050(SBER, "LQ-A", 10_00, rtgs_account="30101810700000000187"), "AG01"),
        "another bank's wallet": (
            camt_050(SBER, "LQ-W", 10_00).replace(f"{SBER}/main".encode(), f"{VTB}/main".encode()), "AG01"
        ),
    }
    for name, (message, code) in cases.items():
        answer = await cgw.post(message)
        assert answer.status == 200, name
        assert message_reject(answer.body).text("Rsn/RjctgPtyRsn") == code, name
    assert await cgw.supply() == 0
    for bank in (SBER, VTB):
        assert await cgw.fiat(bank) == (OPENING_FIAT, 0)
