"""The backend contract: one small object per array library.

A backend carries the Array-API namespace (``xp``), the device, host<->device transfers, a seeded
random generator (the Array API has none) and named fast paths. Everything above
``nnx.backends`` reaches array libraries only through this object or ``array_namespace(x)``.

The methods a backend may override to go faster are in :mod:`nnx.backends.fast_paths`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any, TypeVar, cast

import array_api_compat
import numpy as np

from nnx.backends.fast_paths import FastPaths

__all__ = [
    "Array",
    "Backend",
    "Generator",
    "array_namespace",
    "on_backend_device",
    "register_namespace",
    "views_of",
]

Array = Any
_NAMESPACES: dict[type, Any] = {}
_DTYPE_NAMES = (
    "float32",
    "float64",
    "float16",
    "int64",
    "int32",
    "int8",
    "uint8",
    "int16",
    "uint16",
    "uint32",
    "uint64",
    "bool",
    "complex64",
    "complex128",
)


def array_namespace(*xs: Any) -> Any:
    """``array_api_compat.array_namespace``, memoised by array type for one argument.

    The namespace of an array depends only on its type, and the general lookup costs ~3 µs,
    which is a tenth of a small model's training step when every activation calls it.

    >>> import numpy as np
    >>> array_namespace(np.zeros(1)).__name__
    'array_api_compat.numpy'
    """
    if len(xs) == 1:
        kind = type(xs[0])
        xp = _NAMESPACES.get(kind)
        if xp is None:
            xp = _NAMESPACES[kind] = array_api_compat.array_namespace(xs[0])
        return xp
    kinds = {type(x) for x in xs if x is not None and not isinstance(x, int | float | complex)}
    if len(kinds) == 1:  # one array type: its (possibly registered) namespace
        return array_namespace(next(x for x in xs if type(x) in kinds))
    return array_api_compat.array_namespace(*xs)


def register_namespace(array_type: type, xp: Any) -> None:
    """Make :func:`array_namespace` return ``xp`` for arrays of ``array_type`` (a backend's
    own namespace, such as CuPy's device-entering one)."""
    _NAMESPACES[array_type] = xp


class Generator:
    """A seeded random generator that returns arrays of one backend.

    Draws are made on the host with NumPy's PCG64, in float64, and moved once, so a given seed
    gives the same numbers on every backend (initial weights can be compared across backends).
    Backends with a device-side generator override :meth:`bernoulli` for the hot path (dropout
    masks).

    Args:
        backend: the backend whose arrays are returned.
        seed: an int, or None for fresh OS entropy.

    >>> from nnx.backends import get_backend
    >>> rng = get_backend("numpy").rng(42)
    >>> rng.integers(0, 10, (3,)).tolist()
    [0, 7, 6]
    """

    def __init__(self, backend: Backend, seed: int | None = None) -> None:
        self.backend = backend
        self.host = np.random.default_rng(seed)

    def _move(self, values: np.ndarray, dtype: str | None) -> Array:
        return self.backend.asarray(values.astype(dtype or self.backend.default_float))

    def normal(
        self, shape: tuple[int, ...], mean: float = 0.0, std: float = 1.0, dtype: str | None = None
    ) -> Array:
        """Samples of N(mean, std^2), drawn in float64 on the host and cast to ``dtype``."""
        return self._move(self.host.normal(mean, std, size=shape), dtype)

    def uniform(
        self, shape: tuple[int, ...], low: float = 0.0, high: float = 1.0, dtype: str | None = None
    ) -> Array:
        """Samples of U[low, high), drawn in float64 on the host and cast to ``dtype``."""
        return self._move(self.host.uniform(low, high, size=shape), dtype)

    def bernoulli(self, shape: tuple[int, ...], p: float, dtype: str | None = None) -> Array:
        """A 0/1 float mask whose entries are 1 with probability ``p``."""
        draws = self.host.random(size=shape, dtype=np.float32)
        return self.backend.asarray((draws < p).astype(dtype or self.backend.default_float))

    def permutation(self, n: int) -> Array:
        """A random permutation of ``range(n)`` as an int64 array of this backend."""
        return self.backend.asarray(self.host.permutation(n).astype(np.int64))

    def host_permutation(self, n: int) -> np.ndarray:
        """A random permutation of ``range(n)`` kept on the host (for host-side batching)."""
        return self.host.permutation(n)

    def integers(self, low: int, high: int, shape: tuple[int, ...]) -> Array:
        """Integers drawn uniformly from ``[low, high)`` as an int64 array of this backend."""
        return self.backend.asarray(self.host.integers(low, high, size=shape, dtype=np.int64))

    def spawn(self) -> Generator:
        """An independent child generator (for a layer that needs its own stream)."""
        child = type(self).__new__(type(self))
        child.__dict__.update(self.__dict__)
        child.host = self.host.spawn(1)[0]
        return child

    def get_state(self) -> dict[str, Any]:
        """The generator's state, JSON-serialisable (for checkpoints)."""
        return dict(self.host.bit_generator.state)

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore a state returned by :meth:`get_state`."""
        self.host.bit_generator.state = state


class Backend(FastPaths):
    """An array library seen through the Array API, plus what the standard lacks.

    Attributes:
        name: registry name (``"numpy"``, ``"cupy"``, ``"array_api_strict"``).
        xp: the Array-API namespace.
        device: the device arrays are created on.
        default_float: the float dtype name used when none is given (``"float32"``).
        on_host: whether arrays live in host memory (reading one does not synchronise).

    >>> from nnx.backends import get_backend
    >>> numpy = get_backend("numpy")
    >>> numpy.dtype_name(numpy.asarray([1.0], dtype="float32"))
    'float32'
    """

    name: str = "abstract"
    default_float: str = "float32"
    #: arrays live in host memory, so reading a value costs no device synchronisation
    on_host: bool = False
    #: operators compute on a library-wide current device (CuPy), so model code must run
    #: inside :meth:`device_scope`; False: ``device_scope`` is a no-op and is skipped
    scoped: bool = False

    def __init__(self, xp: Any, device: Any = None) -> None:
        self.xp = xp
        self.device = device

    # --- arrays -------------------------------------------------------------------------------
    def asarray(self, data: Any, dtype: str | None = None) -> Array:
        """Host data (lists, NumPy arrays, arrays of another backend) as an array of this
        backend and device. ``dtype`` is a dtype name such as ``"float32"``."""
        if not isinstance(data, np.ndarray) and hasattr(data, "__dlpack__") and not self.owns(data):
            data = _other_backend_to_numpy(data)
        dt = None if dtype is None else self.dtype(dtype)
        return self.xp.asarray(data, dtype=dt, device=self.device)

    def to_numpy(self, x: Array) -> np.ndarray:
        """An array of this backend as a host NumPy array (a copy only where needed)."""
        return np.asarray(x)

    def owns(self, x: Any) -> bool:
        """Whether ``x`` is an array of this backend on this backend's device."""
        raise NotImplementedError

    def dtype(self, name: str) -> Any:
        """The namespace's dtype object for a name such as ``"float32"``."""
        try:
            return getattr(self.xp, name)
        except AttributeError:
            raise ValueError(f"Backend {self.name!r} has no dtype {name!r}.") from None

    def dtype_name(self, x: Array) -> str:
        """The name (``"float32"``) of an array's dtype."""
        for name in _DTYPE_NAMES:
            if hasattr(self.xp, name) and x.dtype == getattr(self.xp, name):
                return name
        return str(x.dtype)

    # --- randomness, devices ---------------------------------------------------------------------
    def rng(self, seed: int | None = None) -> Generator:
        """A seeded :class:`Generator` returning arrays of this backend."""
        return Generator(self, seed)

    def synchronize(self) -> None:
        """Wait until queued device work has finished (a no-op on the CPU)."""

    def device_scope(self) -> AbstractContextManager[Any]:
        """A context inside which operators and library calls compute on this backend's device
        (CuPy: its device made current, as ``with cupy.cuda.Device(i):``). Re-entrant; a no-op
        for backends whose arrays carry their device (NumPy, array-api-strict)."""
        return nullcontext()

    def device_name(self) -> str:
        """A human-readable name of the device (for ``nnx info`` and benchmarks)."""
        return "cpu"

    def library_version(self) -> str:
        """The array library's version string (for ``nnx info`` and benchmarks)."""
        return "unknown"

    def device_info(self) -> dict[str, str]:
        """What a report should say about the device: backend, device, library version (GPU
        backends add driver and runtime versions)."""
        return {
            "backend": self.name,
            "device": self.device_name(),
            "library": self.library_version(),
        }

    def erf(self, x: Array) -> Array:
        """The error function, elementwise (not in the Array API: each backend supplies it)."""
        host = self.to_numpy(x)
        return self.asarray(_np_erf(host), dtype=self.dtype_name(x))

    def __repr__(self) -> str:
        return f"<nnx backend {self.name!r} on {self.device_name()}>"


Method = TypeVar("Method", bound=Callable[..., Any])


def on_backend_device(method: Method) -> Method:
    """Run a method of an object with a ``backend`` attribute inside
    ``backend.device_scope()`` (``Model.fit``, ``Model.predict``...). Backends that are not
    :attr:`~Backend.scoped` skip it: one attribute test per call, nothing entered."""

    @functools.wraps(method)
    def scoped(self: Any, *args: Any, **kwargs: Any) -> Any:
        backend = self.backend
        if backend is None or not backend.scoped:
            return method(self, *args, **kwargs)
        with backend.device_scope():
            return method(self, *args, **kwargs)

    return cast(Method, scoped)


def views_of(xp: Any, flat: Array, shapes: Sequence[tuple[int, ...]]) -> tuple[Array, list[Array]]:
    """Views of consecutive pieces of ``flat`` shaped as ``shapes`` (libraries with views).

    >>> import numpy as np
    >>> [v.shape for v in views_of(np, np.zeros(7), [(2, 2), (3,)])[1]]
    [(2, 2), (3,)]
    """
    views, start = [], 0
    for shape in shapes:
        size = math.prod(shape)
        views.append(xp.reshape(flat[start : start + size], shape))
        start += size
    return flat, views


def _np_erf(x: np.ndarray) -> np.ndarray:
    try:
        from scipy.special import erf

        return erf(x)
    except ImportError:
        return np.vectorize(math.erf, otypes=[x.dtype])(x)


def _other_backend_to_numpy(data: Any) -> np.ndarray:
    # NOTE: CuPy refuses implicit host copies through __array__, so go through its .get().
    if hasattr(data, "get") and type(data).__module__.startswith("cupy"):
        return data.get()
    return np.from_dlpack(data)
