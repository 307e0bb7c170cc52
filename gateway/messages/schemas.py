"""The project's XSDs (xsd/), compiled once per process with lxml, and validation of an unwrapped AppHdr and Document.

Each failure is an FF01 rejection at the schema layer, naming the element libxml2 complained about by its path in
the message as received (envelope included), the same path that gateway.messages.safe_xml.element_path gives.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from lxml import etree

from gateway import bounds
from gateway.messages.envelope import Unwrapped
from gateway.messages.identity import MessageId, supported_message_ids
from gateway.messages.rejections import Layer, Rejection, invalid_file_format
from gateway.messages.safe_xml import element_path

# Which file defines each message, relative to the xsd/ folder: one per supported version, named after it, so that
# supporting a version (gateway.messages.identity) and having its schema cannot drift apart.
schema_files: Mapping[MessageId, str] = MappingProxyType(
    {message_id: f"iso/{message_id}.xsd" for message_id in sorted(supported_message_ids, key=str)}
)
envelope_schema_file = "gateway/envelope.xsd"

_namespace_in_message = re.compile(r"\{[^{}]*\}")
_libxml2_step = re.compile(r"(?:(?P<prefix>[^:/\[\]]+):)?(?P<name>[^:/\[\]]+)(?:\[(?P<position>[0-9]+)\])?")


def xsd_directory() -> Path:
    """The xsd/ folder: beside the package in an installed wheel (gateway/xsd/), else at the root of the source
    tree the package runs from (an editable install or a checkout). Raises if neither holds the schemas."""
    package_dir = Path(__file__).resolve().parents[1]  # .../gateway
    candidates = (package_dir / "xsd", package_dir.parent / "xsd")
    for candidate in candidates:
        if (candidate / envelope_schema_file).is_file():
            return candidate
    searched = ", ".join(str(candidate) for candidate in candidates)
    raise FileNotFoundError(f"the gateway's XSDs are not installed: no {envelope_schema_file} under {searched}")


@dataclass(frozen=True, slots=True)
class SchemaSet:
    """Every schema the message layer validates against, compiled. Build it once (SchemaSet.load or compiled())."""

    directory: Path
    messages: Mapping[MessageId, etree.XMLSchema]
    envelope: etree.XMLSchema  # xsd/gateway/envelope.xsd: the gateway's own envelope around AppHdr and Document

    @classmethod
    def load(cls, directory: Path | None = None) -> SchemaSet:
        root = xsd_directory() if directory is None else directory
        messages = {message_id: _compile(root / name) for message_id, name in schema_files.items()}
        return cls(root, MappingProxyType(messages), _compile(root / envelope_schema_file))

    def validate(self, unwrapped: Unwrapped) -> list[Rejection]:
        """The AppHdr (when there is one) and the Document, each against its own message schema (the AppHdr's: the
        schema of the header version it came in)."""
        app_hdr, header_version = unwrapped.app_hdr, unwrapped.app_hdr_version
        document_schema = self.messages.get(unwrapped.message_id)
        if (
            document_schema is not None
            and (header_version is None or self.messages[header_version].validate(app_hdr))
            and document_schema.validate(unwrapped.document)
        ):
            return []  # the usual answer, found with no list built; the errors are found below
        rejections = []
        if app_hdr is not None and header_version is not None:  # Unwrapped has both or neither
            rejections += self.validate_element(app_hdr, header_version)
        rejections += self.validate_element(unwrapped.document, unwrapped.message_id)
        return rejections[:bounds.schema_rejections_max]

    def validate_element(self, element: etree._Element, message_id: MessageId) -> list[Rejection]:
        """One AppHdr or Document, validated in place as if it were the root of its own document."""
        schema = self.messages.get(message_id)
        if schema is None:
            text = f"{message_id} is not a message version the gateway has a schema for"
            return [Rejection(invalid_file_format, element_path(element), text, Layer.SCHEMA)]
        if schema.validate(element):
            return []
        # The error log is the schema's and holds this validation's errors only; it is read before anything else
        # can validate against the same schema (the message layer runs on one thread, validation never awaits).
        errors = [error for error in schema.error_log if error.level >= etree.ErrorLevels.ERROR]
        assert errors, "libxml2 refused a document without reporting an error"
        return [_rejection(element, error) for error in errors[:bounds.schema_rejections_max]]


@functools.cache
def compiled() -> SchemaSet:
    """The process's schemas, compiled on first use from xsd_directory()."""
    return SchemaSet.load()


def _compile(path: Path) -> etree.XMLSchema:
    # Our own files, but parsed with the same care as input: no entities, no DTD, no network.
    parser = etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        dtd_validation=False,
        no_network=True,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    # Parsed from the path so that xs:include and xs:import locations resolve beside the file.
    return etree.XMLSchema(etree.parse(str(path), parser))


def _rejection(validated: etree._Element, error: etree._LogEntry) -> Rejection:
    found = _element_at(validated, error.path)
    message = " ".join(_namespace_in_message.sub("", error.message).split())
    if len(message) > bounds.schema_error_text_chars_max:
        message = message[:bounds.schema_error_text_chars_max] + "..."
    if found is None:  # libxml2 gave no path we could follow: point at the validated element and name the line
        found, message = validated, f"{message} (line {error.line})"
    return Rejection(invalid_file_format, element_path(found), f"not valid against the schema: {message}", Layer.SCHEMA)


def _element_at(validated: etree._Element, libxml2_path: str | None) -> etree._Element | None:
    """Follow the path libxml2 reports (xmlGetNodePath, relative to the validated element as root) down the tree.

    Steps are `*[n]` for an element in a default namespace (n counts all element siblings), `prefix:name[n]` for a
    prefixed one and `name[n]` for one in no namespace (n counts same-named siblings); `[n]` is left out when the
    element has no such sibling."""
    if not libxml2_path or not libxml2_path.startswith("/"):
        return None
    steps = libxml2_path[1:].split("/")
    element = validated
    for step in steps[1:]:  # the first step names the validated element itself
        match = _libxml2_step.fullmatch(step)
        if match is None:
            return None
        prefix, name, position = match["prefix"], match["name"], int(match["position"] or 1)
        children = [child for child in element.iterchildren(etree.Element) if _matches(child, prefix, name)]
        if not 1 <= position <= len(children):
            return None
        element = children[position - 1]
    return element


def _matches(element: etree._Element, prefix: str | None, name: str) -> bool:
    if name == "*":
        return True
    qualified = etree.QName(element)
    if qualified.localname != name:
        return False
    return element.prefix == prefix if prefix is not None else qualified.namespace is None
