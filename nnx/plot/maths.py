"""Plots of the maths: activations and derivatives, optimizer trajectories, gradient norms.

>>> optimizer_trajectory("adam", steps=2).shape
(3, 2)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from nnx.backends import get_backend
from nnx.plot.base import figure, finish

__all__ = [
    "optimizer_trajectory",
    "plot_activations",
    "plot_gradient_norms",
    "plot_optimizer_trajectories",
]


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
    fig, axes = figure(2, (9, 3.6))
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
    return finish(fig, path)


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
    fig, (ax,) = figure(1, (6, 4))
    ax.contour(gx, gy, f(gx, gy), levels=25, cmap="Greys", linewidths=0.5)
    for label, opt in items:
        points = optimizer_trajectory(opt, gradient, start, steps)
        ax.plot(points[:, 0], points[:, 1], marker=".", markersize=3, label=str(label))
    ax.set_title("optimizer trajectories")
    ax.legend()
    return finish(fig, path)


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
    nested = all(isinstance(v, Mapping) for v in norms.values())
    series: Mapping[Any, Mapping[Any, float]] = norms if nested else {"": norms}  # type: ignore[assignment,dict-item]
    fig, (ax,) = figure(1, (6, 4))
    for label, values in series.items():
        keys = list(values)
        ax.plot(range(len(keys)), [values[k] for k in keys], marker="o", label=str(label))
        ax.set_xticks(range(len(keys)), [str(k) for k in keys], rotation=45 if len(keys) > 6 else 0)
    ax.set_yscale("log")
    ax.set_title(title or "gradient norms")
    if len(series) > 1:
        ax.legend()
    return finish(fig, path)
