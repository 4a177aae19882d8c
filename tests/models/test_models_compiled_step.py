"""The compiled step of a small Dense stack (``compile(jit_compile=...)``): the layers' numbers,
the cases it declines, and when ``"auto"`` starts it."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import nnx
from nnx.layers import Dense, Dropout
from nnx.models import compiled_step

pytest.importorskip("numba")
pytest.importorskip("scipy")

TOLERANCE = {"float32": 1e-5, "float64": 1e-12}


def _model(hidden, output, dtype="float32", use_bias=True, seed=0, **dense):
    layers = [nnx.layers.Input((5,))]
    layers += [Dense(4, activation=a, use_bias=use_bias, **dense) for a in hidden]
    layers.append(Dense(output[0], activation=output[1], use_bias=use_bias))
    return nnx.Sequential(layers, backend="numpy", seed=seed, dtype=dtype)


def _data(n, units, loss, dtype):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(n, 5)).astype(dtype)
    if loss == "binary_crossentropy":
        y = (rng.random((n, units)) > 0.5).astype(dtype)
    elif loss == "categorical_crossentropy":
        y = np.eye(units, dtype=dtype)[rng.integers(0, units, n)]
    elif loss == "sparse_categorical_crossentropy":
        y = rng.integers(0, units, n)
    else:
        y = rng.normal(size=(n, units)).astype(dtype)
    return x, y


def _train(jit, hidden, output, loss, dtype, optimizer="adam", steps=4, metrics=None, **dense):
    model = _model(hidden, output, dtype, **dense)
    model.compile(nnx.optimizers.get(optimizer), loss, metrics, jit_compile=jit)
    x, y = _data(7, output[0], loss, dtype)
    losses, preds = [], []
    for _ in range(steps):
        value, pred = model.compute_gradients(x, y)
        grads = [np.array(p.grad) for p in model.trainable_parameters()]
        losses.append(float(value))
        preds.append(np.array(pred))
        model.optimizer.step(model._trainable)
    weights = [np.array(p.value) for p in model.parameters()]
    return model, losses, preds, grads, weights


CASES = [
    (("relu", "tanh"), (1, "sigmoid"), "binary_crossentropy"),
    (("sigmoid",), (3, "sigmoid"), "binary_crossentropy"),
    (("elu", "leaky_relu"), (3, "softmax"), "categorical_crossentropy"),
    (("gelu", "softplus", "swish"), (2, None), "mse"),
    (("softsign",), (2, "tanh"), "mse"),
    (("softmax",), (2, "relu"), "mse"),
    ((), (3, "softmax"), "categorical_crossentropy"),
    (("relu",), (4, "softmax"), "sparse_categorical_crossentropy"),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("hidden", "output", "loss"), CASES)
def test_compiled_step_gives_the_layers_numbers(hidden, output, loss, dtype):
    """Loss, prediction, every gradient and the weights after four Adam steps agree with the
    layers' step (float32 rtol 1e-5, float64 1e-12)."""
    model, *compiled = _train(True, hidden, output, loss, dtype)
    assert model._compiled_step.used
    reference_model, *reference = _train(False, hidden, output, loss, dtype)
    assert not reference_model._compiled_step.used
    tol = TOLERANCE[dtype]
    for got, want in zip(compiled, reference, strict=True):
        for a, b in zip(got, want, strict=True):
            np.testing.assert_allclose(a, b, rtol=tol, atol=tol * max(1.0, np.abs(b).max()))


@pytest.mark.parametrize("metrics", [None, ["accuracy"]])
def test_prediction_is_what_the_layers_return(metrics):
    """Without metrics a fused output returns its logits, with metrics the probabilities."""
    args = (("relu",), (1, "sigmoid"), "binary_crossentropy", "float64")
    got = _train(True, *args, metrics=metrics)[2]
    want = _train(False, *args, metrics=metrics)[2]
    np.testing.assert_allclose(got[-1], want[-1], rtol=1e-12)


def test_no_bias_and_weight_penalties_and_sgd():
    """Layers without a bias, L2 penalties on the kernels (added after the compiled pass) and
    SGD with momentum."""
    kwargs = dict(use_bias=False, kernel_regularizer=nnx.regularizers.l2(0.01))
    args = (("relu",), (2, "softmax"), "categorical_crossentropy", "float64", "sgd")
    model, *got = _train(True, *args, **kwargs)
    assert model._compiled_step.used
    _, *want = _train(False, *args, **kwargs)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
    for a, b in zip(got[3], want[3], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_fit_learns_with_the_compiled_step():
    """``fit`` through the compiled step learns an XOR-like problem as the layers do."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (512, 2)).astype("float32")
    y = ((x[:, 0] * x[:, 1]) > 0).astype("float32")[:, None]
    histories = []
    for jit in (True, False):
        model = nnx.Sequential(
            [Dense(16, activation="tanh", input_shape=(2,)), Dense(1, activation="sigmoid")],
            backend="numpy",
            seed=3,
        )
        model.compile(
            nnx.optimizers.Adam(0.02), "binary_crossentropy", ["accuracy"], jit_compile=jit
        )
        histories.append(model.fit(x, y, epochs=30, batch_size=32, verbose=0).history)
        assert model._compiled_step.used is jit
    assert histories[0]["accuracy"][-1] > 0.9
    np.testing.assert_allclose(histories[0]["loss"], histories[1]["loss"], rtol=1e-3)


@pytest.mark.parametrize(
    "change",
    [
        "sample_weight",
        "dropout",
        "activity_regularizer",
        "unsupported_loss",
        "frozen_layer",
        "label_smoothing",
        "int_inputs",
        "numba_off",
    ],
)
def test_declined_cases_run_the_layers(change, monkeypatch):
    """Whatever the kernel does not take runs the layers and gives their numbers."""
    layers = [Dense(4, activation="relu", input_shape=(5,)), Dense(3, activation="softmax")]
    loss: object = "categorical_crossentropy"
    x, y = _data(6, 3, "categorical_crossentropy", "float32")
    kwargs = {}
    if change == "dropout":
        layers.insert(1, Dropout(0.0))
    elif change == "activity_regularizer":
        layers[0] = Dense(4, "relu", input_shape=(5,), activity_regularizer="l2")
    elif change == "unsupported_loss":
        loss = "mean_absolute_error"
    elif change == "frozen_layer":
        layers[0].trainable = False
    elif change == "label_smoothing":
        loss = nnx.losses.CategoricalCrossentropy(label_smoothing=0.1)
    elif change == "int_inputs":
        x = np.round(x).astype("int64")
    elif change == "sample_weight":
        kwargs["sample_weight"] = np.linspace(0.5, 1.5, 6).astype("float32")
    elif change == "numba_off":
        monkeypatch.setenv("NNX_NUMBA", "0")
    model = nnx.Sequential(layers, backend="numpy", seed=0)
    model.compile("adam", loss, jit_compile=True)
    value, _ = model.compute_gradients(x, y, **kwargs)
    assert not model._compiled_step.used
    assert np.isfinite(float(value))


def test_auto_starts_after_enough_steps(monkeypatch):
    """``"auto"`` counts the steps that could be compiled and starts after the threshold, in
    every process alike (a second model waits as the first did); ``False`` never starts."""
    monkeypatch.setattr(compiled_step, "AUTO_STEPS", 3)
    x, y = _data(4, 1, "binary_crossentropy", "float32")
    used = {}
    for mode in ("auto", "auto again", False):
        model = _model(("relu",), (1, "sigmoid"))
        model.compile(
            "sgd", "binary_crossentropy", jit_compile="auto" if mode == "auto again" else mode
        )
        used[mode] = []
        for _ in range(5):
            model.train_step(x, y)
            used[mode].append(model._compiled_step.used)
    assert used["auto"] == used["auto again"] == [False, False, False, True, True]
    assert used[False] == [False] * 5


def test_jit_compile_is_checked():
    model = _model(("relu",), (1, "sigmoid"))
    with pytest.raises(
        ValueError, match=r"jit_compile must be True, False or 'auto', received 'yes'"
    ):
        model.compile("sgd", "binary_crossentropy", jit_compile="yes")


def test_large_batches_run_the_layers():
    """Beyond ``MAX_MULTIPLY_ADDS`` the layers' BLAS products take the step."""
    model = nnx.Sequential(
        [Dense(512, activation="relu", input_shape=(256,)), Dense(1, activation="sigmoid")],
        backend="numpy",
    )
    model.compile("sgd", "binary_crossentropy", jit_compile=True)
    x = np.zeros((64, 256), dtype="float32")
    model.compute_gradients(x, np.zeros((64, 1), dtype="float32"))
    assert not model._compiled_step.used
    model.compute_gradients(x[:4], np.zeros((4, 1), dtype="float32"))
    assert model._compiled_step.used


def test_replaced_weights_are_read():
    """A weight assigned as a new array (not written in place) is what the next step uses."""
    args = (("relu",), (1, "sigmoid"), "binary_crossentropy")
    results = []
    for jit in (True, False):
        model = _model(*args[:2], dtype="float64")
        model.compile("sgd", args[2], jit_compile=jit)
        x, y = _data(5, 1, args[2], "float64")
        model.train_step(x, y)
        kernel = model.layers[1].kernel
        kernel.value = np.full(kernel.shape, 0.3)
        results.append(float(model.compute_gradients(x, y)[0]))
    assert results[0] == pytest.approx(results[1], rel=1e-12)


def test_without_scipy_numba_dot_kernels_decline():
    """numba's ``np.dot`` needs SciPy's BLAS (without it a compiled product aborts Python):
    with SciPy hidden, an LSTM inference pass large enough for the numba kernels, an attention
    pass and a compiled step all run the portable code and give its numbers."""
    script = """
import sys
sys.modules["scipy"] = None
import numpy as np
import nnx
x = np.random.default_rng(0).normal(size=(64, 50, 32)).astype("float32")
m = nnx.Sequential([nnx.layers.Input((50, 32)), nnx.layers.LSTM(64), nnx.layers.Dense(1)], seed=0)
out = m(x)
s = nnx.Sequential([nnx.layers.Dense(4, "relu", input_shape=(2,)), nnx.layers.Dense(1, "sigmoid")])
s.compile("sgd", "binary_crossentropy", jit_compile=True)
s.train_step(np.zeros((4, 2), "float32"), np.ones((4, 1), "float32"))
print(float(out.sum()), s._compiled_step.used)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    total, used = done.stdout.split()
    assert used == "False"
    x = np.random.default_rng(0).normal(size=(64, 50, 32)).astype("float32")
    m = nnx.Sequential(
        [nnx.layers.Input((50, 32)), nnx.layers.LSTM(64), nnx.layers.Dense(1)], seed=0
    )
    assert float(total) == pytest.approx(float(m(x).sum()), rel=1e-4, abs=1e-4)


@pytest.mark.parametrize("mode", [True, False, "auto"])
def test_jit_compile_is_saved_and_loaded(tmp_path, mode):
    model = _model(("relu",), (1, "sigmoid"))
    model.compile("sgd", "binary_crossentropy", jit_compile=mode)
    model.save(tmp_path / "m.nnx")
    assert nnx.load(tmp_path / "m.nnx").jit_compile == mode


def test_a_missing_numba_is_named_once(monkeypatch):
    """Without numba (or SciPy) the step warns once, naming the extra, and runs the layers."""
    from nnx.backends import numba_dense_paths

    monkeypatch.setattr(numba_dense_paths, "_kernel_module", lambda: None)
    model = _model(("relu",), (1, "sigmoid"))
    model.compile("sgd", "binary_crossentropy", jit_compile=True)
    x, y = _data(4, 1, "binary_crossentropy", "float32")
    with pytest.warns(RuntimeWarning, match=r'pip install "nnx-array\[fast\]"'):
        model.train_step(x, y)
    model.train_step(x, y)  # once: a second warning would fail (warnings are errors here)
    assert not model._compiled_step.used


def test_run_eagerly_turns_the_compiled_step_off():
    """Keras's ``run_eagerly=True``: the layers run; with ``jit_compile=True`` too, a warning."""
    x, y = _data(4, 1, "binary_crossentropy", "float32")
    model = _model(("relu",), (1, "sigmoid"))
    model.compile("sgd", "binary_crossentropy", run_eagerly=True)
    assert (model.jit_compile, model.run_eagerly) == (False, True)
    with pytest.warns(UserWarning, match="jit_compile cannot also be True"):
        model.compile("sgd", "binary_crossentropy", jit_compile=True, run_eagerly=True)
    model.train_step(x, y)
    assert model.jit_compile is False and not model._compiled_step.used
    with pytest.raises(ValueError, match="run_eagerly must be True or False, received 'yes'"):
        model.compile("sgd", "binary_crossentropy", run_eagerly="yes")
