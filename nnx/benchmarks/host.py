"""The machine a benchmark ran on: CPU model and cores, BLAS vendor and kernel, numba on/off,
glibc's malloc thresholds, torch version and threads, and the date, printed above every table
(ratios against torch depend on all of them: MKL is fast on Intel and slow on AMD, OpenBLAS
picks a kernel per CPU unless ``OPENBLAS_CORETYPE`` forces one).

>>> info = host()
>>> {"cpu", "cores", "blas", "numba", "date"} <= set(info)
True
"""

from __future__ import annotations

import os
import platform
import time
from typing import Any

from nnx.backends import host_memory, mkl_library
from nnx.backends.numba_paths import status as numba_status
from nnx.environment import package_version

__all__ = ["blas", "cpu_model", "describe", "host", "notes"]


def cpu_model() -> str:
    """The CPU's model name from ``/proc/cpuinfo`` (Linux) with its family and model numbers
    and whether it has AVX-512 (a VM's model name may be only "AMD EPYC": family 25 is Zen 3/4,
    26 Zen 5), else :func:`platform.processor`."""
    fields: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                fields.setdefault(key.strip(), value.strip())
                if not line.strip():
                    break  # the first processor's block is enough
    except OSError:
        pass
    if "model name" not in fields:
        return platform.processor() or platform.machine() or "unknown"
    simd = "AVX-512" if "avx512f" in fields.get("flags", "").split() else "no AVX-512"
    numbers = f"family {fields.get('cpu family', '?')}, model {fields.get('model', '?')}"
    return f"{fields['model name']} ({numbers}, {simd})"


def blas() -> str:
    """NumPy's BLAS as ``"<vendor> <version> (<kernel>, <n> threads)"``, from threadpoolctl
    (a scikit-learn dependency); ``"unknown"`` without it."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (pip install threadpoolctl)"
    libs = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    numpy_libs = [i for i in libs if "numpy" in str(i.get("filepath", ""))] or libs
    if not numpy_libs:
        return "unknown"
    i = numpy_libs[0]
    kernel = i.get("architecture") or i.get("threading_layer") or "?"
    chosen = os.environ.get("OPENBLAS_CORETYPE")
    if chosen and i.get("internal_api") == "openblas":
        kernel = f"{kernel}, forced by OPENBLAS_CORETYPE={chosen}"
    return f"{i.get('internal_api')} {i.get('version')} ({kernel}, {i.get('num_threads')} threads)"


def _torch() -> str:
    if package_version("torch") is None:
        return "not installed"
    import torch

    return f"{torch.__version__} ({torch.get_num_threads()} threads)"


def host() -> dict[str, Any]:
    """Everything :func:`describe` prints, as a JSON-serialisable dict."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": cpu_model(),
        "cores": cores,
        "blas": blas(),
        "numba": numba_status(),
        "mkl": mkl_library.status(),
        "malloc": host_memory.tune(),
        "torch": _torch(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def describe(info: dict[str, Any] | None = None) -> str:
    """One line: ``cpu, cores | BLAS | numba | MKL | malloc | torch | date``."""
    i = info or host()
    return (
        f"{i['cpu']}, {i['cores']} cores | BLAS {i['blas']} | numba {i['numba']} | "
        f"MKL {i.get('mkl', '?')} | malloc {i.get('malloc', '?')} | torch {i['torch']} | "
        f"{i['date']}"
    )


def notes() -> list[str]:
    """Settings of this process's environment that slow one library down, as advice lines:
    a BLAS kernel forced by ``OPENBLAS_CORETYPE`` (NumPy's OpenBLAS then skips the kernel it
    would pick for this CPU, say its AVX-512 one; torch's MKL/oneDNN ignore the variable)."""
    forced = os.environ.get("OPENBLAS_CORETYPE")
    if not forced:
        return []
    return [
        f"note: OPENBLAS_CORETYPE={forced} in the environment forces NumPy's OpenBLAS kernel "
        "(torch's MKL/oneDNN ignore it); for OpenBLAS's own choice on this CPU run "
        "`env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m nnx bench ...`"
    ]
