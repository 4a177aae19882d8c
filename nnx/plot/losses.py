"""Loss functions drawn against the prediction error (MSE against Huber, and any other).

>>> fig = plot_loss_functions()
>>> [line.get_label() for line in fig.axes[0].lines][:2]
['MSE', 'Huber (delta=1)']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nnx.backends import get_backend
from nnx.plot.base import figure, finish, label, legend, style

__all__ = ["plot_loss_functions"]


_SHORT = {"mean_squared_error": "MSE", "mean_absolute_error": "MAE", "huber": "Huber"}


def _name(loss: Any) -> str:
    delta = getattr(loss, "delta", None)
    base = getattr(loss, "registry_name", type(loss).__name__)
    base = _SHORT.get(base, base)
    return f"{base} (delta={delta:g})" if delta is not None else str(base)


def plot_loss_functions(
    losses: Sequence[Any] = ("mse", "huber"),
    error_range: tuple[float, float] = (-3.0, 3.0),
    path: Any = None,
) -> Any:
    """Each loss of one prediction against a target of 0 (left) and its gradient (right),
    computed by nnx's own losses: MSE grows quadratically, Huber linearly past ``delta``.

    Args:
        losses: names, configs or instances of ``nnx.losses``.
        error_range: the prediction errors drawn.
        path: where to save a PNG (optional).

    Returns:
        The Figure.
    """
    from nnx import losses as losses_module

    b = get_backend("numpy")
    xp = b.xp
    errors = xp.linspace(error_range[0], error_range[1], 241)
    target = xp.zeros((1, 1))
    fig, axes = figure(2, (10.0, 4.0))
    for i, spec in enumerate(losses):
        loss = losses_module.get(spec)
        values, grads = [], []
        for e in errors:
            pred = xp.full((1, 1), float(e))
            values.append(float(loss(target, pred)))
            grads.append(float(loss.gradient(target, pred)[0, 0]))
        kw = {**style(i), "markevery": 30, "markersize": 5, "linewidth": 2}
        axes[0].plot(errors, values, **kw, label=_name(loss))
        axes[1].plot(errors, grads, **kw, label=_name(loss))
    for ax in axes:
        ax.axvline(0.0, color="0.5", linewidth=0.8, linestyle=":", label="target (error 0)")
    label(axes[0], "prediction error (prediction - target)", "loss", "loss against the error")
    label(
        axes[1],
        "prediction error (prediction - target)",
        "dloss / dprediction",
        "gradient against the error",
    )
    for ax in axes:
        legend(ax)
    return finish(fig, path)
