"""The BLAS libraries held at one thread while nnx's own threads run compiled loops that call
them (threadpoolctl): the recurrent layers' row blocks and the fused encoder block's ranges
of sequences, each on its own core."""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["blas_controller", "run_split_one_blas_thread"]

#: one BLAS-limited region at a time: interleaved limit/restore pairs from two threads could
#: otherwise leave BLAS at one thread for good
_LIMIT_LOCK = threading.Lock()


@functools.cache
def blas_controller() -> Any:
    """threadpoolctl's handle on the BLAS libraries, or None where it is not installed.

    numba's ``np.dot`` calls SciPy's BLAS, a second OpenBLAS beside NumPy's: it is loaded
    first, so that the handle limits both (else each block's products would still wake two
    BLAS threads: four threads on two cores)."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    with contextlib.suppress(ImportError):  # (without SciPy numba has no np.dot either)
        import scipy.linalg.cython_blas  # noqa: F401 - loads the BLAS numba's np.dot calls
    return ThreadpoolController().select(user_api="blas")


def run_split_one_blas_thread(fn: Callable[..., None], calls: Sequence[Sequence[Any]]) -> None:
    """``fn(*args)`` for each ``args`` of ``calls``, one per core (the last on this thread,
    :func:`nnx.backends.numba_jit.run_split`), BLAS single-threaded meanwhile: its own threads,
    woken for every small product, would fight ours for the cores. Needs threadpoolctl
    (:func:`blas_controller` not None)."""
    from nnx.backends.numba_jit import run_split

    with _LIMIT_LOCK, blas_controller().limit(limits=1):
        run_split(fn, calls)
