"""The figure helpers of :mod:`nnx.plot`: matplotlib imported lazily, no pyplot.

>>> fig, axes = figure(2)
>>> len(axes)
2
"""

from __future__ import annotations

from typing import Any

__all__ = ["figure", "finish"]


def figure(n_axes: int = 1, size: tuple[float, float] | None = None) -> tuple[Any, list[Any]]:
    """A Figure (constrained layout) with ``n_axes`` panels side by side.

    Raises:
        ImportError: matplotlib is missing; the message names ``nnx-array[plot]``.
    """
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError(
            'nnx.plot needs matplotlib, which is not installed: pip install "nnx-array[plot]"'
        ) from exc
    fig = Figure(figsize=size or (4.5 * n_axes, 3.6), layout="constrained")
    return fig, [fig.add_subplot(1, n_axes, i + 1) for i in range(n_axes)]


def finish(fig: Any, path: str | None) -> Any:
    """Save ``fig`` as PNG when ``path`` is given; return it."""
    if path is not None:
        fig.savefig(path, dpi=100, format="png")
    return fig
