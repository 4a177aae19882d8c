"""``ConvBase``: the arguments and weights shared by convolutions and transposed convolutions."""

from __future__ import annotations

from typing import Any

import nnx.initializers as initializers
import nnx.regularizers as regularizers
from nnx.backends.base import Generator
from nnx.layers import _spatial as sp
from nnx.layers.activation import ActivatedLayer
from nnx.layers.base import Shape, serialize_or_none
from nnx.layers.parameter import Parameter
from nnx.validation import check_bool, check_int

__all__ = ["ConvBase"]


class ConvBase(ActivatedLayer):
    """Keras's convolution arguments, checked once, and the ``kernel`` and ``bias`` weights.

    Subclasses give the kernel's layout (:meth:`kernel_shape`: ``(*kernel_size, C, filters)``
    for a convolution, ``(*kernel_size, filters, C)`` for a transposed one) and the forward
    pass; ``rank`` is 1 or 2.

    Args:
        filters: number of output channels.
        kernel_size, strides, dilation_rate: an int or ``rank`` ints each (not strides > 1
            together with dilation > 1).
        padding: ``"valid"`` or ``"same"``.
        data_format: ``"channels_last"`` (or None) or ``"channels_first"``.
        activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint: as in
            :class:`~nnx.layers.Dense`.
    """

    rank = 2

    def __init__(
        self,
        filters: int,
        kernel_size: int | tuple[int, ...],
        strides: int | tuple[int, ...] = 1,
        padding: str = "valid",
        data_format: str | None = "channels_last",
        dilation_rate: int | tuple[int, ...] = 1,
        activation: Any = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(activation, activity_regularizer=activity_regularizer, **kwargs)
        who = type(self).__name__
        self.filters = check_int(filters, "filters", who=who, minimum=1)
        self.kernel_size, self.strides, self.dilation_rate = sp.window(
            self, kernel_size, strides, dilation_rate, who
        )
        self.padding = sp.check_padding(padding, who)
        fmt = "channels_last" if data_format is None else data_format
        self.data_format = sp.check_data_format(fmt, who)
        self.use_bias = check_bool(use_bias, "use_bias", who=who)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = self.check_constraint(kernel_constraint, "kernel_constraint")
        self.bias_constraint = self.check_constraint(bias_constraint, "bias_constraint")
        self.kernel: Parameter | None = None
        self.bias: Parameter | None = None

    @property
    def _who(self) -> str:
        return f"{type(self).__name__} {self.name!r}"

    def kernel_shape(self, channels: int) -> tuple[int, ...]:
        """The kernel's shape for ``channels`` input channels."""
        raise NotImplementedError

    def build_parameters(self, input_shape: Shape, rng: Generator) -> None:
        _, channels = sp.split_shape(input_shape, self.rank, self.data_format, self._who)
        if channels is None:
            raise ValueError(f"{self._who} needs a known channel count.")
        self.kernel = self.add_weight(
            "kernel",
            self.kernel_shape(channels),
            self.kernel_initializer,
            rng,
            self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        if self.use_bias:
            self.bias = self.add_weight(
                "bias",
                (self.filters,),
                self.bias_initializer,
                rng,
                self.bias_regularizer,
                constraint=self.bias_constraint,
            )

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": list(self.dilation_rate),
            "use_bias": self.use_bias,
            "kernel_initializer": serialize_or_none(self.kernel_initializer),
            "bias_initializer": serialize_or_none(self.bias_initializer),
            "kernel_regularizer": serialize_or_none(self.kernel_regularizer),
            "bias_regularizer": serialize_or_none(self.bias_regularizer),
            "kernel_constraint": serialize_or_none(self.kernel_constraint),
            "bias_constraint": serialize_or_none(self.bias_constraint),
        }
