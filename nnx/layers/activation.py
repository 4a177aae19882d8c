"""Layers that end in an activation function, and the ``Activation`` layer itself."""

from __future__ import annotations

import warnings
from typing import Any, Protocol

import nnx.activations as activations
from nnx.backends.base import Array, Backend
from nnx.layers.base import Backprop, Layer, identity_backprop, register_layer

__all__ = ["ActivatedLayer", "Activation", "AffineBackprop", "bias_gradient"]


class AffineBackprop(Protocol):
    """The backprop of :meth:`ActivatedLayer.forward_affine`: ``dz -> dx``; given ``dbias``
    (the column sums of ``dz``, computed with the activation's backward) it takes that as the
    bias gradient instead of summing ``dz`` again."""

    def __call__(self, dz: Array, dbias: Array | None = None) -> Array | None: ...


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
        """Return the pre-activation ``z`` and ``backprop(dz) -> dx`` (by default
        :meth:`forward_affine` with its bias added)."""
        z, bias, backprop = self.forward_affine(x, training=training)
        if bias is not None:
            assert self.backend is not None
            z = self.backend.add_bias(z, bias)
        return z, backprop

    def forward_affine(
        self, x: Array, *, training: bool = False
    ) -> tuple[Array, Array | None, AffineBackprop]:
        """``(z - bias, bias, backprop(dz, dbias=None) -> dx)``: layers ending in a bias add
        (Dense, Conv) give it back unadded, so that the backend can fuse it with the
        activation; the bias gradient is then the sum of ``dz`` over every axis but the last."""
        raise NotImplementedError

    def forward(self, x: Array, *, training: bool = False) -> tuple[Array, Backprop]:
        """``y = activation(z)`` with ``z`` from :meth:`forward_logits`; backward
        ``dz = activation'(z) dy``. The backend's fused kernels run where it has them: the bias
        add and the activation in one pass (:meth:`~nnx.backends.Backend.activation_forward`),
        the activation's backward (:meth:`~nnx.backends.Backend.activation_backward`)."""
        act, backend = self.activation, self.backend
        plan = self.__dict__.get("_plan")
        if plan is None or plan.act is not act or plan.backend is not backend:
            plan = self._plan = _Plan(self)
        bias = None
        # NOTE: the affine form only where the class gives one and no forward_logits was set
        # on the instance (a wrapped forward_logits, as gradcheck's tests do, must run).
        if plan.affine and "forward_logits" not in self.__dict__:
            z, bias, backprop_affine = self.forward_affine(x, training=training)
            backprop_z: Backprop = backprop_affine
        else:
            z, backprop_z = self.forward_logits(x, training=training)
        name, alpha = plan.name, plan.alpha
        y = (
            None
            if plan.linear or backend is None
            else backend.activation_forward(z, bias, name, alpha)
        )
        if y is None:
            if bias is not None and backend is not None:
                z = backend.add_bias(z, bias)
            elif bias is not None:
                z += bias
            if plan.linear:
                return z, backprop_z
            y = act.forward(z)
        backward, fused = act.backward, plan.fused
        # NOTE: looked up per call, not kept in the plan: a backend's method may be replaced.
        fast = None if plan.fast is None else getattr(backend, plan.fast)

        def backprop(dy: Array) -> Array:
            if act.zero_gradient and not self._warned_zero_gradient:
                self._warned_zero_gradient = True
                warnings.warn(
                    f"Layer {self.name!r} uses the {name!r} activation, whose derivative is "
                    "zero almost everywhere: gradient descent cannot train through it. Use the "
                    "perceptron learning rule, or a smooth activation such as 'sigmoid'.",
                    RuntimeWarning,
                    stacklevel=2,
                )
            if fused is not None and bias is not None:
                both = fused.activation_bias_backward(dy, z, y, name, alpha)
                if both is not None:
                    return backprop_affine(*both)
            dz = None if fused is None else fused.activation_backward(dy, z, y, name, alpha)
            if dz is None and fast is not None:
                dz = fast(dy, z, y)  # None: the backend declined
            return backprop_z(backward(dy, z, y) if dz is None else dz)

        return y, backprop

    def get_config(self) -> dict[str, Any]:
        """The layer's config plus ``activation`` (its name, or its config when it has one)."""
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

    supports_masking = True  # acts on each timestep alone: a mask passes through

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
        return x, identity_backprop


class _Plan:
    """What :meth:`ActivatedLayer.forward` decides once per (activation, backend) rather than
    at every call: the activation's name and ``alpha``, its fast backward, whether the backend's
    fused kernels may take it. Kept on the layer and rebuilt when either object is replaced."""

    __slots__ = ("act", "affine", "alpha", "backend", "fast", "fused", "linear", "name")

    def __init__(self, layer: ActivatedLayer) -> None:
        act, backend = layer.activation, layer.backend
        self.act, self.backend, self.name = act, backend, act.name
        #: whether the layer's class gives the affine form (Dense, Conv: the bias unadded)
        self.affine = type(layer).forward_affine is not ActivatedLayer.forward_affine
        self.alpha = float(act.config.get("alpha", 0.0))
        self.linear = act.name == "linear"
        #: the name of the backend's fast backward for this activation, if it has one
        self.fast = _fast_backward(act, backend)
        self.fused = backend if set(act.config) <= {"alpha"} else None


def bias_gradient(backend: Backend, bias: Any, dz2: Array, dbias: Array | None) -> Array:
    """The gradient of a bias added to every row of ``z2``: ``sum_rows(dz2)``, or ``dbias``
    where the activation's backward already summed it
    (:meth:`~nnx.backends.Backend.activation_bias_backward`); written into the parameter's
    previous gradient buffer when it has one of the right shape (a view of a flat gradient
    buffer must stay one)."""
    grad = bias.grad
    out = grad if grad is not None and grad.shape == bias.value.shape else None
    if dbias is None:
        return backend.sum_rows(dz2, out=out)
    if out is None:
        return dbias
    out[...] = dbias
    return out


def _fast_backward(act: activations.ActivationFunction, backend: Backend | None) -> str | None:
    """The name of the backend's fast path for the backward of ``act``, if it has one."""
    if backend is None or act.config or act.name not in ("relu", "sigmoid", "tanh"):
        return None
    return f"{act.name}_backward"
