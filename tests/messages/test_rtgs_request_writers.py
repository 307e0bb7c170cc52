"""The camt.050 and camt.060 writers' output is valid against our XSDs and the official ones, and the project's own
readers read every field back as it was written, for the RTGS protocol's requests and for any value they take."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.messages.commands import (
    Account,
    AccountReportingRequest,
    BusinessHeader,
    LiquidityTransfer,
)
from gateway.messages.identity import MessageId
from gateway.messages.intake import check_iso
from gateway.messages.readers import camt_050_001_05 as camt_050_reader
from gateway.messages.readers import camt_060_001_05 as camt_060_reader
from gateway.messages.schemas import compiled
from gateway.messages.statements import AccountId, BalanceType
from gateway.messages.writers import (
    account_report_query_message,
    camt_050_001_05,
    camt_060_001_05,
    envelope,
    head_001_001_02,
    liquidity_transfer_message,
)
from gateway.messages.writers.camt_050_001_05 import LiquidityCreditTransfer
from gateway.messages.writers.camt_060_001_05 import (
    AccountReportQuery,
    QueryType,
    ReportQuery,
)
from tests.message_layer.strategies import bics, dates, datetimes, optional, text, uetrs
from tests.message_layer.support import assert_official, unwrapped

camt_050 = camt_050_001_05.message_id
camt_060 = camt_060_001_05.message_id
msk = timezone(timedelta(hours=3))
central_bank, rtgs = "CBRFRUMMXXX", "CBRFRUMMRTG"
sberbank_account, reserve_account = "30101810400000000225", "30101810000000000001"
hold = AccountId("5a8b5d0994394ef0a9babba07faadf9b", "RTGS-HOLD")


def _transfer(
    debit: AccountId | None, credit: AccountId | None, kopecks: int, currency: str | None = "RUB"
) -> LiquidityCreditTransfer:
    """As the protocol writes a movement: MsgId the request id; LqdtyTrfId the bank's camt.050's references (InstrId
    its MsgId) for a reserve or credit, EndToEndId NOTPROVIDED alone for a commit or release (no amount)."""
    references = kopecks > 0
    return LiquidityCreditTransfer(
        message_id="9f3a0c2e5b7d4e1f8a6c3b2d1e0f9a8b",
        creation_time=datetime(2026, 5, 12, 9, 30, 0, tzinfo=msk),
        instruction_id="SBER-LQT-20260512-0007" if references else None,
        end_to_end_id="INV-2026-0311" if references else "NOTPROVIDED",
        transaction_id="SBER-TX-7" if references else None,
        uetr=uuid.UUID("0e8f1c2a-3b4d-4e5f-8a9b-0c1d2e3f4a5b") if references else None,
        creditor_bic=None,
        credit_account=credit,
        amount_kopecks=kopecks,
        currency=currency,
        debtor_bic=None,
        debit_account=debit,
        settlement_date=None,
    )


# The RTGS protocol's four movements (docs/rtgs-protocol.md), and one transfer with every field the writer knows.
transfers = {
    "reserve": _transfer(AccountId(sberbank_account, None), hold, 250_000_00),
    "commit": _transfer(hold, AccountId(reserve_account, None), 0, None),
    "release": _transfer(hold, None, 0, None),
    "credit from reserve": _transfer(AccountId(reserve_account, None), AccountId(sberbank_account, None), 1_00),
    "every field": LiquidityCreditTransfer(
        message_id="ALFA-LQT-20260512-0001",
        creation_time=datetime(2026, 5, 12, 5, 55, 10, tzinfo=UTC),
        instruction_id="ALFA-LQT-0001-I",
        end_to_end_id="LQT-20260512-SOD-ALFA",
        transaction_id="ALFA-LQT-0001-T",
        uetr=uuid.UUID("c3e8f1a2-47b9-4d05-8e6c-2a9d7b14f063"),
        creditor_bic="ALFARUMMXXX",
        credit_account=AccountId("ALFARUMMXXX/main", "CRUB-WALLET"),
        amount_kopecks=1_200_000_000_00,
        currency="RUB",
        debtor_bic="ALFARUMM",
        debit_account=AccountId("30101810200000000593", None),
        settlement_date=date(2026, 5, 12),
    ),
}


def _statement_query(sequence: str | None) -> AccountReportQuery:
    return AccountReportQuery(
        message_id="2b7d4e8c1a905f0c2a7e8d3b4c1e9a6f",
        creation_time=datetime(2026, 5, 12, 10, 0, tzinfo=msk),
        sender_bic=None,
        queries=(
            ReportQuery(
                query_id=None,
                requested_message=MessageId("camt", "053", "001", "08"),
                account=AccountId(reserve_account, None),
                owner_bic=central_bank,
                servicer_bic=rtgs,
                from_date=date(2026, 5, 8),
                to_date=date(2026, 5, 11),
                query_type=QueryType.ALLL,
                from_sequence=sequence,
                balance_types=(BalanceType.OPBD, BalanceType.CLBD),
            ),
        ),
    )


queries = {
    "balance": AccountReportQuery(
        message_id="c1e9a6f2b7d4e8c1a905f0c2a7e8d3b4",
        creation_time=datetime(2026, 5, 12, 10, 0, tzinfo=msk),
        sender_bic=central_bank,
        queries=(
            ReportQuery(
                query_id="Q1",
                requested_message=MessageId("camt", "052", "001", "08"),
                account=AccountId(sberbank_account, None),
                owner_bic=central_bank,
                servicer_bic=None,
                from_date=None,
                to_date=None,
                query_type=QueryType.ALLL,
                from_sequence=None,
                balance_types=(BalanceType.ITBD, BalanceType.ITAV),
            ),
        ),
    ),
    "statement": _statement_query(None),
    "statement, a later page": _statement_query("4711"),
}


def _header(message_id: MessageId, reference: str) -> BusinessHeader:
    return BusinessHeader(
        from_bic=central_bank, to_bic=rtgs, business_message_id=reference, message_definition_id=str(message_id),
        business_service=None, creation_time=datetime(2026, 5, 12, 10, 0, tzinfo=msk), copy_duplicate=None,
        possible_duplicate=None, related=(), version=head_001_001_02.message_id,
    )  # fmt: skip


def _account_named(account: Account | None) -> AccountId | None:
    if account is None:
        return None
    assert account.iban is None and account.identification is not None and account.scheme_code is None
    return AccountId(account.identification, account.scheme_proprietary)


def _read_transfer(transfer: LiquidityCreditTransfer) -> LiquidityTransfer:
    data = envelope.to_bytes(camt_050_001_05.write(transfer))
    read = camt_050_reader.read(unwrapped(data))
    assert isinstance(read, LiquidityTransfer), read
    return read


def _assert_reads_back(transfer: LiquidityCreditTransfer) -> None:
    read = _read_transfer(transfer)
    assert (read.message_id, read.creation_time) == (transfer.message_id, transfer.creation_time)
    assert (read.instruction_id, read.end_to_end_id, read.transaction_id, read.uetr) == (
        transfer.instruction_id, transfer.end_to_end_id, transfer.transaction_id, transfer.uetr,
    )  # fmt: skip
    assert (_account_named(read.debit_account), _account_named(read.credit_account)) == (
        transfer.debit_account, transfer.credit_account,
    )  # fmt: skip
    assert read.amount.kopecks == transfer.amount_kopecks
    assert read.amount.currency == (transfer.currency or "RUB")  # AmtWthtCcy reads as the system's currency
    assert read.amount_path.endswith("AmtWthtCcy" if transfer.currency is None else "AmtWthCcy")
    assert (None if read.debtor is None else read.debtor.bic) == transfer.debtor_bic
    assert (None if read.creditor is None else read.creditor.bic) == transfer.creditor_bic
    assert read.settlement_date == transfer.settlement_date


@pytest.mark.parametrize("name", list(transfers))
def test_camt_050_is_valid_against_our_schema_and_reads_back(name: str) -> None:
    transfer = transfers[name]
    document = camt_050_001_05.write(transfer)
    assert compiled().validate_element(document, camt_050) == []
    _assert_reads_back(transfer)


@pytest.mark.parametrize("name", list(transfers))
def test_camt_050_is_valid_against_the_official_xsd(name: str) -> None:
    assert_official(camt_050_001_05.write(transfers[name]), camt_050)


def test_a_commit_names_the_hold_and_no_amount_of_its_own() -> None:
    document = camt_050_001_05.write(transfers["commit"])
    namespaces = {"d": camt_050.namespace}
    transfer = "/d:Document/d:LqdtyCdtTrf/d:LqdtyCdtTrf"
    assert document.xpath(f"{transfer}/d:DbtrAcct/d:Id/d:Othr/d:Id/text()", namespaces=namespaces) == [hold.identification]
    assert document.xpath(f"{transfer}/d:DbtrAcct/d:Id/d:Othr/d:SchmeNm/d:Prtry/text()", namespaces=namespaces) == [
        "RTGS-HOLD"
    ]
    assert document.xpath(f"{transfer}/d:TrfdAmt/d:AmtWthtCcy/text()", namespaces=namespaces) == ["0.00"]
    assert document.xpath(f"{transfer}/d:CdtrAcct/d:Id/d:Othr/d:Id/text()", namespaces=namespaces) == [reserve_account]


def test_in_the_envelope_with_its_app_hdr_a_camt_050_passes_the_iso_tier() -> None:
    transfer = transfers["reserve"]
    data = liquidity_transfer_message(_header(camt_050, transfer.message_id), transfer)
    assert check_iso(data) == (camt_050, [])
    assert compiled().validate_element(head_001_001_02.write(_header(camt_050, "X")), head_001_001_02.message_id) == []


@pytest.mark.parametrize("name", list(queries))
def test_camt_060_is_valid_everywhere_and_reads_back(name: str) -> None:
    query = queries[name]
    document = camt_060_001_05.write(query)
    assert compiled().validate_element(document, camt_060) == []
    assert_official(document, camt_060)
    data = account_report_query_message(_header(camt_060, query.message_id), query)
    assert check_iso(data) == (camt_060, [])
    read = camt_060_reader.read(unwrapped(data))
    assert isinstance(read, AccountReportingRequest), read
    assert (read.message_id, read.creation_time) == (query.message_id, query.creation_time)
    assert (None if read.message_sender is None or read.message_sender.agent is None
            else read.message_sender.agent.bic) == query.sender_bic  # fmt: skip
    (request,) = read.requests
    (written,) = query.queries
    assert request.request_id == written.query_id
    assert request.requested_message_name_id == str(written.requested_message)
    assert _account_named(request.account) == written.account
    assert request.account is not None and request.account.currency == "RUB"
    assert request.account_owner.agent is not None and request.account_owner.agent.bic == written.owner_bic
    assert (None if request.account_servicer is None else request.account_servicer.bic) == written.servicer_bic
    if written.from_date is None:
        assert request.period is None
    else:
        assert request.period is not None
        assert (request.period.from_date, request.period.to_date) == (written.from_date, written.to_date)
        assert request.period.query_type == written.query_type.value
    assert request.sequence_range_present == (written.from_sequence is not None)
    assert [balance.code for balance in request.balance_types] == [kind.value for kind in written.balance_types]
    if written.from_sequence is not None:
        found = document.xpath("//d:RptgSeq/d:FrSeq/text()", namespaces={"d": camt_060.namespace})
        assert found == [written.from_sequence]


def test_the_writers_refuse_values_their_messages_cannot_carry() -> None:
    with pytest.raises(AssertionError):
        _transfer(hold, None, 1.5)  # type: ignore[arg-type]  # money is never float
    with pytest.raises(AssertionError):
        _transfer(hold, None, -1)
    with pytest.raises(AssertionError):
        LiquidityCreditTransfer(**{**_fields(transfers["every field"]), "uetr": uuid.uuid1()})  # UETR is version 4
    with pytest.raises(AssertionError):
        ReportQuery(**{**_fields(queries["statement"].queries[0]), "to_date": date(2026, 5, 7)})  # ends before it begins
    with pytest.raises(AssertionError):
        AccountReportQuery(**{**_fields(queries["balance"]), "queries": ()})


def _fields(value: object) -> dict[str, object]:
    return {name: getattr(value, name) for name in value.__slots__}  # type: ignore[attr-defined]


_account_ids = st.builds(AccountId, text(34), optional(text(35)))

any_transfer = st.builds(
    LiquidityCreditTransfer,
    message_id=text(35),
    creation_time=optional(datetimes),
    instruction_id=optional(text(35)),
    end_to_end_id=text(35),
    transaction_id=optional(text(35)),
    uetr=optional(uetrs),
    creditor_bic=optional(bics),
    credit_account=optional(_account_ids),
    amount_kopecks=st.integers(min_value=0, max_value=10**18 - 1),
    currency=optional(st.sampled_from(("RUB", "USD", "CNY"))),
    debtor_bic=optional(bics),
    debit_account=optional(_account_ids),
    settlement_date=optional(dates),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(any_transfer)
def test_any_transfer_the_writer_takes_is_valid_and_reads_back(transfer: LiquidityCreditTransfer) -> None:
    assert compiled().validate_element(camt_050_001_05.write(transfer), camt_050) == []
    _assert_reads_back(transfer)
