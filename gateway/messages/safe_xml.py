"""Hostile bytes in, a bounded lxml tree out, or an FF01 rejection. Nothing here trusts the sender.

Refused before libxml2 sees a byte: more than message_bytes_max, an XML declaration naming another encoding or
version, and any DOCTYPE (every entity attack, XXE and billion laughs alike, needs one). Invalid UTF-8 is refused
by libxml2 on the proven path below (tests/messages hold the sequences it is proven on), and then named, with the
offset of its first bad byte, before the watched path runs: checking every message up front cost a tenth of
parsing it.

Then one of two paths, which give the same answer for every input:
- Proven: when cheap scans of the bytes prove the bounds on element count, comments and processing instructions,
  namespace declarations, names and text lengths (each scan is an upper bound: see _proven_by_bytes), the message
  is parsed at once without events, and the finished tree is checked for what the bytes cannot show (depth,
  attributes per element, and merged text when comments or CDATA split it). Any doubt, and any parse error, hands
  the message to the watched path, so that every rejection is worded by one path only.
- Watched: parsed in chunks by a pull parser, and depth, element count, names, attributes, text and comments are
  checked between chunks, so a hostile tree is abandoned while it is being built rather than after.
The proven path parses only what the bytes already bound: at most xml_elements_max elements in message_bytes_max
bytes, and libxml2's own limits (depth 256, names of 50,000 characters) stay in force as they do for the watched one.
"""

from __future__ import annotations

import codecs
import re
import threading
from collections.abc import Callable, Iterable
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

# Bytes that may belong to a name (XML 1.0 NameChar, prefix and colon included): ASCII letters, digits, '-', '.', '_',
# ':', and every byte of a multi-byte UTF-8 character. Marked 'n', all others ' ', so that one search finds a long run.
_ascii_name_bytes = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._:"
_name_byte_marks = bytes(ord("n") if byte in _ascii_name_bytes or byte >= 0x80 else ord(" ") for byte in range(256))
_long_name_marks = b"n" * (bounds.xml_name_chars_max + 1)

_proven_parsers = threading.local()  # one parser of the proven path per thread (see _proven_parser)

# A message reduced to its '<' and '=' bytes shows one more '=' in a row than an element may have attributes where a
# start tag holds too many (comments, CDATA and text may show it too, which only costs the tree check).
_all_but_lt_and_equals = bytes(byte for byte in range(256) if byte not in b"<=")
_equals_over_attribute_bound = b"=" * (bounds.attributes_per_element_max + 1)


def _compiled_tree_check_if_sound() -> Callable[[etree._Element, int, int], bool] | None:
    """The compiled tree check (_tree_bounds.pyx), once it has found the bounds on two samples; None where setup.py
    did not build it, or built it against an lxml whose C API or types differ from the one running."""
    try:
        from gateway.messages._tree_bounds import exceeds  # type: ignore[import-not-found]
    except (ImportError, TypeError, ValueError):
        return None
    deep = etree.Element("a")
    for _ in range(2):
        etree.SubElement(deep, "s")
    etree.SubElement(deep[0], "b").set("x", "1")
    if exceeds(deep, 3, 1) or not exceeds(deep, 2, 1) or not exceeds(deep, 3, 0):
        return None
    return exceeds  # type: ignore[no-any-return]


_compiled_tree_check = _compiled_tree_check_if_sound()

# Checks of a finished tree, compiled once: libxml2 walks the tree, no Python object is made per node.
_too_deep = etree.XPath(  # an element one level deeper than the bound
    "boolean(" + "/*" * (bounds.xml_depth_max + 1) + ")", regexp=False, smart_strings=False
)
_too_many_attributes = etree.XPath(  # an element with one attribute more than the bound
    f"boolean(/descendant::*/@*[{bounds.attributes_per_element_max + 1}])", regexp=False, smart_strings=False
)
_text_too_long = etree.XPath(
    f"boolean(//text()[string-length() > {bounds.text_chars_max}])", regexp=False, smart_strings=False
)


def parse_bounded(data: bytes) -> ParsedXml | Rejection:
    """Parse one message. Any failure, hostile or merely broken, is an FF01 rejection at the well-formedness layer."""
    assert isinstance(data, bytes), type(data)
    refused = _refuse_before_parsing(data)
    if refused is not None:
        return refused
    root = _parse_proven(data)
    if root is not None:
        return root
    return _not_utf8(data) or _parse_watched(data)


def _parse_proven(data: bytes) -> ParsedXml | None:
    """The message parsed at once, when its bytes and then its tree prove every bound; None when they do not, or
    when libxml2 refuses it: the watched path then decides, and words the answer. `data` passed
    _refuse_before_parsing."""
    markup = _may_hold_comments_pis_or_cdata(data)
    if not _proven_by_bytes(data, markup):
        return None
    parser = _proven_parser()
    try:
        # The watched path's push parser, fed the whole message at once: the bytes bounded what it may build, and
        # one chunk parses a large message half again as fast as many.
        parser.feed(data)
        root = parser.close()
    except etree.XMLSyntaxError:
        return None  # lxml has reset the parser for its next message
    assert root is not None
    assert root.getroottree().docinfo.internalDTD is None, "a DOCTYPE passed the byte scan"
    if _too_deep_or_too_many_attributes(root, data):
        return None
    # Text that a comment, PI or CDATA section splits is one text node in this tree: libxml2 joins the pieces, as
    # comments and PIs are dropped while parsing and CDATA is read as text. The bytes bound it only without them.
    if markup and len(data) > bounds.text_chars_max and _text_too_long(root):
        return None
    return root


def _too_deep_or_too_many_attributes(root: etree._Element, data: bytes) -> bool:
    """Whether the finished tree breaks the depth bound or the attributes-per-element bound: one walk of the tree
    by the compiled check where setup.py built it, else two XPath queries (tests/messages/test_bounded_paths.py
    holds the two to the same answers)."""
    if _compiled_tree_check is not None:
        exceeds: bool = _compiled_tree_check(root, bounds.xml_depth_max, bounds.attributes_per_element_max)
        return exceeds
    if _too_deep(root):
        return True
    # Every attribute has its '=' in its element's start tag, where no '<' may stand (not even in a value): unless
    # more '=' than one element may hold stand in a row with no '<' between them, no element holds too many.
    return (
        data.count(b"=") > bounds.attributes_per_element_max
        and data.translate(None, _all_but_lt_and_equals).find(_equals_over_attribute_bound) != -1
        and bool(_too_many_attributes(root))
    )


def _proven_by_bytes(data: bytes, markup: bool) -> bool:
    """True when the bytes alone prove the bounds on element count, comments and PIs, namespace declarations per
    element, name lengths, attribute values and (without `markup`) text lengths, for whatever tree libxml2 might
    build from them. Each test counts something that every instance of the bounded thing needs, so it can only
    overstate; False means "not proven", never "refused"."""
    size = len(data)
    # Every element has a start tag of its own, which begins with '<'.
    if size > bounds.xml_elements_max and data.count(b"<") > bounds.xml_elements_max:
        return False
    # Every comment begins with '<!--' and every PI with '<?' (so does the XML declaration, counted as well).
    if markup and data.count(b"<!--") + data.count(b"<?") > bounds.xml_comments_and_pis_max:
        return False
    # Every namespace declaration is an attribute named xmlns or xmlns:prefix. Beyond that many in the whole
    # message, the watched path counts them per element (the tree does not show redundant declarations).
    if data.count(b"xmlns") > bounds.namespace_declarations_per_element_max:
        return False
    # A local name (of an element or an attribute) of more than xml_name_chars_max characters, with its prefix, is
    # a run of more name bytes; text may make such runs too, and is then only a false alarm.
    if data.translate(_name_byte_marks).find(_long_name_marks) != -1:
        return False
    # A text or attribute value has no more characters than the bytes it was read from (references only shorten
    # it), and no '<' within: attribute values never, text when there is no comment, PI or CDATA section.
    return size <= bounds.text_chars_max or _short_runs_between_angle_brackets(data)


def _may_hold_comments_pis_or_cdata(data: bytes) -> bool:
    """False when the message certainly holds no comment, CDATA section or processing instruction, so that every
    '<' in it opens a start or end tag. `data` passed _refuse_before_parsing (a DOCTYPE is refused there)."""
    # Comments and CDATA sections begin with '<!'. A one-byte search runs at memory speed, and most messages hold
    # no '!' at all.
    if b"!" in data and b"<!" in data:
        return True
    # PIs begin with '<?', as does the XML declaration, which _refuse_before_parsing checked: its first '?>' ends it.
    start = len(_utf8_bom) if data.startswith(_utf8_bom) else 0
    if _xml_declaration_start.match(data, start):
        start = data.index(b"?>", start) + 2
    return data.find(b"?", start) != -1 and data.find(b"<?", start) != -1


def _short_runs_between_angle_brackets(data: bytes) -> bool:
    """True when no run of bytes without a '<' is longer than text_chars_max: each aligned block of half that
    length holds a '<', and a longer run would hold a whole block."""
    block = bounds.text_chars_max // 2
    return all(data.find(b"<", start, start + block) != -1 for start in range(0, len(data) - block + 1, block))


def _parse_watched(data: bytes) -> ParsedXml | Rejection:
    """The message parsed chunk by chunk, every bound checked on the events between chunks. `data` passed
    _refuse_before_parsing and is UTF-8."""
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


# The options both paths parse with, every one that bears on safety spelled out (none left to lxml's defaults).
_parser_options: dict[str, Any] = {
    "encoding": "UTF-8",  # ISO 20022 is UTF-8; never let a declaration or a byte pattern switch the decoder
    "recover": False,  # broken XML is rejected, never repaired into something the sender did not send
    "resolve_entities": False,  # no entity is ever expanded (the DOCTYPE refusal means none can be declared)
    "load_dtd": False,  # never read an external DTD
    "dtd_validation": False,
    "attribute_defaults": False,  # no attribute values the sender did not write
    "no_network": True,  # nothing is fetched, whatever the document names
    "decompress": False,  # a gzip body is not XML; decompressing would bypass message_bytes_max
    "huge_tree": False,  # keep libxml2's own limits (depth 256, 10 MB text) as a backstop behind ours
    "collect_ids": False,  # no xml:id hash table for an attacker to fill
    "remove_blank_text": False,  # whitespace is data: XMLDSig digests over the AppHdr depend on it
    "strip_cdata": True,  # CDATA becomes ordinary text; readers see one kind of text
    "ns_clean": False,  # leave namespace declarations as sent
    "compact": True,
}


def _new_parser() -> etree.XMLPullParser:
    """The parser of the watched path: it reports the events that the bounds are checked on."""
    return etree.XMLPullParser(
        events=("start", "end", "start-ns", "comment", "pi"),
        # Kept while parsing so that the events can count them against xml_comments_and_pis_max (remove_*=True
        # would hide them from the count); parse_bounded strips them from the finished tree.
        remove_comments=False,
        remove_pis=False,
        **_parser_options,
    )


def _proven_parser() -> etree.XMLParser:
    """This thread's parser for the proven path: made once per thread, since making one costs a tenth of parsing a
    small message. A feed parser holds one document at a time, so threads never share one."""
    parser: etree.XMLParser | None = getattr(_proven_parsers, "parser", None)
    if parser is None:
        parser = _proven_parsers.parser = _new_proven_parser()
    return parser


def _new_proven_parser() -> etree.XMLParser:
    """The parser of the proven path: the watched path's options, except that it reports no events and drops
    comments and PIs as it reads them (the bytes bounded their number)."""
    return etree.XMLParser(
        remove_comments=True,  # the same tree as the watched path's once it has stripped them
        remove_pis=True,
        **_parser_options,
    )


def _refuse_before_parsing(data: bytes) -> Rejection | None:
    if len(data) > bounds.message_bytes_max:
        return _reject(f"message is {len(data)} bytes; at most {bounds.message_bytes_max} are accepted")
    body = data.removeprefix(_utf8_bom)
    if _xml_declaration_start.match(body):
        declaration = _xml_declaration.match(body)
        if declaration is None:
            return _reject("malformed XML declaration")
        if declaration["version"] != b"1.0":
            version = declaration["version"].decode(errors="replace")  # UTF-8 is not checked yet
            return _reject(f"XML version {excerpt(version)} is refused; only 1.0 is accepted")
        encoding = declaration["encoding"]
        if encoding is not None and encoding.lower() != b"utf-8":
            named = encoding.decode(errors="replace")
            return _reject(f"declared encoding {excerpt(named)} is refused; only UTF-8 is accepted")
    # A DOCTYPE is legal only in the prolog, but looking everywhere costs the same and needs no prolog parser.
    # (Most messages hold no '!' at all, and a one-byte search runs at memory speed.)
    if b"!" in data and b"<!DOCTYPE" in data:
        return _reject("DOCTYPE is refused: no DTD, entity declaration or external reference is accepted")
    return None


def _not_utf8(data: bytes) -> Rejection | None:
    """The rejection of a message that is not strict UTF-8, naming its first bad byte; None for UTF-8."""
    if _is_utf8(data):
        return None
    try:
        data.decode("utf-8", errors="strict")  # again, at once, for the offset the sender is told
    except UnicodeDecodeError as error:
        return _reject(f"not valid UTF-8 at byte {error.start}: ISO 20022 messages are UTF-8")
    raise AssertionError("UTF-8 refused in chunks but accepted whole")


class _Walk:
    """Follows the parse events, keeps the open-element path, and checks every bound as the tree grows."""

    __slots__ = ("comments_and_pis", "elements", "namespace_declarations", "sibling_counts", "steps")

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
        # Each node's tail is complete once its parent ends, so every text is checked exactly once. A comment or PI
        # is stripped from the finished tree and the text on either side of it joins: measured as joined.
        chars = len(element.text or "")
        for child in element:
            if child.tag is not etree.Comment and child.tag is not etree.ProcessingInstruction:
                if chars > bounds.text_chars_max:
                    break
                chars = 0
            chars += len(child.tail or "")
        if chars > bounds.text_chars_max:
            return _reject(f"text longer than {bounds.text_chars_max} characters", self.path())
        self.steps.pop()
        self.sibling_counts.pop()
        return None


def _is_utf8(data: bytes) -> bool:
    """Strict UTF-8. A large message is decoded a piece at a time: decoding it at once would build a string of twice
    its size (Cyrillic takes two bytes a character), whose fresh memory costs more than the decoding."""
    try:
        if len(data) <= bounds.parse_chunk_bytes:
            data.decode("utf-8", errors="strict")
            return True
        decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
        view = memoryview(data)
        for offset in range(0, len(data), bounds.parse_chunk_bytes):
            decoder.decode(view[offset : offset + bounds.parse_chunk_bytes])
        decoder.decode(b"", final=True)  # a character cut short at the end
    except UnicodeDecodeError:
        return False
    return True


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
