"""Intel MKL, found and loaded for the numba kernels (the ``mkl`` extra: ``pip install
"nnx-array[mkl]"``, the ``mkl`` wheel on PyPI, Linux x86-64).

NumPy's wheels bring OpenBLAS; on Intel cores MKL runs the recurrent layers' small per-step
products 1.6-2x faster (``h U`` at 32 x 128 x 512, float32, one core: 33-39 µs against
62-78 µs, ``python -m bench.gemm_compare``). The compiled recurrent loops, the attention's
batched products and the fused Transformer encoder block call it directly from numba
(:mod:`nnx.backends.numba_mkl`) where it is installed; elsewhere the recurrent loops call
SciPy's BLAS, and the attention and the encoder block NumPy's, as before.

MKL is found through the ``mkl`` distribution's file list (``libmkl_rt``), opened with its
threading layer set to sequential (unless ``MKL_THREADING_LAYER`` says otherwise, or another
library of the process opened the same file first: nnx's kernels run one block of rows per
core and hold MKL at one thread on their own thread either way), and the functions
the kernels call are given to LLVM by name, so that those kernels are cached like the others.
The library is opened locally (``RTLD_LOCAL``), not into the process's global namespace: a
PyTorch imported afterwards would otherwise bind its own MKL calls to this sequential one and
lose its threads (a ``torch.mm`` of 2048 x 128 x 384 on two threads took 1676-1908 µs against
797-856).
``NNX_MKL=0`` switches it off (read once, at the first kernel call that would use it).

>>> isinstance(load(), bool)
True
"""

from __future__ import annotations

import ctypes
import functools
import os
from pathlib import Path
from typing import Any

__all__ = [
    "ENV",
    "MKL_THREADING_SEQUENTIAL",
    "SYMBOLS",
    "kernel_products",
    "library_path",
    "load",
    "status",
]

#: ``0`` keeps the kernels on SciPy's BLAS although MKL is installed
ENV = "NNX_MKL"
#: ``MKL_Set_Threading_Layer``'s code for one thread per call (mkl_service.h)
MKL_THREADING_SEQUENTIAL = 1
#: the functions the kernels call (:mod:`nnx.backends.numba_mkl`), given to LLVM one by one
SYMBOLS = (
    *(f"cblas_{p}gemm{s}" for p in "sd" for s in ("", "_pack_get_size", "_pack", "_compute")),
    "MKL_Set_Num_Threads_Local",
)


def _switched_off() -> bool:
    return os.environ.get(ENV, "").strip().lower() in ("0", "false", "off", "no")


def library_path() -> Path | None:
    """``libmkl_rt`` of the installed ``mkl`` distribution, or None where there is none."""
    from importlib import metadata

    try:
        files = metadata.files("mkl") or []
    except metadata.PackageNotFoundError:
        return None
    found = sorted(f for f in files if f.name.startswith("libmkl_rt.so"))
    return Path(str(found[-1].locate())) if found else None


def _already_loaded(path: Path) -> bool:
    """Whether this very library is in the process already (``RTLD_NOLOAD``: no loading)."""
    try:
        ctypes.CDLL(str(path), mode=os.RTLD_NOLOAD | ctypes.RTLD_LOCAL)
    except OSError:
        return False
    return True


@functools.cache
def load() -> bool:
    """Whether MKL is there for the kernels (loaded into the process on the first call)."""
    if _switched_off():
        return False
    path = library_path()
    if path is None or not path.exists():
        return False
    try:
        shared = _already_loaded(path)  # by another user of this MKL: leave its threads be
        runtime = ctypes.CDLL(str(path), mode=ctypes.RTLD_LOCAL)
        if "MKL_THREADING_LAYER" not in os.environ and not shared:
            runtime.MKL_Set_Threading_Layer(MKL_THREADING_SEQUENTIAL)
        import llvmlite.binding  # numba's: without numba there are no kernels to call MKL

        for name in SYMBOLS:
            address = ctypes.cast(getattr(runtime, name), ctypes.c_void_p).value
            llvmlite.binding.add_symbol(name, address)
    except (OSError, AttributeError, ImportError):  # the kernels keep SciPy's BLAS
        return False
    return True


def kernel_products() -> dict[str, Any] | None:
    """MKL's products under the names the numba kernels call
    (:data:`nnx.backends.numba_blas_products.API`), what a :func:`~nnx.backends.numba_jit.twin`
    build binds them to; None where :func:`load` is False."""
    if not load():
        return None
    from nnx.backends import numba_blas_products, numba_mkl

    return {name: getattr(numba_mkl, name) for name in numba_blas_products.API}


def status() -> str:
    """``"on (mkl X.Y, numba kernels' products)"`` or ``"off (<why>)"``, for ``nnx info`` and the
    benchmarks' host line."""
    from importlib import metadata

    from nnx.backends.numba_paths import switched_off as numba_off

    try:
        version: str | None = metadata.version("mkl")
    except metadata.PackageNotFoundError:
        version = None
    if _switched_off():
        return f"off ({ENV}=0)"
    if numba_off():
        return "off (the numba kernels are off)"
    if version is None:
        return 'off (not installed: pip install "nnx-array[mkl]")'
    if not load():
        return f"off (mkl {version} installed but not loadable)"
    return f"on (mkl {version}, numba kernels' products)"
