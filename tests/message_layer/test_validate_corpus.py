"""`gateway validate --profile iso` accepts every corpus sample the official XSDs find valid and refuses every one
they find invalid, for each file of a supported version in an envelope the gateway reads."""

from __future__ import annotations

import contextlib
import functools
import io
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree

from gateway.cli.main import main
from gateway.config import demo_config_path
from tests.message_layer.conftest import CorpusValidation
from tests.schemas.harness import (
    app_hdr_messages,
    document_messages,
    iso_namespace_prefix,
    official_schema,
    parse_file,
    require_corpus,
    standalone,
)

# The envelopes the gateway reads, written out here rather than imported from gateway.messages.envelope, so that
# an envelope the gateway stopped reading shows up as a disagreement instead of as a file quietly left out.
gateway_envelope = ("urn:cryptoruble:gateway:envelope:1", "Envelope")
saa_data_pdu = ("urn:swift:saa:xsd:saa.2.0", "DataPDU")
saa_body = ("urn:swift:saa:xsd:saa.2.0", "Body")
swift_envelope_names = frozenset({"Envelope", "BusMsg", "Message"})  # in any namespace but ours and ISO's

# Worked out by hand from the corpus's SOURCES.md ("Findings"): the only samples in scope that the official XSDs
# refuse. RjctgPtyRsn empty; CdtrAgt out of order; an empty BICFI.
documented_invalid = frozenset(
    {
        "fednow20022/tests/testdata/admi_002.xml",
        "iso20022-cbpr-ur/test_files/2025/cbprplus_pacs008_sample_xsd_issue.xml",
        "iso20022-cbpr-ur/test_files/2025/CBPR2025.PACS008-MinMax-0023_diff_wrapper_missing_bic_xsd_issue.xml",
    }
)

console_script_files_per_verdict = 2  # the subprocess run takes this many valid and this many invalid samples


@dataclass(frozen=True, slots=True)
class Sample:
    """A corpus file in scope: its envelope and its units (AppHdr when there is one, then Document), each as the
    root of a document of its own, with its message version."""

    path: Path
    envelope: str
    units: tuple[tuple[str, etree._Element], ...]

    @property
    def document_message(self) -> str:
        return self.units[-1][0]


@dataclass(frozen=True, slots=True)
class Skipped:
    path: Path
    by: str  # "envelope" or "version"
    reason: str  # worded so that files left out for the same reason share it


@dataclass(frozen=True, slots=True)
class Verdict:
    sample: Sample
    official_valid: bool
    official_errors: str
    reported_message: str  # the version the command named
    accepted: bool
    output: str  # the command's lines for this file


@dataclass(frozen=True, slots=True)
class Outcome:
    samples_root: Path
    verdicts: tuple[Verdict, ...]
    skipped: tuple[Skipped, ...]
    exit_status: int
    files: int


def _qualified(element: etree._Element) -> tuple[str, str]:
    name = etree.QName(element)
    return name.namespace or "", name.localname


def _shown(element: etree._Element) -> str:
    namespace, name = _qualified(element)
    return f"{name}[{namespace or 'no namespace'}]"


def _iso_message(element: etree._Element) -> str | None:
    namespace = _qualified(element)[0]
    return namespace[len(iso_namespace_prefix) :] if namespace.startswith(iso_namespace_prefix) else None


def classify(path: Path) -> Sample | Skipped:
    """Whether the file is in scope, judged from its structure alone: an envelope the gateway reads, holding an
    ISO 20022 AppHdr then Document (or a bare Document), of versions the gateway supports."""
    root = parse_file(path).getroot()
    namespace, name = _qualified(root)
    if _iso_message(root) is not None and name == "Document":
        envelope, units = "bare Document", [root]
    elif _iso_message(root) is not None and name == "AppHdr":
        return Skipped(path, "envelope", "a bare AppHdr: a header without a Document is not a message")
    else:
        if (namespace, name) == gateway_envelope:
            envelope, container = "gateway envelope", root
        elif (namespace, name) == saa_data_pdu:
            bodies = [child for child in root.iterchildren(etree.Element) if _qualified(child) == saa_body]
            if len(bodies) != 1:
                return Skipped(path, "envelope", f"{_shown(root)} without exactly one Body")
            envelope, container = "SAA DataPDU", bodies[0]
        elif name in swift_envelope_names and not (
            namespace == gateway_envelope[0] or namespace.startswith(iso_namespace_prefix)
        ):
            envelope, container = f"SWIFT {name}", root
        else:
            return Skipped(path, "envelope", f"root {_shown(root)} is not an envelope the gateway reads")
        units = list(container.iterchildren(etree.Element))
        if [(_iso_message(unit) is not None, _qualified(unit)[1]) for unit in units] != [
            (True, "AppHdr"),
            (True, "Document"),
        ]:
            return Skipped(path, "envelope", f"{_shown(root)} does not hold an ISO 20022 AppHdr then Document")
        texts = (container.text, *(unit.tail for unit in units))
        if any(text and text.strip(" \t\r\n") for text in texts):
            return Skipped(path, "envelope", f"{_shown(root)} has text beside AppHdr and Document")
    messages = [_iso_message(unit) or "" for unit in units]
    unsupported = [message for message in messages[:-1] if message not in app_hdr_messages]
    unsupported += [messages[-1]] if messages[-1] not in document_messages else []
    if unsupported:
        return Skipped(path, "version", " + ".join(unsupported))
    if len(units) == 2:
        header_namespace = iso_namespace_prefix + messages[0]
        definitions = list(units[0].iterchildren(f"{{{header_namespace}}}MsgDefIdr"))
        # The XSD cannot tie AppHdr/MsgDefIdr to the Document; the gateway's envelope does, so a mismatch is out of
        # scope here. A missing or repeated MsgDefIdr stays in: both the XSD and the gateway refuse it.
        if len(definitions) == 1 and definitions[0].text != messages[1]:
            return Skipped(path, "envelope", "AppHdr/MsgDefIdr names another message than the Document's")
    return Sample(path, envelope, tuple((message, standalone(unit)) for message, unit in zip(messages, units)))


def run_validate(paths: list[Path]) -> tuple[int, str]:
    """The real command line, in-process: `gateway --config <demo> validate --profile iso FILE...`."""
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        status = main(["--config", str(demo_config_path), "validate", "--profile", "iso", *map(str, paths)])
    return status, captured.getvalue()


def per_file(output: str, paths: list[Path]) -> list[tuple[str, bool, str]]:
    """(version named, valid, that file's lines) for each path, from the command's output: one line per file, in
    the order given, then one indented line per rejection."""
    blocks: list[list[str]] = []
    for line in output.splitlines():
        if line.startswith("  "):
            assert blocks, f"a rejection line before any file line: {line!r}"
            blocks[-1].append(line)
        else:
            blocks.append([line])
    assert len(blocks) == len(paths), f"{len(paths)} files given, {len(blocks)} reported"
    found = []
    for path, block in zip(paths, blocks, strict=True):
        head = block[0]
        assert head.startswith(f"{path}: "), (path, head)
        message, _, verdict = head[len(f"{path}: ") :].rpartition(": ")
        if verdict == "valid":
            assert len(block) == 1, block
            found.append((message, True, head))
        else:
            count = int(verdict.split()[0])
            assert verdict in (f"{count} rejection", f"{count} rejections"), head
            assert len(block) == 1 + count and count > 0, block
            found.append((message, False, "\n".join(block)))
    return found


def official_verdict(sample: Sample) -> tuple[bool, str]:
    errors = []
    for message, unit in sample.units:
        schema = official_schema(message)
        if not schema.validate(unit):
            error = schema.error_log.last_error
            errors.append(f"{message}: line {error.line}: {error.message}")
    return not errors, "; ".join(errors)


@functools.cache
def outcome_at(samples_root: Path) -> Outcome:
    paths = sorted(path for path in samples_root.rglob("*") if path.is_file())
    classified = [classify(path) for path in paths]
    samples = [item for item in classified if isinstance(item, Sample)]
    skipped = tuple(item for item in classified if isinstance(item, Skipped))
    status, output = run_validate([sample.path for sample in samples])
    reported = per_file(output, [sample.path for sample in samples])
    verdicts = []
    for sample, (message, accepted, lines) in zip(samples, reported, strict=True):
        valid, errors = official_verdict(sample)
        verdicts.append(Verdict(sample, valid, errors, message, accepted, lines))
    return Outcome(samples_root, tuple(verdicts), skipped, status, len(paths))


@pytest.fixture(scope="module")
def outcome(corpus_validation: CorpusValidation) -> Outcome:
    found = outcome_at(require_corpus() / "samples")
    report = corpus_validation
    report.location, report.files = str(found.samples_root), found.files
    report.checked = Counter(verdict.sample.envelope for verdict in found.verdicts)
    report.valid_agreed = sum(1 for v in found.verdicts if v.official_valid and v.accepted)
    report.invalid_agreed = sum(1 for v in found.verdicts if not v.official_valid and not v.accepted)
    report.disagreements = [_disagreement(found, v) for v in found.verdicts if v.official_valid != v.accepted]
    report.skipped_by_envelope = Counter(s.reason for s in found.skipped if s.by == "envelope")
    report.skipped_by_version = Counter(s.reason for s in found.skipped if s.by == "version")
    return found


def _relative(found: Outcome, path: Path) -> str:
    return path.relative_to(found.samples_root).as_posix()


def _disagreement(found: Outcome, verdict: Verdict) -> str:
    official = "valid" if verdict.official_valid else f"invalid ({verdict.official_errors})"
    return f"{_relative(found, verdict.sample.path)}: official XSD {official}; gateway said: {verdict.output}"


def test_iso_profile_agrees_with_the_official_xsd_on_every_sample_in_scope(outcome: Outcome) -> None:
    disagreements = [_disagreement(outcome, v) for v in outcome.verdicts if v.official_valid != v.accepted]
    assert not disagreements, "\n".join(disagreements)
    # Both verdicts occur, or agreeing would prove nothing.
    assert any(v.official_valid for v in outcome.verdicts)
    assert any(not v.official_valid for v in outcome.verdicts)
    misnamed = [
        f"{_relative(outcome, v.sample.path)}: {v.reported_message}"
        for v in outcome.verdicts
        if v.reported_message != v.sample.document_message
    ]
    assert not misnamed, misnamed
    assert outcome.exit_status == (0 if all(v.accepted for v in outcome.verdicts) else 1)


def test_the_refused_samples_are_the_ones_the_corpus_documents_as_invalid(outcome: Outcome) -> None:
    refused = {_relative(outcome, v.sample.path) for v in outcome.verdicts if not v.accepted}
    assert refused == documented_invalid


def test_every_envelope_the_corpus_uses_and_the_gateway_reads_is_checked(outcome: Outcome) -> None:
    checked = Counter(verdict.sample.envelope for verdict in outcome.verdicts)
    # From the corpus's SOURCES.md ("Envelope styles seen"): bare Documents (Fedwire, FedNow fixtures), CBPR+
    # <Envelope> with no namespace or urn:swift:xsd:envelope, and one SWIFTNet <Message>. It has no gateway envelope
    # and its one DataPDU is SAA's older urn:swift:xsd:saa.mxs.01, which the gateway does not read.
    assert set(checked) == {"bare Document", "SWIFT Envelope", "SWIFT Message"}, checked
    reasons = {skipped.reason for skipped in outcome.skipped}
    assert "root DataPDU[urn:swift:xsd:saa.mxs.01] is not an envelope the gateway reads" in reasons
    assert "Message[urn:tch] does not hold an ISO 20022 AppHdr then Document" in reasons  # TCH renames both
    assert "Message[urn:tkeysettlement] does not hold an ISO 20022 AppHdr then Document" in reasons  # TKEY7 too
    assert len(outcome.verdicts) + len(outcome.skipped) == outcome.files


@pytest.mark.slow
def test_the_installed_console_script_gives_the_same_verdicts(
    outcome: Outcome, corpus_validation: CorpusValidation
) -> None:
    script = Path(sys.executable).with_name("gateway")
    command = str(script) if script.is_file() else shutil.which("gateway")
    assert command is not None, "the `gateway` console script is not installed beside this Python or on PATH"
    valid = [v for v in outcome.verdicts if v.accepted][:console_script_files_per_verdict]
    invalid = [v for v in outcome.verdicts if not v.accepted][:console_script_files_per_verdict]
    chosen = valid + invalid
    paths = [str(v.sample.path) for v in chosen]
    done = subprocess.run(
        [command, "--config", str(demo_config_path), "validate", "--profile", "iso", *paths],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr  # some of the files are invalid
    assert done.stdout.splitlines() == "\n".join(v.output for v in chosen).splitlines()
    corpus_validation.console_script = f"{command}: the same verdicts on {len(valid)} valid and {len(invalid)} invalid"
