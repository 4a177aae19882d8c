"""Decision regions of a 2-D classifier for any output range, with the data drawn over them.

The plane is painted pixel by pixel (no contour level can leave it white): each point takes
the colour of its predicted class, deeper where the model is more confident. One output column
is a score compared with a threshold (0.5 for probabilities and for regression outputs trained on
0/1 labels, 0 for logits: a model compiled with ``from_logits=True``), and the boundary is
drawn where the score crosses it; several columns are class scores (argmax).

>>> from nnx.estimators import Perceptron
>>> from nnx.datasets import logic_gate
>>> X, y = logic_gate("or")
>>> fig = plot_decision_boundary(Perceptron().fit(X, y.ravel()), X, y, resolution=20)
>>> fig.axes[0].get_title()
'decision regions of Perceptron'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nnx.backends import get_backend
from nnx.plot.base import COLORS, MARKERS, figure, finish, label

__all__ = ["draw_decision_boundary", "plot_decision_boundary"]


def _labels(xp: Any, y: Any) -> Any:
    y = xp.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return xp.argmax(y, axis=1)
    return xp.astype(xp.round(xp.reshape(xp.astype(y, xp.float64), (-1,))), xp.int64)


def _outputs(model: Any, grid: Any) -> Any:
    xp = get_backend("numpy").xp
    predict = getattr(model, "predict_proba", None) or model.predict
    out = xp.asarray(predict(grid), dtype=xp.float64)
    return out if out.ndim == 2 and out.shape[1] > 1 else xp.reshape(out, (-1,))


def _threshold(model: Any, threshold: float | None) -> float:
    if threshold is not None:
        return float(threshold)
    return 0.0 if getattr(getattr(model, "loss", None), "from_logits", False) else 0.5


def _colour_plane(xp: Any, classes: Any, confidence: Any) -> Any:
    """RGB image: each pixel its class colour mixed with white, 25 % to 65 % by confidence."""
    from matplotlib.colors import to_rgb

    palette = xp.asarray([to_rgb(c) for c in COLORS])
    alpha = (0.25 + 0.4 * xp.clip(confidence, 0.0, 1.0))[..., None]
    return 1.0 - alpha * (1.0 - palette[classes % len(COLORS)])


def draw_decision_boundary(
    ax: Any,
    model: Any,
    X: Any,
    y: Any,
    resolution: int = 200,
    title: str = "",
    threshold: float | None = None,
    class_names: Sequence[str] | None = None,
    feature_names: Sequence[str] = ("feature 1", "feature 2"),
) -> None:
    """:func:`plot_decision_boundary` on an existing Axes."""
    xp = get_backend("numpy").xp
    X = xp.asarray(X, dtype=xp.float64)
    labels = _labels(xp, y)
    pad = 0.1 * (xp.max(X, axis=0) - xp.min(X, axis=0)) + 1e-3
    lo, hi = xp.min(X, axis=0) - pad, xp.max(X, axis=0) + pad
    gx, gy = xp.meshgrid(
        xp.linspace(float(lo[0]), float(hi[0]), resolution),
        xp.linspace(float(lo[1]), float(hi[1]), resolution),
    )
    grid = xp.stack([xp.reshape(gx, (-1,)), xp.reshape(gy, (-1,))], axis=1)
    out = _outputs(model, xp.astype(grid, xp.float32))
    if out.ndim == 2:
        order = xp.sort(out, axis=1)
        classes = xp.argmax(out, axis=1)
        margin = order[:, -1] - order[:, -2]
        n_classes = max(out.shape[1], int(xp.max(labels)) + 1)
        thr = None
    else:
        thr = _threshold(model, threshold)
        classes = xp.astype(out > thr, xp.int64)
        margin = xp.abs(out - thr)
        n_classes = max(2, int(xp.max(labels)) + 1)
    confidence = margin / max(float(xp.max(margin)), 1e-12)
    shape = (resolution, resolution)
    image = _colour_plane(xp, xp.reshape(classes, shape), xp.reshape(confidence, shape))
    extent = (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))
    ax.imshow(image, extent=extent, origin="lower", aspect="auto", interpolation="nearest")
    if thr is not None and float(xp.min(out)) < thr < float(xp.max(out)):
        ax.contour(gx, gy, xp.reshape(out, shape), levels=[thr], colors="k", linewidths=1.2)
        ax.plot([], [], "k-", label=f"boundary (output = {thr:g})")
    names = list(class_names) if class_names is not None else []
    names += [f"class {c}" for c in range(len(names), n_classes)]
    for c in range(n_classes):
        mask = labels == c
        if bool(xp.any(mask)):
            ax.scatter(
                X[mask, 0],
                X[mask, 1],
                color=COLORS[c % len(COLORS)],
                marker=MARKERS[c % len(MARKERS)],
                s=22,
                edgecolors="k",
                linewidths=0.5,
                label=names[c],
            )
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    label(ax, feature_names[0], feature_names[1], title or f"decision regions of {_name(model)}")
    ax.grid(False)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, borderaxespad=0.0)


def _name(model: Any) -> str:
    return str(getattr(model, "name", "") or type(model).__name__)


def plot_decision_boundary(
    model: Any,
    X: Any,
    y: Any,
    resolution: int = 200,
    path: Any = None,
    title: str = "",
    threshold: float | None = None,
    class_names: Sequence[str] | None = None,
    feature_names: Sequence[str] = ("feature 1", "feature 2"),
) -> Any:
    """Decision regions of a classifier on 2-D inputs, with the data on top and a class legend.

    Args:
        model: anything with ``predict`` (or ``predict_proba``): a Sequential with a sigmoid,
            softmax, linear (regression) or logit output, or an estimator.
        X: ``(n, 2)`` points; y: ``(n,)``, ``(n, 1)`` labels or ``(n, k)`` one-hot.
        resolution: grid points per axis.
        path: where to save a PNG (optional).
        title: the panel title (default names the model).
        threshold: the single-output decision threshold (default 0.5, or 0 for
            ``from_logits=True`` models).
        class_names: legend names of the classes (default ``class 0, class 1, ...``).
        feature_names: the axis labels.

    Returns:
        The Figure.
    """
    fig, (ax,) = figure(1, (6.2, 4.2))
    draw_decision_boundary(
        ax, model, X, y, resolution, title, threshold, class_names, feature_names
    )
    return finish(fig, path)
