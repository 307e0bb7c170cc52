"""The processes of `gateway serve --workers N`, as the workers drill (bench/drill_workers.py) watches them: the
serve process's children (from /proc, zombies left out), whether a killed one was replaced, and the workers
listening on the port (Linux)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

listen_seconds_max = 60


def children_alive(parent: int) -> list[int]:
    """Processes whose parent is `parent` and that are not zombies (killed and not yet reaped), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # it ended while we looked
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == parent and state != "Z":
            found.append(int(entry.name))
    return sorted(found)


async def replaced(parent: int, victim: int, children: int, within: float) -> bool:
    """Whether the serve process has `children` children alive again, the killed one not among them, within
    `within` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if len(set(children_alive(parent)) - {victim}) >= children:
            return True
        await asyncio.sleep(0.02)
    return False


def listening_sockets(port: int) -> int:
    """Sockets in LISTEN state on the port (one per worker), from /proc/net/tcp and tcp6."""
    count = 0
    for table in (Path("/proc/net/tcp"), Path("/proc/net/tcp6")):
        if table.exists():
            for line in table.read_text().splitlines()[1:]:
                fields = line.split()
                count += fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port
    return count


def wait_listening(port: int, workers: int) -> None:
    """The load's keep-alive connections go to the sockets listening when they open: wait for every worker's."""
    deadline = time.monotonic() + listen_seconds_max
    while listening_sockets(port) < workers:
        if time.monotonic() > deadline:
            raise SystemExit(f"only {listening_sockets(port)} of {workers} workers listen after {listen_seconds_max} s")
        time.sleep(0.1)
