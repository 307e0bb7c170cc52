"""The top of a py-spy profile, as text: what `bench/e2e.py --profile DIR` recorded, shared out by function.

Run (from the repository root):

    python bench/e2e.py --profile profiles          # records profiles/single.txt and profiles/bulk.txt
    python bench/profile_top.py profiles/single.txt # the top 25 functions by own time and by time inside them
    python bench/profile_top.py profiles/bulk.txt --top 40

The input is py-spy's collapsed stacks (`py-spy record --format raw`): one line per distinct stack, frames
separated by ';', then the number of samples. Shares are of all samples of the recorded processes (py-spy counts
a process only while it runs Python or C code, not while it waits in the event loop's select). A function's "own"
share is the samples with it at the top of the stack; its "inside" share is the samples with it anywhere in it,
counted below the event loop's callback runner (the frames above it, main and the loop, hold every sample).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

_line_number = re.compile(r":\d+\)$")
_loop_callback = "Handle._run (asyncio/events.py)"


def frame_name(frame: str) -> str:
    """`function (file:line)` without the line: every line of a function counts as the function."""
    return _line_number.sub(")", frame)


def shares(path: Path) -> tuple[int, Counter[str], Counter[str]]:
    """(samples, own samples by function, inside samples by function)."""
    own: Counter[str] = Counter()
    inside: Counter[str] = Counter()
    total = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        # The first frame names the process: "process PID:command".
        frames = [frame_name(f) for f in stack.split(";")[1:]]
        if not frames:
            continue
        total += count
        own[frames[-1]] += count
        # "inside" starts below the event loop's callback runner: what runs outside of it (the process, main, the
        # loop itself) holds every sample of its process.
        if _loop_callback in frames:
            frames = frames[len(frames) - frames[::-1].index(_loop_callback) :]
        for name in set(frames):
            inside[name] += count
    return total, own, inside


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("profile", type=Path, help="collapsed stacks from py-spy record --format raw")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    if not args.profile.is_file():
        print(f"no such profile: {args.profile}", file=sys.stderr)
        return 2
    total, own, inside = shares(args.profile)
    if total == 0:
        print(f"{args.profile} holds no samples", file=sys.stderr)
        return 2
    print(f"{args.profile}: {total:,} samples")
    print("\nown   function")
    for name, count in own.most_common(args.top):
        print(f"{count / total:5.1%} {name}")
    print("\ninside function (below the event loop)")
    for name, count in inside.most_common(args.top):
        print(f"{count / total:5.1%} {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
