"""Shape layers for sequences ``(batch, steps, features)``, Keras's 1-D family:
``ZeroPadding1D``, ``Cropping1D``, ``UpSampling1D``, and ``Permute`` (any rank).

Each backward is the adjoint of its forward: padding crops ``dy``, cropping pads it with
zeros, up-sampling sums each block of ``size`` steps, permuting applies the inverse order.

>>> from nnx.backends import get_backend
>>> x = get_backend("numpy").asarray([[[1.0], [2.0]]])
>>> ZeroPadding1D((1, 0))(x)[0, :, 0].tolist(), UpSampling1D(2)(x)[0, :, 0].tolist()
([0.0, 1.0, 2.0], [1.0, 1.0, 2.0, 2.0])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from array_api_compat import device as device_of

from nnx.backends.base import Array, array_namespace
from nnx.layers.base import Backprop, Layer, Shape, register_layer
from nnx.validation import check_int, is_int

__all__ = ["Cropping1D", "Permute", "UpSampling1D", "ZeroPadding1D"]


def _pair(value: Any, argument: str, who: str) -> tuple[int, int]:
    """``n`` -> ``(n, n)``, or a pair of non-negative ints."""
    pair = (
        [value, value] if is_int(value) else list(value) if isinstance(value, (list, tuple)) else []
    )
    if len(pair) != 2 or not all(is_int(p) and p >= 0 for p in pair):
        raise ValueError(
            f"{who}: {argument} must be a non-negative int or a pair (left, right) of them, "
            f"received {argument}={value!r}."
        )
    return int(pair[0]), int(pair[1])


def _sequence(layer: Layer, x: Array) -> None:
    layer.check_input(x)
    if x.ndim != 3:
        raise ValueError(
            f"{type(layer).__name__} {layer.name!r} expects inputs of shape (batch, steps, "
            f"features), received shape {tuple(x.shape)}."
        )


def _steps_features(layer: Layer, input_shape: Shape) -> tuple[int | None, int | None]:
    """``(steps, features)`` of one sample, or a clear error for another rank."""
    if len(input_shape) != 2:
        raise ValueError(
            f"{type(layer).__name__} {layer.name!r} expects inputs of shape (batch, steps, "
            f"features), received input shape (None, {', '.join(map(str, input_shape))})."
        )
    return input_shape[0], input_shape[1]


def _zeros(x: Array, steps: int) -> Array:
    xp = array_namespace(x)
    return xp.zeros((x.shape[0], steps, x.shape[2]), dtype=x.dtype, device=device_of(x))


def _padded(x: Array, left: int, right: int) -> Array:
    parts = [_zeros(x, left)] * bool(left) + [x] + [_zeros(x, right)] * bool(right)
    return array_namespace(x).concat(parts, axis=1) if len(parts) > 1 else x


def _cropped(x: Array, left: int, right: int) -> Array:
    return x[:, left : x.shape[1] - right, :]


@register_layer
class ZeroPadding1D(Layer):
    """Zeros before and after each sequence: ``y = [0_left, x, 0_right]`` along the steps;
    backward ``dx = dy[:, left : -right]``.

    Args:
        padding: ``n`` (both ends) or ``(left, right)``.

    Shape:
        Input ``(batch, steps, features)``; output ``(batch, left + steps + right, features)``.
    """

    def __init__(self, padding: int | Sequence[int] = 1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.padding = _pair(padding, "padding", "ZeroPadding1D")

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        steps, features = _steps_features(self, input_shape)
        return (None if steps is None else steps + sum(self.padding), features)

    def forward(self, x: Array, *, training: bool = False) -> tuple[Array, Backprop]:
        _sequence(self, x)
        left, right = self.padding
        return _padded(x, left, right), lambda dy: _cropped(dy, left, right)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "padding": list(self.padding)}


@register_layer
class Cropping1D(Layer):
    """Drop steps at both ends: ``y = x[:, left : steps - right]``; backward pads ``dy``
    with zeros back to ``steps``.

    Args:
        cropping: ``n`` (both ends) or ``(left, right)``.

    Shape:
        Input ``(batch, steps, features)``; output ``(batch, steps - left - right, features)``.

    >>> from nnx.backends import get_backend
    >>> x = get_backend("numpy").asarray([[[1.0], [2.0], [3.0]]])
    >>> Cropping1D((1, 0))(x)[0, :, 0].tolist()
    [2.0, 3.0]
    """

    def __init__(self, cropping: int | Sequence[int] = (1, 1), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cropping = _pair(cropping, "cropping", "Cropping1D")

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        steps, features = _steps_features(self, input_shape)
        if steps is not None and steps - sum(self.cropping) < 1:
            raise ValueError(
                f"Cropping1D {self.name!r}: cropping={self.cropping} leaves no step of {steps}."
            )
        return (None if steps is None else steps - sum(self.cropping), features)

    def forward(self, x: Array, *, training: bool = False) -> tuple[Array, Backprop]:
        _sequence(self, x)
        self.compute_output_shape(tuple(x.shape[1:]))
        left, right = self.cropping
        return _cropped(x, left, right), lambda dy: _padded(dy, left, right)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "cropping": list(self.cropping)}


@register_layer
class UpSampling1D(Layer):
    """Repeat each step ``size`` times: ``y[:, t] = x[:, t // size]``; backward sums ``dy``
    over each block of ``size`` steps.

    Args:
        size: the repetition factor.

    Shape:
        Input ``(batch, steps, features)``; output ``(batch, size steps, features)``.
    """

    def __init__(self, size: int = 2, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.size = check_int(size, "size", who="UpSampling1D", minimum=1)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        steps, features = _steps_features(self, input_shape)
        return (None if steps is None else steps * self.size, features)

    def forward(self, x: Array, *, training: bool = False) -> tuple[Array, Backprop]:
        _sequence(self, x)
        xp, s = array_namespace(x), self.size
        b, steps, c = (int(d) for d in x.shape)
        y = xp.reshape(xp.broadcast_to(x[:, :, None, :], (b, steps, s, c)), (b, steps * s, c))

        def backprop(dy: Array) -> Array:
            return xp.sum(xp.reshape(dy, (b, steps, s, c)), axis=2)

        return y, backprop

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "size": self.size}


@register_layer
class Permute(Layer):
    """Reorder the sample axes: ``y = x.transpose(0, *dims)``; backward applies the inverse.

    Args:
        dims: a permutation of ``1 .. rank`` (axes counted from 1, the batch axis is fixed),
            e.g. ``(2, 1)`` swaps steps and features.

    Shape:
        Input ``(batch, d_1, ..., d_r)``; output ``(batch, d_dims[0], ..., d_dims[r-1])``.

    >>> from nnx.backends import get_backend
    >>> Permute((2, 1))(get_backend("numpy").asarray([[[1.0, 2.0]]])).shape
    (1, 2, 1)
    """

    def __init__(self, dims: Sequence[int], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        order = list(dims) if isinstance(dims, (list, tuple)) else []
        if not order or sorted(order) != list(range(1, len(order) + 1)):
            raise ValueError(
                f"Permute: dims must be a permutation of 1..rank (the batch axis stays first), "
                f"received dims={dims!r}."
            )
        self.dims = tuple(int(d) for d in order)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        if len(input_shape) != len(self.dims):
            raise ValueError(
                f"Permute {self.name!r}: dims={self.dims} needs samples of rank "
                f"{len(self.dims)}, received input shape {tuple(input_shape)}."
            )
        return tuple(input_shape[d - 1] for d in self.dims)

    def forward(self, x: Array, *, training: bool = False) -> tuple[Array, Backprop]:
        self.check_input(x)
        self.compute_output_shape(tuple(x.shape[1:]))
        xp = array_namespace(x)
        order = (0, *self.dims)
        inverse = tuple(order.index(i) for i in range(len(order)))
        return xp.permute_dims(x, order), lambda dy: xp.permute_dims(dy, inverse)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "dims": list(self.dims)}
