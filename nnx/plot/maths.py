"""Plots of the maths: each activation with its derivative, one panel per function; gradient
norms and any ``{x: value}`` study on a true numeric axis.

>>> fig = plot_activations(["relu", "tanh"])
>>> [ax.get_title() for ax in fig.axes]
['relu', 'tanh']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from nnx.backends import get_backend
from nnx.plot.base import figure, finish, grid, label, legend, numeric_ticks, plain_log_ticks, style

__all__ = ["plot_activations", "plot_gradient_norms", "plot_study"]


def plot_activations(
    names: Sequence[str] = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "swish"),
    path: Any = None,
    columns: int = 3,
    x_range: tuple[float, float] = (-4.0, 4.0),
) -> Any:
    """A grid of panels, one per activation: ``f(x)`` (solid) and ``f'(x)`` from nnx's own
    backward (dashed), so no function hides under another.

    Args:
        names: activation names (see ``nnx.activations.names()``).
        path: where to save a PNG (optional).
        columns: panels per row.
        x_range: the input interval.

    Returns:
        The Figure.
    """
    from nnx import activations

    b = get_backend("numpy")
    x = b.xp.linspace(x_range[0], x_range[1], 401)
    fig, axes = grid(len(names), columns)
    for ax, name in zip(axes, names, strict=True):
        fn = activations.get(name)
        y = fn.forward(x)
        dy = fn.backward(b.xp.ones_like(x), x, y)
        ax.plot(x, y, color=style(0)["color"], linewidth=2, label="f(x)")
        ax.plot(x, dy, color=style(1)["color"], linestyle="--", linewidth=2, label="f'(x)")
        ax.axhline(0.0, color="0.6", linewidth=0.6)
        ax.axvline(0.0, color="0.6", linewidth=0.6)
        label(ax, "x", "f(x), f'(x)", name)
        ax.legend(fontsize=8, loc="upper left")
    return finish(fig, path)


def _series(data: Mapping[Any, Any]) -> Mapping[Any, Mapping[Any, float]]:
    nested = all(isinstance(v, Mapping) for v in data.values())
    return data if nested else {"": data}


def plot_study(
    results: Mapping[Any, Mapping[Any, float]] | Mapping[Any, float],
    xlabel: str,
    ylabel: str,
    title: str,
    path: Any = None,
    logx: bool = False,
    logy: bool = False,
) -> Any:
    """One line per series ``{label: {x: value}}`` (or one series ``{x: value}``) against a
    true numeric x axis: depths 1, 2, 3, 4, 6, 8 are spaced as numbers, learning rates on a log
    axis, ticks at the studied values. Non-numeric keys (layer names) are spread evenly with
    slanted labels.

    Returns:
        The Figure.

    >>> fig = plot_study({1: 0.3, 2: 0.2, 8: 0.1}, "hidden layers", "test MSE", "depth study")
    >>> fig.axes[0].get_xticks().tolist()
    [1, 2, 8]
    """
    series = _series(results)
    fig, (ax,) = figure(1, (6.4, 4.2))
    numeric = all(isinstance(k, int | float) for s in series.values() for k in s)
    xs_all: set[Any] = set()
    for i, (name, values) in enumerate(series.items()):
        keys = list(values)
        xs = keys if numeric else list(range(len(keys)))
        xs_all.update(xs)
        ax.plot(xs, [values[k] for k in keys], **style(i), linewidth=1.8, label=str(name))
        if not numeric:
            slant = max(len(str(k)) for k in keys) > 4 or len(keys) > 6
            ax.set_xticks(
                xs,
                [str(k) for k in keys],
                rotation=40 if slant else 0,
                ha="right" if slant else "center",
                fontsize=8 if slant else 10,
            )
    if logx:
        ax.set_xscale("log")
        plain_log_ticks(ax.xaxis)
    if logy:
        ax.set_yscale("log")
        plain_log_ticks(ax.yaxis)
    if numeric:
        numeric_ticks(ax, sorted(xs_all))
    label(ax, xlabel, ylabel, title)
    legend(ax)
    return finish(fig, path)


def plot_gradient_norms(
    norms: Mapping[Any, Mapping[Any, float]] | Mapping[Any, float],
    path: Any = None,
    title: str = "",
    xlabel: str = "",
    ylabel: str = "gradient norm",
) -> Any:
    """Gradient norms on a log scale: one line per series of ``{x: norm}`` (e.g. per activation
    ``{depth: ratio}`` from :func:`nnx.diagnostics.depth_gradient_ratio`), or one series; a
    numeric ``x`` (depth) gets a true numeric axis, parameter names slanted labels.

    Returns:
        The Figure.

    >>> plot_gradient_norms({2: 0.5, 8: 0.01}).axes[0].get_yscale()
    'log'
    """
    series = _series(norms)
    numeric = all(isinstance(k, int | float) for s in series.values() for k in s)
    return plot_study(
        norms,
        xlabel or ("network depth" if numeric else "parameter"),
        ylabel,
        title or "gradient norms",
        path,
        logy=True,
    )
