"""``Head``: what ``compile`` sets for one output of a graph model (its loss, the loss's weight,
its metrics), and :func:`compile_heads`, which reads Keras's forms of those arguments.

For several outputs, ``loss``, ``loss_weights`` and ``metrics`` may each be one value for every
output, a list in output order, or a dict by output name. The total loss is
``L = sum_k w_k L_k`` (plus regularization penalties); logs name each output's loss and metrics
as Keras does: ``out1_loss``, ``out1_accuracy``. A sequence output with a timestep mask (or
per-step sparse labels) is scored per valid timestep, as in ``Sequential``
(:func:`nnx.layers.masking.timestep_view`).

>>> heads = compile_heads(["a", "b"], [None, None], "mse", [1.0, 0.5], {"b": ["mae"]})
>>> [(h.name, h.weight, [m.name for m in h.metrics]) for h in heads]
[('a', 1.0, []), ('b', 0.5, ['b_mae'])]
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import nnx.losses as losses_module
import nnx.metrics as metrics_module
from nnx.backends.base import Array
from nnx.layers import ActivatedLayer, Layer
from nnx.layers.masking import timestep_view
from nnx.validation import check_float

__all__ = ["Head", "compile_heads", "heads_loss", "heads_loss_and_gradients", "update_heads"]


@dataclass
class Head:
    """One output's training settings.

    Attributes:
        name: the output's name (the layer that produces it).
        loss: its loss.
        weight: its weight in the total loss.
        metrics: its metrics, named ``<name>_<metric>`` when the model has several outputs.
        fused: the loss on the pre-activation when the output layer's activation pairs with
            the loss (``dz = p - y``), else None.
        activation: the output layer's activation, applied to the pre-activation when fused.
        tracker: the running mean of its (unweighted) loss, logged as ``<name>_loss``.
    """

    name: str
    loss: losses_module.Loss
    weight: float = 1.0
    metrics: list[metrics_module.Metric] = field(default_factory=list)
    fused: losses_module.Loss | None = None
    activation: Any = None
    tracker: metrics_module.Mean | None = None


def compile_heads(
    names: Sequence[str],
    layers: Sequence[Layer | None],
    loss: Any,
    loss_weights: Any = None,
    metrics: Any = None,
) -> list[Head]:
    """The :class:`Head` of each output from ``compile``'s arguments.

    Args:
        names: the output names, in order.
        layers: the layer producing each output when its activation may fuse with the loss
            (the output is read by no other layer), else None.
        loss: one loss spec, a list (one per output) or a dict by output name.
        loss_weights: None (all 1), a list or a dict of floats.
        metrics: None, a flat list (every output gets each), a list of lists (per output) or
            a dict by output name.

    Raises:
        ValueError: a list of the wrong length, a dict key that is no output, an output
            without a loss, or an invalid spec (the message names the valid ones).
    """
    several = len(names) > 1
    loss_specs = _per_output(loss, names, "loss", required=True)
    weights = _per_output(loss_weights, names, "loss_weights", default=1.0)
    metric_specs = _metric_specs(metrics, names)
    heads = []
    for name, layer, spec, weight, specs in zip(
        names, layers, loss_specs, weights, metric_specs, strict=True
    ):
        loss_obj = losses_module.get(spec)
        weight = check_float(weight, f"loss_weights[{name!r}]", minimum=0)
        head = Head(name, loss_obj, weight)
        for m in specs:
            metric = metrics_module.get(m, loss_obj.registry_name)
            if several:
                metric = copy.deepcopy(metric)
                metric.name = f"{name}_{metric.name}"
            if not metric.scalar:
                raise ValueError(
                    f"compile: metric {metric.name!r} ({type(metric).__name__}) has a "
                    "non-scalar result and cannot be logged per epoch."
                )
            head.metrics.append(metric)
        if (
            isinstance(layer, ActivatedLayer)
            and not loss_obj.from_logits
            and loss_obj.fuses_with == layer.activation.name
            and layer.activity_regularizer is None
        ):
            head.fused, head.activation = loss_obj.with_logits(), layer.activation
        if several:
            head.tracker = metrics_module.Mean(f"{name}_loss")
        heads.append(head)
    return heads


def _masks(masks: Sequence[Array | None] | None, count: int) -> Sequence[Array | None]:
    return [None] * count if masks is None else masks


def heads_loss_and_gradients(
    heads: Sequence[Head],
    outputs: Sequence[Array],
    targets: Sequence[Array],
    w: Array | None,
    masks: Sequence[Array | None] | None = None,
) -> tuple[Array, list[Array], list[Array], list[Array]]:
    """``(L, [L_k], [predictions], [dL/dy_k])`` with ``L = sum_k w_k L_k``.

    A fused head's output is its pre-activation ``z``: its gradient is the fused
    ``w_k dL_k/dz`` and its prediction ``activation(z)``. ``masks`` holds each output's
    timestep mask (None: none): a masked sequence output's loss is the mean over valid steps.
    """
    total: Array = 0.0
    values, preds, grads = [], [], []
    for head, y_pred, y, m in zip(heads, outputs, targets, _masks(masks, len(heads)), strict=True):
        y_view, p_view, w_view, restore = timestep_view(y, y_pred, m, w, normalize=True)
        if head.fused is not None:
            value, dy = head.fused.value_and_gradient(y_view, p_view, w_view)
            preds.append(head.activation.forward(y_pred))
        else:
            value, dy = head.loss.value_and_gradient(y_view, p_view, w_view)
            preds.append(y_pred)
        dy = restore(dy)
        values.append(value)
        grads.append(dy if head.weight == 1.0 else dy * head.weight)
        total = total + (value if head.weight == 1.0 else value * head.weight)
    return total, values, preds, grads


def heads_loss(
    heads: Sequence[Head],
    outputs: Sequence[Array],
    targets: Sequence[Array],
    w: Array | None,
    masks: Sequence[Array | None] | None = None,
) -> tuple[Array, list[Array]]:
    """``(L, [L_k])`` of the outputs ``y_k`` (no gradient), ``L = sum_k w_k L_k``, each
    scored over its valid timesteps (``masks``)."""
    values = [
        h.loss(*timestep_view(y, p, m, w, normalize=True)[:3])
        for h, y, p, m in zip(heads, targets, outputs, _masks(masks, len(heads)), strict=True)
    ]
    total: Array = 0.0
    for head, value in zip(heads, values, strict=True):
        total = total + (value if head.weight == 1.0 else value * head.weight)
    return total, values


def update_heads(
    heads: Sequence[Head],
    targets: Sequence[Array],
    preds: Sequence[Array],
    values: Sequence[Array],
    w: Array | None,
    masks: Sequence[Array | None] | None = None,
) -> None:
    """Add a batch to each output's loss tracker (weighted by the batch size) and metrics
    (counting only valid timesteps of a masked output)."""
    for head, y, p, value, m in zip(
        heads, targets, preds, values, _masks(masks, len(heads)), strict=True
    ):
        if head.tracker is not None:
            head.tracker.update_value(value, y.shape[0])
        if head.metrics:
            seen = timestep_view(y, p, m, w, normalize=False)[:3]
            for metric in head.metrics:
                metric.update_state(*seen)


def _is_config(spec: Any) -> bool:
    return isinstance(spec, dict) and "class_name" in spec


def _per_output(
    spec: Any, names: Sequence[str], what: str, required: bool = False, default: Any = None
) -> list[Any]:
    """One value per output from a single value, a list or a dict by name."""
    if isinstance(spec, dict) and not _is_config(spec):
        unknown = [k for k in spec if k not in names]
        if unknown:
            raise ValueError(
                f"compile: {what} has key(s) {', '.join(map(repr, unknown))} that are not "
                f"outputs of the model; outputs: {', '.join(map(repr, names))}."
            )
        missing = [n for n in names if spec.get(n) is None]
        if required and missing:
            raise ValueError(
                f"compile: {what} gives nothing for output(s) {', '.join(map(repr, missing))}; "
                "every output needs a loss."
            )
        return [spec.get(n, default) for n in names]
    if isinstance(spec, (list, tuple)):
        if len(spec) != len(names):
            raise ValueError(
                f"compile: {what} must have one entry per output ({len(names)}: "
                f"{', '.join(map(repr, names))}), received {len(spec)}."
            )
        if required and any(s is None for s in spec):
            raise ValueError(f"compile: every output needs a loss, received {what}={spec!r}.")
        return list(spec)
    if spec is None:
        if required:
            raise ValueError(
                f"compile needs a loss; valid losses: {', '.join(losses_module.names())}."
            )
        return [default] * len(names)
    return [spec] * len(names)


def _metric_specs(metrics: Any, names: Sequence[str]) -> list[list[Any]]:
    """Metric specs per output: a flat list goes to every output (as in tf.keras 2)."""
    if metrics is None:
        return [[] for _ in names]
    if isinstance(metrics, dict):
        per = _per_output(metrics, names, "metrics", default=[])
        return [list(m) if isinstance(m, (list, tuple)) else [m] for m in per]
    if not isinstance(metrics, (list, tuple)):
        raise ValueError(
            f"compile: metrics must be a list or a dict by output name, received {metrics!r}."
        )
    nested = [m is None or isinstance(m, (list, tuple)) for m in metrics]
    if metrics and all(nested):
        per = _per_output(list(metrics), names, "metrics")
        return [list(m or []) for m in per]
    if any(nested):
        raise ValueError(
            "compile: metrics mixes lists and single metrics; give a flat list (every output) "
            f"or one list per output, received {metrics!r}."
        )
    return [list(metrics) for _ in names]
