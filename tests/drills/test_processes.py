"""What the workers drill sees of a serve process's children: a killed child that is never reaped (today's
`serve --workers N`) is not counted alive, and a replacement is seen when a parent starts one (supervision)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.drills.processes import children_alive, replaced

# A parent with two sleeping children; supervised, it starts a new child for each one that died.
parent_script = """
import subprocess, sys, time
start = lambda: subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
children = [start(), start()]
print("ready", flush=True)
while True:
    if sys.argv[1] == "supervised":
        children = [c if c.poll() is None else start() for c in children]
    time.sleep(0.02)
"""
children_seconds_max = 10.0  # the children start in well under a second; this only bounds a broken run


def _parent(mode: str) -> Iterator[subprocess.Popen[str]]:
    parent = subprocess.Popen([sys.executable, "-c", parent_script, mode], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None and parent.stdout.readline().strip() == "ready"
        yield parent
    finally:
        for child in children_alive(parent.pid):
            os.kill(child, signal.SIGKILL)
        parent.kill()
        parent.wait()


@pytest.fixture
def unsupervised() -> Iterator[subprocess.Popen[str]]:
    yield from _parent("unsupervised")


@pytest.fixture
def supervised() -> Iterator[subprocess.Popen[str]]:
    yield from _parent("supervised")


def _two_children(parent: int) -> list[int]:
    deadline = time.monotonic() + children_seconds_max
    while len(alive := children_alive(parent)) < 2:
        assert time.monotonic() < deadline, alive
        time.sleep(0.02)
    return alive


@pytest.mark.slow
def test_a_killed_child_left_unreaped_is_not_alive_and_not_replaced(unsupervised: subprocess.Popen[str]) -> None:
    victim, survivor = _two_children(unsupervised.pid)
    os.kill(victim, signal.SIGKILL)
    assert not asyncio.run(replaced(unsupervised.pid, victim, 2, within=1.0))
    assert children_alive(unsupervised.pid) == [survivor]  # the victim is a zombie: its parent never reaped it
    assert Path(f"/proc/{victim}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"


@pytest.mark.slow
def test_a_killed_child_that_the_parent_replaces_is_seen_replaced(supervised: subprocess.Popen[str]) -> None:
    victim, survivor = _two_children(supervised.pid)
    os.kill(victim, signal.SIGKILL)
    assert asyncio.run(replaced(supervised.pid, victim, 2, within=children_seconds_max))
    alive = children_alive(supervised.pid)
    assert survivor in alive and victim not in alive and len(alive) == 2
