"""Keras's numeric preprocessing layers: ``Normalization``, ``Discretization`` and
``CategoryEncoding``.

``Normalization`` learns a feature-wise mean and variance with :meth:`Normalization.adapt` (or
takes them) and maps ``x`` to ``(x - mean) / max(sqrt(var), eps)``; it sits at the head of a
model (Keras's "basic regression" tutorial) and is differentiable. ``Discretization`` maps values
to the index of their bin; ``CategoryEncoding`` turns integer ids into one-hot, multi-hot or
count rows. Their statistics are weights (mean, variance) or config (bin boundaries, token
count), so they save and load with the model.

>>> from nnx.backends import backend_of, get_backend
>>> be = get_backend("numpy")
>>> norm = Normalization()
>>> norm.adapt(be.asarray([[1.0, 10.0], [3.0, 30.0]]))
>>> norm(be.asarray([[2.0, 20.0], [3.0, 30.0]])).tolist()
[[0.0, 0.0], [1.0, 1.0]]
>>> CategoryEncoding(4, output_mode="multi_hot")(be.asarray([[0, 2], [3, 3]])).tolist()
[[1.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]
>>> Discretization(bin_boundaries=[0.0, 1.0])(be.asarray([[-1.0, 0.5, 2.0]])).tolist()
[[0, 1, 2]]
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from typing import Any

from array_api_compat import device as device_of

from nnx.backends import backend_of, get_backend
from nnx.backends.base import Array, Backend, array_namespace
from nnx.layers.base import Backprop, Layer, Shape, register_layer
from nnx.layers.parameter import Parameter
from nnx.validation import check_choice, check_int

__all__ = ["CategoryEncoding", "Discretization", "Normalization"]

#: Keras's ``backend.epsilon()``: the smallest standard deviation divided by
EPSILON = 1e-7


def _batches(data: Any, backend: Backend) -> Iterable[Array]:
    """The arrays of ``data``: one array-like, or an iterable of batches (a ``PyDataset``,
    a generator; ``(x, y)`` pairs give their ``x``)."""
    if hasattr(data, "shape") or (isinstance(data, (list, tuple)) and _is_numeric(data)):
        yield _as_array(data, backend)
        return
    for batch in data:
        yield _as_array(batch[0] if isinstance(batch, tuple) else batch, backend)


def _as_array(x: Any, backend: Backend) -> Array:
    """An array stays where it is (statistics are computed on its device); lists and other
    array-likes go to ``backend``."""
    return x if hasattr(x, "__array_namespace__") else backend.asarray(x)


def _is_numeric(data: Sequence[Any]) -> bool:
    first: Any = data
    while isinstance(first, (list, tuple)) and first:
        first = first[0]
    return isinstance(first, (int, float))


@register_layer
class Normalization(Layer):
    """``y = (x - mean) / max(sqrt(var), 1e-7)`` per feature (``invert=True``: ``y = mean + x
    max(sqrt(var), 1e-7)``); ``dx = dy / max(sqrt(var), 1e-7)``.

    The statistics are kept along ``axis`` (default the last: one mean per feature) and
    reduced over every other axis; ``axis=None`` keeps one mean and variance for everything.
    :meth:`adapt` learns them from data (the population variance, as Keras); or pass
    ``mean`` and ``variance`` (broadcast to the kept axes). They are non-trainable weights.

    Args:
        axis: the axis or axes kept (not the batch axis), or None.
        mean: the mean to use instead of adapting (with ``variance``).
        variance: the variance (>= 0).
        invert: map normalized values back to the data's scale.
    """

    supports_masking = True

    def __init__(
        self,
        axis: int | Sequence[int] | None = -1,
        mean: float | Sequence[Any] | None = None,
        variance: float | Sequence[Any] | None = None,
        invert: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        who = f"Normalization {self.name!r}"
        if axis is None:
            self.axis: tuple[int, ...] = ()
        else:
            axes = (axis,) if isinstance(axis, int) else tuple(axis)
            self.axis = tuple(check_int(a, "axis", who=who) for a in axes)
            if 0 in self.axis:
                raise ValueError(f"{who}: axis=0 is the batch axis; keep a feature axis.")
        if (mean is None) != (variance is None):
            raise ValueError(f"{who}: pass both mean and variance, or neither (then adapt).")
        if variance is not None and _flat_min(variance) < 0:
            raise ValueError(f"{who}: variance must be >= 0, received {variance!r}.")
        self.given = (mean, variance) if mean is not None else None
        self.invert = bool(invert)
        #: (mean, variance) learned by :meth:`adapt` before the layer was built, host lists
        self._adapted: tuple[list[float], list[float], tuple[int, ...]] | None = None
        self.mean: Parameter | None = None
        self.variance: Parameter | None = None

    # --- shapes ------------------------------------------------------------------------------
    def _kept(self, sample_shape: Shape) -> tuple[int, ...]:
        """The kept axes as positions in a batch ``(batch, *sample_shape)``."""
        ndim = len(sample_shape) + 1
        kept = []
        for a in self.axis:
            if not -ndim < a < ndim or a % ndim == 0:
                raise ValueError(
                    f"Normalization {self.name!r}: axis={a} is not a feature axis of inputs "
                    f"(batch, {', '.join(str(d) for d in sample_shape)})."
                )
            kept.append(a % ndim)
        return tuple(sorted(set(kept)))

    def _stats_shape(self, sample_shape: Shape) -> tuple[int, ...]:
        dims = [sample_shape[a - 1] for a in self._kept(sample_shape)]
        if any(d is None for d in dims):
            raise ValueError(
                f"Normalization {self.name!r}: the kept axes must have a known size, received "
                f"input shape (batch, {', '.join(str(d) for d in sample_shape)})."
            )
        return tuple(int(d) for d in dims if d is not None)

    def _broadcast(self, stats: Array, ndim: int) -> Array:
        """``stats`` (the kept axes) reshaped to broadcast against a batch of ``ndim`` axes."""
        xp = array_namespace(stats)
        kept = [a % ndim for a in self.axis]
        shape = [1] * ndim
        for a, d in zip(sorted(set(kept)), stats.shape, strict=True):
            shape[a] = d
        return xp.reshape(stats, tuple(shape))

    # --- statistics --------------------------------------------------------------------------
    def adapt(self, data: Any, batch_size: int | None = None, steps: int | None = None) -> None:
        """Learn the mean and variance of ``data`` (an array, or an iterable of batches,
        merged with Chan et al.'s pairwise update) over every axis but the kept ones.

        Args:
            data: the samples, ``(n, ...)``, or batches of them.
            batch_size: accepted for Keras's signature (an array is read at once).
            steps: how many batches of an iterable to read (all by default).
        """
        who = f"Normalization {self.name!r}"
        backend = get_backend(self.backend or "numpy")
        count, mean, m2 = 0, None, None
        shape: Shape | None = None
        for i, batch in enumerate(_batches(data, backend)):
            if steps is not None and i >= steps:
                break
            xp = array_namespace(batch)
            x = xp.astype(batch, getattr(xp, "float64", None) or xp.float32)
            if x.ndim < 1 or x.shape[0] == 0:
                raise ValueError(f"{who}: adapt needs samples, received shape {tuple(x.shape)}.")
            sample = tuple(x.shape[1:])
            if shape is not None and sample != shape:
                raise ValueError(
                    f"{who}: adapt received batches of samples {shape} and {sample}; they must "
                    f"agree."
                )
            if self.input_shape is not None and len(sample) != len(self.input_shape):
                raise ValueError(
                    f"{who}: adapt data has samples of shape {sample}, the layer was built for "
                    f"{tuple(self.input_shape)}."
                )
            shape = sample
            kept = self._kept(sample)
            reduce = tuple(a for a in range(x.ndim) if a not in kept)
            n = math.prod(x.shape[a] for a in reduce)
            b_mean = xp.mean(x, axis=reduce)
            b_m2 = xp.sum((x - self._broadcast(b_mean, x.ndim)) ** 2, axis=reduce)
            if mean is None or m2 is None:
                count, mean, m2 = n, b_mean, b_m2
            else:
                total = count + n
                delta = b_mean - mean
                mean = mean + delta * (n / total)
                m2 = m2 + b_m2 + delta**2 * (count * n / total)
                count = total
        if mean is None or m2 is None or shape is None:
            raise ValueError(f"{who}: adapt received no data.")
        variance = m2 / count
        xp = array_namespace(mean)
        if not bool(xp.all(xp.isfinite(mean))) or not bool(xp.all(xp.isfinite(variance))):
            raise ValueError(f"{who}: adapt data holds NaN or infinite values.")
        if not self.built:  # as Keras: adapt builds (open sizes on the axes not kept)
            kept = self._kept(shape)
            open_shape = tuple(d if i + 1 in kept else None for i, d in enumerate(shape))
            self.build(open_shape, backend_of(batch), dtype=self.dtype)
        self._set_stats(_host(mean), _host(variance), tuple(mean.shape))

    def _set_stats(self, mean: list[float], variance: list[float], shape: tuple[int, ...]) -> None:
        if self.mean is None or self.variance is None:
            self._adapted = (mean, variance, shape)
            return
        expected = tuple(self.mean.value.shape)
        if shape != expected:
            raise ValueError(
                f"Normalization {self.name!r}: adapt data has statistics of shape {shape}, the "
                f"built layer keeps {expected}."
            )
        backend = self.backend
        assert backend is not None
        self.mean.value = _array(backend, mean, shape, self.dtype)
        self.variance.value = _array(backend, variance, shape, self.dtype)

    def build_parameters(self, input_shape: Shape, rng: Any) -> None:
        shape = self._stats_shape(input_shape)
        self.mean = self.add_weight("mean", shape, "zeros", rng, trainable=False)
        self.variance = self.add_weight("variance", shape, "ones", rng, trainable=False)
        backend = self.backend
        assert backend is not None
        if self.given is not None:
            xp = backend.xp
            for param, value in zip((self.mean, self.variance), self.given, strict=True):
                given = xp.asarray(value, dtype=getattr(xp, self.dtype), device=backend.device)
                try:
                    param.value = xp.broadcast_to(given, shape) * xp.ones_like(param.value)
                except ValueError as error:
                    raise ValueError(
                        f"Normalization {self.name!r}: mean/variance of shape "
                        f"{tuple(given.shape)} do not broadcast to the kept axes {shape}."
                    ) from error
        elif self._adapted is not None:
            mean, variance, adapted = self._adapted
            self._adapted = None
            self._set_stats(mean, variance, adapted)

    # --- computing ---------------------------------------------------------------------------
    def forward(self, x: Array, *, training: bool = False) -> tuple[Array, Backprop]:
        self.check_input(x)
        assert self.mean is not None and self.variance is not None
        xp = array_namespace(x)
        if not xp.isdtype(x.dtype, "real floating"):
            x = xp.astype(x, getattr(xp, self.dtype))
        mean = self._broadcast(xp.astype(self.mean.value, x.dtype), x.ndim)
        std = xp.sqrt(self._broadcast(xp.astype(self.variance.value, x.dtype), x.ndim))
        scale = xp.maximum(std, xp.asarray(EPSILON, dtype=x.dtype, device=device_of(x)))
        if self.invert:
            y = mean + x * scale

            def backprop(dy: Array) -> Array:
                return dy * scale

            return y, backprop
        y = (x - mean) / scale

        def backprop_normalized(dy: Array) -> Array:
            return dy / scale

        return y, backprop_normalized

    def get_config(self) -> dict[str, Any]:
        config = {**super().get_config(), "axis": list(self.axis) or None, "invert": self.invert}
        if self.given is not None:
            config["mean"], config["variance"] = self.given
        return config


def _flat_min(value: Any) -> float:
    if isinstance(value, (int, float)):
        return float(value)
    return min((_flat_min(v) for v in value), default=0.0)


def _host(a: Array) -> list[float]:
    """A small statistics array as a flat list of Python floats (read back once, at adapt)."""
    xp = array_namespace(a)
    return [float(v) for v in xp.reshape(a, (-1,))]


def _array(backend: Backend, values: list[float], shape: tuple[int, ...], dtype: str) -> Array:
    xp = backend.xp
    flat = xp.asarray(values, dtype=getattr(xp, dtype), device=backend.device)
    return xp.reshape(flat, shape)


@register_layer
class Discretization(Layer):
    """The index of each value's bin: ``i`` such that ``b[i-1] <= x < b[i]`` for the sorted
    ``bin_boundaries`` ``b`` (``0`` below the first, ``len(b)`` from the last up), as int64;
    ``output_mode="one_hot"`` etc. encode the index as :class:`CategoryEncoding` does.
    :meth:`adapt` with ``num_bins`` picks the boundaries at the data's quantiles.

    Args:
        bin_boundaries: increasing boundaries; or None with ``num_bins`` and :meth:`adapt`.
        num_bins: the bins :meth:`adapt` makes.
        epsilon: accepted for Keras's signature (the quantiles here are exact).
        output_mode: ``"int"``, ``"one_hot"``, ``"multi_hot"`` or ``"count"``.
    """

    def __init__(
        self,
        bin_boundaries: Sequence[float] | None = None,
        num_bins: int | None = None,
        epsilon: float = 0.01,
        output_mode: str = "int",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        who = f"Discretization {self.name!r}"
        self.output_mode = check_choice(output_mode, "output_mode", (*_MODES, "int"), who=who)
        if (bin_boundaries is None) == (num_bins is None):
            raise ValueError(f"{who}: pass exactly one of bin_boundaries and num_bins.")
        self.num_bins = None if num_bins is None else check_int(num_bins, "num_bins", who=who)
        if self.num_bins is not None and self.num_bins < 2:
            raise ValueError(f"{who}: num_bins must be >= 2, received {self.num_bins}.")
        self.epsilon = float(epsilon)
        self.bin_boundaries: list[float] | None = None
        if bin_boundaries is not None:
            bounds = [float(b) for b in bin_boundaries]
            if any(b >= c for b, c in itertools.pairwise(bounds)):
                raise ValueError(f"{who}: bin_boundaries must increase, received {bounds}.")
            self.bin_boundaries = bounds

    def adapt(self, data: Any, batch_size: int | None = None, steps: int | None = None) -> None:
        """Boundaries at the ``1/num_bins, ..., (num_bins-1)/num_bins`` quantiles of ``data``."""
        who = f"Discretization {self.name!r}"
        if self.num_bins is None:
            raise ValueError(f"{who}: adapt needs num_bins (the layer has bin_boundaries).")
        backend = get_backend(self.backend or "numpy")
        batches = list(itertools.islice(_batches(data, backend), steps))
        if not batches:
            raise ValueError(f"{who}: adapt received no data.")
        xp = array_namespace(batches[0])
        parts = [xp.reshape(b, (-1,)) for b in batches]
        values = xp.sort(xp.astype(xp.concat(parts), getattr(xp, "float64", xp.float32)))
        n = values.shape[0]
        bounds = []
        for k in range(1, self.num_bins):
            position = k * (n - 1) / self.num_bins
            lo = math.floor(position)
            hi = min(lo + 1, n - 1)
            low, high = float(values[lo]), float(values[hi])
            bounds.append(low + (high - low) * (position - lo))
        self.bin_boundaries = sorted(set(bounds))

    def forward(self, x: Array, *, training: bool = False) -> tuple[Array, Backprop]:
        self.check_input(x)
        if self.bin_boundaries is None:
            raise RuntimeError(
                f"Discretization {self.name!r} has no bin boundaries yet: call adapt(data) "
                f"first, or pass bin_boundaries."
            )
        xp = array_namespace(x)
        dtype = x.dtype if xp.isdtype(x.dtype, "real floating") else getattr(xp, self.dtype)
        bounds = xp.asarray(self.bin_boundaries, dtype=dtype, device=device_of(x))
        index = xp.astype(
            xp.searchsorted(bounds, xp.reshape(xp.astype(x, dtype), (-1,)), side="right"), xp.int64
        )
        index = xp.reshape(index, x.shape)
        y = (
            index
            if self.output_mode == "int"
            else _encode(index, len(self.bin_boundaries) + 1, self.output_mode, self.dtype)
        )

        def backprop(dy: Array) -> Array:
            return xp.zeros_like(x)

        return y, backprop

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        if self.output_mode == "int":
            return tuple(input_shape)
        bins = self.num_bins if self.bin_boundaries is None else len(self.bin_boundaries) + 1
        return _encoded_shape(input_shape, bins, self.output_mode)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "bin_boundaries": self.bin_boundaries,
            "num_bins": None if self.bin_boundaries is not None else self.num_bins,
            "epsilon": self.epsilon,
            "output_mode": self.output_mode,
        }


_MODES = ("one_hot", "multi_hot", "count")


def _encoded_shape(input_shape: Shape, tokens: int | None, mode: str) -> Shape:
    """Keras's rule: one-hot adds an axis (a trailing axis of 1 is replaced); multi-hot and
    count replace the last axis (a 1-D sample is one set of ids)."""
    shape = tuple(input_shape)
    if mode == "one_hot":
        return (*shape[:-1], tokens) if shape and shape[-1] == 1 else (*shape, tokens)
    return (*shape[:-1], tokens) if shape else (tokens,)


def _encode(ids: Array, tokens: int, mode: str, dtype: str) -> Array:
    """``ids`` (int64, in ``[0, tokens)``) as one-hot, multi-hot or count rows."""
    xp = array_namespace(ids)
    out_dtype = getattr(xp, dtype)
    rows = ids
    if mode == "one_hot":
        if rows.ndim > 1 and rows.shape[-1] == 1:
            rows = xp.reshape(rows, rows.shape[:-1])
        eye = xp.arange(tokens, dtype=xp.int64, device=device_of(ids))
        return xp.astype(rows[..., None] == eye, out_dtype)
    if rows.ndim == 1:
        rows = rows[:, None]
    eye = xp.arange(tokens, dtype=xp.int64, device=device_of(ids))
    hits = xp.astype(rows[..., None] == eye, out_dtype)  # (..., ids, tokens)
    counts = xp.sum(hits, axis=-2)
    return counts if mode == "count" else xp.astype(counts > 0, out_dtype)


@register_layer
class CategoryEncoding(Layer):
    """Integer ids in ``[0, num_tokens)`` as ``"one_hot"`` rows (each id a row), ``"multi_hot"``
    rows (1 where an id of the sample occurs) or ``"count"`` rows (how often), Keras's
    shapes: ``(batch,)`` or ``(batch, 1)`` one-hot gives ``(batch, num_tokens)``; multi-hot and
    count of ``(batch, k)`` give ``(batch, num_tokens)``. No gradient reaches the ids.

    Args:
        num_tokens: the number of ids.
        output_mode: ``"multi_hot"`` (default), ``"one_hot"`` or ``"count"``.
    """

    def __init__(
        self, num_tokens: int | None = None, output_mode: str = "multi_hot", **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        who = f"CategoryEncoding {self.name!r}"
        if num_tokens is None:
            raise ValueError(f"{who}: num_tokens is required.")
        self.num_tokens = check_int(num_tokens, "num_tokens", who=who, minimum=1)
        self.output_mode = check_choice(output_mode, "output_mode", _MODES, who=who)

    def forward(self, x: Array, *, training: bool = False) -> tuple[Array, Backprop]:
        self.check_input(x)
        xp = array_namespace(x)
        ids = x if x.dtype == xp.int64 else xp.astype(xp.round(x), xp.int64)
        backend = self.backend
        if backend is not None and getattr(backend, "on_host", True) and ids.size:
            low, high = int(xp.min(ids)), int(xp.max(ids))
            if low < 0 or high >= self.num_tokens:
                raise ValueError(
                    f"CategoryEncoding {self.name!r}: id {high if high >= self.num_tokens else low}"
                    f" is outside [0, num_tokens={self.num_tokens})."
                )
        y = _encode(ids, self.num_tokens, self.output_mode, self.dtype)

        def backprop(dy: Array) -> Array:
            return xp.zeros_like(x)

        return y, backprop

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        return _encoded_shape(input_shape, self.num_tokens, self.output_mode)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "num_tokens": self.num_tokens,
            "output_mode": self.output_mode,
        }
