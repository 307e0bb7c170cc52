"""A business day of message files (tests/replay/day/) replayed over mutual TLS against a fresh gateway on SQLite and
on PostgreSQL gives exactly the answers and mailbox messages recorded, and checked by hand, in
tests/replay/day-goldens/; a changed answer fails the replay with a readable difference.

To record the goldens again after an intended change of the gateway's answers:

    GATEWAY_REPLAY_RECORD=1 .venv/bin/python -m pytest tests/replay/test_replay_day.py -k "sqlite and matches"

then read `git diff tests/replay/day-goldens` and check every changed answer by hand before committing it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.replay.conftest import TlsGateway, day_folder, day_goldens, replay

recording = os.environ.get("GATEWAY_REPLAY_RECORD") == "1"


async def test_the_day_matches_its_goldens(tls_gateway: TlsGateway, database_url: str) -> None:
    if recording:
        if not database_url.startswith("sqlite"):
            pytest.skip("recording once, on SQLite, is enough: both databases must give the same goldens")
        run = await replay(day_folder, tls_gateway.url, tls_gateway.certs, record=day_goldens)
        assert run.status == 0, run.output + run.errors
        pytest.skip(f"recorded the goldens in {day_goldens}: check them by hand, then run without recording")
    # SQLite one file at a time, PostgreSQL several at once: a step's files never depend on each other's order.
    concurrency = 1 if database_url.startswith("sqlite") else 4
    run = await replay(day_folder, tls_gateway.url, tls_gateway.certs, expect=day_goldens, concurrency=concurrency)
    assert run.status == 0, run.output + run.errors
    assert "every answer matched the goldens" in run.output
    assert "MISMATCH" not in run.output


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_changed_answer_shows_as_a_readable_difference(tls_gateway: TlsGateway, tmp_path: Path) -> None:
    goldens = tmp_path / "goldens"
    shutil.copytree(day_goldens, goldens)
    # As if the gateway had settled the over-limit transaction of 08 instead of refusing it, and answered PART.
    golden = goldens / "08-sber-bulk-one-over-limit.golden.xml"
    text = golden.read_text(encoding="utf-8")
    assert text.count("<TxSts>RJCT</TxSts>") == 1
    golden.write_text(text.replace("<TxSts>RJCT</TxSts>", "<TxSts>ACSC</TxSts>"), encoding="utf-8")

    run = await replay(day_folder, tls_gateway.url, tls_gateway.certs, expect=goldens)

    assert run.status == 1, run.output + run.errors
    assert "08-sber-bulk-one-over-limit.xml: 1 difference from" in run.output
    assert "answer /Envelope/Document/FIToFIPmtStsRpt/TxInfAndSts[2]/TxSts" in run.output
    assert "expected 'ACSC'" in run.output
    assert "got      'RJCT'" in run.output
    assert "MISMATCH (1)" in run.output
    assert run.output.count("MISMATCH") == 1, "only the altered file differs"
