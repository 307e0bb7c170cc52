# cython: language_level=3, boundscheck=False, wraparound=False
"""The compiled twin of the tree checks in gateway.messages.safe_xml (_too_deep and _too_many_attributes, two XPath
queries): one walk over libxml2's nodes through lxml's C API, reading struct fields only. Built by setup.py when a C
compiler is there; safe_xml uses it when it imports, and the XPath queries otherwise."""

from lxml.includes cimport tree
from lxml.includes.etreepublic cimport _Element, import_lxml__etree

import_lxml__etree()


cdef tree.xmlNode* _element_from(tree.xmlNode* node):
    """`node` or the first element after it among its siblings; NULL when there is none."""
    while node is not NULL and node.type != tree.XML_ELEMENT_NODE:
        node = node.next
    return node


def exceeds(_Element root not None, int depth_max, int attributes_max):
    """True when an element of `root`'s tree (root at depth 1) lies deeper than depth_max, or holds more than
    attributes_max attributes (namespace declarations are not attributes, as in XPath)."""
    cdef tree.xmlNode* top = root._c_node
    cdef tree.xmlNode* node = top
    cdef tree.xmlNode* child
    cdef tree.xmlAttr* attribute
    cdef int depth = 1
    cdef int attributes
    while True:
        if depth > depth_max:
            return True
        attributes = 0
        attribute = node.properties
        while attribute is not NULL:
            attributes += 1
            attribute = attribute.next
        if attributes > attributes_max:
            return True
        child = _element_from(node.children)
        if child is not NULL:
            node = child
            depth += 1
            continue
        # No element below: on to the next element sibling, climbing until one is found or the walk is back at top.
        while node is not top:
            child = _element_from(node.next)
            if child is not NULL:
                node = child
                break
            node = node.parent
            depth -= 1
        if node is top:
            return False
