"""Weight constraints: Keras 3's formulas, the registry, and their projection after each
optimizer update (flat buffers, numba on and off, per-parameter paths, every backend)."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx import constraints
from nnx.constraints import MaxNorm, MinMaxNorm, NonNeg, UnitNorm
from nnx.layers import Dense

EPS = 1e-7
RNG = np.random.default_rng(0)


def _norms(w, axis):
    return np.sqrt(np.sum(w * w, axis=tuple(np.atleast_1d(axis)), keepdims=True))


def _keras_max_norm(w, max_value, axis):
    n = _norms(w, axis)
    return w * (np.clip(n, 0, max_value) / (EPS + n))


def _keras_min_max_norm(w, lo, hi, rate, axis):
    n = _norms(w, axis)
    return w * ((rate * np.clip(n, lo, hi) + (1 - rate) * n) / (EPS + n))


# a zero column (Keras's eps keeps it at zero, no NaN) and columns on both sides of the bounds
W = np.array([[3.0, 0.0, 0.1, -2.0], [4.0, 0.0, 0.2, 2.0], [0.0, 0.0, -0.2, 1.0]])
W4 = RNG.normal(size=(2, 3, 4, 5)) * 3.0


@pytest.mark.parametrize(
    ("make", "reference"),
    [
        (lambda: MaxNorm(1.5), lambda w: _keras_max_norm(w, 1.5, 0)),
        (lambda: MaxNorm(1.0, axis=1), lambda w: _keras_max_norm(w, 1.0, 1)),
        (lambda: NonNeg(), lambda w: np.maximum(w, 0.0)),
        (lambda: UnitNorm(), lambda w: w / (EPS + _norms(w, 0))),
        (lambda: UnitNorm(axis=-1), lambda w: w / (EPS + _norms(w, -1))),
        (lambda: MinMaxNorm(0.5, 2.0), lambda w: _keras_min_max_norm(w, 0.5, 2.0, 1.0, 0)),
        (
            lambda: MinMaxNorm(0.5, 2.0, rate=0.3),
            lambda w: _keras_min_max_norm(w, 0.5, 2.0, 0.3, 0),
        ),
    ],
)
def test_values_match_keras_formulas(backend, make, reference):
    c = make()
    out = backend.to_numpy(c(backend.asarray(W, dtype="float64")))
    np.testing.assert_allclose(out, reference(W), rtol=1e-12, atol=1e-15)
    assert np.all(np.isfinite(out))


def test_hand_computed_values_and_a_zero_column():
    b = nnx.get_backend("numpy")
    w = b.asarray(W, dtype="float64")
    out = MaxNorm(1.0)(w)
    np.testing.assert_allclose(out[:, 0], [0.6, 0.8, 0.0], rtol=1e-6)  # norm 5 -> 1
    np.testing.assert_array_equal(out[:, 1], [0.0, 0.0, 0.0])  # zero stays zero
    np.testing.assert_allclose(out[:, 2], W[:, 2], rtol=1e-6)  # norm 0.3 < 1: unchanged
    np.testing.assert_allclose(UnitNorm()(w)[:, 0], [0.6, 0.8, 0.0], rtol=1e-6)
    np.testing.assert_array_equal(UnitNorm()(w)[:, 1], [0.0, 0.0, 0.0])
    np.testing.assert_allclose(MinMaxNorm(1.0, 2.0)(w)[:, 2] * 0.3, W[:, 2], rtol=1e-5)


@pytest.mark.parametrize("axis", [[0, 1, 2], (0, 1, 2), [1, 3]])
def test_axis_lists_as_for_a_conv_kernel(backend, axis):
    w = backend.asarray(W4, dtype="float64")
    out = backend.to_numpy(MaxNorm(2.0, axis=axis)(w))
    np.testing.assert_allclose(out, _keras_max_norm(W4, 2.0, list(axis)), rtol=1e-12)
    assert np.all(_norms(out, list(axis)) <= 2.0 + 1e-9)
    assert MaxNorm(2.0, axis=axis).get_config()["axis"] == list(axis)


def test_float32_stays_float32(backend):
    w = backend.asarray(W, dtype="float32")
    for c in (MaxNorm(), NonNeg(), UnitNorm(), MinMaxNorm()):
        assert backend.dtype_name(c(w)) == "float32"


def test_registry_aliases_and_round_trip():
    assert constraints.names() == ["max_norm", "min_max_norm", "non_neg", "unit_norm"]
    assert isinstance(constraints.get("MaxNorm"), MaxNorm)
    assert isinstance(constraints.get("nonneg"), NonNeg)
    assert constraints.max_norm(3).max_value == 3.0
    assert isinstance(constraints.non_neg(), NonNeg)
    assert constraints.unit_norm(1).axis == 1
    assert constraints.min_max_norm(0.5, rate=0.5).rate == 0.5
    for c in (MaxNorm(3.0, [0, 1]), NonNeg(), UnitNorm(-1), MinMaxNorm(0.1, 0.9, 0.5, 1)):
        again = constraints.get(constraints.serialize(c))
        assert type(again) is type(c) and again.get_config() == c.get_config()
    assert constraints.serialize(MaxNorm()) == {
        "class_name": "MaxNorm",
        "config": {"max_value": 2.0, "axis": 0},
    }
    custom = lambda w: w  # noqa: E731 - any callable is a constraint, as in Keras
    assert constraints.get(custom) is custom and constraints.get(None) is None


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Dense(2, kernel_constraint="nope"), r"Dense 'dense\w*': kernel_constraint.*nope"),
        (lambda: Dense(2, bias_constraint=3), r"Dense 'dense\w*': bias_constraint.*received"),
        (lambda: nnx.layers.LSTM(2, recurrent_constraint=[1]), "LSTM .*recurrent_constraint"),
        (lambda: nnx.layers.Embedding(5, 2, embeddings_constraint="x"), "embeddings_constraint"),
        (lambda: MaxNorm(axis="rows"), "MaxNorm: axis"),
        (lambda: MinMaxNorm(2.0, 1.0), "MinMaxNorm: max_value"),
        (lambda: MaxNorm(-1.0), "max_value"),
    ],
)
def test_bad_constraints_name_the_layer_and_argument(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def _dense_model(backend, constraint, optimizer, lr):
    model = nnx.Sequential(
        [Dense(6, input_shape=(5,), kernel_constraint=constraint), Dense(1)],
        backend=backend,
        seed=0,
    )
    model.compile(getattr(nnx.optimizers, optimizer)(learning_rate=lr), "mse")
    return model


def _train_and_watch(model, steps=6):
    b = model.backend
    x = b.asarray(RNG.normal(size=(16, 5)), dtype="float32")
    y = b.asarray(RNG.normal(size=(16, 1)) * 10.0, dtype="float32")
    kernel = model.layers[0].kernel
    worst = []
    for _ in range(steps):
        model.train_step(x, y)
        worst.append(float(np.max(_norms(b.to_numpy(kernel.value), 0))))
    return worst


@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
def test_max_norm_holds_after_every_step(backend, optimizer):
    lr = 0.05 if optimizer == "SGD" else 0.5
    constrained = _train_and_watch(_dense_model(backend, MaxNorm(1.0), optimizer, lr))
    assert max(constrained) <= 1.0 + 1e-5
    free = _train_and_watch(_dense_model(backend, None, optimizer, lr))
    assert max(free) > 1.0  # without the constraint the test would fail


@pytest.mark.parametrize("on", [True, False])
@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
def test_max_norm_with_numba_on_and_off(numba, on, optimizer):
    numba(on)
    model = _dense_model("numpy", MaxNorm(1.0), optimizer, 0.05 if optimizer == "SGD" else 0.5)
    assert max(_train_and_watch(model)) <= 1.0 + 1e-5
    kernel = model.layers[0].kernel
    flat = model._flat  # the constrained kernel stays a view of the flat buffer
    assert flat is not None and kernel.value.base is flat.value


def test_clipnorm_path_and_non_neg_bias(backend):
    model = nnx.Sequential(
        [Dense(4, input_shape=(3,), bias_constraint="non_neg", bias_initializer="ones")],
        backend=backend,
        seed=0,
    )
    model.compile(nnx.optimizers.SGD(learning_rate=5.0, clipnorm=10.0), "mse")
    x = backend.asarray(RNG.normal(size=(8, 3)), dtype="float32")
    y = backend.asarray(np.full((8, 4), -100.0), dtype="float32")
    for _ in range(3):
        model.train_step(x, y)
    bias = backend.to_numpy(model.layers[0].bias.value)
    assert np.all(bias >= 0.0) and np.any(bias == 0.0)


def test_fit_keras_style_line_and_no_cost_without_constraints():
    from nnx import regularizers
    from nnx.constraints import max_norm

    model = nnx.Sequential(
        [
            Dense(8, kernel_constraint=max_norm(2.0), activity_regularizer=regularizers.l1(1e-3)),
            Dense(1),
        ],
        seed=0,
    )
    model.compile("adam", "mse")
    history = model.fit(RNG.normal(size=(32, 4)), RNG.normal(size=(32, 1)), epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert np.max(_norms(model.layers[0].get_weights()[0], 0)) <= 2.0 + 1e-5
    free = _dense_model("numpy", None, "SGD", 0.1)
    xy = (free.backend.asarray(RNG.normal(size=s), dtype="float32") for s in ((4, 5), (4, 1)))
    free.train_step(*xy)
    assert free.optimizer._constrained(free._trainable) == []
