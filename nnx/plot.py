"""Plots of the curriculum: training history, decision boundaries, activations and their
derivatives, optimizer trajectories, gradient norms, confusion matrices.

matplotlib is an optional extra (``pip install "nnx-array[plot]"``), imported only when a plot
is drawn. Every function returns a ``matplotlib.figure.Figure`` built without pyplot (no global
state, no GUI: it renders with Agg) and saves it as PNG when given ``path``.

>>> fig = plot_history({"loss": [1.0, 0.5, 0.25], "val_loss": [1.1, 0.6, 0.4]})
>>> [ax.get_title() for ax in fig.axes]
['loss']
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from nnx.backends import get_backend

__all__ = [
    "optimizer_trajectory",
    "plot_activations",
    "plot_confusion_matrix",
    "plot_decision_boundary",
    "plot_gradient_norms",
    "plot_history",
    "plot_optimizer_trajectories",
    "plot_summary",
]


def _figure(n_axes: int = 1, size: tuple[float, float] | None = None) -> tuple[Any, list[Any]]:
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError(
            'nnx.plot needs matplotlib, which is not installed: pip install "nnx-array[plot]"'
        ) from exc
    fig = Figure(figsize=size or (4.5 * n_axes, 3.6), layout="constrained")
    return fig, [fig.add_subplot(1, n_axes, i + 1) for i in range(n_axes)]


def _done(fig: Any, path: str | None) -> Any:
    if path is not None:
        fig.savefig(path, dpi=100, format="png")
    return fig


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
    fig, axes = _figure(len(keys))
    _draw_history(axes, history)
    return _done(fig, path)


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
    fig, axes = _figure(len(keys) + two_d)
    _draw_history(axes, history)
    if two_d:
        _draw_boundary(axes[-1], model, X, y, 150, "decision boundary")
    return _done(fig, path)


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
    fig, (ax,) = _figure(1, (5, 4))
    _draw_boundary(ax, model, X, y, resolution, title)
    return _done(fig, path)


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


def plot_activations(
    names: Sequence[str] = ("sigmoid", "tanh", "relu", "leaky_relu"), path: str | None = None
) -> Any:
    """Each activation (left panel) and its derivative from nnx's own backward (right panel).

    Args:
        names: activation names.
        path: where to save a PNG (optional).

    Returns:
        The Figure.

    >>> len(plot_activations(["relu"]).axes)
    2
    """
    from nnx import activations

    b = get_backend("numpy")
    x = b.xp.linspace(-4.0, 4.0, 401)
    fig, axes = _figure(2, (9, 3.6))
    for name in names:
        fn = activations.get(name)
        y = fn.forward(x)
        axes[0].plot(x, y, label=name)
        axes[1].plot(x, fn.backward(b.xp.ones_like(x), x, y), label=f"{name}'")
    axes[0].set_title("activation f(x)")
    axes[1].set_title("derivative f'(x)")
    for ax in axes:
        ax.legend()
        ax.set_xlabel("x")
    return _done(fig, path)


def _bowl(w: Any) -> Any:
    return w * get_backend("numpy").xp.asarray([2.0, 20.0])


def optimizer_trajectory(
    optimizer: Any,
    gradient: Callable[[Any], Any] = _bowl,
    start: Sequence[float] = (-4.0, 2.0),
    steps: int = 50,
) -> Any:
    """The points visited by an nnx optimizer minimising a 2-D function from ``start``.

    Args:
        optimizer: an optimizer name or instance.
        gradient: ``grad(w)`` for ``w`` of shape ``(2,)`` (default: of ``x^2 + 10 y^2``).
        start: the initial point.
        steps: number of updates.

    Returns:
        A ``(steps + 1, 2)`` float64 host array.

    >>> path = optimizer_trajectory("sgd", steps=3)
    >>> path.shape
    (4, 2)
    """
    from nnx import optimizers
    from nnx.layers.base import Parameter

    b = get_backend("numpy")
    opt = optimizers.get(optimizer)
    p = Parameter(b.asarray(list(start), dtype="float64"), "w")
    points = [b.xp.asarray(p.value, copy=True)]
    for _ in range(steps):
        p.grad = gradient(p.value)
        opt.step([p])
        points.append(b.xp.asarray(p.value, copy=True))
    return b.xp.stack(points)


def plot_optimizer_trajectories(
    optimizers: Mapping[str, Any] | Sequence[str] = ("sgd", "adam", "rmsprop"),
    function: Callable[[Any, Any], Any] | None = None,
    gradient: Callable[[Any], Any] = _bowl,
    start: Sequence[float] = (-4.0, 2.0),
    steps: int = 50,
    path: str | None = None,
) -> Any:
    """Optimizer paths over the contours of a 2-D function (default ``x^2 + 10 y^2``).

    Args:
        optimizers: names, or ``{label: optimizer}``.
        function: ``f(x, y)`` for the contours (give it with ``gradient``).
        gradient: ``grad(w)`` of the function.
        start, steps: as :func:`optimizer_trajectory`.
        path: where to save a PNG (optional).

    Returns:
        The Figure.

    >>> plot_optimizer_trajectories(["sgd"], steps=5).axes[0].get_title()
    'optimizer trajectories'
    """
    xp = get_backend("numpy").xp
    items = optimizers.items() if isinstance(optimizers, Mapping) else [(o, o) for o in optimizers]
    f = function or (lambda x, y: x**2 + 10 * y**2)
    gx, gy = xp.meshgrid(xp.linspace(-5.0, 5.0, 200), xp.linspace(-3.0, 3.0, 200))
    fig, (ax,) = _figure(1, (6, 4))
    ax.contour(gx, gy, f(gx, gy), levels=25, cmap="Greys", linewidths=0.5)
    for label, opt in items:
        points = optimizer_trajectory(opt, gradient, start, steps)
        ax.plot(points[:, 0], points[:, 1], marker=".", markersize=3, label=str(label))
    ax.set_title("optimizer trajectories")
    ax.legend()
    return _done(fig, path)


def plot_gradient_norms(
    norms: Mapping[Any, Mapping[Any, float]] | Mapping[Any, float],
    path: str | None = None,
    title: str = "",
) -> Any:
    """Gradient norms on a log scale: one line per series of ``{x: norm}`` (e.g. per activation
    ``{depth: ratio}`` from :func:`nnx.diagnostics.depth_gradient_ratio`), or one series.

    Args:
        norms: ``{label: {x: value}}`` or ``{x: value}``.
        path: where to save a PNG (optional).
        title: the panel title.

    Returns:
        The Figure.

    >>> plot_gradient_norms({2: 0.5, 8: 0.01}).axes[0].get_yscale()
    'log'
    """
    series = norms if all(isinstance(v, Mapping) for v in norms.values()) else {"": norms}
    fig, (ax,) = _figure(1, (6, 4))
    for label, values in series.items():
        keys = list(values)
        ax.plot(range(len(keys)), [values[k] for k in keys], marker="o", label=str(label))
        ax.set_xticks(range(len(keys)), [str(k) for k in keys], rotation=45 if len(keys) > 6 else 0)
    ax.set_yscale("log")
    ax.set_title(title or "gradient norms")
    if len(series) > 1:
        ax.legend()
    return _done(fig, path)


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
    fig, (ax,) = _figure(1, (4.5, 4))
    ax.imshow(cm, cmap="Blues")
    for i in range(k):
        for j in range(k):
            ax.text(j, i, f"{float(cm[i, j]):g}", ha="center", va="center", fontsize=8)
    ax.set_xticks(range(k), names)
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    return _done(fig, path)
