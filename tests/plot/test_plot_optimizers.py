"""Optimizer teaching aids: every named optimizer converges on the function it is shown on."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx import plot
from nnx.plot.optimizers import QUADRATIC_RATES, SURFACES, TRAJECTORY_RATES, epochs_to_convergence


@pytest.mark.parametrize("surface", sorted(SURFACES))
@pytest.mark.parametrize("name", sorted(TRAJECTORY_RATES))
def test_named_optimizers_reach_the_optimum_of_each_surface(name, surface):
    s = SURFACES[surface]
    path = plot.optimizer_trajectory(name, s.gradient, s.start, 100)
    assert np.linalg.norm(path[-1] - s.optimum) < 0.05 * np.linalg.norm(
        np.subtract(s.start, s.optimum)
    )


@pytest.mark.parametrize("name", sorted(QUADRATIC_RATES))
def test_named_optimizers_reach_the_quadratics_minimum(name):
    fig = plot.plot_quadratic_steps([name])
    x_path = fig.axes[0].collections[0].get_offsets()[:, 0]
    assert abs(x_path[-1] + 1) < 0.05 * 4


def test_trajectory_plot_names_the_function_and_marks_the_optimum():
    fig = plot.plot_optimizer_trajectories(["sgd", "adam"], surface="round", steps=20)
    ax = fig.axes[0]
    assert "x² + y²" in ax.get_title()
    assert any(line.get_label() == "optimum" and line.get_marker() == "*" for line in ax.lines)
    styles = {(line.get_color(), line.get_linestyle()) for line in ax.lines[:2]}
    assert len(styles) == 2


def test_instances_keep_their_own_rate():
    path = plot.optimizer_trajectory(nnx.optimizers.SGD(0.05, momentum=0.9), steps=200)
    assert path.shape == (201, 2) and np.abs(path[-1]).max() < 1e-3
    plain = plot.optimizer_trajectory(nnx.optimizers.SGD(0.01), steps=50)
    assert abs(plain[-1, 1]) < abs(plain[-1, 0])  # the steep axis y converges first


def test_epochs_to_convergence_and_its_plot():
    assert epochs_to_convergence([4.0, 2.0, 1.04, 1.0]) == 3
    fig = plot.plot_convergence_epochs({"SGD": {"loss": [4.0, 2.0, 1.04, 1.0]}, "Adam": 2})
    assert [t.get_text() for t in fig.axes[0].texts] == ["3", "2"]
