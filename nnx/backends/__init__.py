"""Backends: which array library and device nnx computes on.

Selection, highest first: ``backend=`` on a model, ``with nnx.use_backend(...)``,
``nnx.set_backend(...)``, the ``NNX_BACKEND`` environment variable, then ``"numpy"``.

>>> import nnx
>>> with nnx.use_backend("numpy"):
...     nnx.get_backend().name
'numpy'
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, NamedTuple

from nnx.backends.base import Array, Backend, Generator
from nnx.backends.coefficients import AdamCoefficients, SGDCoefficients
from nnx.registry import Registry

__all__ = [
    "AdamCoefficients",
    "Array",
    "Backend",
    "BackendUnavailableError",
    "Generator",
    "SGDCoefficients",
    "available",
    "backend_of",
    "get_backend",
    "names",
    "set_backend",
    "use_backend",
]


class BackendUnavailableError(ImportError):
    """The requested backend cannot run here (library missing or no device)."""


def _numpy() -> Backend:
    from nnx.backends.numpy_backend import NumpyBackend

    return NumpyBackend()


def _strict() -> Backend:
    from nnx.backends.strict_backend import StrictBackend

    return StrictBackend()


def _strict_device1() -> Backend:
    from nnx.backends.strict_backend import SIMULATED_DEVICE, StrictBackend

    return StrictBackend(SIMULATED_DEVICE)


def _cupy(device_id: int = 0) -> Backend:
    import cupy  # ImportError: get_backend names the extra to install

    from nnx.backends.cupy_backend import CupyBackend

    try:
        backend = CupyBackend(device_id)
        # NOTE: a reduction compiles a kernel with NVRTC, so this fails here, not mid-training,
        # when no device answers or CUDA's libraries are missing (a driver-only machine).
        backend.xp.zeros(1).sum()
    except Exception as exc:
        raise BackendUnavailableError(
            f"Backend 'cupy' is not available on this machine: CuPy {cupy.__version__} is "
            f"installed but cannot compute on a CUDA device ({type(exc).__name__}: {exc}). "
            "Check the GPU and driver with nvidia-smi. Without a system CUDA Toolkit, CuPy "
            'needs CUDA\'s libraries from wheels: pip install "cupy-cuda12x[ctk]>=14" '
            '(what "nnx-array[cupy]" installs; "cupy-cuda13x[ctk]" for a CUDA 13 driver).'
        ) from exc
    return backend


class _Entry(NamedTuple):
    factory: Callable[[], Backend]
    requirement: str  # the pip requirement that provides it
    hint: str


_BACKENDS: Registry[_Entry] = Registry("backend")
_BACKENDS.add("numpy", _Entry(_numpy, "nnx-array", ""), aliases=("np",))
_BACKENDS.add("array_api_strict", _Entry(_strict, "nnx-array[strict]", ""), aliases=("strict",))
_BACKENDS.add(
    "array_api_strict:device1",
    _Entry(_strict_device1, "nnx-array[strict]", " (array-api-strict >= 2.2 has device1)"),
    aliases=("strict:device1",),
)
_BACKENDS.add(
    "cupy",
    _Entry(
        _cupy,
        "nnx-array[cupy]",
        " (CUDA 12; nnx-array[cupy-cuda13] for CUDA 13) on a machine with a CUDA device",
    ),
    aliases=("cp", "cuda", "gpu"),
)
_instances: dict[str, Backend] = {}
_default: ContextVar[str | Backend | None] = ContextVar("nnx_default_backend", default=None)


def names() -> list[str]:
    """All backend names nnx knows (available here or not), the default first."""
    order = ("numpy", "array_api_strict", "array_api_strict:device1", "cupy")
    return sorted(_BACKENDS.names(), key=order.index)


def get_backend(spec: str | Backend | None = None) -> Backend:
    """Resolve a backend name (or ``None`` for the current default) to a backend object.

    Args:
        spec: a backend name, a :class:`Backend` (returned as is), or None. ``"cupy:<n>"``
            is CuPy on CUDA device ``n`` (``"cupy"`` is device 0).

    Returns:
        The backend. Instances are created once and shared.

    Raises:
        ValueError: the name is unknown.
        BackendUnavailableError: the library is not installed or has no device here.
    """
    if isinstance(spec, Backend):
        return spec
    if spec is None:
        spec = _default.get()
        if isinstance(spec, Backend):
            return spec
        spec = spec or os.environ.get("NNX_BACKEND") or "numpy"
    device_id = _cuda_device(spec)
    if device_id is None:
        entry = key = _BACKENDS.canonical(spec)
    else:  # GPU 0 is plain "cupy"
        entry, key = "cupy", f"cupy:{device_id}" if device_id else "cupy"
    if key not in _instances:
        factory, extra, hint = _BACKENDS.lookup(entry)
        try:
            _instances[key] = _cupy(device_id) if device_id else factory()
        except BackendUnavailableError:
            raise
        except Exception as exc:
            raise BackendUnavailableError(
                f"Backend {key!r} is not available on this machine ({type(exc).__name__}: "
                f'{exc}). Install it with: pip install "{extra}"{hint}.'
            ) from exc
    return _instances[key]


def _cuda_device(spec: str) -> int | None:
    """The device number of ``"cupy:<n>"`` (any spelling of cupy: ``"gpu:1"``), else None."""
    name, colon, index = spec.rpartition(":")
    if colon and index.isdigit() and name in _BACKENDS and _BACKENDS.canonical(name) == "cupy":
        return int(index)
    return None


def available() -> list[str]:
    """Names of the backends that work on this machine (``cupy`` only with a CUDA device)."""
    found = []
    for name in names():
        try:
            get_backend(name)
        except BackendUnavailableError:
            continue
        found.append(name)
    return found


def set_backend(spec: str | Backend) -> None:
    """Set the default backend for models built from now on in this context."""
    _default.set(get_backend(spec))


@contextmanager
def use_backend(spec: str | Backend) -> Iterator[Backend]:
    """Use a backend as the default inside a ``with`` block."""
    token = _default.set(get_backend(spec))
    try:
        yield _default.get()  # type: ignore[misc]
    finally:
        _default.reset(token)


def backend_of(x: Any) -> Backend:
    """The backend that owns array ``x``; TypeError for anything else."""
    module = type(x).__module__.split(".")[0]
    for name in {
        "numpy": ["numpy"],
        "array_api_strict": ["array_api_strict"],
        "cupy": ["cupy"],
    }.get(module, []):
        backend = get_backend(name)
        if backend.owns(x):
            return backend
    for backend in _instances.values():
        if backend.owns(x):
            return backend
    raise TypeError(
        f"Expected an array of an nnx backend ({', '.join(names())}), "
        f"received {type(x).__module__}.{type(x).__name__}."
    )
