"""README's `[limits]` table names every tunable bound of gateway/bounds.py with its default, and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

from gateway import bounds

readme = Path(__file__).resolve().parents[1] / "README.md"
_row = re.compile(r"^\| `([a-z_]+)` \| ([0-9]+) \| .+ \|$")


def test_the_readme_lists_every_tunable_limit_with_its_default() -> None:
    text = readme.read_text(encoding="utf-8")
    table = text[text.index("| `[limits]` key | default |"):]
    table = table[: table.index("\n\n")]
    documented = {m.group(1): int(m.group(2)) for line in table.splitlines() if (m := _row.match(line))}
    assert documented == {name: tunable.default for name, tunable in bounds.tunable_limits.items()}
