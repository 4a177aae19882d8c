"""What happens inside a network: mean |activation| per layer, and forward/backward time
against the parameter count.

>>> fig = plot_activation_means({"tanh": [0.5, 0.3, 0.2]})
>>> fig.axes[0].get_xlabel()
'hidden layer'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from nnx.plot.base import figure, finish, label, legend, plain_log_ticks, style

__all__ = ["plot_activation_means", "plot_timing"]


def plot_activation_means(
    means: Mapping[str, Sequence[float]] | Sequence[float],
    path: Any = None,
    title: str = "mean |activation| per layer",
) -> Any:
    """Grouped bars: the mean absolute activation of each hidden layer, one colour per network
    (e.g. per activation function; :func:`nnx.diagnostics.activation_stats` measures them).

    Args:
        means: ``{label: [value per layer]}`` or one list.
        path: where to save a PNG (optional).
        title: the title.

    Returns:
        The Figure.
    """
    series = means if isinstance(means, Mapping) else {"mean |activation|": means}
    n = len(series)
    width = 0.8 / n
    fig, (ax,) = figure(1, (6.4, 4.0))
    hatches = ("", "//", "..", "xx", "\\\\", "oo")
    layers = max(len(v) for v in series.values())
    for i, (name, values) in enumerate(series.items()):
        xs = [j + 1 + (i - (n - 1) / 2) * width for j in range(len(values))]
        ax.bar(
            xs,
            list(values),
            width=width,
            color=style(i)["color"],
            hatch=hatches[i % 6],
            edgecolor="k",
            linewidth=0.5,
            label=str(name),
        )
    ax.set_xticks(range(1, layers + 1), [str(j) for j in range(1, layers + 1)])
    label(ax, "hidden layer", "mean |activation|", title)
    legend(ax)
    return finish(fig, path)


def plot_timing(
    parameters: Sequence[int],
    forward: Sequence[float],
    backward: Sequence[float],
    path: Any = None,
    title: str = "forward and backward time against network size",
) -> Any:
    """Seconds per forward and per backward pass against the number of parameters (log-log,
    so linear scaling is a line of slope 1).

    Returns:
        The Figure.

    >>> fig = plot_timing([100, 1000], [1e-4, 1e-3], [2e-4, 2e-3])
    >>> fig.axes[0].get_xscale()
    'log'
    """
    fig, (ax,) = figure(1, (6.4, 4.2))
    ax.plot(parameters, forward, **style(0), linewidth=1.8, label="forward pass")
    ax.plot(parameters, backward, **style(1), linewidth=1.8, label="backward pass")
    ax.set_xscale("log")
    ax.set_yscale("log")
    plain_log_ticks(ax.xaxis)
    plain_log_ticks(ax.yaxis)
    label(ax, "parameters", "seconds per pass", title)
    legend(ax)
    return finish(fig, path)
