"""Loss functions: ``loss(y_true, y_pred) -> scalar`` and ``loss.gradient(y_true, y_pred)``.

Reduction is Keras's ``sum_over_batch_size``: ``L = sum_i w_i l_i / n`` over the ``n`` samples
of the batch (``w_i = 1`` without ``sample_weight``), so the gradient carries the ``1 / n``.

Names resolve through one :class:`~nnx.registry.Registry` (:func:`get`, :func:`names`); a loss is
saved as :func:`nnx.registry.serialize` writes it, and :func:`get` also reads the dict nnx 0.1
wrote (``{"class_name": <registry name>, "name": ..., **arguments}``).

>>> from nnx.backends import get_backend
>>> from nnx.registry import serialize
>>> b = get_backend("numpy")
>>> float(MeanSquaredError()(b.asarray([[1.0], [2.0]]), b.asarray([[1.5], [2.0]])))
0.125
>>> serialize(Huber(2.0))
{'class_name': 'Huber', 'config': {'delta': 2.0, 'name': 'huber'}}
>>> get(serialize(Huber(2.0)))
Huber(delta=2.0)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from nnx.backends import backend_of
from nnx.backends.base import Array, array_namespace
from nnx.functional import losses as F
from nnx.functional.one_hot import one_hot
from nnx.functional.shapes import match_target_rank
from nnx.registry import Registry, deserialize
from nnx.validation import check_float

__all__ = [
    "ALIASES",
    "LOSSES",
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "Huber",
    "Loss",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "SparseCategoricalCrossentropy",
    "get",
    "names",
]


class Loss:
    """Base class: subclasses give per-sample values and their gradient w.r.t. ``y_pred``.

    Args:
        name: the loss's name (default: its registry name).
    """

    registry_name: ClassVar[str] = "loss"
    #: the activation whose output this loss can fuse with when ``from_logits=False``
    fuses_with: ClassVar[str | None] = None
    from_logits: bool = False

    def __init__(self, name: str | None = None) -> None:
        self.name = name or self.registry_name

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Loss:
        """Rebuild from :meth:`get_config`: ``cls(**config)``."""
        return cls(**config)

    def per_sample(self, y_true: Array, y_pred: Array) -> Array:
        """One loss value per sample, shape ``(n,)``."""
        raise NotImplementedError

    def per_sample_gradient(self, y_true: Array, y_pred: Array) -> Array:
        """``d l_i / d y_pred`` for each sample (without the ``1/n`` of the mean)."""
        raise NotImplementedError

    def prepare_targets(self, y_true: Array, y_pred: Array) -> Array:
        """Convert targets to the form the formulas use (one-hot for sparse labels)."""
        return y_true

    def __call__(self, y_true: Array, y_pred: Array, sample_weight: Array | None = None) -> Array:
        """The batch loss ``sum_i w_i l_i / n`` as a 0-d array (no host synchronisation).

        Args:
            y_true: targets.
            y_pred: predictions (or logits with ``from_logits=True``).
            sample_weight: optional weights ``w``, shape ``(n,)`` or ``(n, 1)``.

        Targets one rank short of ``y_pred`` whose last axis is 1 (``(n,)`` labels against an
        ``(n, 1)`` output) are expanded, as Keras does (:mod:`nnx.functional.shapes`).
        """
        y_true = match_target_rank(y_true, y_pred.shape)
        values = self.per_sample(self.prepare_targets(y_true, y_pred), y_pred)
        return _batch_value(values, sample_weight)

    def gradient(self, y_true: Array, y_pred: Array, sample_weight: Array | None = None) -> Array:
        """``dL / d y_pred`` for the batch loss (same shape as ``y_pred``)."""
        y_true = match_target_rank(y_true, y_pred.shape)
        grad = self.per_sample_gradient(self.prepare_targets(y_true, y_pred), y_pred)
        return _batch_gradient(grad, sample_weight)

    def per_sample_value_and_gradient(self, y_true: Array, y_pred: Array) -> tuple[Array, Array]:
        """:meth:`per_sample` and :meth:`per_sample_gradient` together; losses whose value and
        gradient share work (the fused logit forms) compute it once."""
        return self.per_sample(y_true, y_pred), self.per_sample_gradient(y_true, y_pred)

    def value_and_gradient(
        self, y_true: Array, y_pred: Array, sample_weight: Array | None = None
    ) -> tuple[Array, Array]:
        """``(loss, gradient)``, equal to ``(self(...), self.gradient(...))`` in one pass."""
        targets = self.prepare_targets(match_target_rank(y_true, y_pred.shape), y_pred)
        values, grad = self.per_sample_value_and_gradient(targets, y_pred)
        return _batch_value(values, sample_weight), _batch_gradient(grad, sample_weight)

    def with_logits(self) -> Loss:
        """The same loss taking pre-activation logits (used for fused training)."""
        return type(self).from_config({**self.get_config(), "from_logits": True})

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments: ``type(self).from_config(self.get_config())`` is a twin."""
        return {"name": self.name}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({args})"


def _batch_value(values: Array, sample_weight: Array | None) -> Array:
    """``sum_i w_i l_i / n``: the reduction of :meth:`Loss.__call__`."""
    weighted = F.weight_samples(values, sample_weight)
    return array_namespace(weighted).sum(weighted) / weighted.shape[0]


def _batch_gradient(grad: Array, sample_weight: Array | None) -> Array:
    """``w_i dl_i / n`` row by row: the gradient of :func:`_batch_value`."""
    return F.weight_samples(grad, sample_weight) / grad.shape[0]


class _Elementwise(Loss):
    _value: ClassVar[Callable[..., Array]]
    _grad: ClassVar[Callable[..., Array]]

    def per_sample(self, y_true: Array, y_pred: Array) -> Array:
        _check_same_shape(self, y_true, y_pred)
        return type(self)._value(y_true, y_pred)

    def per_sample_gradient(self, y_true: Array, y_pred: Array) -> Array:
        return type(self)._grad(y_true, y_pred)


class MeanSquaredError(_Elementwise):
    """``l = mean_j (p_j - y_j)^2``; gradient ``2 (p - y) / d``."""

    registry_name = "mean_squared_error"
    _value = staticmethod(F.squared_error)
    _grad = staticmethod(F.squared_error_grad)


class MeanAbsoluteError(_Elementwise):
    """``l = mean_j |p_j - y_j|``; gradient ``sign(p - y) / d``."""

    registry_name = "mean_absolute_error"
    _value = staticmethod(F.absolute_error)
    _grad = staticmethod(F.absolute_error_grad)


class Huber(Loss):
    """Quadratic for small errors, linear for large ones.

    ``l = r^2 / 2`` where ``|r| <= delta`` else ``delta (|r| - delta / 2)``, ``r = p - y``;
    gradient ``clip(r, -delta, delta) / d``.

    Args:
        delta: where the loss turns from quadratic to linear (> 0).
    """

    registry_name = "huber"

    def __init__(self, delta: float = 1.0, name: str | None = None) -> None:
        super().__init__(name)
        self.delta = check_float(delta, "delta", who="Huber", minimum=0.0, minimum_open=True)

    def per_sample(self, y_true: Array, y_pred: Array) -> Array:
        _check_same_shape(self, y_true, y_pred)
        return F.huber(y_true, y_pred, self.delta)

    def per_sample_gradient(self, y_true: Array, y_pred: Array) -> Array:
        return F.huber_grad(y_true, y_pred, self.delta)

    def get_config(self) -> dict[str, Any]:
        """``delta`` and ``name``."""
        return {"delta": self.delta, **super().get_config()}


class BinaryCrossentropy(Loss):
    """Binary cross-entropy ``-(y log p + (1 - y) log(1 - p))``, mean over outputs.

    With ``from_logits=True`` it takes ``z`` and uses ``max(z, 0) - z y + log(1 + e^-|z|)``,
    whose gradient is ``sigmoid(z) - y``: finite for any logit.

    Args:
        from_logits: whether ``y_pred`` are logits rather than probabilities.
    """

    registry_name = "binary_crossentropy"
    fuses_with = "sigmoid"

    def __init__(self, from_logits: bool = False, name: str | None = None) -> None:
        super().__init__(name)
        self.from_logits = bool(from_logits)

    def per_sample(self, y_true: Array, y_pred: Array) -> Array:
        _check_same_shape(self, y_true, y_pred)
        f = F.binary_crossentropy_logits if self.from_logits else F.binary_crossentropy
        return f(y_true, y_pred)

    def per_sample_value_and_gradient(self, y_true: Array, y_pred: Array) -> tuple[Array, Array]:
        if self.from_logits:
            _check_same_shape(self, y_true, y_pred)
            fast = backend_of(y_pred).sigmoid_crossentropy(y_true, y_pred)
            if fast is not None:
                return fast
            return F.binary_crossentropy_logits_value_and_grad(y_true, y_pred)
        return super().per_sample_value_and_gradient(y_true, y_pred)

    def per_sample_gradient(self, y_true: Array, y_pred: Array) -> Array:
        if self.from_logits:
            return F.binary_crossentropy_logits_grad(y_true, y_pred)
        return F.binary_crossentropy_grad(y_true, y_pred)

    def validate_targets(self, y_true: Array) -> None:
        """Refuse labels outside ``[0, 1]`` (one host synchronisation: call once per fit)."""
        xp = array_namespace(y_true)
        if y_true.shape[0] and bool(xp.any((y_true < 0) | (y_true > 1))):
            lo, hi = float(xp.min(y_true)), float(xp.max(y_true))
            raise ValueError(
                f"{type(self).__name__}: labels must lie in [0, 1], received "
                f"labels in [{lo:g}, {hi:g}]."
            )

    def get_config(self) -> dict[str, Any]:
        """``from_logits`` and ``name``."""
        return {"from_logits": self.from_logits, **super().get_config()}


class CategoricalCrossentropy(Loss):
    """Cross-entropy ``-sum_k y_k log p_k`` against one-hot (or soft) targets.

    With ``from_logits=True``: ``-sum_k y_k log_softmax(z)_k`` (log-sum-exp), gradient
    ``softmax(z) - y``. ``label_smoothing`` s replaces y by ``y (1 - s) + s / K``.

    Args:
        from_logits: whether ``y_pred`` are logits.
        label_smoothing: in ``[0, 1]``.
    """

    registry_name = "categorical_crossentropy"
    fuses_with = "softmax"

    def __init__(
        self, from_logits: bool = False, label_smoothing: float = 0.0, name: str | None = None
    ) -> None:
        super().__init__(name)
        self.from_logits = bool(from_logits)
        self.label_smoothing = check_float(
            label_smoothing, "label_smoothing", who=type(self).__name__, minimum=0.0, maximum=1.0
        )

    def prepare_targets(self, y_true: Array, y_pred: Array) -> Array:
        _check_same_shape(self, y_true, y_pred)
        s = self.label_smoothing
        return y_true * (1 - s) + s / y_pred.shape[-1] if s else y_true

    def per_sample(self, y_true: Array, y_pred: Array) -> Array:
        if self.from_logits:
            return F.categorical_crossentropy_logits(y_true, y_pred)
        return F.categorical_crossentropy(y_true, y_pred)

    def per_sample_value_and_gradient(self, y_true: Array, y_pred: Array) -> tuple[Array, Array]:
        if self.from_logits:
            fast = backend_of(y_pred).softmax_crossentropy(y_true, y_pred)
            if fast is not None:
                return fast
            return F.categorical_crossentropy_logits_value_and_grad(y_true, y_pred)
        return super().per_sample_value_and_gradient(y_true, y_pred)

    def per_sample_gradient(self, y_true: Array, y_pred: Array) -> Array:
        if self.from_logits:
            return F.categorical_crossentropy_logits_grad(y_true, y_pred)
        return F.categorical_crossentropy_grad(y_true, y_pred)

    def get_config(self) -> dict[str, Any]:
        """``from_logits``, ``label_smoothing`` and ``name``."""
        return {
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
            "name": self.name,
        }


class SparseCategoricalCrossentropy(CategoricalCrossentropy):
    """Categorical cross-entropy with integer class labels of shape ``(n,)`` or ``(n, 1)``.

    Args:
        from_logits: whether ``y_pred`` are logits.
    """

    registry_name = "sparse_categorical_crossentropy"

    def __init__(self, from_logits: bool = False, name: str | None = None) -> None:
        super().__init__(from_logits=from_logits, name=name)

    def prepare_targets(self, y_true: Array, y_pred: Array) -> Array:
        xp = array_namespace(y_pred)
        labels = xp.reshape(y_true, (-1,))
        if labels.shape[0] != y_pred.shape[0]:
            raise ValueError(
                f"{type(self).__name__}: expected {y_pred.shape[0]} labels, "
                f"received y_true of shape {tuple(y_true.shape)}."
            )
        return one_hot(labels, y_pred.shape[-1], y_pred.dtype)

    def validate_targets(self, y_true: Array, num_classes: int) -> None:
        """Refuse labels outside ``[0, num_classes)`` (one host synchronisation)."""
        xp = array_namespace(y_true)
        if y_true.shape[0] and bool(xp.any((y_true < 0) | (y_true >= num_classes))):
            raise ValueError(
                f"{type(self).__name__}: labels must be integers in [0, {num_classes}) for a "
                f"model with {num_classes} outputs, received labels in "
                f"[{int(xp.min(y_true))}, {int(xp.max(y_true))}]."
            )

    def get_config(self) -> dict[str, Any]:
        """``from_logits`` and ``name`` (no label smoothing for integer labels)."""
        return {"from_logits": self.from_logits, "name": self.name}


def _check_same_shape(loss: Loss, y_true: Array, y_pred: Array) -> None:
    if tuple(y_true.shape) != tuple(y_pred.shape):
        raise ValueError(
            f"{type(loss).__name__}: y_true and y_pred must have the same shape, received "
            f"y_true {tuple(y_true.shape)} and y_pred {tuple(y_pred.shape)} (nothing is "
            "broadcast; reshape the targets, e.g. y.reshape(-1, 1))."
        )


#: every loss class by registry name (``"binary_crossentropy"``); the class name
#: (``"BinaryCrossentropy"``) and the :data:`ALIASES` resolve too
LOSSES: Registry[type[Loss]] = Registry("loss", "losses")
for _cls in (
    MeanSquaredError,
    MeanAbsoluteError,
    Huber,
    BinaryCrossentropy,
    CategoricalCrossentropy,
    SparseCategoricalCrossentropy,
):
    LOSSES.add(_cls.registry_name, _cls)
ALIASES = {
    "mse": "mean_squared_error",
    "mae": "mean_absolute_error",
    "bce": "binary_crossentropy",
    "huber_loss": "huber",
    "crossentropy": "categorical_crossentropy",
    "cce": "categorical_crossentropy",
}
for _alias, _name in ALIASES.items():
    LOSSES.alias(_alias, _name)


def names() -> list[str]:
    """Every valid loss name, aliases (and the lower-case class names) included.

    >>> "mse" in names() and "binarycrossentropy" in names()
    True
    """
    classes = (LOSSES.lookup(name).__name__.lower() for name in LOSSES.names())
    return sorted({*LOSSES.names(), *ALIASES, *classes})


def get(spec: str | Loss | Mapping[str, Any]) -> Loss:
    """Resolve a loss name (``"binary_crossentropy"``, ``"mse"``...), instance or config dict.

    Args:
        spec: a name (any case; ``-`` and ``_`` are interchangeable), a :class:`Loss` (returned
            as is), :func:`nnx.registry.serialize`'s ``{"class_name": ..., "config": ...}``, or
            the flat dict of nnx 0.1 (``{"class_name": "huber", "name": ..., "delta": ...}``).

    Returns:
        The loss.

    Raises:
        ValueError: unknown name (the message lists the valid ones) or invalid arguments.

    >>> get("bce")
    BinaryCrossentropy(from_logits=False)
    >>> get({"class_name": "huber", "name": "huber", "delta": 0.5})  # as nnx 0.1 saved it
    Huber(delta=0.5)
    """
    if isinstance(spec, Loss):
        return spec
    if isinstance(spec, Mapping):
        loss: Loss = deserialize(spec, LOSSES)
        return loss
    if spec not in LOSSES:
        raise ValueError(f"Unknown loss {spec!r}. Valid losses: {', '.join(names())}.")
    return LOSSES.lookup(spec)()
