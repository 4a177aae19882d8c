"""The training step of Sequential: train_step/test_step for custom loops, compute_gradients
with the fused output gradient and the regularization penalties."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx import datasets
from nnx.layers import Dense


def _moons(n=64):
    x, y = datasets.make_moons(n_samples=n, noise=0.2, seed=0)
    return x, y.reshape(-1, 1).astype("float32")


def _mlp(backend, seed=0):
    layers = [Dense(16, "relu", input_shape=(2,)), Dense(16, "relu"), Dense(1, "sigmoid")]
    return nnx.Sequential(layers, backend=backend, seed=seed)


def test_train_step_for_custom_loops(backend):
    x, y = _moons()
    model = _mlp(backend)
    model.compile("adam", "binary_crossentropy")
    xb, yb = backend.asarray(x[:32]), backend.asarray(y[:32])
    first = float(model.train_step(xb, yb))
    for _ in range(30):
        last = float(model.train_step(xb, yb))
    assert last < first
    assert float(model.test_step(xb, yb)) > 0


def test_fused_training_matches_the_unfused_gradient(backend):
    x, y = _moons()
    models = []
    for fused in (True, False):
        model = _mlp(backend, seed=3)
        model.compile(nnx.optimizers.SGD(0.1), "binary_crossentropy")
        if not fused:
            model._fused_loss = None
        model.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0)
        models.append(model.get_weights())
    for a, b in zip(*models, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_regularization_is_in_loss_and_gradient(backend):
    model = nnx.Sequential(
        [Dense(1, input_shape=(2,), use_bias=False, kernel_regularizer=nnx.regularizers.l2(0.5))],
        backend=backend,
        seed=0,
    )
    model.compile(nnx.optimizers.SGD(0.1), "mse")
    x, y = np.zeros((4, 2), "float32"), np.zeros((4, 1), "float32")
    w0 = model.get_weights()[0]
    loss = model.evaluate(x, y)
    assert loss == pytest.approx(0.5 * (w0**2).sum(), rel=1e-5)
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    np.testing.assert_allclose(model.get_weights()[0], w0 - 0.1 * 2 * 0.5 * w0, rtol=1e-5)
