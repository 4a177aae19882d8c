"""Argument checks and layout helpers shared by the convolution-family layers.

Internally every spatial layer computes on channels-last 2-D batches ``(b, h, w, c)``: 1-D
inputs ``(b, length, c)`` become ``(b, 1, length, c)`` and channels-first inputs are transposed
at the layer boundary (and their gradients transposed back).
"""

from __future__ import annotations

from typing import Any

from nnx.backends.base import Array
from nnx.functional.conv import conv_output_length
from nnx.validation import check_choice, is_int

__all__ = [
    "as_pair",
    "check_data_format",
    "check_padding",
    "from_2d",
    "int_tuple",
    "join_shape",
    "split_shape",
    "to_2d",
]

DATA_FORMATS = ("channels_last", "channels_first")


def int_tuple(value: Any, rank: int, arg: str, who: str, minimum: int = 1) -> tuple[int, ...]:
    """``3 -> (3, 3)`` for rank 2; validates every entry is an int >= ``minimum``."""
    values = (value,) * rank if is_int(value) else value
    try:
        values = tuple(values)
    except TypeError:
        values = ()
    if len(values) != rank or not all(is_int(v) and v >= minimum for v in values):
        raise ValueError(
            f"{who}: {arg} must be an int >= {minimum} or a tuple of {rank} such ints, "
            f"received {arg}={value!r}."
        )
    return tuple(int(v) for v in values)


def as_pair(values: tuple[int, ...]) -> tuple[int, int]:
    """A 1-D window ``(k,)`` as the 2-D ``(1, k)``; a 2-D one unchanged."""
    return (1, values[0]) if len(values) == 1 else (values[0], values[1])


def check_padding(padding: Any, who: str) -> str:
    """``"valid"`` or ``"same"`` (any case); a ValueError naming ``who`` otherwise."""
    if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
        raise ValueError(f'{who}: padding must be "valid" or "same", received padding={padding!r}.')
    return padding.lower()


def check_data_format(data_format: Any, who: str) -> str:
    """``"channels_last"`` or ``"channels_first"``; a ValueError naming ``who`` otherwise."""
    return str(check_choice(data_format, "data_format", DATA_FORMATS, who=who))


def split_shape(input_shape: Any, rank: int, data_format: str, who: str) -> tuple[Any, Any]:
    """``(spatial dims, channels)`` of one sample's shape."""
    if len(input_shape) != rank + 1:
        layout = "spatial, channels" if data_format == "channels_last" else "channels, spatial"
        raise ValueError(
            f"{who} expects inputs of {rank + 1} dimensions per sample ({layout}), "
            f"received input shape {tuple(input_shape)}."
        )
    if data_format == "channels_last":
        return tuple(input_shape[:-1]), input_shape[-1]
    return tuple(input_shape[1:]), input_shape[0]


def join_shape(spatial: tuple[Any, ...], channels: Any, data_format: str) -> tuple[Any, ...]:
    """The inverse of :func:`split_shape`."""
    return (*spatial, channels) if data_format == "channels_last" else (channels, *spatial)


def to_2d(xp: Any, x: Array, rank: int, data_format: str) -> Array:
    """A batch of ``rank``-D samples as a channels-last 2-D batch ``(b, h, w, c)``."""
    if data_format == "channels_first":
        x = xp.permute_dims(x, (0, *range(2, rank + 2), 1))
    if rank == 1:
        x = xp.reshape(x, (x.shape[0], 1, x.shape[1], x.shape[2]))
    return x


def from_2d(xp: Any, y: Array, rank: int, data_format: str) -> Array:
    """The inverse of :func:`to_2d`."""
    if rank == 1:
        y = xp.reshape(y, (y.shape[0], y.shape[2], y.shape[3]))
    if data_format == "channels_first":
        y = xp.permute_dims(y, (0, rank + 1, *range(1, rank + 1)))
    return y


def windowed_output_shape(layer: Any, input_shape: Any, channels: Any) -> tuple[Any, ...]:
    """The output shape of a sliding-window layer (``kernel_size``, ``strides``,
    ``dilation_rate``, ``padding``, ``rank``, ``data_format``) with ``channels`` out channels;
    a window larger than the (padded) input is an error naming the layer."""
    spatial, _ = split_shape(input_shape, layer.rank, layer.data_format, layer.name)
    out = []
    for n, k, s, d in zip(
        spatial, layer.kernel_size, layer.strides, layer.dilation_rate, strict=True
    ):
        length = None if n is None else conv_output_length(n, k, s, layer.padding, d)
        if length is not None and length <= 0:
            raise ValueError(
                f"{type(layer).__name__} {layer.name!r}: input shape {input_shape} is too small "
                f"for kernel_size={layer.kernel_size}, dilation_rate={layer.dilation_rate}."
            )
        out.append(length)
    return join_shape(tuple(out), channels, layer.data_format)


def window(
    layer: Any, kernel_size: Any, strides: Any, dilation_rate: Any, who: str
) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """A sliding window's ``(kernel_size, strides, dilation_rate)``, each ``layer.rank`` ints
    (Keras refuses strides > 1 together with dilation > 1, and so does nnx)."""
    kernel = int_tuple(kernel_size, layer.rank, "kernel_size", who)
    steps = int_tuple(strides, layer.rank, "strides", who)
    dilation = int_tuple(dilation_rate, layer.rank, "dilation_rate", who)
    if max(steps) > 1 and max(dilation) > 1:
        raise ValueError(
            f"{who}: strides > 1 together with dilation_rate > 1 is not supported (as in "
            f"Keras), received strides={strides!r}, dilation_rate={dilation_rate!r}."
        )
    return kernel, steps, dilation
