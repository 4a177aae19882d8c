"""A model's training state in memory (nnx.saving.state): capture, device copy, restore."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.layers import Dense, Dropout
from nnx.saving import capture_state, copy_state, restore_state


def _trained(backend):
    model = nnx.Sequential(
        [Dense(4, activation="relu", input_shape=(3,)), Dropout(0.5), Dense(1)],
        backend=backend,
        seed=0,
    )
    model.compile(nnx.optimizers.Adam(0.01), "mse")
    x = np.random.default_rng(0).normal(size=(16, 3)).astype("float32")
    model.fit(x, x[:, :1], epochs=1, batch_size=8, verbose=0)
    return model, x


def _same(a, b):
    return all(u.tobytes() == v.tobytes() for u, v in zip(a, b, strict=True))


def test_copy_and_restore_replay_the_same_steps(backend):
    """Weights, optimizer slots and every generator (shuffling, dropout) come back: the same
    training continues bit for bit after a restore."""
    model, x = _trained(backend)
    saved = copy_state(model)
    model.fit(x, x[:, :1], epochs=2, batch_size=8, verbose=0)
    first = model.get_weights()
    restore_state(model, *saved)
    model.fit(x, x[:, :1], epochs=2, batch_size=8, verbose=0)
    assert _same(first, model.get_weights())
    assert model.optimizer.iterations == 2 + 2 * 2


def test_capture_does_not_copy_the_weights_and_copy_does(backend):
    model, _ = _trained(backend)
    captured, info = capture_state(model)
    copied, _ = copy_state(model)
    assert captured["weights/0"] is model.parameters()[0].value
    assert copied["weights/0"] is not model.parameters()[0].value
    assert info["optimizer"]["iterations"] == 2
    assert sorted(k for k in captured if k.startswith("optimizer/0/")) == [
        "optimizer/0/momentum",
        "optimizer/0/velocity",
    ]
    without, info = copy_state(model, include_optimizer=False)
    assert "optimizer" not in info and not any(k.startswith("optimizer/") for k in without)


def test_restore_refuses_arrays_that_do_not_fit():
    model, _ = _trained("numpy")
    arrays, info = capture_state(model)
    with pytest.raises(ValueError, match="holds 3 weight arrays but model"):
        restore_state(model, {k: v for k, v in arrays.items() if k != "weights/3"}, info)
    wrong = {**arrays, "weights/0": np.zeros((2, 2), "float32")}
    with pytest.raises(ValueError, match=r"has shape \(3, 4\) in the model but \(2, 2\)"):
        restore_state(model, wrong, info)
    wrong = {**arrays, "weights/0": np.zeros((3, 4), "float64")}
    with pytest.raises(ValueError, match="is float32 in the model but float64"):
        restore_state(model, wrong, info)
