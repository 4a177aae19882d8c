"""glibc's ``malloc`` set for array work: a step's freed arrays stay in the heap for the next.

A training or inference step allocates and frees the same arrays of 0.1-30 MB on every call.
glibc serves a block over its *mmap threshold* with fresh pages from the system, and gives the
free top of its heap back past its *trim threshold*; both start at 128 KiB and rise only as
large blocks are freed (to 32 and 64 MiB at most), so whether a step gets warm heap memory back
or freshly zeroed pages (one minor page fault per 4 KiB touched) depends on what the process did
before. Measured on the bench's Transformer block (2-core AMD EPYC, glibc 2.36): about 2,000
faults per inference pass and 2,600-2,900 per training step by default, none with the
thresholds fixed at those maxima, and the pass 1.5-2x faster.

:func:`tune` sets them once, when the NumPy backend is created, to the values glibc's own rule
reaches at most: ``M_MMAP_THRESHOLD`` 32 MiB (glibc's upper limit on 64-bit) and
``M_TRIM_THRESHOLD`` 64 MiB. The cost: up to 64 MiB of freed memory stays with the process
instead of going back to the system, and blocks up to 32 MiB come from the heap. It changes
nothing where the C library is not glibc, where the user set glibc's own ``MALLOC_*_`` variables
or ``glibc.malloc`` tunables (theirs win), and with ``NNX_MALLOC_TUNING=0``.
"""

from __future__ import annotations

import ctypes
import functools
import os
from collections.abc import Mapping

__all__ = ["ENV", "MMAP_THRESHOLD", "TRIM_THRESHOLD", "decide", "tune"]

#: ``NNX_MALLOC_TUNING=0`` leaves glibc's thresholds alone
ENV = "NNX_MALLOC_TUNING"
#: glibc's ``DEFAULT_MMAP_THRESHOLD_MAX`` on 64-bit: the largest threshold it accepts
MMAP_THRESHOLD = 32 << 20
#: twice that: the trim threshold glibc's dynamic rule sets beside it
TRIM_THRESHOLD = 64 << 20
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_USER_VARIABLES = (
    "MALLOC_MMAP_THRESHOLD_",
    "MALLOC_TRIM_THRESHOLD_",
    "MALLOC_TOP_PAD_",
    "MALLOC_MMAP_MAX_",
)


def decide(environ: Mapping[str, str], libc_version: str | None) -> str | None:
    """Why the thresholds stay as they are (a status line), or None to set them."""
    if environ.get(ENV, "1") == "0":
        return f"left alone ({ENV}=0)"
    if not libc_version or not libc_version.startswith("glibc"):
        return "left alone (the C library is not glibc)"
    mine = [v for v in _USER_VARIABLES if v in environ]
    if "glibc.malloc." in environ.get("GLIBC_TUNABLES", ""):
        mine.append("GLIBC_TUNABLES")
    if mine:
        return f"left to the environment's {', '.join(mine)}"
    return None


def _libc_version() -> str | None:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION")
    except (AttributeError, ValueError, OSError):
        return None


@functools.cache
def tune() -> str:
    """Set glibc's mmap and trim thresholds (once per process); return what was done, as the
    bench's host line prints it."""
    reason = decide(os.environ, _libc_version())
    if reason is not None:
        return reason
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return "left alone (no mallopt)"
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    done = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    if not done:
        return "left alone (mallopt refused)"
    return f"glibc thresholds: mmap {MMAP_THRESHOLD >> 20} MiB, trim {TRIM_THRESHOLD >> 20} MiB"
