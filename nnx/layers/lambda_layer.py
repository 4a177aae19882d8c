"""``Lambda``: a Python function of tensors as a layer (Keras's ``layers.Lambda``).

The function is traced like a subclassed layer's ``call`` (:mod:`nnx.models.subclassed`): on
symbolic placeholders, where arithmetic and ``nnx.ops`` record operation nodes with explicit
backwards, so a ``Lambda`` trains. A function cannot be written to a model file (Keras, too,
refuses to load lambdas unless safe mode is off): saving a model holding one is refused with a
message naming the way out (a registered subclassed layer with ``get_config``).

>>> import nnx
>>> from nnx import layers, ops
>>> x = nnx.Input((3,))
>>> y = layers.Lambda(lambda t: ops.square(t) + 1.0)(x)
>>> nnx.Model(x, y).predict([[1.0, 2.0, 3.0]]).tolist()
[[2.0, 5.0, 10.0]]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from nnx.layers.base import Layer

__all__ = ["Lambda"]


class Lambda(Layer):
    """``y = function(x, **arguments)``, traced into operation nodes.

    Args:
        function: a function of a tensor (or a list of tensors) returning a tensor, written
            with arithmetic, ``nnx.ops`` and layer calls.
        output_shape: the expected output shape of one sample (checked when given).
        arguments: extra keyword arguments for ``function``.
        name, input_shape, trainable: as for every layer.

    Shape:
        Whatever ``function`` makes of ``(batch, *input_shape)``.

    Raises:
        ValueError: the traced output's shape differs from ``output_shape``.
        TypeError: ``get_config`` (saving): a function is code, not data.
    """

    def __init__(
        self,
        function: Callable[..., Any],
        output_shape: Sequence[int | None] | None = None,
        arguments: dict[str, Any] | None = None,
        *,
        name: str | None = None,
        input_shape: Sequence[int] | None = None,
        trainable: bool = True,
    ) -> None:
        if not callable(function):
            raise TypeError(
                f"Lambda(function=...) must be callable, received {type(function).__name__}."
            )
        super().__init__(name=name, input_shape=input_shape, trainable=trainable)
        self.function = function
        self.expected_shape = None if output_shape is None else tuple(output_shape)
        self.arguments = dict(arguments or {})

    def call(self, inputs: Any) -> Any:
        """``function(inputs, **arguments)``, checked against ``output_shape``."""
        out = self.function(inputs, **self.arguments)
        shape = getattr(out, "sample_shape", None)
        expected = self.expected_shape
        if expected is not None and shape is not None:
            full = (None, *shape)
            fits = len(expected) in (len(shape), len(full)) and all(
                e is None or e == s
                for e, s in zip(
                    expected, shape if len(expected) == len(shape) else full, strict=True
                )
            )
            if not fits:
                raise ValueError(
                    f"Lambda {self.name!r}: output_shape={expected}, but the function returns "
                    f"shape {full}."
                )
        return out

    def get_config(self) -> dict[str, Any]:
        """Refused: a Python function is code, which a model file never holds."""
        raise TypeError(
            f"Lambda layer {self.name!r} cannot be saved: its function is Python code, which "
            "nnx files never hold (Keras also refuses to load lambdas safely). Write a "
            "subclassed layer with call() and get_config(), register it with "
            "@nnx.saving.register_keras_serializable(), or save the weights only "
            "(model.save_weights)."
        )
