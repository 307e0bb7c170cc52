"""AccountReports on a wallet history given by hand: pending conversions appear as PDNG entries outside the booked
balances, the available balance takes them off, and the report written is valid by the official schema."""

from __future__ import annotations

import uuid
from datetime import datetime

from gateway.domain.calendar import business_zone
from gateway.domain.ledger import TransferKind
from gateway.messages.commands import AccountReportingRequest, BusinessHeader
from gateway.messages.envelope import unwrap
from gateway.messages.identity import app_hdr_message_id_default
from gateway.messages.readers import camt_060_001_05
from gateway.messages.rejections import Rejection
from gateway.messages.safe_xml import parse_bounded
from gateway.reporting.ports import WalletHistory, WalletHold, WalletMovement
from gateway.reporting.service import AccountReports
from tests.message_layer.support import official_schema
from tests.settlement.builders import CBRF, SBER, ReportAsk, camt_060
from tests.settlement.conftest import Message

now = datetime(2026, 11, 24, 15, 0, tzinfo=business_zone)
now_us = int(now.timestamp()) * 1_000_000
paid_in = WalletMovement(
    transfer_id=uuid.UUID(int=1), kind=TransferKind.PAYMENT, signed_kopecks=1_000_00,
    created_at_us=now_us - 3_600_000_000, reference="VTBRRUMMXXX:PAY-9", uetr=uuid.UUID("6f1c0d3e-2b7a-4c1e-9d4f-3a2b1c0d9e8f"),
    message_reference="PAY-9", end_to_end_id="E2E-9", instruction_id=None, transaction_id=None,
    debtor_agent_bic="VTBRRUMMXXX", creditor_agent_bic=SBER,
)
burning = WalletHold(transfer_id=uuid.UUID(int=2), kind=TransferKind.BURN, signed_kopecks=-200_00,
                     created_at_us=now_us - 60_000_000)


class _History:
    def __init__(self) -> None:
        self.asked: list[tuple[int, int, int, int]] = []

    async def wallet_history(self, account_id: int, from_us: int, to_us: int, movements_max: int) -> WalletHistory:
        self.asked.append((account_id, from_us, to_us, movements_max))
        return WalletHistory(500_00, 1_500_00, (paid_in,), (burning,), debits_pending_kopecks=200_00)


def _request() -> AccountReportingRequest:
    data = camt_060(SBER, "REP-U1", [ReportAsk("camt.052.001.08", f"{SBER}/main", now.date(), None)])
    parsed = parse_bounded(data)
    assert not isinstance(parsed, Rejection), parsed
    unwrapped = unwrap(parsed, allow_bare_document=False)
    assert not isinstance(unwrapped, Rejection), unwrapped
    request = camt_060_001_05.read(unwrapped)
    assert isinstance(request, AccountReportingRequest), request
    return request


async def test_pending_conversions_are_listed_but_kept_out_of_booked_balances() -> None:
    history = _History()
    reports = AccountReports(history, CBRF)
    outbound = await reports.answer(_request(), SBER, _header(), {f"{SBER}/main": 41, f"{SBER}/clients": 42}, now_us)
    assert len(outbound) == 1
    # The day so far, in Moscow time: from midnight to now (inclusive of this microsecond), on wallet 41 only.
    midnight_us = int(datetime(2026, 11, 24, tzinfo=business_zone).timestamp()) * 1_000_000
    assert history.asked == [(41, midnight_us, now_us + 1, 20 * 2_000)]
    message = Message.read(outbound[0].payload)
    report = message.document.one("BkToCstmrAcctRpt/Rpt")
    balances = {b.text("Tp/CdOrPrtry/Cd"): b.text("Amt") for b in report.all("Bal")}
    assert balances == {"OPBD": "500.00", "ITBD": "1500.00", "ITAV": "1300.00"}  # 1,500.00 less the 200.00 held
    entries = [(e.text("Amt"), e.text("CdtDbtInd"), e.text("Sts/Cd"), e.text("BkTxCd/Domn/Fmly/SubFmlyCd"))
               for e in report.all("Ntry")]
    assert entries == [("1000.00", "CRDT", "BOOK", "DMCT"), ("200.00", "DBIT", "PDNG", "SWEP")]
    assert report.text("TxsSummry/TtlNtries/NbOfNtries") == "1"  # totals count booked entries only
    schema = official_schema(message.message_id)
    assert schema.validate(message.document.element), schema.error_log


def _header() -> BusinessHeader:
    return BusinessHeader(SBER, CBRF, "REP-U1", "camt.060.001.05", None, now, None, None, (), app_hdr_message_id_default)
