"""A confusion matrix a student can read: counts (and row shares) written in each cell in black
or white by the cell's luminance, a colour bar, a title, and room for long class names.

>>> fig = plot_confusion_matrix([[3, 1], [0, 4]], ["no", "yes"])
>>> fig.axes[0].get_xlabel(), fig.axes[0].get_title()
('predicted class', 'confusion matrix (8 samples, accuracy 0.875)')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nnx.backends import get_backend
from nnx.plot.base import figure, finish

__all__ = ["plot_confusion_matrix", "text_colour"]


def text_colour(rgba: Sequence[float]) -> str:
    """``"white"`` on dark cells, ``"black"`` on light ones (relative luminance, sRGB weights).

    >>> text_colour((0.0, 0.1, 0.4, 1.0)), text_colour((0.9, 0.95, 1.0, 1.0))
    ('white', 'black')
    """
    r, g, b = rgba[:3]
    return "white" if 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.5 else "black"


def plot_confusion_matrix(
    cm: Any,
    class_names: Sequence[str] | None = None,
    path: Any = None,
    title: str = "",
    normalize: bool = False,
) -> Any:
    """A confusion matrix as a heat map with the counts written in.

    Args:
        cm: a ``(k, k)`` matrix (rows true, columns predicted).
        class_names: tick labels.
        path: where to save a PNG (optional).
        title: the title (default: the sample count and accuracy).
        normalize: colour by the share of each true class (row) and print it under the count.

    Returns:
        The Figure.
    """
    from matplotlib import colormaps
    from matplotlib.colors import Normalize

    xp = get_backend("numpy").xp
    cm = xp.asarray(cm, dtype=xp.float64)
    k = cm.shape[0]
    names = list(class_names) if class_names is not None else [str(i) for i in range(k)]
    rows = xp.maximum(xp.sum(cm, axis=1, keepdims=True), 1.0)
    shown = cm / rows if normalize else cm
    side = max(4.0, 0.9 * k + 2.5)
    fig, (ax,) = figure(1, (side + 1.0, side))
    cmap, norm = colormaps["Blues"], Normalize(0.0, float(xp.max(shown)) or 1.0)
    image = ax.imshow(shown, cmap=cmap, norm=norm)
    bar = fig.colorbar(image, ax=ax, shrink=0.85)
    bar.set_label("share of the true class" if normalize else "samples")
    size = 11 if k <= 5 else 9 if k <= 10 else 7
    for i in range(k):
        for j in range(k):
            text = f"{float(cm[i, j]):g}"
            if normalize:
                text += f"\n{float(shown[i, j]):.0%}"
            colour = text_colour(cmap(norm(float(shown[i, j]))))
            ax.text(j, i, text, ha="center", va="center", fontsize=size, color=colour)
    rotate = 45 if max(len(n) for n in names) > 4 and k > 2 else 0
    ax.set_xticks(range(k), names, rotation=rotate, ha="right" if rotate else "center")
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    total = float(xp.sum(cm))
    accuracy = float(xp.sum(xp.linalg.diagonal(cm))) / max(total, 1.0)
    ax.set_title(title or f"confusion matrix ({total:g} samples, accuracy {accuracy:.3g})")
    return finish(fig, path)
