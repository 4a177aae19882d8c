"""Keras's activation layers (``ReLU``, ``LeakyReLU``, ``ELU``, ``Softmax``, ``PReLU``) and the
weightless ``Identity`` and ``Rescaling``: values against their formulas, float64 gradient
checks on every backend, configs, errors, and training in a Sequential."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.layers import (
    ELU,
    Conv2D,
    Dense,
    Flatten,
    Identity,
    LeakyReLU,
    PReLU,
    ReLU,
    Rescaling,
    Softmax,
    layer_class,
)

RNG = np.random.default_rng(11)


def _away_from(x: np.ndarray, *kinks: float) -> np.ndarray:
    """``x`` nudged at least 0.05 away from each kink (central differences must not cross)."""
    for k in kinks:
        near = np.abs(x - k) < 0.05
        x = np.where(near, k + 0.1 * np.sign(x - k + 1e-12), x)
    return x


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, lambda x: np.maximum(x, 0)),
        ({"max_value": 6.0}, lambda x: np.clip(x, 0, 6)),
        ({"negative_slope": 0.1}, lambda x: np.where(x >= 0, x, 0.1 * x)),
        ({"threshold": 1.0}, lambda x: np.where(x >= 1, x, 0.0)),
        (
            {"max_value": 2.5, "negative_slope": 0.2, "threshold": 0.5},
            lambda x: np.where(x >= 0.5, np.minimum(x, 2.5), 0.2 * (x - 0.5)),
        ),
    ],
)
def test_relu_matches_keras_formula_and_its_gradient(backend, to_np, kwargs, expected):
    x = _away_from(RNG.normal(scale=3.0, size=(4, 6)), 0.0, 0.5, 1.0, 2.5, 6.0)
    layer = ReLU(**kwargs)
    np.testing.assert_allclose(to_np(layer(backend.asarray(x, "float64"))), expected(x))
    errors = nnx.gradcheck(ReLU(**kwargs), x, backend=backend)
    assert errors["input"] < 1e-9


def test_leaky_relu_and_elu_values_and_gradients(backend, to_np):
    x = _away_from(RNG.normal(size=(3, 5)), 0.0)
    a = backend.asarray(x, "float64")
    np.testing.assert_allclose(to_np(LeakyReLU()(a)), np.where(x >= 0, x, 0.3 * x))
    np.testing.assert_allclose(to_np(LeakyReLU(0.05)(a)), np.where(x >= 0, x, 0.05 * x))
    np.testing.assert_allclose(to_np(ELU(0.7)(a)), np.where(x > 0, x, 0.7 * np.expm1(x)))
    for layer in (LeakyReLU(0.2), ELU(0.5)):
        assert nnx.gradcheck(layer, x, backend=backend)["input"] < 1e-9


def test_leaky_relu_accepts_the_tf_keras_alpha_with_a_warning():
    with pytest.warns(DeprecationWarning, match="negative_slope"):
        layer = LeakyReLU(alpha=0.1)
    assert layer.negative_slope == 0.1


@pytest.mark.parametrize("axis", [-1, 1, (1, 2)])
def test_softmax_over_axes_sums_to_one_and_checks_gradients(backend, to_np, axis):
    x = RNG.normal(size=(2, 3, 4))
    y = to_np(Softmax(axis=axis)(backend.asarray(x, "float64")))
    axes = (axis,) if isinstance(axis, int) else axis
    e = np.exp(x - x.max(axis=axes, keepdims=True))
    np.testing.assert_allclose(y, e / e.sum(axis=axes, keepdims=True), rtol=1e-12)
    assert nnx.gradcheck(Softmax(axis=axis), x, backend=backend)["input"] < 1e-8


def test_softmax_is_finite_for_extreme_logits(backend, to_np):
    x = backend.asarray([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]], "float32")
    y = to_np(Softmax()(x))
    assert np.isfinite(y).all()
    np.testing.assert_allclose(y, [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]], atol=1e-6)


def test_prelu_learns_a_slope_per_element_or_per_shared_channel(backend, to_np):
    x = _away_from(RNG.normal(size=(3, 4, 5, 2)), 0.0)
    layer = PReLU(alpha_initializer="ones", shared_axes=[1, 2])
    layer.build((4, 5, 2), backend)
    assert layer.alpha is not None and layer.alpha.shape == (1, 1, 2)
    layer.set_weights([np.array([[[0.25, 0.5]]])])
    layer.dtype = "float64"
    y = to_np(layer(backend.asarray(x, "float64")))
    np.testing.assert_allclose(y, np.where(x > 0, x, x * np.array([0.25, 0.5])))
    errors = nnx.gradcheck(PReLU(alpha_initializer="glorot_uniform", shared_axes=1), x[..., 0],
                           backend=backend)  # fmt: skip
    assert errors["input"] < 1e-9
    assert max(v for k, v in errors.items() if k.endswith("/alpha")) < 1e-9
    unshared = PReLU()
    unshared.build((5,), backend)
    assert unshared.alpha is not None and unshared.alpha.shape == (5,)


def test_rescaling_and_identity(backend, to_np):
    x = RNG.uniform(0, 255, size=(2, 3, 3))
    a = backend.asarray(x, "float64")
    np.testing.assert_allclose(to_np(Rescaling(1 / 127.5, offset=-1)(a)), x / 127.5 - 1)
    per_channel = Rescaling([1.0, 2.0, 0.5], offset=[0.0, 1.0, -1.0])
    np.testing.assert_allclose(
        to_np(per_channel(a)), x * np.array([1.0, 2.0, 0.5]) + np.array([0.0, 1.0, -1.0])
    )
    np.testing.assert_array_equal(to_np(Identity()(a)), x)
    small = RNG.normal(size=(2, 3, 3))
    assert nnx.gradcheck(Rescaling(0.5, offset=3.0), small, backend=backend)["input"] < 1e-9
    assert nnx.gradcheck(Identity(), small, backend=backend)["input"] < 1e-9


def test_configs_round_trip():
    for layer in (
        ReLU(max_value=6.0, negative_slope=0.1, threshold=0.5, name="r"),
        LeakyReLU(0.2, name="l"),
        ELU(0.5, name="e"),
        Softmax(axis=(1, 2), name="s"),
        PReLU(shared_axes=[1, 2], name="p"),
        Rescaling([1.0, 2.0], offset=0.5, name="sc"),
        Identity(name="i"),
    ):
        config = layer.get_config()
        rebuilt = layer_class(type(layer).__name__).from_config(config)
        assert rebuilt.get_config() == config


def test_bad_arguments_name_the_layer_and_the_value():
    with pytest.raises(ValueError, match=r"max_value"):
        ReLU(max_value=-1.0)
    with pytest.raises(ValueError, match=r"negative_slope"):
        ReLU(negative_slope=-0.1)
    with pytest.raises(ValueError, match=r"threshold"):
        ReLU(threshold=-1.0)
    with pytest.raises(ValueError, match=r"Softmax .*batch axis 0, received axis=0"):
        Softmax(axis=0)
    with pytest.raises(ValueError, match=r"PReLU: shared_axes must be axes >= 1"):
        PReLU(shared_axes=0)
    with pytest.raises(ValueError, match=r"PReLU 'p': shared_axes \[3\] beyond"):
        PReLU(shared_axes=3, name="p").build((4, 2))
    with pytest.raises(ValueError, match=r"Rescaling 'sc': scale has 3 values but the input has 2"):
        Rescaling([1.0, 2.0, 3.0], name="sc").build((2,))
    with pytest.raises(ValueError, match=r"Softmax 'sm'.*rank 2"):
        Softmax(axis=2, name="sm")(np.zeros((2, 3)))


def test_a_cnn_with_keras_activation_layers_trains_and_saves(tmp_path, backend):
    x = RNG.normal(size=(64, 6, 6, 1)).astype("float32")
    y = (x.mean(axis=(1, 2, 3)) > 0).astype("int64")
    model = nnx.Sequential(
        [
            Rescaling(2.0, input_shape=(6, 6, 1)),
            Conv2D(4, 3),
            PReLU(shared_axes=[1, 2]),
            Flatten(),
            Dense(8),
            LeakyReLU(),
            Dense(8),
            ReLU(max_value=6.0),
            Dense(2),
            Softmax(),
        ],
        backend=backend,
        seed=0,
    )
    model.compile(nnx.optimizers.Adam(0.01), "sparse_categorical_crossentropy", ["accuracy"])
    history = model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    path = tmp_path / "acts.nnx"
    model.save(path)
    loaded = nnx.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(x), model.predict(x), rtol=1e-6)
