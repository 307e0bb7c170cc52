"""Hostile bytes in, a bounded lxml tree out, or an FF01 rejection. Nothing here trusts the sender.

Refused before libxml2 sees a byte: more than message_bytes_max, invalid UTF-8, an XML declaration naming another
encoding or version, and any DOCTYPE (every entity attack, XXE and billion laughs alike, needs one). The rest is
parsed in chunks by a pull parser, and depth, element count, names, attributes, text and comments are checked
between chunks, so a hostile tree is abandoned while it is being built rather than after.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, TypeAlias

from lxml import etree

from gateway import bounds
from gateway.messages.rejections import Layer, Rejection, excerpt, invalid_file_format

# The root element of a message that passed every bound, with comments and processing instructions removed.
ParsedXml: TypeAlias = etree._Element

_utf8_bom = b"\xef\xbb\xbf"

# XMLDecl from XML 1.0 section 2.8, matched on bytes: the declaration is ASCII in every encoding we accept.
_xml_declaration = re.compile(
    rb"<\?xml[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*(['\"])(?P<version>[^'\"]*)\1"
    rb"(?:[ \t\r\n]+encoding[ \t\r\n]*=[ \t\r\n]*(['\"])(?P<encoding>[^'\"]*)\3)?"
    rb"(?:[ \t\r\n]+standalone[ \t\r\n]*=[ \t\r\n]*(['\"])(?:yes|no)\5)?"
    rb"[ \t\r\n]*\?>"
)
_xml_declaration_start = re.compile(rb"<\?xml[ \t\r\n]")


def parse_bounded(data: bytes) -> ParsedXml | Rejection:
    """Parse one message. Any failure, hostile or merely broken, is an FF01 rejection at the well-formedness layer."""
    assert isinstance(data, bytes), type(data)
    refused = _refuse_before_parsing(data)
    if refused is not None:
        return refused
    etree.clear_error_log()  # so that a syntax error's log holds this parse's errors only (see _not_well_formed)
    parser = _new_parser()
    walk = _Walk()
    for offset in range(0, len(data), bounds.parse_chunk_bytes):
        try:
            parser.feed(data[offset : offset + bounds.parse_chunk_bytes])
        except etree.XMLSyntaxError as error:
            # The events parsed before the error are still queued; a bound they crossed is the better answer.
            return walk.check(parser.read_events()) or _not_well_formed(error, walk.path())
        exceeded = walk.check(parser.read_events())
        if exceeded is not None:
            return exceeded
    try:
        root = parser.close()
    except etree.XMLSyntaxError as error:
        return walk.check(parser.read_events()) or _not_well_formed(error, walk.path())
    exceeded = walk.check(parser.read_events())
    if exceeded is not None:
        return exceeded
    assert root is not None
    assert root.getroottree().docinfo.internalDTD is None, "a DOCTYPE passed the byte scan"
    # Comments and PIs were kept only so that they could be counted; readers of the root never meet them.
    etree.strip_elements(root, etree.Comment, etree.ProcessingInstruction, with_tail=False)
    return root


def element_path(element: etree._Element) -> str:
    """The path of an element: local names from the root, `[n]` on the n-th same-named sibling for n > 1."""
    steps = []
    for node in (element, *element.iterancestors()):
        name = _local_name(node.tag)
        siblings = node.itersiblings(etree.Element, preceding=True)
        earlier = sum(1 for sibling in siblings if _local_name(sibling.tag) == name)
        steps.append(_step(name, 1 + earlier))
    return "/" + "/".join(reversed(steps))


def _new_parser() -> etree.XMLPullParser:
    """The only XML parser the intake uses. Every option that bears on safety is spelled out."""
    return etree.XMLPullParser(
        events=("start", "end", "start-ns", "comment", "pi"),
        encoding="UTF-8",  # ISO 20022 is UTF-8; never let a declaration or a byte pattern switch the decoder
        recover=False,  # broken XML is rejected, never repaired into something the sender did not send
        resolve_entities=False,  # no entity is ever expanded (the DOCTYPE refusal means none can be declared)
        load_dtd=False,  # never read an external DTD
        dtd_validation=False,
        attribute_defaults=False,  # no attribute values the sender did not write
        no_network=True,  # nothing is fetched, whatever the document names
        decompress=False,  # a gzip body is not XML; decompressing would bypass message_bytes_max
        huge_tree=False,  # keep libxml2's own limits (depth 256, 10 MB text) as a backstop behind ours
        collect_ids=False,  # no xml:id hash table for an attacker to fill
        # Kept while parsing so that the events can count them against xml_comments_and_pis_max (remove_*=True
        # would hide them from the count); parse_bounded strips them from the finished tree.
        remove_comments=False,
        remove_pis=False,
        remove_blank_text=False,  # whitespace is data: XMLDSig digests over the AppHdr depend on it
        strip_cdata=True,  # CDATA becomes ordinary text; readers see one kind of text
        ns_clean=False,  # leave namespace declarations as sent
        compact=True,
    )


def _refuse_before_parsing(data: bytes) -> Rejection | None:
    if len(data) > bounds.message_bytes_max:
        return _reject(f"message is {len(data)} bytes; at most {bounds.message_bytes_max} are accepted")
    try:
        data.decode("utf-8", errors="strict")
    except UnicodeDecodeError as error:
        return _reject(f"not valid UTF-8 at byte {error.start}: ISO 20022 messages are UTF-8")
    body = data.removeprefix(_utf8_bom)
    if _xml_declaration_start.match(body):
        declaration = _xml_declaration.match(body)
        if declaration is None:
            return _reject("malformed XML declaration")
        if declaration["version"] != b"1.0":
            return _reject(f"XML version {excerpt(declaration['version'].decode())} is refused; only 1.0 is accepted")
        encoding = declaration["encoding"]
        if encoding is not None and encoding.lower() != b"utf-8":
            return _reject(f"declared encoding {excerpt(encoding.decode())} is refused; only UTF-8 is accepted")
    # A DOCTYPE is legal only in the prolog, but looking everywhere costs the same and needs no prolog parser.
    if b"<!DOCTYPE" in data:
        return _reject("DOCTYPE is refused: no DTD, entity declaration or external reference is accepted")
    return None


class _Walk:
    """Follows the parse events, keeps the open-element path, and checks every bound as the tree grows."""

    __slots__ = ("steps", "sibling_counts", "elements", "comments_and_pis", "namespace_declarations")

    def __init__(self) -> None:
        self.steps: list[str] = []
        self.sibling_counts: list[dict[str, int]] = [{}]  # per open level: local name -> children seen so far
        self.elements = 0
        self.comments_and_pis = 0
        self.namespace_declarations = 0  # declared since the last start tag, i.e. on the element being opened

    def path(self) -> str:
        return "/" + "/".join(self.steps) if self.steps else ""

    def check(self, events: Iterable[tuple[str, Any]]) -> Rejection | None:
        for event, item in events:
            if event == "start":
                rejection = self._start(item)
            elif event == "end":
                rejection = self._end(item)
            elif event == "start-ns":
                self.namespace_declarations += 1
                rejection = None
            else:  # "comment" or "pi"
                self.comments_and_pis += 1
                rejection = None
                if self.comments_and_pis > bounds.xml_comments_and_pis_max:
                    bound = bounds.xml_comments_and_pis_max
                    rejection = _reject(f"more than {bound} comments and processing instructions", self.path())
            if rejection is not None:
                return rejection
        return None

    def _start(self, element: etree._Element) -> Rejection | None:
        name = _local_name(element.tag)
        counts = self.sibling_counts[-1]
        counts[name] = counts.get(name, 0) + 1
        self.steps.append(_step(name[: bounds.xml_name_chars_max], counts[name]))
        self.sibling_counts.append({})
        self.elements += 1
        declarations, self.namespace_declarations = self.namespace_declarations, 0
        if self.elements > bounds.xml_elements_max:
            return _reject(f"more than {bounds.xml_elements_max} elements", self.path())
        if len(self.steps) > bounds.xml_depth_max:
            return _reject(f"elements nested deeper than {bounds.xml_depth_max} levels", self.path())
        if len(name) > bounds.xml_name_chars_max:
            return _reject(f"element name longer than {bounds.xml_name_chars_max} characters", self.path())
        if declarations > bounds.namespace_declarations_per_element_max:
            bound = bounds.namespace_declarations_per_element_max
            return _reject(f"{declarations} namespace declarations on one element; at most {bound}", self.path())
        attributes = element.attrib
        if not attributes:
            return None
        if len(attributes) > bounds.attributes_per_element_max:
            bound = bounds.attributes_per_element_max
            return _reject(f"{len(attributes)} attributes on one element; at most {bound}", self.path())
        for key, value in attributes.items():
            if len(_local_name(key)) > bounds.xml_name_chars_max:
                return _reject(f"attribute name longer than {bounds.xml_name_chars_max} characters", self.path())
            if len(value) > bounds.text_chars_max:
                return _reject(f"attribute value longer than {bounds.text_chars_max} characters", self.path())
        return None

    def _end(self, element: etree._Element) -> Rejection | None:
        # Each node's tail is complete once its parent ends, so every text is checked exactly once.
        texts = [element.text, *(child.tail for child in element)]
        if any(text is not None and len(text) > bounds.text_chars_max for text in texts):
            return _reject(f"text longer than {bounds.text_chars_max} characters", self.path())
        self.steps.pop()
        self.sibling_counts.pop()
        return None


def _local_name(tag: str) -> str:
    return tag.rpartition("}")[2]


def _step(name: str, position: int) -> str:
    return name if position == 1 else f"{name}[{position}]"


def _not_well_formed(error: etree.XMLSyntaxError, path: str) -> Rejection:
    # lxml's own message is sometimes a generic fallback ("no element found"); libxml2's last error says what broke.
    # The log is the thread's, cleared when this parse began, so its last error is this message's.
    last = error.error_log.filter_from_errors().last_error
    detail = error.msg if last is None else f"{last.message}, line {last.line}, column {last.column}"
    return _reject(f"not well-formed XML: {excerpt(detail or 'unknown parser error')}", path)


def _reject(text: str, path: str = "") -> Rejection:
    return Rejection(invalid_file_format, path, text, Layer.WELL_FORMEDNESS)
