"""The figure helpers of :mod:`nnx.plot`: matplotlib imported lazily, no pyplot, and the house
style every plot shares (labelled axes, a legend where there is more than one line, line styles
that differ in colour, dash and marker, so no line can hide another unnoticed).

>>> fig, axes = figure(2)
>>> len(axes)
2
>>> style(1)["linestyle"], style(1)["marker"]
('--', 's')
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

__all__ = [
    "COLORS",
    "DASHES",
    "MARKERS",
    "figure",
    "finish",
    "grid",
    "label",
    "legend",
    "numeric_ticks",
    "plain_log_ticks",
    "style",
]

#: Okabe-Ito colour-blind-safe palette (black moved last): eight distinguishable colours
COLORS = (
    "#0072B2",
    "#D55E00",
    "#009E73",
    "#CC79A7",
    "#E69F00",
    "#56B4E9",
    "#F0E442",
    "#000000",
)
DASHES = ("-", "--", "-.", ":")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


def style(i: int) -> dict[str, Any]:
    """Colour, dash and marker of the ``i``-th line: all three change from one line to the next.

    >>> style(0)["color"] != style(1)["color"]
    True
    """
    return {
        "color": COLORS[i % len(COLORS)],
        "linestyle": DASHES[i % len(DASHES)],
        "marker": MARKERS[i % len(MARKERS)],
    }


_INLINE_FIGURE: Any = None


def _figure_class() -> Any:
    """:class:`matplotlib.figure.Figure` with ``_repr_png_``, made once (matplotlib is lazy).

    A cell whose value is an nnx figure shows it as an image in Jupyter: IPython's PNG formatter
    calls ``_repr_png_`` when no printer is registered for the type, and when matplotlib-inline
    has registered one for ``Figure`` that printer (a subclass matches it) draws it instead: one
    image either way. The figure is not a pyplot figure, so the inline backend's end-of-cell
    flush never draws it a second time.
    """
    global _INLINE_FIGURE
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError(
            'nnx.plot needs matplotlib, which is not installed: pip install "nnx-array[plot]"'
        ) from exc
    if _INLINE_FIGURE is None:

        class InlineFigure(Figure):
            """A Figure that Jupyter shows inline as PNG (``_repr_png_``)."""

            def _repr_png_(self) -> bytes:
                import io

                buffer = io.BytesIO()
                self.savefig(buffer, format="png", dpi=100)
                return buffer.getvalue()

        InlineFigure.__module__, InlineFigure.__qualname__ = __name__, "InlineFigure"
        _INLINE_FIGURE = InlineFigure
    return _INLINE_FIGURE


def figure(n_axes: int = 1, size: tuple[float, float] | None = None) -> tuple[Any, list[Any]]:
    """A Figure (constrained layout) with ``n_axes`` panels side by side.

    Raises:
        ImportError: matplotlib is missing; the message names ``nnx-array[plot]``.
    """
    fig = _figure_class()(figsize=size or (4.5 * n_axes, 3.6), layout="constrained")
    return fig, [fig.add_subplot(1, n_axes, i + 1) for i in range(n_axes)]


def grid(
    n_axes: int, columns: int, panel: tuple[float, float] = (3.2, 2.8)
) -> tuple[Any, list[Any]]:
    """A Figure with ``n_axes`` panels on a grid ``columns`` wide (unused cells left out)."""
    columns = max(1, min(columns, n_axes))
    rows = -(-n_axes // columns)
    fig = _figure_class()(figsize=(panel[0] * columns, panel[1] * rows), layout="constrained")
    return fig, [fig.add_subplot(rows, columns, i + 1) for i in range(n_axes)]


def label(ax: Any, xlabel: str, ylabel: str, title: str) -> None:
    """Axis labels and title, with a light grid (every nnx panel has all three)."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)


def legend(ax: Any, **kwargs: Any) -> None:
    """A legend when the panel has more than one labelled artist."""
    _, labels = ax.get_legend_handles_labels()
    if len([t for t in labels if not t.startswith("_")]) > 1:
        ax.legend(**{"fontsize": 9, "framealpha": 0.85, **kwargs})


def plain_log_ticks(axis: Any) -> None:
    """Log-axis tick labels as plain numbers (0.1, 0.01), never "1.6x10^-1"; minor ticks are
    labelled (2, 3, 5 times a power of ten) only when the axis spans less than two decades, so a
    narrow range still has numbers on it."""
    from matplotlib.ticker import FuncFormatter

    def minor(v: float, _: Any) -> str:
        lo, hi = sorted(axis.get_view_interval())
        mantissa = round(v / 10 ** math.floor(math.log10(v) + 1e-9), 6) if v > 0 else 0
        return f"{v:g}" if lo > 0 and hi / lo < 100 and mantissa in (2, 3, 5) else ""

    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(FuncFormatter(minor))


def numeric_ticks(ax: Any, values: Sequence[float]) -> None:
    """Ticks exactly at the studied values (depths 1, 2, 3, 4, 6, 8 stay 1, 2, 3, 4, 6, 8)."""
    ax.set_xticks(list(values), [f"{v:g}" for v in values])


def finish(fig: Any, path: Any = None) -> Any:
    """Save ``fig`` as PNG (100 dpi) when ``path`` is given; return it."""
    if path is not None:
        fig.savefig(path, dpi=100, format="png")
    return fig
