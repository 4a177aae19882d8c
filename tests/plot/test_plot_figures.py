"""Every nnx.plot figure renders a PNG a student can read (labels, titles, legends, distinct
lines), and says what it claims to show."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from readable import check_png, check_readable

import nnx
from nnx import datasets, plot
from nnx.layers import Dense, RandomRotation
from nnx.lr_find import LRFinderResult
from nnx.plot.confusion import text_colour
from nnx.schedules import CosineDecay, ExponentialDecay


def _trained_moons():
    X, y = datasets.make_moons(200, noise=0.1, seed=0)
    model = nnx.Sequential(
        [Dense(8, activation="tanh", input_shape=(2,)), Dense(1, activation="sigmoid")], seed=0
    )
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    history = model.fit(X, y.reshape(-1, 1), epochs=3, verbose=0, validation_split=0.2)
    return model, history, X, y


def _sweep() -> LRFinderResult:
    rates = list(np.logspace(-5, 0, 40))
    losses = [0.7 - 0.5 / (1 + np.exp(-3 * (np.log10(r) + 2.5))) for r in rates]
    raw = [v + 0.02 * np.sin(i) for i, v in enumerate(losses)]
    return LRFinderResult(rates, losses, rates[20], "steepest", 4, raw)


def _figures(tmp_path):
    model, history, X, y = _trained_moons()
    return {
        "history": plot.plot_history(history),
        "summary": plot.plot_summary(history, model, X, y),
        "histories": plot.plot_histories({"SGD": [1.0, 0.5, 0.3], "Adam": [0.8, 0.2, 0.05]}),
        "activations": plot.plot_activations(),
        "gradient_norms": plot.plot_gradient_norms(
            {
                "sigmoid": {1: 0.5, 2: 0.1, 4: 0.01, 8: 1e-4},
                "relu": {1: 1.0, 2: 0.9, 4: 0.8, 8: 0.7},
            }
        ),
        "parameter_norms": plot.plot_gradient_norms(
            {"dense_1/kernel": 0.3, "dense_1/bias": 0.1, "dense_2/kernel": 0.05}
        ),
        "lr_study": plot.plot_study(
            {"SGD": {1e-3: 0.9, 1e-2: 0.3, 1e-1: 0.1}, "Adam": {1e-3: 0.2, 1e-2: 0.1, 1e-1: 0.4}},
            "learning rate",
            "final loss",
            "final loss against learning rate",
            logx=True,
            logy=True,
        ),
        "confusion": plot.plot_confusion_matrix([[50, 2], [7, 41]], ["malignant", "benign"]),
        "lr_find": plot.plot_lr_find(_sweep()),
        "schedules": plot.plot_lr_schedules(
            {"exponential": ExponentialDecay(0.1, 20, 0.5), "cosine": CosineDecay(0.1, 100)}
        ),
        "augmented": plot.plot_augmented_images(
            np.eye(8, dtype="float32")[None, :, :, None].repeat(2, 0), RandomRotation(0.1), 2
        ),
        "loss_functions": plot.plot_loss_functions(),
        "timing": plot.plot_timing([51, 281, 1011], [1e-5, 2e-5, 6e-5], [2e-5, 5e-5, 1.3e-4]),
        "activation_means": plot.plot_activation_means(
            {"sigmoid": [0.5, 0.5, 0.5], "tanh": [0.4, 0.2, 0.1], "relu": [0.6, 0.6, 0.5]}
        ),
        "trajectories": plot.plot_optimizer_trajectories(),
        "quadratic": plot.plot_quadratic_steps(steps=10),
        "convergence": plot.plot_convergence_epochs({"SGD": [1.0, 0.5, 0.4], "Adam": 3}),
    }


@pytest.mark.slow
def test_every_plot_is_readable_and_renders_a_png(tmp_path):
    for name, fig in _figures(tmp_path).items():
        check_readable(fig, images=name == "augmented")
        fig.savefig(tmp_path / f"{name}.png", dpi=100)
        check_png(tmp_path / f"{name}.png", fig)


def test_plots_leave_pyplot_alone(tmp_path):
    before = sys.modules.get("matplotlib.pyplot")
    opened = before.get_fignums() if before else []
    plot.plot_activations(["relu"], path=tmp_path / "a.png")
    after = sys.modules.get("matplotlib.pyplot")
    assert after is before and (after is None or after.get_fignums() == opened)


def test_activations_get_a_panel_each_with_the_derivative():
    fig = plot.plot_activations(["relu", "leaky_relu", "elu"])
    assert [ax.get_title() for ax in fig.axes] == ["relu", "leaky_relu", "elu"]
    relu = fig.axes[0]
    x, dy = relu.lines[1].get_xdata(), relu.lines[1].get_ydata()
    assert dy[x < -0.1].max() == 0 and dy[x > 0.1].min() == 1


def test_studies_use_true_numeric_axes():
    depth = plot.plot_study({1: 0.3, 2: 0.2, 3: 0.2, 4: 0.1, 6: 0.1, 8: 0.1}, "depth", "MSE", "t")
    assert depth.axes[0].lines[0].get_xdata().tolist() == [1, 2, 3, 4, 6, 8]
    rates = plot.plot_study({1e-3: 1.0, 1e-1: 0.5}, "learning rate", "loss", "t", logx=True)
    assert rates.axes[0].get_xscale() == "log"
    assert [t.get_text() for t in rates.axes[0].get_xticklabels()] == ["0.001", "0.1"]
    norms = plot.plot_gradient_norms({2: 0.5, 8: 0.01})
    assert all("\\times" not in t.get_text() for t in norms.axes[0].get_yticklabels(minor=True))


def test_confusion_matrix_writes_each_count_in_a_readable_colour():
    fig = plot.plot_confusion_matrix([[90, 1], [2, 5]], ["no", "yes"])
    ax = fig.axes[0]
    colours = {t.get_text(): t.get_color() for t in ax.texts}
    assert colours["90"] == "white" and colours["1"] == "black"
    assert any(a.get_label() == "<colorbar>" for a in fig.axes)
    assert text_colour((0.03, 0.19, 0.42, 1.0)) == "white"


def test_lr_find_plot_marks_the_suggestion():
    sweep = _sweep()
    fig = plot.plot_lr_find(sweep)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    marked = [line for line in ax.lines if line.get_label().startswith("steepest")]
    assert marked and marked[0].get_xdata()[0] == pytest.approx(sweep.suggestion)


def test_loss_functions_are_nnx_own_mse_and_huber():
    ax = plot.plot_loss_functions().axes[0]
    mse, huber = ax.lines[0], ax.lines[1]
    e = mse.get_xdata()
    np.testing.assert_allclose(mse.get_ydata(), e**2, atol=1e-12)
    far = np.abs(e) > 1
    np.testing.assert_allclose(huber.get_ydata()[far], np.abs(e[far]) - 0.5, atol=1e-12)


def test_plot_without_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"nnx-array\[plot\]"):
        plot.plot_activations()
