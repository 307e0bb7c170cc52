"""The RTGS protocol carries the camt.050's references both ways: each movement the gateway writes and each statement
the RTGS writes is valid against our XSDs and the official ones, puts the references where docs/rtgs-protocol.md
says, reads back to exactly the values written, and a request or entry that puts them elsewhere is refused."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from gateway_adapters.rtgs import wire
from lxml import etree

from gateway.conversion.ports import (
    FiatDirection,
    FiatEntry,
    FiatReferences,
    FiatStatement,
    RtgsUnavailable,
)
from gateway.messages.identity import MessageId
from gateway.messages.intake import check_iso
from gateway.messages.statements import AccountId
from gateway.messages.writers import liquidity_transfer_message
from gateway.messages.writers.camt_050_001_05 import LiquidityCreditTransfer
from tests.settlement.conftest import Message

CBR_BIC, RTGS_BIC = "CBRFRUMMXXX", "CBRFRUMMRTG"
GATEWAY = wire.Parties(CBR_BIC, RTGS_BIC)
SBER, RESERVE_ACCOUNT = "30101810400000000225", "30101810000000000001"
MSK = timezone(timedelta(hours=3))
NOW = datetime(2026, 5, 12, 9, 30, tzinfo=MSK)
CAMT_050 = MessageId("camt", "050", "001", "05")
CAMT_053 = MessageId("camt", "053", "001", "08")

MINT_REFS = FiatReferences("SBER-LQT-20260512-0007", "INV-2026-0311", "SBER-TX-7",
                           uuid.UUID("0e8f1c2a-3b4d-4e5f-8a9b-0c1d2e3f4a5b"))  # fmt: skip
BURN_REFS = FiatReferences("SBER-LQT-20260512-0008", "NOTPROVIDED", None, uuid.UUID("6d1f5a2e-4b3c-4d2e-9f10-2a3b4c5d6e7f"))
HOLD = uuid.UUID("5a8b5d09-9439-4ef0-a9ba-bba07faadf9b")
COMMIT = uuid.UUID("1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f")
RELEASE = uuid.UUID("2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a")
CREDIT = uuid.UUID("3e4f5a6b-7c8d-4e9f-8a1b-2c3d4e5f6a7b")

requests = {
    "reserve": (wire.reserve_request(GATEWAY, HOLD, SBER, 250_000_00, MINT_REFS, NOW),
                wire.Reserve(HOLD, SBER, 250_000_00, MINT_REFS)),
    "commit": (wire.commit_request(GATEWAY, COMMIT, HOLD, RESERVE_ACCOUNT, NOW), wire.Commit(COMMIT, HOLD)),
    "release": (wire.release_request(GATEWAY, RELEASE, HOLD, NOW), wire.Release(RELEASE, HOLD)),
    "credit": (wire.credit_request(GATEWAY, CREDIT, RESERVE_ACCOUNT, SBER, 100_000_00, BURN_REFS, NOW),
               wire.CreditFromReserve(CREDIT, SBER, 100_000_00, BURN_REFS)),
}  # fmt: skip


def _lqdty_trf_id(payload: bytes) -> list[tuple[str, str]]:
    """(element, text) of the request's LqdtyTrfId, in order."""
    message = Message.read(payload)
    found = message.document.element.find(f"{{{CAMT_050.namespace}}}LqdtyCdtTrf/{{{CAMT_050.namespace}}}LqdtyCdtTrf/"
                                          f"{{{CAMT_050.namespace}}}LqdtyTrfId")  # fmt: skip
    assert found is not None
    return [(etree.QName(child).localname, child.text or "") for child in found]


@pytest.mark.parametrize("name", list(requests))
def test_each_movement_is_valid_against_our_schema_and_the_official_one(name: str) -> None:
    request, _ = requests[name]
    assert check_iso(request.payload) == (CAMT_050, [])
    Message.read(request.payload).assert_official()


@pytest.mark.parametrize("name", list(requests))
def test_the_rtgs_reads_each_movement_with_the_references_written(name: str) -> None:
    request, operation = requests[name]
    inbound = wire.read_request(GATEWAY, RESERVE_ACCOUNT, request.payload)
    assert isinstance(inbound, wire.Inbound), inbound
    assert inbound.operation == operation
    assert inbound.message_id == request.message_id


def test_the_references_sit_where_the_protocol_puts_them() -> None:
    reserve, _ = requests["reserve"]
    assert Message.read(reserve.payload).document.text("LqdtyCdtTrf/MsgHdr/MsgId") == HOLD.hex  # the request id
    assert _lqdty_trf_id(reserve.payload) == [
        ("InstrId", "SBER-LQT-20260512-0007"),  # the bank's camt.050 MsgId
        ("EndToEndId", "INV-2026-0311"),
        ("TxId", "SBER-TX-7"),
        ("UETR", "0e8f1c2a-3b4d-4e5f-8a9b-0c1d2e3f4a5b"),
    ]
    credit, _ = requests["credit"]
    assert _lqdty_trf_id(credit.payload) == [
        ("InstrId", "SBER-LQT-20260512-0008"), ("EndToEndId", "NOTPROVIDED"),
        ("UETR", "6d1f5a2e-4b3c-4d2e-9f10-2a3b4c5d6e7f"),
    ]  # fmt: skip
    for name in ("commit", "release"):  # a hold's movement carries no references of its own
        assert _lqdty_trf_id(requests[name][0].payload) == [("EndToEndId", "NOTPROVIDED")]
    no_end_to_end_id = FiatReferences("SBER-LQT-20260512-0009", None, None, None)
    written = wire.reserve_request(GATEWAY, uuid.uuid4(), SBER, 1_00, no_end_to_end_id, NOW)
    assert _lqdty_trf_id(written.payload) == [("InstrId", "SBER-LQT-20260512-0009"), ("EndToEndId", "NOTPROVIDED")]


def _camt_050(
    message_id: str,
    debit: AccountId,
    credit: AccountId | None,
    kopecks: int,
    instruction_id: str | None,
    end_to_end_id: str,
) -> bytes:
    transfer = LiquidityCreditTransfer(
        message_id=message_id, creation_time=NOW, instruction_id=instruction_id, end_to_end_id=end_to_end_id,
        transaction_id=None, uetr=None, creditor_bic=None, credit_account=credit, amount_kopecks=kopecks,
        currency=None if kopecks == 0 else "RUB", debtor_bic=None, debit_account=debit, settlement_date=None,
    )  # fmt: skip
    header = wire.business_header(CBR_BIC, RTGS_BIC, wire.liquidity_transfer, message_id, NOW, None)
    return liquidity_transfer_message(header, transfer)


hold_account = AccountId(HOLD.hex, wire.hold_scheme)
misplaced = {
    "a reserve without the camt.050's MsgId": _camt_050(HOLD.hex, AccountId(SBER, None), hold_account, 1_00, None,
                                                        "INV-2026-0311"),
    "a credit without the camt.050's MsgId": _camt_050(CREDIT.hex, AccountId(RESERVE_ACCOUNT, None),
                                                       AccountId(SBER, None), 1_00, None, "INV-2026-0311"),
    "a commit with references": _camt_050(COMMIT.hex, hold_account, AccountId(RESERVE_ACCOUNT, None), 0,
                                          "SBER-LQT-20260512-0007", "NOTPROVIDED"),
    "a release with an end-to-end id": _camt_050(RELEASE.hex, hold_account, None, 0, None, "INV-2026-0311"),
    "the request id in EndToEndId, not MsgId": _camt_050("SBER-LQT-20260512-0007", AccountId(SBER, None),
                                                         hold_account, 1_00, "SBER-LQT-20260512-0007", HOLD.hex),
    "a hold other than the request id": _camt_050(uuid.uuid4().hex, AccountId(SBER, None), hold_account, 1_00,
                                                  "SBER-LQT-20260512-0007", "INV-2026-0311"),
}  # fmt: skip


@pytest.mark.parametrize("name", list(misplaced))
def test_a_request_with_its_references_misplaced_is_refused_ch16(name: str) -> None:
    payload = misplaced[name]
    assert check_iso(payload) == (CAMT_050, [])  # valid ISO 20022: refused by the protocol, not the schema
    refusal = wire.read_request(GATEWAY, RESERVE_ACCOUNT, payload)
    assert isinstance(refusal, wire.Refusal), refusal
    assert refusal.rejection.code == "CH16", refusal.rejection


# --- statements -----------------------------------------------------------------------------------------------------

DAY = date(2026, 5, 12)
OPENING_ID = uuid.UUID("4f5a6b7c-8d9e-4f0a-9b1c-2d3e4f5a6b7c")
ENTRIES = (
    FiatEntry(7, OPENING_ID, 1_000_000_00, FiatDirection.CREDIT, "OPENING", datetime(2026, 5, 12, 9, 0, tzinfo=MSK),
              "opening balance", None),
    FiatEntry(8, COMMIT, 250_000_00, FiatDirection.DEBIT, RESERVE_ACCOUNT, datetime(2026, 5, 12, 9, 30, tzinfo=MSK),
              f"conversion hold {HOLD}", MINT_REFS),
    FiatEntry(9, CREDIT, 100_000_00, FiatDirection.CREDIT, RESERVE_ACCOUNT, datetime(2026, 5, 12, 10, 0, tzinfo=MSK),
              f"conversion {CREDIT}", BURN_REFS),
)  # fmt: skip
STATEMENT = FiatStatement(SBER, DAY, DAY, 0, 850_000_00, ENTRIES)


def _statement_answer() -> tuple[wire.Request, bytes]:
    request = wire.statement_request(GATEWAY, SBER, DAY, DAY, None, NOW)
    inbound = wire.read_request(GATEWAY, RESERVE_ACCOUNT, request.payload)
    assert isinstance(inbound, wire.Inbound), inbound
    return request, wire.statement_answer(GATEWAY, inbound, STATEMENT, None, NOW)


def _refs(payload: bytes) -> list[list[tuple[str, str]]]:
    """Each entry's NtryDtls/TxDtls/Refs as (element, text) in order."""
    document = Message.read(payload).document.element
    namespace = f"{{{CAMT_053.namespace}}}"
    entries = document.iter(f"{namespace}Ntry")
    refs = [entry.find(f"{namespace}NtryDtls/{namespace}TxDtls/{namespace}Refs") for entry in entries]
    return [[(etree.QName(child).localname, child.text or "") for child in found] for found in refs if found is not None]


def test_a_statement_with_references_is_valid_against_our_schema_and_the_official_one() -> None:
    _, answer = _statement_answer()
    assert check_iso(answer) == (CAMT_053, [])
    Message.read(answer).assert_official()


def test_each_statement_entry_gives_the_request_id_and_the_camt_050s_references() -> None:
    _, answer = _statement_answer()
    assert _refs(answer) == [
        [("InstrId", OPENING_ID.hex)],  # an opening balance: the request id alone
        [("MsgId", "SBER-LQT-20260512-0007"), ("InstrId", COMMIT.hex), ("EndToEndId", "INV-2026-0311"),
         ("UETR", "0e8f1c2a-3b4d-4e5f-8a9b-0c1d2e3f4a5b"), ("TxId", "SBER-TX-7")],
        [("MsgId", "SBER-LQT-20260512-0008"), ("InstrId", CREDIT.hex), ("EndToEndId", "NOTPROVIDED"),
         ("UETR", "6d1f5a2e-4b3c-4d2e-9f10-2a3b4c5d6e7f")],
    ]  # fmt: skip


def test_the_gateway_reads_the_statement_back_to_the_same_entries() -> None:
    request, answer = _statement_answer()
    page = wire.read_statement_page(GATEWAY, request, SBER, DAY, DAY, True, answer)
    assert page is not None and page.last
    assert page.entries == ENTRIES


@pytest.mark.parametrize(
    ("removed", "why"),
    [
        (b"<MsgId>SBER-LQT-20260512-0007</MsgId>", "without its MsgId"),
        (b"<EndToEndId>INV-2026-0311</EndToEndId>", "without its EndToEndId"),
        (f"<InstrId>{COMMIT.hex}</InstrId>".encode(), "InstrId is missing"),
    ],
)
def test_an_entry_with_its_references_incomplete_is_not_an_answer(removed: bytes, why: str) -> None:
    request, answer = _statement_answer()
    assert answer.count(removed) == 1
    with pytest.raises(RtgsUnavailable, match=why):
        wire.read_statement_page(GATEWAY, request, SBER, DAY, DAY, True, answer.replace(removed, b""))
