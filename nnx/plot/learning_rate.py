"""Learning-rate plots: the LR finder's sweep with its suggestion marked, and schedules.

>>> from nnx.schedules import ExponentialDecay
>>> fig = plot_lr_schedules({"exp": ExponentialDecay(0.1, 10, 0.5)}, steps=30)
>>> fig.axes[0].get_xlabel()
'training step'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from nnx.plot.base import figure, finish, label, legend, plain_log_ticks, style

__all__ = ["plot_lr_find", "plot_lr_schedules"]


def plot_lr_find(result: Any, path: Any = None, title: str = "") -> Any:
    """The LR range test: raw batch losses (faint) and the smoothed loss against the learning
    rate (log axis), the ignored warm-up shaded and the suggested rate marked.

    Args:
        result: what :func:`nnx.lr_find` returned (``rates``, ``losses``, ``suggestion``;
            ``raw_losses``, ``skip_start``, ``method`` where present).
        path: where to save a PNG (optional).
        title: the title.

    Returns:
        The Figure.
    """
    rates, losses = list(result.rates), list(result.losses)
    fig, (ax,) = figure(1, (6.4, 4.2))
    raw = list(getattr(result, "raw_losses", []) or [])
    if raw:
        ax.plot(rates, raw, color="0.6", linewidth=0.8, linestyle=":", label="batch loss")
    ax.plot(rates, losses, color=style(0)["color"], linewidth=2, label="smoothed loss")
    skip = int(getattr(result, "skip_start", 0) or 0)
    if 0 < skip < len(rates):
        ax.axvspan(rates[0], rates[skip], color="0.85", label="warm-up (ignored)")
    s = float(result.suggestion)
    at = min(range(len(rates)), key=lambda i: abs(rates[i] - s)) if rates else 0
    method = getattr(result, "method", "suggested")
    ax.axvline(
        s, color=style(1)["color"], linestyle="--", linewidth=1.5, label=f"{method}: lr = {s:.3g}"
    )
    if rates:
        ax.plot(
            rates[at],
            losses[at],
            marker="o",
            color=style(1)["color"],
            markersize=8,
            linestyle="none",
        )
    ax.set_xscale("log")
    finite = [v for v in losses if v == v]
    if finite:
        low, top = min(finite), losses[skip if skip < len(losses) else 0]
        ax.set_ylim(low - 0.1 * (top - low + 1e-12), max(top, low) + 0.3 * (top - low + 1e-12))
    label(
        ax,
        "learning rate (log scale)",
        "training loss",
        title or f"learning-rate range test: suggested {s:.3g}",
    )
    legend(ax)
    return finish(fig, path)


def plot_lr_schedules(
    schedules: Mapping[str, Callable[[int], float]],
    steps: int = 100,
    path: Any = None,
    log: bool = False,
) -> Any:
    """Learning rate against training step for each schedule (``f(step) -> rate``).

    Returns:
        The Figure.
    """
    fig, (ax,) = figure(1, (6.4, 4.0))
    for i, (name, schedule) in enumerate(schedules.items()):
        rates = [float(schedule(t)) for t in range(steps)]
        ax.plot(
            range(steps),
            rates,
            **style(i),
            markevery=max(1, steps // 10),
            markersize=4,
            linewidth=1.6,
            label=str(name),
        )
    if log:
        ax.set_yscale("log")
        plain_log_ticks(ax.yaxis)
    label(ax, "training step", "learning rate", "learning-rate schedules")
    legend(ax)
    return finish(fig, path)
