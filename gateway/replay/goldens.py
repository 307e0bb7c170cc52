"""Golden files: what the gateway answered to each message file and what it put in mailboxes because of it, in
canonical form (canonical.py), one file per message file, and the comparison of a run with them.

    <Golden file="pacs.008-single.xml" sentAs="SABRRUMMXXX">
      <Answer httpStatus="200" outcome="accepted"> the answer's envelope </Answer>
      <Mailbox bank="SABRRUMMXXX" messageType="pacs.002.001.10" sameAsAnswer="true"/>
      <Mailbox bank="VTBRRUMMXXX" messageType="pacs.008.001.08"> the message </Mailbox>
    </Golden>

Mailbox messages are listed bank by bank (BICs in order), each bank's in mailbox order. A mailbox message that is
byte for byte the HTTP answer is written `sameAsAnswer="true"` instead of twice. An answer that is not XML is kept
as text (`<Text>`); an empty one as nothing.

A golden folder is written whole or not at all: into a temporary folder beside it, renamed into place at the end.
"""

from __future__ import annotations

import difflib
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from gateway import bounds
from gateway.messages.rejections import Rejection
from gateway.messages.safe_xml import parse_bounded
from gateway.replay.canonical import Canonicaliser
from gateway.replay.client import Answer, MailboxMessage
from gateway.replay.plan import golden_suffix

unattributed_name = f"_unattributed{golden_suffix}"  # mailbox messages no file of the run relates to
_header_comment = (
    " gateway replay golden file: the answer to one message file and the mailbox messages it caused, canonicalised"
    " (README.md, 'Replaying message files', says how to record them again) "
)


class GoldenError(Exception):
    """A golden folder that cannot be read or written: the text names the file."""


@dataclass(frozen=True, slots=True)
class Difference:
    section: str  # "answer", or "mailbox 2 (VTBRRUMMXXX pacs.008.001.08)"
    path: str  # the element (or attribute) path within the section
    expected: str
    got: str


def golden_tree(
    canonical: Canonicaliser, relative: str, sender: str | None, answer: Answer | None,
    mailbox: Iterable[MailboxMessage],
) -> etree._Element:
    """The golden of one file. `answer` is None for the messages no file relates to (`relative` names them)."""
    root = etree.Element("Golden", file=relative)
    if sender is not None:
        root.set("sentAs", sender)
    if answer is not None:
        element = etree.SubElement(root, "Answer", httpStatus=str(answer.status))
        if answer.outcome is not None:
            element.set("outcome", answer.outcome)
        _body(canonical, element, answer.body)
    for message in sorted(mailbox, key=lambda m: (m.bank, m.seq)):
        element = etree.SubElement(root, "Mailbox", bank=message.bank, messageType=message.message_type or "")
        if answer is not None and message.payload == answer.body:
            element.set("sameAsAnswer", "true")
        else:
            _body(canonical, element, message.payload)
    return root


def serialise(tree: etree._Element) -> bytes:
    tree = etree.fromstring(etree.tostring(tree))  # a copy: indenting changes the tree
    etree.indent(tree, space="  ")
    comment = etree.tostring(etree.Comment(_header_comment), encoding="unicode")
    body = etree.tostring(tree, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{comment}\n{body}\n'.encode()


def read_golden(path: Path, relative: str) -> etree._Element:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise GoldenError(f"{path}: no golden for {relative} ({error.strerror}): record it with --record") from None
    root = parse_bounded(data)
    if isinstance(root, Rejection):
        raise GoldenError(f"{path}: not a golden file: {root.text}")
    if root.tag != "Golden" or root.get("file") != relative:
        raise GoldenError(f"{path}: not the golden file of {relative} (its root is <{root.tag} file="
                          f"{root.get('file')!r}>)")
    return root


def reread(tree: etree._Element) -> etree._Element:
    """The tree as it reads back from its golden file: compared so, a fresh run and a recorded one meet on equal
    terms."""
    root = parse_bounded(serialise(tree))
    assert not isinstance(root, Rejection), root
    return root


def golden_files(folder: Path) -> set[str]:
    """Every golden file under `folder`, by path relative to it ('/' between folders)."""
    return {path.relative_to(folder).as_posix() for path in folder.rglob(f"*{golden_suffix}") if path.is_file()}


def write_goldens(target: Path, files: dict[str, bytes]) -> None:
    """Write the golden folder `target` whole: a folder of golden files already there is replaced, anything else is
    left alone and refused."""
    if target.exists():
        if not target.is_dir():
            raise GoldenError(f"{target}: not a folder; refusing to replace it with goldens")
        others = [p.relative_to(target).as_posix() for p in target.rglob("*")
                  if p.is_file() and not p.name.endswith(golden_suffix)]
        if others:
            raise GoldenError(f"{target} holds files that are not goldens ({', '.join(sorted(others)[:3])}); "
                              "refusing to replace it")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.recording-{os.getpid()}"
    retired = target.parent / f".{target.name}.replaced-{os.getpid()}"
    try:
        shutil.rmtree(staging, ignore_errors=True)
        for name, data in files.items():
            path = staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        if target.exists():
            target.rename(retired)
        staging.rename(target)
    except OSError as error:
        shutil.rmtree(staging, ignore_errors=True)
        if retired.exists() and not target.exists():
            retired.rename(target)
        raise GoldenError(f"cannot write the goldens to {target}: {error.strerror or error}") from None
    shutil.rmtree(retired, ignore_errors=True)


def compare(expected: etree._Element, got: etree._Element) -> list[Difference]:
    """Every difference between two goldens of one file, section (answer, mailbox message) by section."""
    differences: list[Difference] = []
    _compare_attributes("file", "", expected, got, differences)
    expected_sections, got_sections = list(expected), list(got)
    matcher = difflib.SequenceMatcher(
        a=[_section_key(s) for s in expected_sections], b=[_section_key(s) for s in got_sections], autojunk=False
    )
    for _, a1, a2, b1, b2 in matcher.get_opcodes():
        pairs = list(zip(range(a1, a2), range(b1, b2), strict=False))
        for a, b in pairs:
            _compare(_section_name(expected_sections, a), "", expected_sections[a], got_sections[b], differences)
        for a in range(a1 + len(pairs), a2):
            differences.append(Difference(_section_name(expected_sections, a), "", "this message", "(none)"))
        for b in range(b1 + len(pairs), b2):
            differences.append(Difference(_section_name(got_sections, b), "", "(none)", "this message"))
    return differences


def _compare(section: str, path: str, expected: etree._Element, got: etree._Element, out: list[Difference]) -> None:
    _compare_attributes(section, path, expected, got, out)
    if _text(expected) != _text(got):
        out.append(Difference(section, path or "text", _shown(_text(expected)), _shown(_text(got))))
    _compare_children(section, path, list(expected), list(got), out)


def _compare_attributes(
    section: str, path: str, expected: etree._Element, got: etree._Element, out: list[Difference]
) -> None:
    for name in sorted(set(expected.attrib) | set(got.attrib)):
        if expected.get(name) != got.get(name):
            out.append(Difference(section, f"{path}/@{name}", _shown(expected.get(name)), _shown(got.get(name))))


def _compare_children(
    section: str, path: str, expected: list[etree._Element], got: list[etree._Element], out: list[Difference]
) -> None:
    """Children aligned by name (an element missing or added shows as one difference, not as a shift of all that
    follow it), then compared pair by pair."""
    matcher = difflib.SequenceMatcher(a=[c.tag for c in expected], b=[c.tag for c in got], autojunk=False)
    for _, a1, a2, b1, b2 in matcher.get_opcodes():
        pairs = list(zip(range(a1, a2), range(b1, b2), strict=False))
        for a, b in pairs:
            _compare(section, _step(path, expected, a), expected[a], got[b], out)
        for a in range(a1 + len(pairs), a2):
            out.append(Difference(section, _step(path, expected, a), _shown_element(expected[a]), "(none)"))
        for b in range(b1 + len(pairs), b2):
            out.append(Difference(section, _step(path, got, b), "(none)", _shown_element(got[b])))


def _text(element: etree._Element) -> str | None:
    """An element's own text; None for none or whitespace alone (indentation, which canonical trees drop)."""
    text = element.text
    return text if text is not None and text.strip(" \t\r\n") else None


def _step(path: str, siblings: list[etree._Element], index: int) -> str:
    element = siblings[index]
    local = etree.QName(element).localname
    same = [s for s in siblings if s.tag == element.tag]
    position = "" if len(same) == 1 else f"[{same.index(element) + 1}]"
    return f"{path}/{local}{position}"


def _section_key(section: etree._Element) -> tuple[str, str, str]:
    return (section.tag, section.get("bank") or "", section.get("messageType") or "")


def _section_name(sections: list[etree._Element], index: int) -> str:
    section = sections[index]
    if section.tag == "Answer":
        return "answer"
    number = sum(1 for s in sections[: index + 1] if s.tag == "Mailbox")
    return f"mailbox {number} ({section.get('bank')} {section.get('messageType')})"


def _body(canonical: Canonicaliser, parent: etree._Element, payload: bytes) -> None:
    if not payload:
        return
    tree = canonical.element(payload)
    if tree is not None:
        parent.append(tree)
        return
    text = etree.SubElement(parent, "Text")
    text.text = canonical.text(payload.decode("utf-8", errors="replace"))


def _shown(text: str | None) -> str:
    if text is None:
        return "(none)"
    longest = bounds.replay_quoted_chars_max
    return repr(text) if len(text) <= longest else repr(text[:longest]) + "..."


def _shown_element(element: etree._Element) -> str:
    text = etree.tostring(element, encoding="unicode", with_tail=False)
    longest = bounds.replay_quoted_chars_max
    return text if len(text) <= longest else text[:longest] + "..."
