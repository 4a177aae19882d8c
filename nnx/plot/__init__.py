"""Plots of the curriculum: training history, decision boundaries, activations and their
derivatives, optimizer trajectories, gradient norms, confusion matrices.

matplotlib is an optional extra (``pip install "nnx-array[plot]"``), imported only when a plot
is drawn. Every function returns a ``matplotlib.figure.Figure`` built without pyplot (no global
state, no GUI: it renders with Agg) and saves it as PNG when given ``path``.

>>> fig = plot_history({"loss": [1.0, 0.5, 0.25], "val_loss": [1.1, 0.6, 0.4]})
>>> [ax.get_title() for ax in fig.axes]
['loss']
"""

from nnx.plot.maths import (
    optimizer_trajectory,
    plot_activations,
    plot_gradient_norms,
    plot_optimizer_trajectories,
)
from nnx.plot.training import (
    plot_confusion_matrix,
    plot_decision_boundary,
    plot_history,
    plot_summary,
)

__all__ = [
    "optimizer_trajectory",
    "plot_activations",
    "plot_confusion_matrix",
    "plot_decision_boundary",
    "plot_gradient_norms",
    "plot_history",
    "plot_optimizer_trajectories",
    "plot_summary",
]
