"""Give memory freed by the readers back to the operating system (glibc's `malloc_trim`).

Reading a large log allocates many short-lived numpy buffers per chunk next to the long-lived
value columns. glibc raises its mmap threshold after the first large buffer is freed, so later
buffers come from the heap, and the heap keeps the freed space between live columns: the
process's resident memory stays ~45 MB (3M events) above what is alive. `malloc_trim(0)`
returns those free pages (Dask's workers do the
same for the same reason); it costs well under a millisecond per call here. Elsewhere than on
glibc this is a no-op.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from collections.abc import Callable

_trim: Callable[[int], int] | None = None
_loaded = False


def _load() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim  # absent from musl: AttributeError
    except (OSError, AttributeError):
        return None


def release_freed_memory() -> None:
    """Return free heap pages to the OS (glibc); nothing elsewhere."""
    global _trim, _loaded
    if not _loaded:
        _trim, _loaded = _load(), True
    if _trim is not None:
        _trim(0)
