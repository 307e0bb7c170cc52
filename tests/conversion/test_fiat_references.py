"""A settled conversion's fiat booking at the RTGS carries the references of the camt.050 that caused it (MsgId,
EndToEndId, TxId, UETR): a mint's commit and a burn's credit come back so in the RTGS's statement of the bank's
account and of the reserve account, and `gateway rtgs statement` shows them, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from gateway.conversion.ports import FiatDirection, FiatReferences
from tests.conversion.conftest import RESERVE_ACCOUNT, ConversionGateway, receipt
from tests.settlement.builders import RTGS_ACCOUNTS, SBER, camt_050
from tests.test_cli import gateway

MSK = timezone(timedelta(hours=3))
MINT_UETR = uuid.UUID("0e8f1c2a-3b4d-4e5f-8a9b-0c1d2e3f4a5b")
BURN_UETR = uuid.UUID("6d1f5a2e-4b3c-4d2e-9f10-2a3b4c5d6e7f")


async def test_a_settled_mint_and_burn_book_their_fiat_with_the_camt_050s_references(
    cgw: ConversionGateway, tmp_path: Path
) -> None:
    mint = camt_050(SBER, "SBER-LQ-MINT-0311", 250_000_00, end_to_end_id="INV-2026-0311",
                    transaction_id="SBER-TX-0311", uetr=MINT_UETR)  # fmt: skip
    assert receipt((await cgw.post(mint)).body).codes == ["ACSC"]
    burn = camt_050(SBER, "SBER-LQ-BURN-0312", 100_000_00, direction="burn", end_to_end_id="NOTPROVIDED",
                    transaction_id="SBER-TX-0312", uetr=BURN_UETR)  # fmt: skip
    assert receipt((await cgw.post(burn)).body).codes == ["ACSC"]
    # What the two camt.050s above say, field by field.
    mint_references = FiatReferences("SBER-LQ-MINT-0311", "INV-2026-0311", "SBER-TX-0311", MINT_UETR)
    burn_references = FiatReferences("SBER-LQ-BURN-0312", "NOTPROVIDED", "SBER-TX-0312", BURN_UETR)

    today = datetime.now(MSK).date()  # after the bookings: yesterday..today holds them even across midnight
    account = RTGS_ACCOUNTS[SBER]
    sberbank = await cgw.gateway.rtgs.statement(account, today - timedelta(days=1), today)
    assert sberbank is not None
    assert [(e.direction, e.kopecks, e.counter_account, e.references) for e in sberbank.entries] == [
        (FiatDirection.CREDIT, 1_000_000_00, "OPENING", None),
        (FiatDirection.DEBIT, 250_000_00, RESERVE_ACCOUNT, mint_references),  # the mint's commit
        (FiatDirection.CREDIT, 100_000_00, RESERVE_ACCOUNT, burn_references),  # the burn's credit
    ]
    reserve = await cgw.gateway.rtgs.statement(RESERVE_ACCOUNT, today - timedelta(days=1), today)
    assert reserve is not None
    assert [(e.direction, e.kopecks, e.references) for e in reserve.entries] == [
        (FiatDirection.CREDIT, 250_000_00, mint_references),
        (FiatDirection.DEBIT, 100_000_00, burn_references),
    ]

    config_path = tmp_path / "gateway.toml"  # the cgw fixture's config, on the same database
    shown = await asyncio.to_thread(
        gateway, config_path, "rtgs", "statement", account, "--from", str(today - timedelta(days=1)), "--to", str(today)
    )
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    mint_line = next(i for i, line in enumerate(lines) if "DBIT" in line)
    burn_line = next(i for i, line in enumerate(lines) if "CRDT" in line and "conversion" in line)
    assert lines[mint_line + 1].split() == [
        "camt.050", "MsgId", "SBER-LQ-MINT-0311", "EndToEndId", "INV-2026-0311", "TxId", "SBER-TX-0311",
        "UETR", "0e8f1c2a-3b4d-4e5f-8a9b-0c1d2e3f4a5b",
    ]  # fmt: skip
    assert lines[burn_line + 1].split() == [
        "camt.050", "MsgId", "SBER-LQ-BURN-0312", "EndToEndId", "NOTPROVIDED", "TxId", "SBER-TX-0312",
        "UETR", "6d1f5a2e-4b3c-4d2e-9f10-2a3b4c5d6e7f",
    ]  # fmt: skip
    assert "OPENING" in lines[2] and mint_line == 3  # the opening balance has no references: no line of them
