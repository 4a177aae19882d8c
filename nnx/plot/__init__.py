"""Plots of the curriculum, each one readable on its own: axis labels, a title naming what is
shown, a legend where there is more than one line, line styles that differ in colour, dash and
marker.

matplotlib is an optional extra (``pip install "nnx-array[plot]"``), imported only when a plot
is drawn. Every function returns a ``matplotlib.figure.Figure`` built without pyplot (no global
state, no GUI: it renders with Agg) and saves it as PNG when given ``path``.

>>> fig = plot_history({"loss": [1.0, 0.5, 0.25], "val_loss": [1.1, 0.6, 0.4]})
>>> [ax.get_title() for ax in fig.axes]
['loss per epoch']
"""

from nnx.plot.boundary import plot_decision_boundary
from nnx.plot.confusion import plot_confusion_matrix
from nnx.plot.images import plot_augmented_images
from nnx.plot.learning_rate import plot_lr_find, plot_lr_schedules
from nnx.plot.losses import plot_loss_functions
from nnx.plot.maths import plot_activations, plot_gradient_norms, plot_study
from nnx.plot.networks import plot_activation_means, plot_timing
from nnx.plot.optimizers import (
    epochs_to_convergence,
    optimizer_trajectory,
    plot_convergence_epochs,
    plot_optimizer_trajectories,
    plot_quadratic_steps,
)
from nnx.plot.training import plot_histories, plot_history, plot_summary

__all__ = [
    "epochs_to_convergence",
    "optimizer_trajectory",
    "plot_activation_means",
    "plot_activations",
    "plot_augmented_images",
    "plot_confusion_matrix",
    "plot_convergence_epochs",
    "plot_decision_boundary",
    "plot_gradient_norms",
    "plot_histories",
    "plot_history",
    "plot_loss_functions",
    "plot_lr_find",
    "plot_lr_schedules",
    "plot_optimizer_trajectories",
    "plot_quadratic_steps",
    "plot_study",
    "plot_summary",
    "plot_timing",
]
