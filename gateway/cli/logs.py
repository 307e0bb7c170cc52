"""The process's log: stdlib logging, in one of two formats ([log] format, or `gateway serve --log-format`).

  console   a line to read: time, level, logger, message, then the gateway's own records' fields as key=value
            (aiohttp's access log repeats its fields in its message)
  json      one JSON object a line, for a log collector: ts (UTC, ISO 8601), level, logger, message, the fields,
            and `traceback` when an error has one

A record's fields are what its caller passed in `extra` (gateway.http.messages logs each message handled with its
participant, BizMsgIdr, type, outcome, reason code, transfer ids and latency)."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

# The attributes every LogRecord has: anything else on a record came from `extra`.
_standard_attributes = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def fields_of(record: logging.LogRecord) -> dict[str, Any]:
    return {key: value for key, value in vars(record).items() if key not in _standard_attributes}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(fields_of(record))
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class ConsoleFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = fields_of(record) if record.name.startswith("gateway") else {}
        if not fields:
            return line
        head, newline, rest = line.partition("\n")  # a traceback stays below the fields
        listed = " ".join(f"{key}={_console_value(value)}" for key, value in fields.items())
        return f"{head} [{listed}]{newline}{rest}"


def _console_value(value: object) -> str:
    if isinstance(value, list | tuple):
        return ",".join(str(item) for item in value) or "-"
    return "-" if value is None else str(value)


def configure_logging(log_format: str, level: str) -> None:
    """Replace whatever handlers the root logger had with one on standard error in `log_format`."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else ConsoleFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # it narrates every migration context at INFO
