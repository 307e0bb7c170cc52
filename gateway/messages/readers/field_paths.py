"""Many values under one element read in one call, for the readers of the messages the gateway reads most (the
AppHdr, pacs.008 and pacs.009 group headers and transactions).

A FieldPaths names paths below an element, each a chain of local names in that element's namespace, with the first
element of each name taken at every step (as Reading.fields keeps the first), and optionally ending in `@name`, an
attribute in no namespace. Reading gives, per path, the text of the element it leads to ('' when it has none), the
attribute's value, or None when the path leads nowhere.

Two implementations give the same answers (tests/messages/test_field_paths.py holds them to it): the compiled one,
built by setup.py from _field_paths.pyx, reads libxml2's nodes directly; read_python, below, goes through lxml's
Python API and is used where the compiled module was not built (no C compiler at install time). Reading a payment
through lxml's Python API made an lxml proxy and a tag string per element, and cost more than libxml2's parse and
XSD validation of the same message together.
"""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

ReadPaths = Callable[[etree._Element, tuple[tuple[bytes, ...], ...]], tuple[str | None, ...]]

# The Python twin's form of the paths: a tree of steps, so that each element on the way is walked once however many
# paths pass through it. A step is a local name (its children: a _Steps) or "@name" (its value's index: an int).
_Steps = dict[str, "_Steps | int"]
# The same tree for one namespace, as read_python walks it: per element, the children wanted by tag, each with the
# index of the path that ends there (-1: none) and the children wanted below it; then the attributes wanted.
_Walk = tuple[dict[str, tuple[int, "_Walk | None"]], tuple[tuple[str, int], ...]]


class StepTree:
    """The paths of a FieldPaths as a tree of steps, and that tree made ready for each namespace it is read in."""

    __slots__ = ("_walks", "steps")

    def __init__(self) -> None:
        self.steps: _Steps = {}
        self._walks: dict[str, _Walk] = {}  # by namespace prefix ("{namespace}"): a reader reads one or two

    def walk(self, prefix: str) -> _Walk:
        walk = self._walks.get(prefix)
        if walk is None:
            walk = self._walks[prefix] = _walk(self.steps, prefix)
        return walk


def _walk(steps: _Steps, prefix: str) -> _Walk:
    children: dict[str, tuple[int, _Walk | None]] = {}
    attributes: list[tuple[str, int]] = []
    for name, below in steps.items():
        if isinstance(below, int):
            if name:  # an attribute ends its path ("" marks the path that ends at the element itself)
                attributes.append((name[1:], below))
            continue
        end = below.get("")
        more = len(below) > (end is not None)
        children[prefix + name] = (end if isinstance(end, int) else -1, _walk(below, prefix) if more else None)
    return children, tuple(attributes)


def read_python(element: etree._Element, tree: StepTree, count: int) -> tuple[str | None, ...]:
    """The values of `count` paths, held as `tree`, below `element`, through lxml's Python API."""
    tag: str = element.tag
    prefix = tag[: tag.index("}") + 1] if tag.startswith("{") else ""
    values: list[str | None] = [None] * count
    _read_below(element, tree.walk(prefix), values)
    return tuple(values)


def _read_below(element: etree._Element, walk: _Walk, values: list[str | None]) -> None:
    wanted, attributes = walk
    for name, index in attributes:
        values[index] = element.get(name)
    if not wanted:
        return
    found: set[str] = set()
    for child in element:
        tag = child.tag
        step = wanted.get(tag)
        if step is None or tag in found:  # not wanted, or not the first of its name
            continue
        found.add(tag)
        end, below = step
        if end >= 0:
            values[end] = child.text or ""
        if below is not None:
            _read_below(child, below, values)
        if len(found) == len(wanted):  # the rest of the children are not wanted
            return


def _compiled() -> ReadPaths | None:
    """The compiled reader, once it has read a sample as read_python does; None where it was not built, or was
    built against an lxml whose C API or types differ from the one running (its import then raises ImportError,
    TypeError or ValueError), or reads the sample otherwise."""
    try:
        from gateway.messages.readers._field_paths import read  # type: ignore[import-not-found]
    except (ImportError, TypeError, ValueError):
        return None
    sample = etree.fromstring(
        '<D xmlns="urn:x"><A Ccy="RUB">1<![CDATA[2]]></A><B><C>Ж</C></B><A>second</A><C xmlns="urn:y">other</C></D>'
    )
    paths = (b"A",), (b"A", b"@Ccy"), (b"B", b"C"), (b"C",), (b"B",)
    tree = StepTree()
    tree.steps.update({"A": {"": 0, "@Ccy": 1}, "B": {"C": {"": 2}, "": 4}, "C": {"": 3}})
    if read(sample, paths) != read_python(sample, tree, len(paths)) or read(sample, paths)[0] != "12":
        return None
    compiled: ReadPaths = read
    return compiled


compiled_read = _compiled()  # None where setup.py could not build it


class FieldPaths:
    """Paths below one kind of element, compiled once (at import) and read per element: `paths.read(element)`."""

    __slots__ = ("names", "steps", "tree")

    def __init__(self, *paths: str) -> None:
        self.names = paths
        self.steps = tuple(tuple(name.encode() for name in path.split("/")) for path in paths)  # for compiled_read
        self.tree = StepTree()  # for read_python
        for index, path in enumerate(paths):
            names = path.split("/")
            assert all(names) and all(name.isascii() for name in names), f"bad path {path!r}"
            assert not any(name.startswith("@") for name in names[:-1]), f"an attribute ends a path: {path!r}"
            assert path not in paths[:index], f"path {path!r} twice"
            steps = self.tree.steps
            for name in names[:-1]:
                below = steps.setdefault(name, {})
                assert isinstance(below, dict)
                steps = below
            last = names[-1]
            if last.startswith("@"):
                steps[last] = index
            else:
                below = steps.setdefault(last, {})
                assert isinstance(below, dict)
                below[""] = index  # "" is never a name: it marks where a path ends

    def read(self, element: etree._Element) -> tuple[str | None, ...]:
        if compiled_read is not None:
            return compiled_read(element, self.steps)
        return read_python(element, self.tree, len(self.names))
