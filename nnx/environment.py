"""What this nnx runs with: its own version and the versions of the libraries around it.

Read from the installed distributions' metadata, so nothing is imported to learn a version.
Used by ``python -m nnx info`` and recorded with every benchmark result.

>>> isinstance(nnx_version(), str)
True
>>> "numpy" in versions()
True
"""

from __future__ import annotations

import importlib.metadata as metadata

__all__ = ["PACKAGES", "nnx_version", "package_version", "versions"]

#: label -> the distribution names that provide it (first installed one wins)
PACKAGES: dict[str, tuple[str, ...]] = {
    "numpy": ("numpy",),
    "array-api-compat": ("array-api-compat",),
    "array-api-extra": ("array-api-extra",),
    "array-api-strict": ("array-api-strict",),
    "cupy": ("cupy-cuda12x", "cupy-cuda13x", "cupy"),
    "tqdm": ("tqdm",),
    "scikit-learn": ("scikit-learn",),
    "torch": ("torch",),
    "matplotlib": ("matplotlib",),
    "mpi4py": ("mpi4py",),
    "mpi (MPICH wheel)": ("mpich",),
    "numba": ("numba",),
    "mkl": ("mkl",),
}


def package_version(*distributions: str) -> str | None:
    """The installed version of the first of ``distributions`` found, else None."""
    for dist in distributions:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return None


def nnx_version() -> str:
    """nnx's version: the installed ``nnx-array`` distribution, else ``nnx.__version__``."""
    import nnx

    return package_version("nnx-array") or str(
        getattr(nnx, "__version__", "unknown (not installed)")
    )


def versions() -> dict[str, str]:
    """``{"nnx": ..., label: version}`` for every library of :data:`PACKAGES` installed."""
    found = {label: package_version(*dists) for label, dists in PACKAGES.items()}
    return {"nnx": nnx_version(), **{k: v for k, v in found.items() if v}}
