"""Optimizer teaching aids: paths over a loss surface's contours (optimum marked, formula in the
title), each optimizer's steps down the 1-D quadratic ``(x + 1)^2``, and epochs to convergence.

Given by name, an optimizer gets a learning rate of :data:`TRAJECTORY_RATES` or
:data:`QUADRATIC_RATES`, chosen so that it converges on the shown function in the steps drawn
(the library defaults, e.g. Adam's 0.001, barely move in 50 steps and would suggest the
optimizer is broken).

>>> optimizer_trajectory("adam", steps=2).shape
(3, 2)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from nnx.backends import get_backend
from nnx.plot.base import figure, finish, grid, label, legend, style

__all__ = [
    "QUADRATIC_RATES",
    "SURFACES",
    "TRAJECTORY_RATES",
    "Surface",
    "epochs_to_convergence",
    "optimizer_trajectory",
    "plot_convergence_epochs",
    "plot_optimizer_trajectories",
    "plot_quadratic_steps",
]


@dataclass(frozen=True)
class Surface:
    """A 2-D loss surface: ``f(x, y)``, its gradient at ``w = (x, y)``, its formula, optimum,
    a start point and the plotted window ``(x0, x1, y0, y1)``."""

    function: Callable[[Any, Any], Any]
    gradient: Callable[[Any], Any]
    formula: str
    optimum: tuple[float, float]
    start: tuple[float, float]
    window: tuple[float, float, float, float]


def _xp() -> Any:
    return get_backend("numpy").xp


SURFACES: dict[str, Surface] = {
    "bowl": Surface(
        lambda x, y: x**2 + 10 * y**2,
        lambda w: w * _xp().asarray([2.0, 20.0]),
        "f(x, y) = x² + 10 y²",
        (0.0, 0.0),
        (-4.0, 2.0),
        (-5.0, 5.0, -3.0, 3.0),
    ),
    "round": Surface(
        lambda x, y: x**2 + y**2,
        lambda w: 2.0 * w,
        "f(x, y) = x² + y²",
        (0.0, 0.0),
        (3.0, 2.0),
        (-3.5, 3.5, -3.0, 3.0),
    ),
}

#: rates with which each named optimizer reaches the bowl's minimum in 100 steps
TRAJECTORY_RATES: dict[str, dict[str, Any]] = {
    "sgd": {"name": "sgd", "learning_rate": 0.05},
    "momentum": {"name": "sgd", "learning_rate": 0.02, "momentum": 0.7},
    "nesterov": {"name": "sgd", "learning_rate": 0.02, "momentum": 0.7, "nesterov": True},
    "rmsprop": {"name": "rmsprop", "learning_rate": 0.05},
    "adam": {"name": "adam", "learning_rate": 0.3},
    "nadam": {"name": "nadam", "learning_rate": 0.3},
    "adamw": {"name": "adamw", "learning_rate": 0.3, "weight_decay": 0.0},
    "adagrad": {"name": "adagrad", "learning_rate": 1.0},
    "adadelta": {"name": "adadelta", "learning_rate": 200.0},
}

#: rates with which each named optimizer reaches the minimum of (x + 1)^2 from x = 3 in 50 steps
QUADRATIC_RATES: dict[str, dict[str, Any]] = {
    "sgd": {"name": "sgd", "learning_rate": 0.1},
    "momentum": {"name": "sgd", "learning_rate": 0.05, "momentum": 0.5},
    "nesterov": {"name": "sgd", "learning_rate": 0.05, "momentum": 0.5, "nesterov": True},
    "rmsprop": {"name": "rmsprop", "learning_rate": 0.3},
    "adam": {"name": "adam", "learning_rate": 1.0},
    "nadam": {"name": "nadam", "learning_rate": 1.0},
    "adamw": {"name": "adamw", "learning_rate": 1.0, "weight_decay": 0.0},
    "adagrad": {"name": "adagrad", "learning_rate": 2.0},
    "adadelta": {"name": "adadelta", "learning_rate": 200.0},
}


def _optimizer(spec: Any, rates: Mapping[str, dict[str, Any]]) -> Any:
    from nnx import optimizers

    if isinstance(spec, str) and spec.lower() in rates:
        return optimizers.get(dict(rates[spec.lower()]))
    return optimizers.get(spec)


def _describe(opt: Any) -> str:
    config = opt.get_config()
    text = f"{type(opt).__name__} lr={config['learning_rate']:g}"
    if config.get("momentum"):
        text += f", momentum={config['momentum']:g}"
    return text + (", Nesterov" if config.get("nesterov") else "")


def optimizer_trajectory(
    optimizer: Any,
    gradient: Callable[[Any], Any] | None = None,
    start: Sequence[float] = (-4.0, 2.0),
    steps: int = 50,
) -> Any:
    """The points visited by an nnx optimizer minimising a function from ``start``.

    Args:
        optimizer: an optimizer instance, config, or name (a name gets its
            :data:`TRAJECTORY_RATES` rate).
        gradient: ``grad(w)`` for ``w`` of the shape of ``start`` (default: of ``x^2 + 10 y^2``).
        start: the initial point.
        steps: number of updates.

    Returns:
        A ``(steps + 1, len(start))`` float64 host array.

    >>> optimizer_trajectory("sgd", steps=3).shape
    (4, 2)
    """
    from nnx.layers.base import Parameter

    b = get_backend("numpy")
    grad = gradient or SURFACES["bowl"].gradient
    opt = _optimizer(optimizer, TRAJECTORY_RATES)
    p = Parameter(b.asarray(list(start), dtype="float64"), "w")
    points = [b.xp.asarray(p.value, copy=True)]
    for _ in range(steps):
        p.grad = grad(p.value)
        opt.step([p])
        points.append(b.xp.asarray(p.value, copy=True))
    return b.xp.stack(points)


def _items(optimizers: Mapping[str, Any] | Sequence[Any]) -> list[tuple[str, Any]]:
    if isinstance(optimizers, Mapping):
        return [(str(k), v) for k, v in optimizers.items()]
    return [(str(o) if isinstance(o, str) else type(o).__name__, o) for o in optimizers]


def plot_optimizer_trajectories(
    optimizers: Mapping[str, Any] | Sequence[Any] = ("sgd", "momentum", "rmsprop", "adam"),
    surface: str | Surface = "bowl",
    steps: int = 100,
    start: Sequence[float] | None = None,
    path: Any = None,
) -> Any:
    """Optimizer paths over the contours of a 2-D loss surface, the optimum marked.

    Args:
        optimizers: names (each with its :data:`TRAJECTORY_RATES` rate), instances, or
            ``{label: optimizer}``.
        surface: a :data:`SURFACES` name (``"bowl"``: ``x^2 + 10 y^2``; ``"round"``) or a
            :class:`Surface`.
        steps: updates per optimizer.
        start: the initial point (default: the surface's).
        path: where to save a PNG (optional).

    Returns:
        The Figure.

    >>> plot_optimizer_trajectories(["sgd"], steps=5).axes[0].get_title()
    'optimizer paths on f(x, y) = x² + 10 y², 5 steps'
    """
    xp = _xp()
    s = SURFACES[surface] if isinstance(surface, str) else surface
    x0, x1, y0, y1 = s.window
    gx, gy = xp.meshgrid(xp.linspace(x0, x1, 200), xp.linspace(y0, y1, 200))
    fig, (ax,) = figure(1, (7.2, 4.6))
    levels = ax.contour(gx, gy, s.function(gx, gy), levels=12, colors="0.65", linewidths=0.7)
    ax.clabel(levels, fontsize=7, fmt="%g")
    for i, (name, spec) in enumerate(_items(optimizers)):
        opt = _optimizer(spec, TRAJECTORY_RATES)
        points = optimizer_trajectory(opt, s.gradient, start or s.start, steps)
        ax.plot(
            points[:, 0],
            points[:, 1],
            **style(i),
            markersize=3.5,
            linewidth=1.4,
            label=f"{name} ({_describe(opt)})",
        )
    ax.plot(*s.optimum, marker="*", color="k", markersize=16, linestyle="none", label="optimum")
    ax.plot(
        *(start or s.start),
        marker="o",
        color="k",
        markersize=6,
        linestyle="none",
        label="start",
        fillstyle="none",
    )
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    label(ax, "x", "y", f"optimizer paths on {s.formula}, {steps} steps")
    legend(ax, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    return finish(fig, path)


def plot_quadratic_steps(
    optimizers: Mapping[str, Any] | Sequence[Any] = ("sgd", "momentum", "rmsprop", "adam"),
    steps: int = 50,
    start: float = 3.0,
    path: Any = None,
) -> Any:
    """Each optimizer's steps down the 1-D loss ``f(x) = x² + 2x + 1`` (minimum at ``x = -1``),
    one panel per optimizer, the steps numbered by colour from light (first) to dark (last).

    Returns:
        The Figure.

    >>> fig = plot_quadratic_steps(["sgd"], steps=3)
    >>> fig.axes[0].get_xlabel(), fig.axes[0].get_ylabel()
    ('parameter x', 'loss f(x)')
    """
    xp = _xp()
    items = _items(optimizers)
    fig, axes = grid(len(items), 2, (4.2, 3.2))
    xs = xp.linspace(-5.0, max(3.5, start + 0.5), 300)
    for i, (ax, (name, spec)) in enumerate(zip(axes, items, strict=True)):
        opt = _optimizer(spec, QUADRATIC_RATES)
        path_x = optimizer_trajectory(opt, lambda w: 2.0 * w + 2.0, [start], steps)[:, 0]
        ax.plot(xs, xs**2 + 2 * xs + 1, color="0.4", linewidth=1.5, label="f(x) = (x + 1)²")
        c = style(i)["color"]
        ax.plot(path_x, path_x**2 + 2 * path_x + 1, color=c, linewidth=0.8, alpha=0.6)
        ax.scatter(
            path_x,
            path_x**2 + 2 * path_x + 1,
            c=range(len(path_x)),
            cmap="viridis_r",
            s=22,
            zorder=3,
            edgecolors="k",
            linewidths=0.3,
            label="steps (light: first)",
        )
        ax.plot(
            -1.0,
            0.0,
            marker="*",
            color="k",
            markersize=12,
            linestyle="none",
            label="minimum x = -1",
        )
        label(
            ax,
            "parameter x",
            "loss f(x)",
            f"{name}: {_describe(opt)}\nx = {float(path_x[-1]):.3f} after {steps} steps",
        )
        ax.legend(fontsize=7, loc="upper center")
    fig.suptitle("gradient steps on f(x) = x² + 2x + 1")
    return finish(fig, path)


def epochs_to_convergence(losses: Sequence[float], tolerance: float = 0.05) -> int:
    """The first epoch (1-based) whose loss is within ``tolerance`` of the final loss.

    >>> epochs_to_convergence([1.0, 0.5, 0.26, 0.25])
    3
    """
    target = float(losses[-1]) * (1 + tolerance)
    return next(i + 1 for i, v in enumerate(losses) if float(v) <= target)


def plot_convergence_epochs(
    results: Mapping[str, Any], path: Any = None, tolerance: float = 0.05, title: str = ""
) -> Any:
    """Epochs to convergence per optimizer, a bar each with its value written on top.

    Args:
        results: ``{label: epochs}``, or ``{label: history or loss list}`` (then the epochs
            are :func:`epochs_to_convergence` of the ``loss``).
        path: where to save a PNG (optional).
        tolerance: the convergence band around the final loss.
        title: the title.

    Returns:
        The Figure.
    """
    epochs = {}
    for name, r in results.items():
        logs = getattr(r, "history", r)
        epochs[name] = (
            r
            if isinstance(r, int)
            else epochs_to_convergence(
                logs["loss"] if isinstance(logs, Mapping) else logs, tolerance
            )
        )
    fig, (ax,) = figure(1, (1.2 * len(epochs) + 3.0, 4.0))
    bars = ax.bar(
        range(len(epochs)),
        list(epochs.values()),
        color=[style(i)["color"] for i in range(len(epochs))],
    )
    ax.bar_label(bars, fmt="%d", padding=2)
    ax.set_xticks(range(len(epochs)), list(epochs), rotation=20, ha="right")
    ax.margins(y=0.15)
    label(
        ax,
        "optimizer",
        f"epochs to reach final loss + {tolerance:.0%}",
        title or "epochs to convergence",
    )
    return finish(fig, path)
