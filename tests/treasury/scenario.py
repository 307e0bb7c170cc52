"""A treasury morning, sent as the banks send it: conversions, payments, a rejected transaction, a message refused as
a whole, a refused conversion and a future-dated payment; and what treasury must see afterwards, worked out by hand
below (not read from the gateway), for the API test, the metrics test and the Chromium test alike."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from tests.conversion.conftest import receipt
from tests.settlement.builders import ALFA, SBER, VTB, Tx, camt_050, pacs_008, today_in_moscow
from tests.settlement.conftest import message_reject, status_report

# Every bank's RTGS account opens with 1,000,000.00 fiat roubles (rtgs.opening_balance_rub); no wallet is funded
# before the morning: everything on the ledger comes from the conversions below.
rtgs_opening_rub = "1000000.00"

Post = Callable[[str, bytes], Awaitable[tuple[int, bytes]]]  # (as bank, message) -> (HTTP status, answer)


async def settle_the_morning(post: Post) -> None:
    today = today_in_moscow()
    # 1. Sberbank converts 500,000.00 and VTB 200,000.00 of fiat into their main wallets.
    for bank, message_id, kopecks in ((SBER, "TRS-MINT-SBER", 500_000_00), (VTB, "TRS-MINT-VTB", 200_000_00)):
        status, body = await post(bank, camt_050(bank, message_id, kopecks))
        assert status == 200 and receipt(body).codes == ["ACSC"], body
    # 2. Alfa asks to convert 2,000,000.00, twice what its RTGS account holds: the RTGS refuses the hold (AM04).
    status, body = await post(ALFA, camt_050(ALFA, "TRS-MINT-ALFA", 2_000_000_00))
    assert status == 200 and receipt(body).codes[:1] == ["RJCT"] and "AM04" in receipt(body).codes, body
    # 3. Sberbank pays VTB 100,000.00.
    status, body = await post(SBER, pacs_008(SBER, "TRS-PAY-1", [Tx(SBER, VTB, 100_000_00)], today))
    assert status == 200 and status_report(body).group_status == "ACSC", body
    # 4. Sberbank pays VTB 1,000.00 and, in the same message, 450,000.00 it no longer has (AM04): part accepted.
    status, body = await post(
        SBER, pacs_008(SBER, "TRS-PAY-2", [Tx(SBER, VTB, 1_000_00), Tx(SBER, VTB, 450_000_00)], today)
    )
    report = status_report(body)
    assert status == 200 and [tx.status for tx in report.transactions] == ["ACSC", "RJCT"], body
    assert report.transactions[1].reasons == ("AM04",)
    # 5. Sberbank addresses a payment to VTB instead of the gateway: refused as a whole, admi.002 RC02.
    status, body = await post(SBER, pacs_008(SBER, "TRS-PAY-3", [Tx(SBER, VTB, 10_00)], today, to=VTB))
    assert status == 200 and message_reject(body).text("Rsn/RjctgPtyRsn") == "RC02", body
    # 6. VTB pays Sberbank 5,000.00 tomorrow: warehoused until then.
    future = Tx(VTB, SBER, 5_000_00, settlement_date=today + timedelta(days=1))
    status, body = await post(VTB, pacs_008(VTB, "TRS-PAY-4", [future], today + timedelta(days=1)))
    assert status == 200 and status_report(body).group_status == "PDNG", body


# --- what treasury must see, by hand ---------------------------------------------------------------------------

SUPPLY_RUB = "700000.00"  # 500,000.00 + 200,000.00 converted; Alfa's refused
CAP_RUB = "1000000000.00"  # tests.conftest.write_config
HEADROOM_RUB = "999300000.00"  # the cap less the supply (no mint pending)
WALLETS_RUB = {
    SBER: "399000.00",  # 500,000.00 - 100,000.00 - 1,000.00
    VTB: "301000.00",  # 200,000.00 + 100,000.00 + 1,000.00 (tomorrow's 5,000.00 not yet)
    ALFA: "0.00",
}
RTGS_RUB = {SBER: "500000.00", VTB: "800000.00", ALFA: "1000000.00"}  # 1,000,000.00 less what each converted
SETTLED_RUB = "101000.00"  # payments settled today: 100,000.00 + 1,000.00

# Today's flows as the central bank sees them: pacs.008 messages TRS-PAY-1..4, camt.050 messages of the three banks.
FLOWS = {
    "pacs.008.001.08": {
        "received": 4,
        "messages": {"accepted": 1, "partially_accepted": 1, "warehoused": 1, "rejected": 1},
        "transactions": {"settled": (2, "101000.00"), "rejected": (1, "450000.00"), "pending": (1, "5000.00"),
                         "cancelled": (0, "0.00")},
    },
    "camt.050.001.05": {
        "received": 3,
        # Alfa's camt.050 was accepted, then its conversion refused by the RTGS: the message stays accepted and
        # the refusal is its transaction's.
        "messages": {"accepted": 3, "partially_accepted": 0, "warehoused": 0, "rejected": 0},
        "transactions": {"settled": (2, "700000.00"), "rejected": (1, "2000000.00"), "pending": (0, "0.00"),
                         "cancelled": (0, "0.00")},
    },
}
# Sberbank's own: its three payments messages (not VTB's warehoused one) and its one conversion.
SBER_FLOWS = {
    "pacs.008.001.08": {
        "received": 3,
        "messages": {"accepted": 1, "partially_accepted": 1, "warehoused": 0, "rejected": 1},
        "transactions": {"settled": (2, "101000.00"), "rejected": (1, "450000.00"), "pending": (0, "0.00"),
                         "cancelled": (0, "0.00")},
    },
    "camt.050.001.05": {
        "received": 1,
        "messages": {"accepted": 1, "partially_accepted": 0, "warehoused": 0, "rejected": 0},
        "transactions": {"settled": (1, "500000.00"), "rejected": (0, "0.00"), "pending": (0, "0.00"),
                         "cancelled": (0, "0.00")},
    },
}
# Rejects today by reason code: the payment and Alfa's conversion (AM04 both), the misaddressed message (RC02).
REASONS = [{"reason_code": "AM04", "count": 2}, {"reason_code": "RC02", "count": 1}]
SBER_REASONS = [{"reason_code": "AM04", "count": 1}, {"reason_code": "RC02", "count": 1}]
ALFA_REASONS = [{"reason_code": "AM04", "count": 1}]
