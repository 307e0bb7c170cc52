"""Message-layer tests: the counts of the corpus run of `gateway validate --profile iso`, printed at the end of the
run so that CI output shows how many samples were checked and why the others were left out."""

from __future__ import annotations

import textwrap
from collections import Counter
from dataclasses import dataclass, field

import pytest

corpus_validation_key = pytest.StashKey["CorpusValidation"]()


@dataclass
class CorpusValidation:
    """What tests/message_layer/test_validate_corpus.py found, file by file."""

    location: str = ""
    files: int = 0
    checked: Counter[str] = field(default_factory=Counter)  # by envelope
    valid_agreed: int = 0  # valid by the official XSD, and `gateway validate --profile iso` said valid
    invalid_agreed: int = 0  # invalid by the official XSD, and the command refused them
    disagreements: list[str] = field(default_factory=list)
    skipped_by_envelope: Counter[str] = field(default_factory=Counter)  # by reason
    skipped_by_version: Counter[str] = field(default_factory=Counter)  # by the unsupported versions found
    console_script: str = ""  # the subprocess run of the installed `gateway` command, when it ran

    def lines(self) -> list[str]:
        if not self.files:
            return []
        checked = sum(self.checked.values())
        by_envelope = ", ".join(f"{kind} {count}" for kind, count in sorted(self.checked.items()))
        out = [
            f"corpus {self.location}: {self.files} files",
            (
                f"  checked {checked} ({by_envelope}): {self.valid_agreed} valid accepted, {self.invalid_agreed}"
                f" invalid rejected, {len(self.disagreements)} disagreements with the official XSD"
            ),
        ]
        out += [f"    DISAGREES: {line}" for line in self.disagreements]
        out.append(f"  skipped by envelope: {sum(self.skipped_by_envelope.values())}")
        out += [f"    {count:>4}  {reason}" for reason, count in _by_count(self.skipped_by_envelope)]
        out.append(f"  skipped by version: {sum(self.skipped_by_version.values())}, of unsupported versions (files):")
        versions = ", ".join(f"{reason} ({count})" for reason, count in _by_count(self.skipped_by_version))
        out += textwrap.wrap(versions, width=116, initial_indent="    ", subsequent_indent="    ")
        if self.console_script:
            out.append(f"  console script: {self.console_script}")
        return out


def _by_count(counts: Counter[str]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


@pytest.fixture(scope="session")
def corpus_validation(request: pytest.FixtureRequest) -> CorpusValidation:
    return request.config.stash.setdefault(corpus_validation_key, CorpusValidation())


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    found = terminalreporter.config.stash.get(corpus_validation_key, None)
    lines = [] if found is None else found.lines()
    if lines:
        terminalreporter.section("gateway validate --profile iso vs the official XSDs, on the ISO 20022 corpus")
        for line in lines:
            terminalreporter.write_line(line)
