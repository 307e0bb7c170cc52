"""`gateway serve`'s worker count: one per CPU core by default on PostgreSQL, one on SQLite, and the extra workers
it starts never start workers of their own."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.cli import serve
from gateway.config import Config, load_config
from tests.conftest import write_config


def config_on(tmp_path: Path, database_url: str) -> Config:
    return load_config(write_config(tmp_path, database_url), environ={})


def test_the_default_is_one_worker_per_core_on_postgresql(tmp_path: Path) -> None:
    config = config_on(tmp_path, "postgresql+asyncpg://gateway@db.example:5432/gateway")
    assert serve.default_workers(config) == len(os.sched_getaffinity(0))


def test_the_default_is_one_worker_on_sqlite(tmp_path: Path) -> None:
    config = config_on(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'ledger.sqlite3'}")
    assert serve.default_workers(config) == 1


def test_extra_workers_are_told_to_be_one_worker_each(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[list[str]] = []
    monkeypatch.setattr(sys, "argv", ["gateway", "--config", "g.toml", "serve", "--workers", "3", "--port", "8443"])
    monkeypatch.setattr(subprocess, "Popen", lambda command: started.append(command))

    serve._start_extra_workers(argparse.Namespace(workers=3))

    assert len(started) == 2
    for command in started:
        arguments = command[command.index("gateway.cli.main") + 1 :]
        assert arguments == ["--config", "g.toml", "serve", "--port", "8443", "--workers", "1", "--reuse-port"]
