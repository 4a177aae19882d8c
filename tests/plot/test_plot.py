"""nnx.plot, rendered headless with Agg."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import nnx
from nnx import datasets, plot
from nnx.layers import Dense

PNG = b"\x89PNG\r\n\x1a\n"


def _trained_moons():
    X, y = datasets.make_moons(200, noise=0.1, seed=0)
    model = nnx.Sequential(
        [Dense(8, activation="tanh", input_shape=(2,)), Dense(1, activation="sigmoid")], seed=0
    )
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    history = model.fit(X, y.reshape(-1, 1), epochs=3, verbose=0, validation_split=0.2)
    return model, history, X, y


def _drawn(path, fig):
    """The PNG read back has the figure's size in pixels (saved at 100 dpi), and every panel
    of the figure holds data (lines, markers, an image or patches), not just empty axes."""
    from matplotlib.image import imread

    assert path.read_bytes().startswith(PNG), path
    width, height = (round(v * 100) for v in fig.get_size_inches())
    sized = imread(path).shape[:2] == (height, width)
    return sized and all(ax.lines or ax.collections or ax.images or ax.patches for ax in fig.axes)


def test_every_plot_renders_a_png(tmp_path):
    model, history, X, y = _trained_moons()
    figures = {
        "history": plot.plot_history(history, path=tmp_path / "history.png"),
        "boundary": plot.plot_decision_boundary(
            model, X, y, resolution=50, path=tmp_path / "boundary.png"
        ),
        "activations": plot.plot_activations(path=tmp_path / "activations.png"),
        "trajectories": plot.plot_optimizer_trajectories(
            {
                "SGD": nnx.optimizers.SGD(0.05),
                "momentum": nnx.optimizers.SGD(0.05, momentum=0.9),
                "adam": nnx.optimizers.Adam(0.3),
            },
            steps=30,
            path=tmp_path / "trajectories.png",
        ),
        "gradients": plot.plot_gradient_norms(
            {"sigmoid": {2: 0.5, 8: 0.01}, "relu": {2: 1.0, 8: 0.9}},
            path=tmp_path / "gradients.png",
        ),
        "confusion": plot.plot_confusion_matrix(
            [[5, 1], [2, 7]], ["no", "yes"], path=tmp_path / "confusion.png"
        ),
    }
    for name, fig in figures.items():
        assert _drawn(tmp_path / f"{name}.png", fig), name
        assert fig.axes, name
    assert [ax.get_title() for ax in figures["history"].axes] == ["loss", "accuracy"]
    est = nnx.MLPClassifier((8,), max_iter=5, random_state=0)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
    fig = plot.plot_decision_boundary(est, X, y, resolution=30, path=tmp_path / "est.png")
    assert _drawn(tmp_path / "est.png", fig)


def test_optimizer_trajectory_converges_on_the_bowl():
    path = plot.optimizer_trajectory(nnx.optimizers.SGD(0.05, momentum=0.9), steps=200)
    assert path.shape == (201, 2) and np.abs(path[-1]).max() < 1e-3
    plain = plot.optimizer_trajectory(nnx.optimizers.SGD(0.01), steps=50)
    assert abs(plain[-1, 1]) < abs(plain[-1, 0])  # the steep axis y converges first


def test_plot_without_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"nnx-array\[plot\]"):
        plot.plot_activations()
