"""nnx.data, the new datasets and nnx.plot (rendered with Agg)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import nnx
from nnx import data, datasets, plot
from nnx.layers import Dense

PNG = b"\x89PNG\r\n\x1a\n"


def test_minibatches_one_hot_and_scaler(backend):
    X = backend.asarray(np.arange(10.0).reshape(5, 2))
    y = backend.asarray(np.arange(5))
    batches = list(data.minibatches(X, y, batch_size=2, shuffle=True, seed=0))
    assert [b.shape[0] for b, _ in batches] == [2, 2, 1]
    seen = np.concatenate([backend.to_numpy(yb) for _, yb in batches])
    assert sorted(seen.tolist()) == [0, 1, 2, 3, 4] and seen.tolist() != [0, 1, 2, 3, 4]
    codes = backend.to_numpy(data.one_hot(backend.asarray([2, 0]), 3))
    assert codes.tolist() == [[0, 0, 1], [1, 0, 0]]
    scaler = data.StandardScaler().fit(X)
    Z = scaler.transform(X)
    assert np.allclose(backend.to_numpy(Z).mean(0), 0) and np.allclose(
        backend.to_numpy(Z).std(0), 1
    )
    assert np.allclose(backend.to_numpy(scaler.inverse_transform(Z)), backend.to_numpy(X))
    with pytest.raises(RuntimeError, match="fit"):
        data.StandardScaler().transform(X)
    with pytest.raises(ValueError, match="batch_size"):
        next(data.minibatches(X, y, batch_size=0))


def test_new_generators():
    X, y = datasets.make_blobs(90, centers=3, seed=0)
    assert X.shape == (90, 2) and np.bincount(y).tolist() == [30, 30, 30]
    X, y = datasets.make_regression(50, n_features=5, seed=0)
    _, yn = datasets.make_regression(50, n_features=5, nonlinear=True, seed=0)
    assert X.shape == (50, 5) and y.shape == (50, 1) and not np.allclose(y, yn)
    X, y = datasets.make_tutorial_regression(500, seed=0)
    assert X.shape == (500, 4) and y.min() == 0.0 and y.max() == 1.0
    assert np.array_equal(
        datasets.make_tutorial_regression(20, seed=3)[1],
        datasets.make_tutorial_regression(20, seed=3)[1],
    )


def test_sklearn_loaders_and_missing_extra(monkeypatch):
    X, y = datasets.load_breast_cancer()
    assert X.shape == (569, 30) and X.dtype == np.float32 and set(y.tolist()) == {0, 1}
    X, y = datasets.load_digits()
    assert X.shape == (1797, 64) and len(set(y.tolist())) == 10
    X, y = datasets.make_classification(seed=0, n_samples=40, n_features=6)
    assert X.shape == (40, 6)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r"nnx-array\[sklearn\]"):
        datasets.load_digits()


def _trained_moons():
    X, y = datasets.make_moons(200, noise=0.1, seed=0)
    model = nnx.Sequential(
        [Dense(8, activation="tanh", input_shape=(2,)), Dense(1, activation="sigmoid")], seed=0
    )
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    history = model.fit(X, y.reshape(-1, 1), epochs=3, verbose=0, validation_split=0.2)
    return model, history, X, y


def _is_png(path):
    content = path.read_bytes()
    return content.startswith(PNG) and len(content) > 5000


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
        assert _is_png(tmp_path / f"{name}.png"), name
        assert fig.axes, name
    assert [ax.get_title() for ax in figures["history"].axes] == ["loss", "accuracy"]
    est = nnx.MLPClassifier((8,), max_iter=5, random_state=0)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
    plot.plot_decision_boundary(est, X, y, resolution=30, path=tmp_path / "est.png")
    assert _is_png(tmp_path / "est.png")


def test_optimizer_trajectory_converges_on_the_bowl():
    path = plot.optimizer_trajectory(nnx.optimizers.SGD(0.05, momentum=0.9), steps=200)
    assert path.shape == (201, 2) and np.abs(path[-1]).max() < 1e-3
    plain = plot.optimizer_trajectory(nnx.optimizers.SGD(0.01), steps=50)
    assert abs(plain[-1, 1]) < abs(plain[-1, 0])  # the steep axis y converges first


def test_plot_without_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"nnx-array\[plot\]"):
        plot.plot_activations()
