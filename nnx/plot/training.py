"""Training plots: history, decision boundary, both together, confusion matrix.

>>> len(plot_history({"loss": [1.0, 0.5]}).axes)
1
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from nnx.backends import get_backend
from nnx.plot.base import figure, finish

__all__ = ["plot_confusion_matrix", "plot_decision_boundary", "plot_history", "plot_summary"]


def plot_history(history: Any, path: str | None = None) -> Any:
    """Loss and every metric per epoch, each with its ``val_`` twin, one panel per quantity.

    Args:
        history: a :class:`nnx.callbacks.History` or its ``.history`` dict.
        path: where to save a PNG (optional).

    Returns:
        The Figure.

    >>> [ax.get_title() for ax in plot_history({"loss": [1.0, 0.5], "acc": [0.5, 0.9]}).axes]
    ['loss', 'acc']
    """
    keys = _history_keys(history)
    fig, axes = figure(len(keys))
    _draw_history(axes, history)
    return finish(fig, path)


def _history_keys(history: Any) -> list[str]:
    logs: Mapping[str, Sequence[float]] = getattr(history, "history", history)
    return [k for k in logs if not k.startswith("val_") and k != "learning_rate"]


def _draw_history(axes: Sequence[Any], history: Any) -> None:
    logs: Mapping[str, Sequence[float]] = getattr(history, "history", history)
    for ax, key in zip(axes, _history_keys(history), strict=False):
        epochs = range(1, len(logs[key]) + 1)
        ax.plot(epochs, logs[key], label=key)
        if f"val_{key}" in logs:
            ax.plot(epochs, logs[f"val_{key}"], label=f"val_{key}")
        ax.set_title(key)
        ax.set_xlabel("epoch")
        ax.legend()


def plot_summary(
    history: Any, model: Any = None, X: Any = None, y: Any = None, path: str | None = None
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
        _draw_boundary(axes[-1], model, X, y, 150, "decision boundary")
    return finish(fig, path)


def _scores(model: Any, grid: Any) -> Any:
    xp = get_backend("numpy").xp
    if hasattr(model, "predict_proba"):
        p = xp.asarray(model.predict_proba(grid))
    else:
        p = xp.asarray(model.predict(grid))
    if p.ndim == 2 and p.shape[1] > 1:
        return xp.astype(xp.argmax(p, axis=1), xp.float64), p.shape[1]
    return xp.astype(xp.reshape(p, (-1,)), xp.float64), 2


def plot_decision_boundary(
    model: Any, X: Any, y: Any, resolution: int = 200, path: str | None = None, title: str = ""
) -> Any:
    """Decision regions of a classifier on 2-D inputs, with the data on top.

    Args:
        model: a Sequential (sigmoid or softmax output) or an estimator with
            ``predict_proba`` or ``predict``.
        X: ``(n, 2)`` points; y: ``(n,)`` or ``(n, 1)`` labels.
        resolution: grid points per axis.
        path: where to save a PNG (optional).
        title: the panel title.

    Returns:
        The Figure.

    >>> from nnx.estimators import Perceptron
    >>> from nnx.datasets import logic_gate
    >>> X, y = logic_gate("or")
    >>> fig = plot_decision_boundary(Perceptron().fit(X, y.ravel()), X, y, resolution=20)
    >>> fig.axes[0].get_title()
    'decision boundary'
    """
    fig, (ax,) = figure(1, (5, 4))
    _draw_boundary(ax, model, X, y, resolution, title)
    return finish(fig, path)


def _draw_boundary(ax: Any, model: Any, X: Any, y: Any, resolution: int, title: str) -> None:
    xp = get_backend("numpy").xp
    X = xp.asarray(X, dtype=xp.float64)
    lo, hi = xp.min(X, axis=0) - 0.5, xp.max(X, axis=0) + 0.5
    gx, gy = xp.meshgrid(
        xp.linspace(float(lo[0]), float(hi[0]), resolution),
        xp.linspace(float(lo[1]), float(hi[1]), resolution),
    )
    grid = xp.stack([xp.reshape(gx, (-1,)), xp.reshape(gy, (-1,))], axis=1)
    z, k = _scores(model, xp.astype(grid, xp.float32))
    levels = [0.0, 0.5, 1.0] if k == 2 else [i - 0.5 for i in range(k + 1)]
    ax.contourf(gx, gy, xp.reshape(z, gx.shape), levels=levels, cmap="RdBu", alpha=0.35)
    ax.scatter(
        X[:, 0],
        X[:, 1],
        c=xp.reshape(xp.asarray(y), (-1,)),
        cmap="RdBu",
        s=12,
        edgecolors="k",
        linewidths=0.3,
    )
    ax.set_title(title or "decision boundary")


def plot_confusion_matrix(
    cm: Any, class_names: Sequence[str] | None = None, path: str | None = None
) -> Any:
    """A confusion matrix as a heat map with the counts written in.

    Args:
        cm: a ``(k, k)`` matrix (rows true, columns predicted).
        class_names: tick labels.
        path: where to save a PNG (optional).

    Returns:
        The Figure.

    >>> plot_confusion_matrix([[3, 1], [0, 4]], ["no", "yes"]).axes[0].get_xlabel()
    'predicted'
    """
    xp = get_backend("numpy").xp
    cm = xp.asarray(cm)
    k = cm.shape[0]
    names = list(class_names) if class_names is not None else [str(i) for i in range(k)]
    fig, (ax,) = figure(1, (4.5, 4))
    ax.imshow(cm, cmap="Blues")
    for i in range(k):
        for j in range(k):
            ax.text(j, i, f"{float(cm[i, j]):g}", ha="center", va="center", fontsize=8)
    ax.set_xticks(range(k), names)
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    return finish(fig, path)
