"""Sequential's structure and compile: layers, weights, summary, backends, compile errors."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.layers import Dense, Input


def _mlp(backend, seed=0):
    layers = [Dense(16, "relu", input_shape=(2,)), Dense(16, "relu"), Dense(1, "sigmoid")]
    return nnx.Sequential(layers, backend=backend, seed=seed)


def test_summary_and_weights(backend, capsys):
    model = nnx.Sequential(
        [Input((30,)), Dense(16, activation="relu"), Dense(1)], backend=backend, seed=0
    )
    model.summary()
    out = capsys.readouterr().out
    assert "dense" in out and "(None, 16)" in out and "Total params: 513" in out
    weights = model.get_weights()
    assert [w.shape for w in weights] == [(30, 16), (16,), (16, 1), (1,)]
    model.set_weights([w * 0 for w in weights])
    assert all((w == 0).all() for w in model.get_weights())
    with pytest.raises(ValueError, match=r"dense.*/kernel has shape \(30, 16\), received"):
        model.set_weights([np.zeros((3, 3)), *weights[1:]])


def test_initial_weights_identical_across_backends():
    names = nnx.available()
    weights = [_mlp(name, seed=5).get_weights() for name in names]
    for other in weights[1:]:
        for a, b in zip(weights[0], other, strict=True):
            np.testing.assert_array_equal(a, b)


def test_model_keeps_its_backend_when_the_default_changes():
    with nnx.use_backend("array_api_strict"):
        model = nnx.Sequential([Dense(1, input_shape=(2,))])
    assert model.backend.name == "array_api_strict"
    assert nnx.get_backend().name == "numpy"
    assert model.predict(np.zeros((3, 2))).shape == (3, 1)


def test_built_and_compiled_are_public_state():
    model = nnx.Sequential([Dense(2), Dense(1)])
    assert not model.built and not model.compiled
    with pytest.raises(RuntimeError, match="is not built"):
        model.predict(np.zeros((2, 3)))
    with pytest.raises(RuntimeError, match=r"compile\(\) before fit"):
        model.fit(np.zeros((2, 3)), np.zeros((2, 1)))
    model.compile("sgd", "mse")
    assert model.compiled and not model.built
    model.fit(np.zeros((2, 3)), np.zeros((2, 1)), verbose=0)  # builds from the data
    assert model.built and model.input_shape == (3,)


def test_unknown_names_list_valid_ones():
    model = _mlp("numpy")
    with pytest.raises(ValueError, match="Unknown loss 'bce2'.*binary_crossentropy"):
        model.compile("adam", "bce2")
    with pytest.raises(ValueError, match="Unknown optimizer 'adamm'.*adam"):
        model.compile("adamm", "mse")
    with pytest.raises(ValueError, match="Unknown metric 'acuracy'.*accuracy"):
        model.compile("adam", "mse", metrics=["acuracy"])
    valid = "Valid backends: array_api_strict, array_api_strict:device1, cupy, numpy"
    with pytest.raises(ValueError, match=f"Unknown backend 'jax'. {valid}"):
        nnx.Sequential([], backend="jax")
    with pytest.raises(ValueError, match="needs a loss; valid losses:"):
        model.compile("adam")
    with pytest.raises(ValueError, match="dtype must be one of 'float32', 'float64'"):
        nnx.Sequential([], dtype="float16")


def test_non_scalar_metric_in_compile_is_a_clear_error():
    model = nnx.Sequential([Dense(2, activation="softmax", input_shape=(2,))])
    with pytest.raises(ValueError, match="'confusion_matrix'.*non-scalar result"):
        model.compile(
            "adam",
            "sparse_categorical_crossentropy",
            metrics=[nnx.metrics.ConfusionMatrix(num_classes=2)],
        )


def test_layers_are_checked_when_added():
    model = nnx.Sequential([Dense(2, name="a", input_shape=(3,))])
    with pytest.raises(TypeError, match="expects an nnx Layer, received str"):
        model.add("dense")
    with pytest.raises(ValueError, match="duplicate layer name 'a'"):
        model.add(Dense(2, name="a"))
    model.add(Dense(4, name="b"))  # built at once: the input shape is known
    assert model.output_shape == (4,) and model.count_params() == 3 * 2 + 2 + 2 * 4 + 4
