"""The backend contract: one small object per array library.

A backend carries the Array-API namespace (``xp``), the device, host<->device transfers, a seeded
random generator (the Array API has none) and optional fast paths. Everything above
``nnx.backends`` reaches array libraries only through this object or ``array_namespace(x)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import array_api_compat
import numpy as np

Array = Any

_FLOAT_DTYPES = ("float32", "float64")
_NAMESPACES: dict[type, Any] = {}


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
    return array_api_compat.array_namespace(*xs)


class Generator:
    """A seeded random generator that returns arrays of one backend.

    Draws are made on the host with NumPy's PCG64 and moved once, so a given seed gives the same
    numbers on every backend (initial weights can be compared across backends). Backends with a
    device-side generator override :meth:`bernoulli` for the hot path (dropout masks).

    Args:
        backend: the backend whose arrays are returned.
        seed: an int, or None for fresh OS entropy.
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


class Backend:
    """An array library seen through the Array API, plus what the standard lacks.

    Attributes:
        name: registry name (``"numpy"``, ``"cupy"``, ``"array_api_strict"``).
        xp: the Array-API namespace.
        device: the device arrays are created on.
        default_float: the float dtype name used when none is given (``"float32"``).
    """

    name: str = "abstract"
    default_float: str = "float32"

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
        for name in (
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
        ):
            if hasattr(self.xp, name) and x.dtype == getattr(self.xp, name):
                return name
        return str(x.dtype)

    def is_float(self, x: Array) -> bool:
        return self.xp.isdtype(x.dtype, "real floating")

    # --- randomness, devices ---------------------------------------------------------------------
    def rng(self, seed: int | None = None) -> Generator:
        """A seeded :class:`Generator` returning arrays of this backend."""
        return Generator(self, seed)

    def synchronize(self) -> None:
        """Wait until queued device work has finished (a no-op on the CPU)."""

    def device_name(self) -> str:
        """A human-readable name of the device (for ``nnx info`` and benchmarks)."""
        return "cpu"

    def library_version(self) -> str:
        return "unknown"

    # --- optional fast paths (each has a portable fallback here) ---------------------------------
    def matmul(self, a: Array, b: Array, out: Array | None = None) -> Array:
        """``a @ b``, written into ``out`` where the library supports it."""
        return a @ b

    def im2col(
        self,
        x: Array,
        kernel: tuple[int, int],
        strides: tuple[int, int],
        dilation: tuple[int, int],
    ) -> Array:
        """The sliding windows of a padded channels-last image batch, one row per position.

        ``cols[b, p, q, (i kw + j) C + c] = x[b, i dh + p sh, j dw + q sw, c]``: a strided
        slice per kernel offset ``(i, j)``, stacked (portable; NumPy overrides it with a
        ``sliding_window_view``). Shape: ``(b, h, w, C) -> (b, oh, ow, kh kw C)``.
        """
        xp = self.xp
        b, h, w, c = x.shape
        (kh, kw), (sh, sw), (dh, dw) = kernel, strides, dilation
        oh, ow = (h - dh * (kh - 1) - 1) // sh + 1, (w - dw * (kw - 1) - 1) // sw + 1
        parts = [
            x[
                :,
                i * dh : i * dh + (oh - 1) * sh + 1 : sh,
                j * dw : j * dw + (ow - 1) * sw + 1 : sw,
                :,
            ]
            for i in range(kh)
            for j in range(kw)
        ]
        if len(parts) == 1:
            return parts[0]
        return xp.reshape(xp.stack(parts, axis=3), (b, oh, ow, kh * kw * c))

    def sum_rows(self, x: Array, out: Array | None = None) -> Array:
        """``sum(x, axis=0)`` of a 2-d array (bias gradients), into ``out`` where supported."""
        total = self.xp.sum(x, axis=0)
        if out is None:
            return total
        out[...] = total
        return out

    def fast_backward(self, activation: str) -> Callable[[Array, Array, Array], Array] | None:
        """A faster ``backward(dy, x, y)`` of the named (parameter-free) activation, or None.

        Each one equals :mod:`nnx.functional.activations`'s within float32 rounding."""
        return None

    def fast_update(self, rule: str) -> Callable[..., None] | None:
        """A fused optimizer update ``f(xp, w, g, slots, coefficients)`` for the rule named by
        :attr:`nnx.optimizers.Optimizer.fast_rule` (e.g. ``"adam"``), or None."""
        return None

    def flat_views(
        self, shapes: Sequence[tuple[int, ...]], dtype: str
    ) -> tuple[Array, list[Array]] | None:
        """One zeroed 1-d buffer holding arrays of ``shapes`` back to back, and a writable view
        of each; None where the library has no writable views (the portable default)."""
        return None

    def map_chunks(self, fn: Callable[[slice], Any], n: int) -> None:
        """Call ``fn`` on slices covering ``range(n)``: an elementwise update of flat buffers.
        Backends may run the slices on several threads; the default is one call."""
        fn(slice(0, n))

    def erf(self, x: Array) -> Array:
        """The error function, elementwise (not in the Array API: each backend supplies it)."""
        host = self.to_numpy(x)
        return self.asarray(_np_erf(host), dtype=self.dtype_name(x))

    def __repr__(self) -> str:
        return f"<nnx backend {self.name!r} on {self.device_name()}>"


def views_of(xp: Any, flat: Array, shapes: Sequence[tuple[int, ...]]) -> tuple[Array, list[Array]]:
    """Views of consecutive pieces of ``flat`` shaped as ``shapes`` (libraries with views)."""
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
        import math

        return np.vectorize(math.erf, otypes=[x.dtype])(x)


def _other_backend_to_numpy(data: Any) -> np.ndarray:
    # NOTE: CuPy refuses implicit host copies through __array__, so go through its .get().
    if hasattr(data, "get") and type(data).__module__.startswith("cupy"):
        return data.get()
    return np.from_dlpack(data)
