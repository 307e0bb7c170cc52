"""Which files a replay sends, in which order, as whom: a folder's manifest (replay.toml) when it has one, else every
XML file under it in sorted order.

The manifest, a TOML file at the top of the folder:

    title = "one business day"                # optional

    [[step]]                                  # steps are sent in order, one after the other
    title = "payments"                        # optional
    [[step.file]]                             # the files of one step may be sent at once (--concurrency)
    path = "pacs.008-single.xml"              # relative to the folder
    as = "SABRRUMMXXX"                        # optional: the bank whose certificate sends it (default: AppHdr/Fr)
    envelope = "saa"                          # optional: send it in this envelope (gateway, swift, busmsg, saa)
    raw = true                                # optional: send it without reading it as a message (no envelope or
                                              # AppHdr needed, so `as` is), placeholders filled if it is UTF-8 text
    note = "why this file is here"            # optional
    expect = { http = 200, answer = "pacs.002.001.10", status = "ACSC", reasons = [] }   # optional, each key too

`expect` is checked on every run, with or without goldens: `http` the HTTP status, `answer` the answer's message
(AppHdr/MsgDefIdr), `status` its status (pacs.002: GrpSts, else every TxSts when they agree; camt.029: Sts/Conf;
camt.025: the first StsCd; admi.002: RJCT), `reasons` the reason codes it holds, in order, each once.

Without a manifest every file named *.xml under the folder, in nested folders too, is sent, one step each, in the
order of their paths (compared as text, '/' between folders); golden files (*.golden.xml) are never sent.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from gateway import bounds
from gateway.config import canonical_bic, is_bic
from gateway.replay.envelopes import EnvelopeKind, envelope_kinds

manifest_name = "replay.toml"
golden_suffix = ".golden.xml"


class PlanError(Exception):
    """The folder or its manifest cannot be replayed: the text names the file and what is wrong."""


@dataclass(frozen=True, slots=True)
class Expectation:
    http_status: int | None = None
    answer: str | None = None
    status: str | None = None
    reasons: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Entry:
    """One file to send."""

    relative: str  # its path under the folder, '/' between folders: the name it goes by everywhere
    path: Path
    sent_as: str | None  # a BIC, or None: the bank its AppHdr/Fr names
    envelope: EnvelopeKind | None  # None: as written
    raw: bool
    expect: Expectation | None
    note: str | None


@dataclass(frozen=True, slots=True)
class Plan:
    folder: Path
    title: str | None
    steps: tuple[tuple[Entry, ...], ...]  # each step's files; steps in order
    from_manifest: bool

    @property
    def entries(self) -> list[Entry]:
        return [entry for step in self.steps for entry in step]


def make_plan(folder: Path) -> Plan:
    if not folder.is_dir():
        raise PlanError(f"{folder}: not a folder of message files")
    manifest = folder / manifest_name
    plan = _from_manifest(folder, manifest) if manifest.is_file() else _from_folder(folder)
    entries = plan.entries
    if not entries:
        raise PlanError(f"{folder}: no message files (*.xml) to send")
    if len(entries) > bounds.replay_files_max:
        raise PlanError(f"{folder}: {len(entries)} files, more than the {bounds.replay_files_max} one replay sends")
    seen: dict[str, str] = {}
    for entry in entries:
        stem = golden_name(entry.relative)
        if stem in seen:
            raise PlanError(f"{folder}: {seen[stem]} and {entry.relative} would share one golden file")
        seen[stem] = entry.relative
    return plan


def golden_name(relative: str) -> str:
    """The golden file of a message file: `invalid/missing-uetr.xml` -> `invalid/missing-uetr.golden.xml`."""
    path = PurePosixPath(relative)
    stem = path.with_suffix("") if path.suffix == ".xml" else path
    return f"{stem}{golden_suffix}"


def _from_folder(folder: Path) -> Plan:
    files = []
    for path in folder.rglob("*.xml"):
        relative = path.relative_to(folder).as_posix()
        if path.name.endswith(golden_suffix) or not path.is_file():
            continue
        files.append(relative)
    steps = tuple((Entry(relative, folder / relative, None, None, False, None, None),) for relative in sorted(files))
    return Plan(folder, None, steps, from_manifest=False)


def _from_manifest(folder: Path, manifest: Path) -> Plan:
    where = str(manifest)
    try:
        document = tomllib.loads(manifest.read_text(encoding="utf-8"))
    except OSError as error:
        raise PlanError(f"{where}: unreadable: {error.strerror}") from None
    except UnicodeDecodeError:
        raise PlanError(f"{where}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as error:
        raise PlanError(f"{where}: not valid TOML: {error}") from None
    _only(document, {"title", "step"}, where)
    title = _optional(document, "title", str, where)
    steps_value = document.get("step")
    if not isinstance(steps_value, list) or not steps_value:
        raise PlanError(f"{where}: no [[step]]: a manifest lists its files in steps")
    steps = []
    listed: set[str] = set()
    for number, step in enumerate(steps_value, start=1):
        step_where = f"{where}, step {number}"
        if not isinstance(step, dict):
            raise PlanError(f"{step_where}: a step is a table ([[step]])")
        _only(step, {"title", "file"}, step_where)
        _optional(step, "title", str, step_where)
        files = step.get("file")
        if not isinstance(files, list) or not files:
            raise PlanError(f"{step_where}: no [[step.file]]")
        entries = []
        for position, item in enumerate(files, start=1):
            entry = _entry(folder, item, f"{step_where}, file {position}")
            if entry.relative in listed:
                raise PlanError(f"{step_where}: {entry.relative} is listed twice")
            listed.add(entry.relative)
            entries.append(entry)
        steps.append(tuple(entries))
    return Plan(folder, title, tuple(steps), from_manifest=True)


def _entry(folder: Path, item: Any, where: str) -> Entry:
    if not isinstance(item, dict):
        raise PlanError(f"{where}: a file is a table ([[step.file]]) with a path")
    _only(item, {"path", "as", "envelope", "raw", "note", "expect"}, where)
    relative = _optional(item, "path", str, where)
    if relative is None:
        raise PlanError(f"{where}: no path")
    posix = PurePosixPath(relative)
    if posix.is_absolute() or ".." in posix.parts or "\\" in relative:
        raise PlanError(f"{where}: path {relative!r} must stay inside {folder} ('/' between folders, no '..')")
    path = folder / posix
    if not path.is_file():
        raise PlanError(f"{where}: {relative}: no such file in {folder}")
    sent_as = _optional(item, "as", str, where)
    if sent_as is not None:
        if not is_bic(sent_as):
            raise PlanError(f"{where}: as = {sent_as!r} is not a BIC")
        sent_as = canonical_bic(sent_as)
    envelope_text = _optional(item, "envelope", str, where)
    if envelope_text is not None and envelope_text not in envelope_kinds:
        raise PlanError(f"{where}: envelope = {envelope_text!r}: one of {', '.join(envelope_kinds)}")
    raw = _optional(item, "raw", bool, where) or False
    if raw and sent_as is None:
        raise PlanError(f"{where}: a raw file is not read, so it needs `as`: the bank that sends it")
    if raw and envelope_text is not None:
        raise PlanError(f"{where}: a raw file is sent as it is, in no other envelope")
    return Entry(
        relative=posix.as_posix(),
        path=path,
        sent_as=sent_as,
        envelope=None if envelope_text is None else EnvelopeKind(envelope_text),
        raw=raw,
        expect=_expectation(item.get("expect"), f"{where}, expect"),
        note=_optional(item, "note", str, where),
    )


def _expectation(value: Any, where: str) -> Expectation | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise PlanError(f"{where}: a table, e.g. {{ http = 200, status = \"ACSC\" }}")
    _only(value, {"http", "answer", "status", "reasons"}, where)
    reasons = value.get("reasons")
    if reasons is not None and not (isinstance(reasons, list) and all(isinstance(r, str) for r in reasons)):
        raise PlanError(f"{where}: reasons is a list of reason codes, e.g. [\"AM04\"]")
    return Expectation(
        http_status=_optional(value, "http", int, where),
        answer=_optional(value, "answer", str, where),
        status=_optional(value, "status", str, where),
        reasons=None if reasons is None else tuple(reasons),
    )


def _only(table: dict[str, Any], keys: set[str], where: str) -> None:
    unknown = sorted(set(table) - keys)
    if unknown:
        raise PlanError(f"{where}: unknown key {', '.join(unknown)} (known: {', '.join(sorted(keys))})")


def _optional(table: dict[str, Any], key: str, kind: type, where: str) -> Any:
    value = table.get(key)
    # bool is an int in Python: `http = true` must not pass as a status code.
    if value is not None and (not isinstance(value, kind) or (kind is int and isinstance(value, bool))):
        raise PlanError(f"{where}: {key} must be a {kind.__name__}, not {value!r}")
    return value
