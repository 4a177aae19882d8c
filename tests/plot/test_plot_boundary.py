"""Decision boundaries for probabilities, logits, regression outputs and k classes: no blank
pixel, every class in its own colour and in the legend, the data drawn over."""

from __future__ import annotations

import numpy as np
import pytest
from readable import check_png, check_readable, rendered_panel

import nnx
from nnx import datasets, plot
from nnx.layers import Dense


def _moons_model(last: Dense, loss: str | nnx.losses.Loss):
    X, y = datasets.make_moons(200, noise=0.1, seed=0)
    model = nnx.Sequential([Dense(10, activation="sigmoid", input_shape=(2,)), last], seed=0)
    model.compile(nnx.optimizers.Adam(0.05), loss)
    model.fit(X, y.reshape(-1, 1), epochs=20, verbose=0)
    return model, X, y


def _check(fig, tmp_path, name, n_classes):
    ax = fig.axes[0]
    pixels = rendered_panel(fig, ax)
    assert pixels.size and not (pixels == 255).all(axis=-1).any(), f"{name}: blank pixels"
    check_readable(fig)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert sum(t.startswith("class") for t in labels) == n_classes, labels
    colours = {
        tuple(c.get_facecolor()[0]) for c in ax.collections if c.get_label().startswith("class")
    }
    assert len(colours) == n_classes
    fig.savefig(tmp_path / f"{name}.png", dpi=100)
    check_png(tmp_path / f"{name}.png", fig)


@pytest.mark.parametrize(
    ("kind", "last", "loss"),
    [
        ("probability", Dense(1, activation="sigmoid"), "binary_crossentropy"),
        ("regression", Dense(1), "mse"),
        ("logit", Dense(1), nnx.losses.BinaryCrossentropy(from_logits=True)),
    ],
)
def test_binary_boundaries_fill_the_plane_for_any_output_range(tmp_path, kind, last, loss):
    model, X, y = _moons_model(last, loss)
    out = model.predict(X)
    if kind != "probability":
        assert out.min() < 0 or out.max() > 1  # the case that left 0.1's plane white
    fig = plot.plot_decision_boundary(model, X, y, resolution=60)
    _check(fig, tmp_path, kind, 2)
    threshold = 0.0 if kind == "logit" else 0.5
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert f"boundary (output = {threshold:g})" in legend


def test_three_classes_get_three_colours_and_a_legend(tmp_path):
    X, y = datasets.make_blobs(150, centers=3, seed=0)
    model = nnx.Sequential(
        [Dense(8, activation="relu", input_shape=(2,)), Dense(3, activation="softmax")], seed=0
    )
    model.compile(nnx.optimizers.Adam(0.05), "sparse_categorical_crossentropy")
    model.fit(X, y, epochs=20, verbose=0)
    fig = plot.plot_decision_boundary(
        model, X, y, resolution=60, class_names=["class a", "class b", "class c"]
    )
    _check(fig, tmp_path, "three", 3)
    pixels = rendered_panel(fig, fig.axes[0]).reshape(-1, 3)
    assert len(np.unique(pixels // 32, axis=0)) >= 3  # three region colours, none of them white


def test_an_estimator_with_predict_proba(tmp_path):
    X, y = datasets.make_moons(120, noise=0.1, seed=1)
    est = nnx.MLPClassifier((8,), max_iter=30, random_state=0)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
    fig = plot.plot_decision_boundary(est, X, y, resolution=40, title="MLPClassifier on moons")
    assert fig.axes[0].get_title() == "MLPClassifier on moons"
    _check(fig, tmp_path, "estimator", 2)
