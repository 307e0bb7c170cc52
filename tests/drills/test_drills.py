"""The fault drills (bench/drill_*.py): each one's short run exits 0 with its figure line and leaves no scratch
database behind; and the checker they share fails a drill whose ledger lost, doubled or invented a payment."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import pytest

from bench.drills.common import Answer, Payment, Settled, Verdict, check, report
from tests.conftest import pg_admin_url

repo_root = Path(__file__).resolve().parents[2]
drill_seconds_max = 300  # one short drill; far more than it takes (about 20-40 s here), well below a hang

A, B = "BAAKRUMMXXX", "BABKRUMMXXX"


def _payment(number: int, debtor: str, creditor: str, kopecks: int, *answers: Answer) -> Payment:
    return Payment(f"P{number}", uuid.UUID(int=number, version=4), debtor, creditor, kopecks, b"", list(answers))


def _settled(payment: Payment) -> Settled:
    return Settled(payment.uetr, payment.debtor, payment.creditor, payment.kopecks)


acsc, rjct, none = Answer("ACSC"), Answer("RJCT", "AM04"), Answer("none")
funding = {A: 1000_00, B: 1000_00}
# A pays B 300.00 (acknowledged); B pays A 50.00 (no answer; re-sent, answered from the journal: it had settled);
# A pays B 5,000.00 (refused AM04).
paid = _payment(1, A, B, 300_00, acsc)
resent = _payment(2, B, A, 50_00, none, Answer("ACSC", outcome="replayed"))
refused = _payment(3, A, B, 5000_00, rjct)
payments = [paid, resent, refused]
# Worked out by hand: A 1,000.00 - 300.00 + 50.00 = 750.00; B 1,000.00 + 300.00 - 50.00 = 1,250.00.
balances_after = {A: 750_00, B: 1250_00}


def _verdict(settled: list[Settled], balances: dict[str, int]) -> Verdict:
    verdict = check(payments, [resent], settled, funding, balances)
    verdict.verified = True
    return verdict


def test_the_checker_passes_a_ledger_that_matches_the_model(capsys: pytest.CaptureFixture[str]) -> None:
    verdict = _verdict([_settled(paid), _settled(resent)], balances_after)
    assert verdict.ok
    assert (verdict.acknowledged, verdict.acknowledged_settled_once) == (1, 1)
    assert (verdict.resent, verdict.resent_settled, verdict.resent_replayed) == (1, 1, 1)
    assert report("test", verdict) == 0
    assert capsys.readouterr().out.strip().endswith("0 lost, 0 doubled, ledger verify ok, balances = model")


def test_the_checker_fails_a_drill_whose_ledger_lost_an_acknowledged_payment(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The acknowledged payment is missing; the balances are the ledger's, as they would be without it.
    verdict = _verdict([_settled(resent)], {A: 1050_00, B: 950_00})
    assert [line.split(" ")[0] for line in verdict.lost] == ["P1"]
    assert report("test", verdict) == 1
    out = capsys.readouterr().out
    assert "1 lost, 0 doubled" in out and "2 balances != model" in out and out.strip().endswith("FAILED")


def test_the_checker_fails_a_drill_whose_ledger_settled_a_payment_twice() -> None:
    verdict = _verdict([_settled(paid), _settled(resent), _settled(resent)], {A: 800_00, B: 1200_00})
    assert len(verdict.doubled) == 1 and str(resent.uetr) in verdict.doubled[0]
    assert verdict.resent_settled == 0
    assert not verdict.ok


def test_the_checker_fails_a_drill_whose_ledger_settled_a_refused_payment_or_one_never_sent() -> None:
    stranger = Settled(uuid.UUID(int=99, version=4), A, B, 1_00)
    verdict = _verdict([_settled(paid), _settled(resent), _settled(refused), stranger], balances_after)
    assert len(verdict.unexplained) == 2
    assert not verdict.ok


def test_the_checker_fails_a_drill_with_a_wallet_below_zero_or_ledger_verify_failing() -> None:
    verdict = _verdict([_settled(paid), _settled(resent)], {A: -1_00, B: 1250_00})
    assert verdict.negative == [f"{A}/main: -100"] and not verdict.ok
    failed_verify = _verdict([_settled(paid), _settled(resent)], balances_after)
    failed_verify.verified = False
    assert not failed_verify.ok and "LEDGER VERIFY FAILED" in failed_verify.summary()


def test_a_payment_never_answered_fails_the_drill() -> None:
    unanswered = _payment(4, A, B, 1_00, none, none)
    verdict = check([*payments, unanswered], [resent, unanswered], [_settled(paid), _settled(resent)], funding,
                    balances_after)
    verdict.verified = True
    assert [line.split(":")[0] for line in verdict.never_answered] == ["P4"] and not verdict.ok


async def _scratch_databases(drill: str) -> list[str]:
    connection = await asyncpg.connect(pg_admin_url().replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        rows = await connection.fetch("SELECT datname FROM pg_database WHERE datname LIKE $1", f"drills_{drill}_%")
    finally:
        await connection.close()
    return [row["datname"] for row in rows]


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize(("drill", "figure"), [
    ("kill", "drill kill: 3 kills, "),
    ("outage", "drill outage: normal "),
    ("two_instances", "drill two instances: 2 instances, each payment sent to both, "),
    ("workers", "drill workers: --workers 3, 2 workers killed"),
])
def test_the_short_drill_passes_and_prints_its_figure(postgres_available: None, drill: str, figure: str) -> None:
    before = asyncio.run(_scratch_databases(drill))
    done = subprocess.run(
        [sys.executable, f"bench/drill_{drill}.py", "--short", "--seed", "1",
         "--pg-url", pg_admin_url().replace("postgresql+asyncpg://", "postgresql://", 1)],
        cwd=repo_root, capture_output=True, text=True, timeout=drill_seconds_max, check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith(figure), last
    assert last.endswith("0 lost, 0 doubled, ledger verify ok, balances = model"), last
    assert "Traceback" not in output
    assert asyncio.run(_scratch_databases(drill)) == before  # its scratch database dropped
