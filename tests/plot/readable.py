"""What a program can check of a plot a student should read (shared by the plot tests)."""

from __future__ import annotations

import pathlib
from typing import Any

import numpy as np

PNG = b"\x89PNG\r\n\x1a\n"


def _panels(fig: Any) -> list[Any]:
    return [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]


def _style(line: Any) -> tuple[Any, ...]:
    return (line.get_color(), line.get_linestyle(), line.get_marker())


def check_readable(fig: Any, images: bool = False) -> None:
    """Every panel has a title, and (unless it shows images) axis labels; a panel with more than
    one labelled line has a legend; no two lines draw the same path in the same style; no text
    smaller than 7 pt."""
    for ax in _panels(fig):
        assert ax.get_title(), f"panel without a title: {ax}"
        if not images:
            assert ax.get_xlabel() and ax.get_ylabel(), f"unlabelled axes: {ax.get_title()}"
        labelled = [a for a in ax.lines + ax.collections if not a.get_label().startswith("_")]
        if len(labelled) > 1:
            assert ax.get_legend() is not None, f"no legend on {ax.get_title()!r}"
        seen: dict[tuple[Any, ...], np.ndarray] = {}
        for line in ax.lines:
            key = _style(line)
            xy = np.asarray(line.get_xydata(), dtype=float)
            if key in seen and seen[key].shape == xy.shape:
                assert not np.allclose(seen[key], xy), f"two identical lines on {ax.get_title()!r}"
            seen[key] = xy
    for text in fig.findobj(lambda a: hasattr(a, "get_fontsize") and hasattr(a, "get_text")):
        if text.get_text():
            assert text.get_fontsize() >= 7, text.get_text()


def check_png(path: pathlib.Path, fig: Any) -> None:
    """The saved PNG has the figure's size at 100 dpi and more than one colour."""
    from matplotlib.image import imread

    assert path.read_bytes().startswith(PNG), path
    pixels = imread(path)
    width, height = (round(v * 100) for v in fig.get_size_inches())
    assert pixels.shape[:2] == (height, width)
    rgb = (pixels[..., :3] * 255).astype(np.uint32)
    assert len(np.unique(rgb[..., 0] << 16 | rgb[..., 1] << 8 | rgb[..., 2])) > 10


def rendered_panel(fig: Any, ax: Any, inset: int = 3) -> np.ndarray:
    """The RGB pixels inside ``ax``'s frame, as drawn by Agg."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    pixels = np.asarray(canvas.buffer_rgba())[..., :3]
    box = ax.get_window_extent()
    height = pixels.shape[0]
    top, bottom = int(height - box.y1) + inset, int(height - box.y0) - inset
    return pixels[top:bottom, int(box.x0) + inset : int(box.x1) - inset]
