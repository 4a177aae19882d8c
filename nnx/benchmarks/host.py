"""The machine a benchmark ran on: CPU model and cores, BLAS vendor and kernel, numba on/off,
torch version and threads, and the date, printed above every table (ratios against torch
depend on all of them: MKL is fast on Intel and slow on AMD, OpenBLAS picks a kernel per CPU).

>>> info = host()
>>> {"cpu", "cores", "blas", "numba", "date"} <= set(info)
True
"""

from __future__ import annotations

import os
import platform
import time
from typing import Any

from nnx.backends.numba_paths import status as numba_status
from nnx.environment import package_version

__all__ = ["blas", "cpu_model", "describe", "host"]


def cpu_model() -> str:
    """The CPU's model name from ``/proc/cpuinfo`` (Linux), else :func:`platform.processor`."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


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
        "torch": _torch(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def describe(info: dict[str, Any] | None = None) -> str:
    """One line: ``cpu, cores | BLAS | numba | torch | date``."""
    i = info or host()
    return (
        f"{i['cpu']}, {i['cores']} cores | BLAS {i['blas']} | numba {i['numba']} | "
        f"torch {i['torch']} | {i['date']}"
    )
