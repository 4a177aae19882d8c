"""``VarianceScaling`` and its presets: Glorot (Xavier), He (Kaiming) and LeCun."""

from __future__ import annotations

import math
from typing import Any, ClassVar

from nnx.backends.base import Array, Generator
from nnx.initializers.base import (
    TRUNCATED_STD,
    Initializer,
    check_shape,
    compute_fans,
    float_dtype,
    truncated_normal,
)
from nnx.validation import check_choice, check_float

__all__ = [
    "GlorotNormal",
    "GlorotUniform",
    "HeNormal",
    "HeUniform",
    "LecunNormal",
    "LecunUniform",
    "VarianceScaling",
]


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
        self.scale = check_float(scale, "scale", who=who, minimum=0.0, minimum_open=True)
        self.mode = check_choice(mode, "mode", self._MODES, who=who)
        if distribution == "normal":
            distribution = "truncated_normal"
        self.distribution = check_choice(distribution, "distribution", self._DISTRIBUTIONS, who=who)

    def __call__(self, shape: tuple[int, ...], rng: Generator, dtype: str = "float32") -> Array:
        who = type(self).__name__
        dims, dt = check_shape(shape, who), float_dtype(rng, dtype, who)
        fan_in, fan_out = compute_fans(dims)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}
        variance = self.scale / max(1.0, fan[self.mode])
        if self.distribution == "truncated_normal":
            x = truncated_normal(rng, dims, 0.0, math.sqrt(variance) / TRUNCATED_STD)
        elif self.distribution == "untruncated_normal":
            x = rng.normal(dims, 0.0, math.sqrt(variance), dtype="float64")
        else:
            limit = math.sqrt(3.0 * variance)
            x = rng.uniform(dims, -limit, limit, dtype="float64")
        return rng.backend.xp.astype(x, dt)

    def get_config(self) -> dict[str, Any]:
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution}


class _Preset(VarianceScaling):
    """A :class:`VarianceScaling` with fixed arguments (its config is empty)."""

    preset: ClassVar[tuple[float, str, str]]

    def __init__(self) -> None:
        super().__init__(*self.preset)

    def get_config(self) -> dict[str, Any]:
        return {}


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
