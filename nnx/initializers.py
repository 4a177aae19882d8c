"""Weight initializers by name, as used by ``Dense(..., kernel_initializer="glorot_uniform")``.

An initializer is called as ``init(shape, rng, dtype)`` and returns an array of ``rng``'s backend.
Random draws go through ``rng`` in float64 on the host and are cast once, so a given seed gives
the same initial weights on every backend. Names, defaults and formulas follow Keras.

>>> from nnx import initializers
>>> from nnx.backends import get_backend
>>> w = initializers.get("glorot_uniform")((784, 128), get_backend("numpy").rng(0))
>>> w.shape, str(w.dtype)
((784, 128), 'float32')
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from nnx.backends import get_backend
from nnx.backends.base import Array, Generator
from nnx.config import Configurable, from_named_config

__all__ = [
    "Constant",
    "GlorotNormal",
    "GlorotUniform",
    "HeNormal",
    "HeUniform",
    "Identity",
    "Initializer",
    "InitializerFn",
    "LecunNormal",
    "LecunUniform",
    "Ones",
    "Orthogonal",
    "RandomNormal",
    "RandomUniform",
    "TruncatedNormal",
    "VarianceScaling",
    "Zeros",
    "compute_fans",
    "get",
    "names",
]

InitializerFn = Callable[[tuple[int, ...], Generator, str], Array]

# NOTE: the std of a standard normal truncated to [-2, 2]; dividing by it keeps the variance.
_TRUNCATED_STD = 0.87962566103423978


def compute_fans(shape: Sequence[int]) -> tuple[int, int]:
    """The ``(fan_in, fan_out)`` of a weight shape, as Keras computes them.

    ``(in, out)`` gives ``(in, out)``; a convolution kernel ``(*receptive, in, out)`` gives
    ``(in * r, out * r)`` with ``r`` the product of the receptive-field sizes; a 1-D shape
    ``(n,)`` gives ``(n, n)`` and a scalar ``(1, 1)``.

    Args:
        shape: the weight shape.

    Returns:
        ``(fan_in, fan_out)``.

    >>> compute_fans((3, 3, 16, 32))
    (144, 288)
    """
    shape = tuple(int(d) for d in shape)
    if not shape:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer(Configurable):
    """Base class: ``init(shape, rng, dtype="float32") -> array`` plus a JSON config.

    Subclasses set ``name`` (the registry name) and implement :meth:`__call__`; ``get_config``
    returns ``{"name": ..., **constructor_arguments}`` so ``get(init.get_config())`` rebuilds it.

    >>> Zeros().get_config()
    {'name': 'zeros'}
    """

    name: ClassVar[str] = "initializer"

    def __call__(self, shape: tuple[int, ...], rng: Generator, dtype: str = "float32") -> Array:
        """An array of ``shape`` and ``dtype`` on ``rng``'s backend."""
        raise NotImplementedError


def _shape(shape: Any, who: str) -> tuple[int, ...]:
    if isinstance(shape, int):
        shape = (shape,)
    try:
        dims = tuple(int(d) for d in shape)
    except (TypeError, ValueError):
        dims = (-1,)
    if any(d < 0 for d in dims):
        raise ValueError(f"{who}: shape must be a tuple of non-negative ints, received {shape!r}.")
    return dims


def _float_dtype(rng: Generator, dtype: str, who: str) -> Any:
    dt = rng.backend.dtype(dtype)
    if not rng.backend.xp.isdtype(dt, "real floating"):
        raise ValueError(f"{who}: dtype must be a floating-point dtype, received dtype={dtype!r}.")
    return dt


def _number(value: Any, arg: str, who: str, minimum: float | None = None) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok:
        raise ValueError(f"{who}: {arg} must be a finite number, received {arg}={value!r}.")
    if minimum is not None and value < minimum:
        raise ValueError(f"{who}: {arg} must be >= {minimum:g}, received {arg}={value!r}.")
    return float(value)


def _truncated_normal(rng: Generator, shape: tuple[int, ...], mean: float, stddev: float) -> Array:
    # Redraw the whole array and keep only what replaces out-of-range entries: the Array API has
    # no scatter, and the host stream (hence the result) is the same on every backend.
    xp = rng.backend.xp
    x = rng.normal(shape, mean, stddev, dtype="float64")
    outside = xp.abs(x - mean) > 2.0 * stddev
    while bool(xp.any(outside)):
        x = xp.where(outside, rng.normal(shape, mean, stddev, dtype="float64"), x)
        outside = xp.abs(x - mean) > 2.0 * stddev
    return x


class Zeros(Initializer):
    """All zeros: ``w = 0``.

    >>> from nnx.backends import get_backend
    >>> Zeros()((2,), get_backend("numpy").rng(0))
    array([0., 0.], dtype=float32)
    """

    name = "zeros"

    def __call__(self, shape: tuple[int, ...], rng: Generator, dtype: str = "float32") -> Array:
        backend = rng.backend
        dims = _shape(shape, "Zeros")
        return backend.xp.zeros(dims, dtype=backend.dtype(dtype), device=backend.device)


class Ones(Initializer):
    """All ones: ``w = 1``.

    >>> from nnx.backends import get_backend
    >>> Ones()((2,), get_backend("numpy").rng(0))
    array([1., 1.], dtype=float32)
    """

    name = "ones"

    def __call__(self, shape: tuple[int, ...], rng: Generator, dtype: str = "float32") -> Array:
        backend = rng.backend
        dims = _shape(shape, "Ones")
        return backend.xp.ones(dims, dtype=backend.dtype(dtype), device=backend.device)


class Constant(Initializer):
    """Every entry equal to ``value``: ``w = value``.

    Args:
        value: the scalar to fill with.

    >>> from nnx.backends import get_backend
    >>> Constant(0.5)((2,), get_backend("numpy").rng(0))
    array([0.5, 0.5], dtype=float32)
    """

    name = "constant"

    def __init__(self, value: float = 0.0) -> None:
        self.value = _number(value, "value", "Constant")

    def __call__(self, shape: tuple[int, ...], rng: Generator, dtype: str = "float32") -> Array:
        backend = rng.backend
        dims = _shape(shape, "Constant")
        return backend.xp.full(dims, self.value, dtype=backend.dtype(dtype), device=backend.device)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value}


class RandomNormal(Initializer):
    """Samples of a normal distribution: ``w ~ N(mean, stddev^2)``.

    Args:
        mean: the mean.
        stddev: the standard deviation (>= 0).

    >>> from nnx.backends import get_backend
    >>> w = RandomNormal(stddev=1.0)((1000,), get_backend("numpy").rng(0))
    >>> bool(abs(float(w.std()) - 1.0) < 0.05)
    True
    """

    name = "random_normal"

    def __init__(self, mean: float = 0.0, stddev: float = 0.05) -> None:
        self.mean = _number(mean, "mean", "RandomNormal")
        self.stddev = _number(stddev, "stddev", "RandomNormal", minimum=0.0)

    def __call__(self, shape: tuple[int, ...], rng: Generator, dtype: str = "float32") -> Array:
        dims, dt = _shape(shape, "RandomNormal"), _float_dtype(rng, dtype, "RandomNormal")
        x = rng.normal(dims, self.mean, self.stddev, dtype="float64")
        return rng.backend.xp.astype(x, dt)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "mean": self.mean, "stddev": self.stddev}


class RandomUniform(Initializer):
    """Samples of a uniform distribution: ``w ~ U[minval, maxval)``.

    Args:
        minval: the lower bound.
        maxval: the upper bound (>= ``minval``).

    >>> from nnx.backends import get_backend
    >>> w = RandomUniform(0.0, 1.0)((1000,), get_backend("numpy").rng(0))
    >>> bool(w.min() >= 0.0 and w.max() < 1.0)
    True
    """

    name = "random_uniform"

    def __init__(self, minval: float = -0.05, maxval: float = 0.05) -> None:
        self.minval = _number(minval, "minval", "RandomUniform")
        self.maxval = _number(maxval, "maxval", "RandomUniform", minimum=self.minval)

    def __call__(self, shape: tuple[int, ...], rng: Generator, dtype: str = "float32") -> Array:
        dims, dt = _shape(shape, "RandomUniform"), _float_dtype(rng, dtype, "RandomUniform")
        x = rng.uniform(dims, self.minval, self.maxval, dtype="float64")
        return rng.backend.xp.astype(x, dt)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "minval": self.minval, "maxval": self.maxval}


class TruncatedNormal(Initializer):
    """Normal samples with those more than two ``stddev`` from ``mean`` redrawn (as Keras).

    ``w ~ N(mean, stddev^2)`` conditioned on ``|w - mean| <= 2 stddev``; the resulting
    standard deviation is about ``0.88 stddev``.

    Args:
        mean: the mean.
        stddev: the standard deviation before truncation (>= 0).

    >>> from nnx.backends import get_backend
    >>> w = TruncatedNormal(stddev=1.0)((1000,), get_backend("numpy").rng(0))
    >>> bool(abs(w).max() <= 2.0)
    True
    """

    name = "truncated_normal"

    def __init__(self, mean: float = 0.0, stddev: float = 0.05) -> None:
        self.mean = _number(mean, "mean", "TruncatedNormal")
        self.stddev = _number(stddev, "stddev", "TruncatedNormal", minimum=0.0)

    def __call__(self, shape: tuple[int, ...], rng: Generator, dtype: str = "float32") -> Array:
        dims, dt = _shape(shape, "TruncatedNormal"), _float_dtype(rng, dtype, "TruncatedNormal")
        x = _truncated_normal(rng, dims, self.mean, self.stddev)
        return rng.backend.xp.astype(x, dt)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "mean": self.mean, "stddev": self.stddev}


class VarianceScaling(Initializer):
    """Samples whose variance is ``scale / n``, with ``n`` a fan of the shape (Keras semantics).

    ``n`` is ``fan_in``, ``fan_out`` or ``(fan_in + fan_out) / 2`` (see :func:`compute_fans`),
    at least 1. Then, with ``v = scale / n``:

    - ``"truncated_normal"``: :class:`TruncatedNormal` with ``stddev = sqrt(v) / 0.8796...``
      (so the truncated samples have variance ``v``);
    - ``"untruncated_normal"``: ``N(0, v)``;
    - ``"uniform"``: ``U[-limit, limit)`` with ``limit = sqrt(3 v)``.

    Args:
        scale: the variance scale (> 0).
        mode: ``"fan_in"``, ``"fan_out"`` or ``"fan_avg"``.
        distribution: ``"truncated_normal"`` (``"normal"`` is an alias, as in Keras 2),
            ``"untruncated_normal"`` or ``"uniform"``.

    >>> from nnx.backends import get_backend
    >>> init = VarianceScaling(2.0, "fan_in", "untruncated_normal")
    >>> w = init((200, 300), get_backend("numpy").rng(0))
    >>> round(float(w.var() * 200), 1)
    2.0
    """

    name = "variance_scaling"
    _MODES = ("fan_in", "fan_out", "fan_avg")
    _DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")

    def __init__(
        self, scale: float = 1.0, mode: str = "fan_in", distribution: str = "truncated_normal"
    ) -> None:
        who = type(self).__name__
        self.scale = _number(scale, "scale", who)
        if self.scale <= 0.0:
            raise ValueError(f"{who}: scale must be > 0, received scale={scale!r}.")
        if mode not in self._MODES:
            raise ValueError(f"{who}: mode must be one of {self._MODES}, received mode={mode!r}.")
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in self._DISTRIBUTIONS:
            raise ValueError(
                f"{who}: distribution must be one of {self._DISTRIBUTIONS}, "
                f"received distribution={distribution!r}."
            )
        self.mode = mode
        self.distribution = distribution

    def __call__(self, shape: tuple[int, ...], rng: Generator, dtype: str = "float32") -> Array:
        who = type(self).__name__
        dims, dt = _shape(shape, who), _float_dtype(rng, dtype, who)
        fan_in, fan_out = compute_fans(dims)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}
        variance = self.scale / max(1.0, fan[self.mode])
        if self.distribution == "truncated_normal":
            x = _truncated_normal(rng, dims, 0.0, math.sqrt(variance) / _TRUNCATED_STD)
        elif self.distribution == "untruncated_normal":
            x = rng.normal(dims, 0.0, math.sqrt(variance), dtype="float64")
        else:
            limit = math.sqrt(3.0 * variance)
            x = rng.uniform(dims, -limit, limit, dtype="float64")
        return rng.backend.xp.astype(x, dt)

    def get_config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
        }


class _Preset(VarianceScaling):
    """A :class:`VarianceScaling` with fixed arguments (its config is just its name)."""

    preset: ClassVar[tuple[float, str, str]]

    def __init__(self) -> None:
        super().__init__(*self.preset)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name}


class GlorotUniform(_Preset):
    """Glorot (Xavier) uniform, the Keras default kernel initializer.

    ``w ~ U[-limit, limit)`` with ``limit = sqrt(6 / (fan_in + fan_out))``
    (``VarianceScaling(1.0, "fan_avg", "uniform")``).

    >>> from nnx.backends import get_backend
    >>> w = GlorotUniform()((4, 2), get_backend("numpy").rng(0))
    >>> bool(abs(w).max() <= 1.0)
    True
    """

    name = "glorot_uniform"
    preset = (1.0, "fan_avg", "uniform")


class GlorotNormal(_Preset):
    """Glorot (Xavier) normal: truncated normal with ``stddev = sqrt(2 / (fan_in + fan_out))``.

    The truncated normal's parameter is ``stddev / 0.8796...`` so the samples themselves have
    that standard deviation (``VarianceScaling(1.0, "fan_avg", "truncated_normal")``).

    >>> from nnx.backends import get_backend
    >>> GlorotNormal()((4, 2), get_backend("numpy").rng(0)).shape
    (4, 2)
    """

    name = "glorot_normal"
    preset = (1.0, "fan_avg", "truncated_normal")


class HeNormal(_Preset):
    """He (Kaiming) normal: truncated normal with ``stddev = sqrt(2 / fan_in)``.

    ``VarianceScaling(2.0, "fan_in", "truncated_normal")``; suited to ReLU layers.

    >>> from nnx.backends import get_backend
    >>> HeNormal()((4, 2), get_backend("numpy").rng(0)).shape
    (4, 2)
    """

    name = "he_normal"
    preset = (2.0, "fan_in", "truncated_normal")


class HeUniform(_Preset):
    """He (Kaiming) uniform: ``U[-limit, limit)`` with ``limit = sqrt(6 / fan_in)``.

    ``VarianceScaling(2.0, "fan_in", "uniform")``.

    >>> from nnx.backends import get_backend
    >>> w = HeUniform()((6, 2), get_backend("numpy").rng(0))
    >>> bool(abs(w).max() <= 1.0)
    True
    """

    name = "he_uniform"
    preset = (2.0, "fan_in", "uniform")


class LecunNormal(_Preset):
    """LeCun normal: truncated normal with ``stddev = sqrt(1 / fan_in)`` (for SELU networks).

    ``VarianceScaling(1.0, "fan_in", "truncated_normal")``.

    >>> from nnx.backends import get_backend
    >>> LecunNormal()((4, 2), get_backend("numpy").rng(0)).shape
    (4, 2)
    """

    name = "lecun_normal"
    preset = (1.0, "fan_in", "truncated_normal")


class LecunUniform(_Preset):
    """LeCun uniform: ``U[-limit, limit)`` with ``limit = sqrt(3 / fan_in)``.

    ``VarianceScaling(1.0, "fan_in", "uniform")``.

    >>> from nnx.backends import get_backend
    >>> w = LecunUniform()((3, 2), get_backend("numpy").rng(0))
    >>> bool(abs(w).max() <= 1.0)
    True
    """

    name = "lecun_uniform"
    preset = (1.0, "fan_in", "uniform")


class Orthogonal(Initializer):
    """A (semi-)orthogonal matrix times ``gain`` (Saxe et al., as Keras).

    The shape is flattened to ``(rows, cols) = (prod(shape[:-1]), shape[-1])``. With
    ``A ~ N(0, 1)`` of shape ``(max(rows, cols), min(rows, cols))`` and ``A = QR``,
    ``Q <- Q * sign(diag(R))`` (which makes the result uniformly distributed), transposed when
    ``rows < cols``; then ``w = gain * Q``. So ``w^T w = gain^2 I`` when ``rows >= cols`` and
    ``w w^T = gain^2 I`` otherwise. The QR runs on the host in float64, so every backend gets
    the same values.

    Args:
        gain: the multiplicative factor.

    >>> from nnx.backends import get_backend
    >>> w = Orthogonal()((3, 3), get_backend("numpy").rng(0), "float64")
    >>> bool(abs(w.T @ w - get_backend("numpy").xp.eye(3)).max() < 1e-12)
    True
    """

    name = "orthogonal"

    def __init__(self, gain: float = 1.0) -> None:
        self.gain = _number(gain, "gain", "Orthogonal")

    def __call__(self, shape: tuple[int, ...], rng: Generator, dtype: str = "float32") -> Array:
        dims = _shape(shape, "Orthogonal")
        _float_dtype(rng, dtype, "Orthogonal")
        if len(dims) < 2:
            raise ValueError(
                f"Orthogonal: the shape must have at least 2 dimensions, received {dims}."
            )
        rows, cols = math.prod(dims[:-1]), dims[-1]
        a = rng.normal((max(rows, cols), min(rows, cols)), dtype="float64")
        host = get_backend("numpy").xp
        q, r = host.linalg.qr(rng.backend.to_numpy(a))
        q = q * host.sign(host.linalg.diagonal(r))
        if rows < cols:
            q = host.matrix_transpose(q)
        return rng.backend.asarray(self.gain * host.reshape(q, dims), dtype=dtype)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "gain": self.gain}


class Identity(Initializer):
    """``gain`` times the identity matrix (2-D shapes only; rectangular ones get ones on the
    main diagonal): ``w = gain * I``.

    Args:
        gain: the multiplicative factor.

    >>> from nnx.backends import get_backend
    >>> Identity(2.0)((2, 2), get_backend("numpy").rng(0))
    array([[2., 0.],
           [0., 2.]], dtype=float32)
    """

    name = "identity"

    def __init__(self, gain: float = 1.0) -> None:
        self.gain = _number(gain, "gain", "Identity")

    def __call__(self, shape: tuple[int, ...], rng: Generator, dtype: str = "float32") -> Array:
        dims = _shape(shape, "Identity")
        if len(dims) != 2:
            raise ValueError(f"Identity: the shape must be 2-D, received {dims}.")
        backend = rng.backend
        eye = backend.xp.eye(*dims, dtype=backend.dtype(dtype), device=backend.device)
        return self.gain * eye

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "gain": self.gain}


_CLASSES: dict[str, type[Initializer]] = {
    cls.name: cls
    for cls in (
        Zeros,
        Ones,
        Constant,
        RandomNormal,
        RandomUniform,
        TruncatedNormal,
        VarianceScaling,
        GlorotUniform,
        GlorotNormal,
        HeNormal,
        HeUniform,
        LecunNormal,
        LecunUniform,
        Orthogonal,
        Identity,
    )
}
_ALIASES = {
    "zero": "zeros",
    "one": "ones",
    "normal": "random_normal",
    "uniform": "random_uniform",
    "xavier_uniform": "glorot_uniform",
    "xavier_normal": "glorot_normal",
    "kaiming_uniform": "he_uniform",
    "kaiming_normal": "he_normal",
    "orthogonal_initializer": "orthogonal",
}
# NOTE: lets Keras class names ("GlorotUniform") resolve too.
_COMPACT = {key.replace("_", ""): key for key in [*_CLASSES, *_ALIASES]}


def names() -> list[str]:
    """Every initializer name :func:`get` accepts, aliases excluded.

    >>> names()[:3]
    ['constant', 'glorot_normal', 'glorot_uniform']
    """
    return sorted(_CLASSES)


def _lookup(name: Any) -> type[Initializer]:
    key = name.strip().lower().replace("-", "_") if isinstance(name, str) else None
    if key is not None:
        key = _COMPACT.get(key.replace("_", ""), key)
        key = _ALIASES.get(key, key)
    if key not in _CLASSES:
        raise ValueError(
            f"Unknown initializer {name!r}. Valid initializers: {', '.join(names())} "
            f"(aliases: {', '.join(sorted(_ALIASES))})."
        )
    return _CLASSES[key]


def get(spec: str | Initializer | InitializerFn | dict[str, Any] | type[Initializer]) -> Any:
    """Resolve an initializer specification to something called as ``init(shape, rng, dtype)``.

    Args:
        spec: a name (``"glorot_uniform"``, Keras aliases such as ``"xavier_uniform"`` and class
            names such as ``"GlorotUniform"`` too), an :class:`Initializer` (returned as is) or
            its class, a config dict ``{"name": ..., **kwargs}``, or a callable
            ``(shape, rng, dtype) -> array`` (returned as is).

    Returns:
        The initializer.

    Raises:
        ValueError: unknown name (the message lists the valid ones) or bad config.

    >>> get("xavier_normal")
    GlorotNormal()
    >>> get({"name": "random_normal", "stddev": 0.1})
    RandomNormal(mean=0.0, stddev=0.1)
    """
    if isinstance(spec, Initializer):
        return spec
    if isinstance(spec, type) and issubclass(spec, Initializer):
        return spec()
    if isinstance(spec, dict):
        return from_named_config(spec, _lookup, "initializer", names())
    if isinstance(spec, str):
        return _lookup(spec)()
    if callable(spec):
        return spec
    return _lookup(spec)
