# cython: language_level=3, boundscheck=False, wraparound=False
"""The compiled twin of gateway.messages.readers.field_paths.read_python: the same answers, read from libxml2's nodes
through lxml's C API, without an lxml proxy or a tag string made per element (what reading through lxml's Python API
spends most of its time on). Built by setup.py when a C compiler is there; field_paths uses it when it imports.

Only struct fields are read (name, ns, type, children, next, properties, content), never a libxml2 function called,
so nothing links against the libxml2 inside lxml.
"""

from cpython.unicode cimport PyUnicode_DecodeUTF8
from libc.string cimport strcmp, strlen

from lxml.includes cimport tree
from lxml.includes.etreepublic cimport _Element, import_lxml__etree

import_lxml__etree()


cdef inline bint _same(const tree.xmlChar* a, const char* b):
    return strcmp(<const char*>a, b) == 0


cdef tree.xmlNode* _first_child(tree.xmlNode* parent, const char* name, const tree.xmlChar* href):
    """The first child element called `name` in the namespace `href` (NULL: in no namespace)."""
    cdef tree.xmlNode* child = parent.children
    while child is not NULL:
        if child.type == tree.XML_ELEMENT_NODE and _same(child.name, name):
            if child.ns is NULL:
                if href is NULL:
                    return child
            elif href is not NULL and _same(child.ns.href, <const char*>href):
                return child
        child = child.next
    return NULL


cdef str _joined_text(tree.xmlNode* node):
    """The text and CDATA nodes from `node` on, up to the first node of another kind, joined: lxml's .text, except
    that it is '' where lxml gives None."""
    cdef list pieces = []
    while node is not NULL and (node.type == tree.XML_TEXT_NODE or node.type == tree.XML_CDATA_SECTION_NODE):
        if node.content is not NULL:
            pieces.append(PyUnicode_DecodeUTF8(<const char*>node.content, strlen(<const char*>node.content), "strict"))
        node = node.next
    if not pieces:
        return ""
    return pieces[0] if len(pieces) == 1 else "".join(pieces)


cdef object _attribute(tree.xmlNode* node, const char* name):
    """The value of the attribute `name` in no namespace, or None."""
    cdef tree.xmlAttr* attribute = node.properties
    while attribute is not NULL:
        if attribute.ns is NULL and _same(attribute.name, name):
            return _joined_text(attribute.children)
        attribute = attribute.next
    return None


def read(_Element element not None, tuple paths):
    """field_paths.read_python, compiled: `paths` as FieldPaths holds them."""
    cdef tree.xmlNode* top = element._c_node
    cdef const tree.xmlChar* href = top.ns.href if top.ns is not NULL else NULL
    cdef tree.xmlNode* node
    cdef bytes step
    cdef const char* name
    cdef list values = []
    cdef object value
    for path in paths:
        node = top
        value = None
        for step in path:
            name = step
            if name[0] == b"@":
                value = _attribute(node, name + 1)
                node = NULL
                break
            node = _first_child(node, name, href)
            if node is NULL:
                break
        if node is not NULL:
            value = _joined_text(node.children)
        values.append(value)
    return tuple(values)
