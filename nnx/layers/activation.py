"""Layers that end in an activation function, and the ``Activation`` layer itself."""

from __future__ import annotations

import warnings
from typing import Any

from nnx import activations
from nnx.backends.base import Array
from nnx.layers.base import Backprop, Layer, register_layer


class ActivatedLayer(Layer):
    """A layer computing ``y = activation(z)`` from a pre-activation ``z``.

    Subclasses implement :meth:`forward_logits`, returning ``z`` and the backprop of ``z``.
    Models use it directly when the last activation pairs with the loss (sigmoid + binary
    cross-entropy, softmax + cross-entropy) to apply the fused, stable gradient ``dz = p - y``.

    Args:
        activation: a name from :func:`nnx.activations.names` or an activation object.
    """

    def __init__(self, activation: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.activation = activations.get(activation)
        self._warned_zero_gradient = False

    def forward_logits(self, x: Array, *, training: bool = False) -> tuple[Array, Backprop]:
        """Return the pre-activation ``z`` and ``backprop(dz) -> dx``."""
        raise NotImplementedError

    def forward(self, x: Array, *, training: bool = False) -> tuple[Array, Backprop]:
        z, backprop_z = self.forward_logits(x, training=training)
        act = self.activation
        if act.name == "linear":
            return z, backprop_z
        y = act.forward(z)
        backward = self._backward(act)

        def backprop(dy: Array) -> Array:
            if act.zero_gradient and not self._warned_zero_gradient:
                self._warned_zero_gradient = True
                warnings.warn(
                    f"Layer {self.name!r} uses the {act.name!r} activation, whose derivative is "
                    "zero almost everywhere: gradient descent cannot train through it. Use the "
                    "perceptron learning rule, or a smooth activation such as 'sigmoid'.",
                    RuntimeWarning,
                    stacklevel=2,
                )
            return backprop_z(backward(dy, z, y))

        return y, backprop

    def _backward(self, act: activations.ActivationFunction) -> Any:
        """The activation's backward: the backend's fast path where it has one."""
        fast = None if act.config else self.backend.fast_backward(act.name)  # type: ignore[union-attr]
        return fast or act.backward

    def get_config(self) -> dict[str, Any]:
        config = self.activation.get_config()
        return {
            **super().get_config(),
            "activation": config["name"] if len(config) == 1 else config,
        }


@register_layer
class Activation(ActivatedLayer):
    """Apply an activation function elementwise (softmax/log_softmax: over the last axis).

    Args:
        activation: the activation's name, e.g. ``"relu"``.
        **config: its parameters, e.g. ``alpha=0.2`` for ``"leaky_relu"``.

    Shape:
        Input ``(batch, *dims)``, output the same.

    >>> from nnx.backends import get_backend
    >>> layer = Activation("relu")
    >>> layer(get_backend("numpy").asarray([[-1.0, 2.0]]))
    array([[0., 2.]])
    """

    def __init__(
        self,
        activation: Any = "linear",
        *,
        name: str | None = None,
        input_shape: Any = None,
        trainable: bool = True,
        **config: Any,
    ) -> None:
        resolved = activations.get(activation, **config)
        super().__init__(resolved, name=name, input_shape=input_shape, trainable=trainable)

    def forward_logits(self, x: Array, *, training: bool = False) -> tuple[Array, Backprop]:
        self.check_input(x)
        return x, _identity


def _identity(dy: Array) -> Array:
    return dy
