"""nnx.diagnostics: gradient norms (the training gradient itself), activation statistics,
vanishing gradients by depth, the gradient-check report."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx import datasets, diagnostics
from nnx.layers import Dense
from nnx.regularizers import l2


def _trained_moons():
    X, y = datasets.make_moons(200, noise=0.1, seed=0)
    model = nnx.Sequential(
        [Dense(8, activation="tanh", input_shape=(2,)), Dense(1, activation="sigmoid")], seed=0
    )
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    model.fit(X, y.reshape(-1, 1), epochs=3, verbose=0, validation_split=0.2)
    return model, X, y


def _regularized(backend):
    """A penalised model with a fused output (sigmoid + binary cross-entropy)."""
    model = nnx.Sequential(
        [
            Dense(8, "tanh", input_shape=(3,), kernel_regularizer=l2(1.0), name="hidden"),
            Dense(1, "sigmoid", kernel_regularizer=l2(1.0), name="out"),
        ],
        backend=backend,
        seed=0,
    )
    model.compile("sgd", "binary_crossentropy")
    return model


def test_gradient_norms_are_the_norms_of_the_training_gradient(backend):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 3)).astype("float32")
    y = (x[:, :1] > 0).astype("float32")
    norms = diagnostics.gradient_norms(_regularized(backend), x, y)
    twin = _regularized(backend)
    xb, yb = backend.asarray(x), backend.asarray(y)
    twin.compute_gradients(xb, yb)  # what fit's train_step applies
    expected = {p.name: float(np.linalg.norm(backend.to_numpy(p.grad))) for p in twin.parameters()}
    assert norms == pytest.approx(expected, rel=1e-5)
    # the penalty dominates the kernels' gradient: a gradient without it is far off
    y_pred, backprop = twin.forward(xb, training=True)
    backprop(twin.loss.gradient(yb, y_pred))
    plain = float(np.linalg.norm(backend.to_numpy(twin.parameters()[0].grad)))
    assert norms["hidden/kernel"] > 2 * plain


def test_gradient_norms_and_activation_stats():
    model, X, y = _trained_moons()
    before = model.get_weights()
    norms = diagnostics.gradient_norms(model, X[:32], y[:32].reshape(-1, 1))
    assert list(norms) == [p.name for p in model.trainable_parameters()]
    assert all(v > 0 for v in norms.values())
    assert all((a == b).all() for a, b in zip(before, model.get_weights(), strict=True))
    stats = diagnostics.activation_stats(model, X)
    assert [s["activation"] for s in stats] == ["tanh", "sigmoid"]
    assert all(0 <= s["saturated_fraction"] <= 1 for s in stats)
    with pytest.raises(RuntimeError, match=r"compile\(\) before gradient_norms"):
        diagnostics.gradient_norms(nnx.Sequential([Dense(1)]), X, y)


def test_vanishing_gradients_by_depth():
    sigmoid = diagnostics.depth_gradient_ratio("sigmoid", depths=(2, 6, 12))
    relu = diagnostics.depth_gradient_ratio(
        "relu", depths=(2, 6, 12), kernel_initializer="he_normal"
    )
    assert sigmoid[12] < sigmoid[6] < sigmoid[2] and sigmoid[12] < 1e-3
    assert relu[12] > 100 * sigmoid[12]


def test_gradcheck_report_over_shallow_and_deep_models():
    x = np.random.default_rng(0).normal(size=(3, 4))
    for depth in (1, 4, 8):
        report = diagnostics.gradcheck_report(
            diagnostics.deep_mlp(depth, "tanh", width=5, n_inputs=4), x
        )
        assert report["max"] < 1e-6 and len(report) == 2 * (depth + 1) + 2


def test_activation_stats_stay_on_the_backend_device(backend):
    model = nnx.Sequential(
        [Dense(4, "relu", input_shape=(2,)), Dense(3, "linear"), Dense(1, "sigmoid")],
        backend=backend,
        seed=0,
    )
    stats = diagnostics.activation_stats(model, np.array([[1.0, -1.0], [0.5, 2.0]]))
    assert [s["activation"] for s in stats] == ["relu", "linear", "sigmoid"]
    assert stats[1]["saturated_fraction"] == 0.0
