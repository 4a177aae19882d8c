"""Training plots: one history (a panel per quantity, train and validation), several histories
overlaid on a log scale, and the demo's summary (history plus decision boundary).

>>> [ax.get_title() for ax in plot_history({"loss": [1.0, 0.5], "accuracy": [0.5, 0.9]}).axes]
['loss per epoch', 'accuracy per epoch']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from nnx.plot.base import figure, finish, label, legend, plain_log_ticks, style
from nnx.plot.boundary import draw_decision_boundary

__all__ = ["plot_histories", "plot_history", "plot_summary"]


def _logs(history: Any) -> Mapping[str, Sequence[float]]:
    return getattr(history, "history", history)  # type: ignore[no-any-return]


def _history_keys(history: Any) -> list[str]:
    return [k for k in _logs(history) if not k.startswith("val_") and k != "learning_rate"]


def _draw_history(axes: Sequence[Any], history: Any) -> None:
    logs = _logs(history)
    for ax, key in zip(axes, _history_keys(history), strict=False):
        epochs = range(1, len(logs[key]) + 1)
        ax.plot(epochs, logs[key], **style(0), markersize=3, label=f"training {key}")
        if f"val_{key}" in logs:
            ax.plot(epochs, logs[f"val_{key}"], **style(1), markersize=3, label=f"validation {key}")
        label(ax, "epoch", key, f"{key} per epoch")
        legend(ax)


def plot_history(history: Any, path: Any = None) -> Any:
    """Loss and every metric per epoch, each with its ``val_`` twin, one panel per quantity.

    Args:
        history: a :class:`nnx.callbacks.History` or its ``.history`` dict.
        path: where to save a PNG (optional).

    Returns:
        The Figure.
    """
    keys = _history_keys(history)
    fig, axes = figure(len(keys))
    _draw_history(axes, history)
    return finish(fig, path)


def plot_histories(
    histories: Mapping[str, Any],
    key: str = "loss",
    path: Any = None,
    log: bool = True,
    title: str = "",
) -> Any:
    """Several runs' ``key`` per epoch on one panel (log scale by default), one style per run.

    Args:
        histories: ``{label: History or history dict or list of values}``.
        key: the quantity to draw (``"loss"``, ``"val_loss"``, a metric).
        path: where to save a PNG (optional).
        log: logarithmic y axis.
        title: the title (default names ``key``).

    Returns:
        The Figure.

    >>> fig = plot_histories({"SGD": [1.0, 0.5], "Adam": [0.9, 0.1]})
    >>> fig.axes[0].get_yscale(), len(fig.axes[0].lines)
    ('log', 2)
    """
    fig, (ax,) = figure(1, (6.4, 4.2))
    for i, (name, h) in enumerate(histories.items()):
        values = _logs(h)[key] if isinstance(_logs(h), Mapping) else h
        marks = max(1, len(values) // 12)
        ax.plot(
            range(1, len(values) + 1),
            values,
            **style(i),
            markevery=marks,
            markersize=4,
            linewidth=1.6,
            label=str(name),
        )
    if log:
        ax.set_yscale("log")
        plain_log_ticks(ax.yaxis)
    label(ax, "epoch", key + (" (log scale)" if log else ""), title or f"{key} per epoch")
    legend(ax)
    return finish(fig, path)


def plot_summary(
    history: Any, model: Any = None, X: Any = None, y: Any = None, path: Any = None
) -> Any:
    """History panels plus, for 2-D inputs, the decision boundary (``nnx demo --plot``).

    Returns:
        The Figure.

    >>> fig = plot_summary({"loss": [0.7, 0.5]})
    >>> len(fig.axes)
    1
    """
    two_d = model is not None and X is not None and len(X[0]) == 2
    keys = _history_keys(history)
    fig, axes = figure(len(keys) + two_d)
    _draw_history(axes, history)
    if two_d:
        draw_decision_boundary(axes[-1], model, X, y, 150)
    return finish(fig, path)
