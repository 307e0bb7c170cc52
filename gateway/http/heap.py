"""Giving memory back to the operating system after a burst of connections (glibc only; elsewhere a no-op).

A TLS connection costs a serving process about 250 kB, most of it one 256 kB read buffer of asyncio's TLS layer. glibc
serves such a block from the heap once a freed one has raised its dynamic mmap threshold above that size, and a heap
keeps freed memory unless it lies at the top: after 2,000 slow clients came and went, the process stayed 400 MB
larger for good. Two remedies, both applied by `gateway serve`:
  - a fixed mmap threshold (mallopt M_MMAP_THRESHOLD), so that blocks from bounds.heap_mmap_threshold_bytes up are
    mapped and unmapped on their own instead of fragmenting the heap;
  - malloc_trim(0) after many connections closed, which hands the heap's free pages back (gateway.http.edge).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

from gateway import bounds

log = logging.getLogger(__name__)

_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number (malloc.h)


def _glibc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        library = ctypes.CDLL(name)
    except OSError:
        return None
    return library if hasattr(library, "mallopt") and hasattr(library, "malloc_trim") else None


_libc = _glibc()


def map_large_blocks() -> bool:
    """Blocks of bounds.heap_mmap_threshold_bytes and more get their own mapping, returned when freed. Call once, early;
    True when the C library took it."""
    if _libc is None:
        return False
    return bool(_libc.mallopt(_M_MMAP_THRESHOLD, bounds.heap_mmap_threshold_bytes))


def trim() -> None:
    """Return the heap's free pages to the operating system."""
    if _libc is not None:
        _libc.malloc_trim(0)
