"""Schema tests: the shared report of differential and corpus counts, printed at the end of the run."""

from __future__ import annotations

import pytest

from tests.schemas.harness import Report

report_key = pytest.StashKey[Report]()


@pytest.fixture(scope="session")
def report(request: pytest.FixtureRequest) -> Report:
    return request.config.stash.setdefault(report_key, Report())


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    report = terminalreporter.config.stash.get(report_key, None)
    if report is None:
        return
    lines = report.lines()
    if lines:
        terminalreporter.section("ISO 20022 schemas: ours vs official")
        for line in lines:
            terminalreporter.write_line(line)
