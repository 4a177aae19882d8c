"""The activation backward kernel that also sums the bias gradient gives the numbers of the
portable code (``activation.backward`` then a sum over the rows), on any thread count, and the
Dense / Conv layers take it."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx import activations
from nnx.backends import get_backend, numba_jit, numba_paths
from nnx.backends.numba_activations import CODES

NAMES = sorted(set(CODES) - {"linear"})


def _data(shape, dtype, seed=0):
    x = np.random.default_rng(seed).normal(scale=3.0, size=shape).astype(dtype)
    x.flat[:4] = [0.0, 3.0, -3.0, 6.0]  # the kinks of relu6 / hard_sigmoid / step
    return x


def _activation(name):
    return activations.get(name, **({"alpha": 0.3} if name in ("leaky_relu", "elu") else {}))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_backward_and_bias_sum_equal_the_portable_code(numba, close, monkeypatch, name, dtype):
    numba(True)
    monkeypatch.setattr(numba_paths, "FUSED_BACKWARD", frozenset(CODES))  # every kernel branch
    b, act = get_backend("numpy"), _activation(name)
    alpha = float(act.config.get("alpha", 0.0))
    z = _data((37, 19), dtype)
    y = act.forward(z)
    dy = _data((19, 37), dtype, 2).T  # non-contiguous
    fast = b.activation_bias_backward(dy, z, y, name, alpha)
    assert fast is not None
    expected = act.backward(dy, z, y)
    close(fast[0], expected)
    close(fast[1], expected.sum(axis=0))
    assert fast[1].dtype == np.dtype(dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_images_sum_over_every_axis_but_the_channels(numba, close, dtype):
    numba(True)
    b = get_backend("numpy")
    z = _data((3, 5, 4, 6), dtype)
    dy = _data((3, 5, 4, 6), dtype, 1)
    dx, db = b.activation_bias_backward(dy, z, np.maximum(z, 0), "relu")
    close(dx, dy * (z > 0))
    close(db, (dy * (z > 0)).sum(axis=(0, 1, 2)))


def test_the_sums_do_not_depend_on_the_thread_count(numba, monkeypatch):
    numba(True)
    monkeypatch.setattr(numba_jit, "PARALLEL_MIN_SIZE", 0)
    b = get_backend("numpy")
    z, dy = _data((203, 33), "float32"), _data((203, 33), "float32", 1)
    y = np.maximum(z, 0)
    results = []
    for n in (1, 2, 3):
        monkeypatch.setattr(numba_jit, "threads", lambda n=n: n)
        results.append(b.activation_bias_backward(dy, z, y, "relu"))
    for dx, db in results[1:]:
        np.testing.assert_array_equal(dx, results[0][0])
        np.testing.assert_array_equal(db, results[0][1])


def test_declines_without_numba_or_for_other_activations(numba):
    b = get_backend("numpy")
    z = _data((4, 3), "float64")
    numba(False)
    assert b.activation_bias_backward(z, z, z, "relu") is None
    numba(True)
    assert b.activation_bias_backward(z, z, z, "gelu") is None  # exp/erf: NumPy is faster
    assert b.activation_bias_backward(z, z[:, :2], z, "relu") is None  # shapes differ


def _trained(numba, on: bool, monkeypatch) -> tuple[list[np.ndarray], int]:
    numba(on)
    calls = [0]
    inner = numba_paths.NumbaPaths.activation_bias_backward

    def counted(self, *args):  # type: ignore[no-untyped-def]
        out = inner(self, *args)
        calls[0] += out is not None
        return out

    monkeypatch.setattr(numba_paths.NumbaPaths, "activation_bias_backward", counted)
    model = nnx.Sequential(
        [
            # elu: a ReLU conv with few taps takes the direct kernels (test_backends_numba_conv)
            nnx.layers.Conv2D(4, 3, activation="elu", input_shape=(6, 6, 2)),
            nnx.layers.Flatten(),
            nnx.layers.Dense(5, activation="tanh"),
            nnx.layers.Dense(5, activation="leaky_relu"),
            nnx.layers.Dense(3, activation="softmax"),
        ],
        dtype="float64",
        seed=0,
    )
    model.compile(nnx.optimizers.SGD(0.05, momentum=0.9), "categorical_crossentropy")
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 6, 6, 2)), np.eye(3)[rng.integers(0, 3, size=16)]
    model.fit(x, y, epochs=2, batch_size=8, verbose=0, shuffle=False)
    return [p.value.copy() for p in model.parameters()], calls[0]


def test_layers_train_to_the_same_weights_through_the_fused_bias_gradient(numba, monkeypatch):
    fused, calls = _trained(numba, True, monkeypatch)
    assert calls == 3 * 4  # conv, tanh and leaky_relu Dense: 4 steps (the softmax one is fused
    # with the loss)
    portable, none = _trained(numba, False, monkeypatch)
    assert none == 0
    for a, b in zip(fused, portable, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
