"""The arithmetic behind figures the benches print: bench/soak.py's pace and CPU windows, bench/profile_top.py's
shares. Expected values are worked out by hand from the inputs."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest

# Appended, not prepended: bench/ holds modules named like common words (ledger, messages) that must not shadow.
sys.path.append(str(Path(__file__).resolve().parents[1] / "bench"))  # the benches import each other by name

import profile_top
import soak


def test_the_window_of_a_stretch_of_payments_runs_from_its_first_tick_to_the_end_of_its_last() -> None:
    # 5 answers in tick 100, 5 in tick 101, none in 102, 10 in tick 103 (a tick is 0.1 s).
    answered = Counter({100: 5, 101: 5, 103: 10})
    assert soak.window(answered, 0, 2) == pytest.approx((10.0, 10.1))
    assert soak.window(answered, 0, 10) == pytest.approx((10.0, 10.2))
    # Payments 11 to 20 were all answered in tick 103.
    assert soak.window(answered, 10, 20) == pytest.approx((10.3, 10.4))


def test_cpu_between_two_moments_is_interpolated_between_samples() -> None:
    samples = [(0.0, 0.0), (10.0, 5.0), (20.0, 5.0), (30.0, 8.0)]
    assert soak.cpu_between(samples, 5.0, 15.0) == pytest.approx(2.5)  # 5.0 at 15 s, 2.5 at 5 s
    assert soak.cpu_between(samples, 0.0, 30.0) == pytest.approx(8.0)
    assert soak.cpu_between(samples, 25.0, 40.0) == pytest.approx(1.5)  # 6.5 at 25 s; the last sample after 30 s


def test_profile_shares_count_own_at_the_top_and_inside_below_the_event_loop(tmp_path: Path) -> None:
    loop = "Handle._run (asyncio/events.py:80)"
    profile = tmp_path / "single.txt"
    profile.write_text(
        f'process 1:"gateway serve";main (gateway/cli/main.py:55);{loop};apply (ledger.py:10);write (journal.py:3) 6\n'
        f'process 1:"gateway serve";main (gateway/cli/main.py:55);{loop};apply (ledger.py:12) 2\n'
        'process 1:"gateway serve";main (gateway/cli/main.py:55);select (selectors.py:468) 2\n',
        encoding="utf-8",
    )
    total, own, inside = profile_top.shares(profile)
    assert total == 10
    assert own == Counter({"write (journal.py)": 6, "apply (ledger.py)": 2, "select (selectors.py)": 2})
    assert inside == Counter({"apply (ledger.py)": 8, "write (journal.py)": 6, "select (selectors.py)": 2,
                              "main (gateway/cli/main.py)": 2})
