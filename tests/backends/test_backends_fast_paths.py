"""Every named backend fast path gives the numbers of the portable path, on every backend."""

from __future__ import annotations

import array_api_compat
import numpy as np
import pytest

import nnx
from nnx.backends import AdamCoefficients, SGDCoefficients
from nnx.backends.base import Backend, array_namespace
from nnx.functional import activations as F
from nnx.optimizers import SGD, Adam

#: the backends that must take each fast path (the others may decline)
TAKEN = {
    "relu_backward": {"numpy", "cupy"},
    "sigmoid_backward": {"numpy", "cupy"},
    "tanh_backward": {"cupy"},  # numpy: only numba's kernel, for large arrays
    "adam_update": {"numpy", "cupy"},
    "sgd_momentum_update": {"cupy"},
}


def _random(backend: Backend, shape: tuple[int, ...], seed: int = 0):
    return backend.rng(seed).normal(shape, dtype="float32")


def test_memoised_array_namespace_is_array_api_compat_s(backend):
    x = _random(backend, (3,))
    assert array_namespace(x) is array_api_compat.array_namespace(x)
    assert array_namespace(x, x) is array_api_compat.array_namespace(x)


@pytest.mark.parametrize(
    ("method", "name"),
    [
        (Backend.relu_backward, "relu"),
        (Backend.sigmoid_backward, "sigmoid"),
        (Backend.tanh_backward, "tanh"),
    ],
)
def test_activation_backwards_equal_the_portable_ones(backend, method, name):
    x, dy = _random(backend, (64, 33), 1), _random(backend, (64, 33), 2)
    y = getattr(F, name)(x)
    expected = backend.to_numpy(getattr(F, f"{name}_backward")(dy, x, y))
    fast = getattr(backend, method.__name__)(dy, x, y)
    assert (fast is not None) == (backend.name in TAKEN[method.__name__])
    if fast is not None:
        np.testing.assert_allclose(backend.to_numpy(fast), expected, rtol=1e-6, atol=1e-7)


def _slots(backend: Backend, names: tuple[str, ...]) -> dict:
    return {k: backend.xp.abs(_random(backend, (257,), 10 + i)) for i, k in enumerate(names)}


def _copies(backend: Backend, arrays: dict) -> dict:
    return {k: backend.xp.asarray(v, copy=True) for k, v in arrays.items()}


@pytest.mark.parametrize(
    ("optimizer", "method", "slots"),
    [
        (lambda: Adam(0.01), "adam_update", ("momentum", "velocity")),
        (lambda: SGD(0.05, momentum=0.9), "sgd_momentum_update", ("momentum",)),
    ],
)
def test_fused_updates_equal_the_portable_update(backend, optimizer, method, slots):
    opt = optimizer()
    w, g = _random(backend, (257,), 1), _random(backend, (257,), 2)
    portable = _slots(backend, slots)
    fused = _copies(backend, portable)
    w_portable, w_fused = backend.xp.asarray(w, copy=True), backend.xp.asarray(w, copy=True)
    for t in range(3):
        c = opt.coefficients(0.01, t)
        opt.update(backend.xp, w_portable, g, portable, c)
        taken = opt.fused_update(backend, w_fused, g, fused, c)
        assert taken == (backend.name in TAKEN[method])
        if not taken:
            return
    np.testing.assert_allclose(
        backend.to_numpy(w_fused), backend.to_numpy(w_portable), rtol=1e-6, atol=1e-7
    )
    for k in slots:
        np.testing.assert_allclose(
            backend.to_numpy(fused[k]), backend.to_numpy(portable[k]), rtol=1e-6, atol=1e-7
        )


def test_fused_kernels_take_named_coefficient_tuples():
    c = Adam(0.1, beta_1=0.5, beta_2=0.75, epsilon=0.0).coefficients(0.1, 0)
    assert isinstance(c, AdamCoefficients)
    # at t = 1: step_size = lr * sqrt(1 - beta_2) / (1 - beta_1)
    assert c == AdamCoefficients(beta_1=0.5, beta_2=0.75, step_size=0.1, epsilon=0.0)
    assert SGD(0.2, momentum=0.5).coefficients(0.2, 7) == SGDCoefficients(0.2, 0.5)


def test_amsgrad_and_nesterov_never_take_the_fused_kernels():
    numpy = nnx.backends.get_backend("numpy")
    w = numpy.asarray(np.ones(3, np.float32))
    slots = {k: numpy.xp.zeros_like(w) for k in ("momentum", "velocity", "velocity_hat")}
    amsgrad = Adam(0.1, amsgrad=True)
    assert not amsgrad.fused_update(numpy, w, w, slots, amsgrad.coefficients(0.1, 0))
    nesterov = SGD(0.1, momentum=0.9, nesterov=True)
    assert not nesterov.fused_update(numpy, w, w, slots, nesterov.coefficients(0.1, 0))
    np.testing.assert_array_equal(w, np.ones(3))  # a declined call changes nothing


def test_matmul_writes_into_out_and_matches_the_operator(backend):
    rng = np.random.default_rng(0)
    a = backend.asarray(rng.normal(size=(5, 4)), "float32")
    b = backend.asarray(rng.normal(size=(4, 3)), "float32")
    out = backend.xp.zeros((5, 3), dtype=backend.dtype("float32"), device=backend.device)
    result = backend.matmul(a, b, out=out)
    np.testing.assert_allclose(backend.to_numpy(result), backend.to_numpy(a @ b), rtol=1e-6)
    if not backend.name.startswith("array_api_strict"):  # the portable matmul cannot use out
        np.testing.assert_allclose(backend.to_numpy(out), backend.to_numpy(a @ b), rtol=1e-6)


@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
def test_matmul_of_a_stack_by_one_matrix_equals_the_operator(backend, layout):
    """A stack ``(b, m, k) @ (k, n)`` (the NumPy backend runs a contiguous one as one 2-d
    product), with and without ``out``; a non-contiguous stack or ``out`` too."""
    rng = np.random.default_rng(0)
    a = backend.asarray(rng.normal(size=(3, 5, 4)), "float32")
    if layout == "transposed":
        a = backend.xp.permute_dims(
            backend.asarray(rng.normal(size=(3, 4, 5)), "float32"), (0, 2, 1)
        )
    b = backend.asarray(rng.normal(size=(4, 6)), "float32")
    expected = backend.to_numpy(a @ b)
    result = backend.matmul(a, b)
    assert result.shape == (3, 5, 6)
    np.testing.assert_allclose(backend.to_numpy(result), expected, rtol=1e-6, atol=1e-6)
    if backend.name.startswith("array_api_strict"):  # the portable matmul cannot use out
        return
    if layout == "contiguous":
        out = backend.xp.zeros((3, 5, 6), dtype=backend.dtype("float32"), device=backend.device)
    else:
        out = backend.xp.zeros((3, 6, 5), dtype=backend.dtype("float32"), device=backend.device)
        out = backend.xp.permute_dims(out, (0, 2, 1))
    written = backend.matmul(a, b, out=out)
    np.testing.assert_allclose(backend.to_numpy(out), expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(backend.to_numpy(written), expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    ("shape", "layout", "dtype"),
    [
        ((7, 5), "contiguous", "float32"),  # under numba's size threshold: NumPy's add
        ((64, 40, 16), "contiguous", "float32"),  # the numba kernel (numpy backend)
        ((64, 40, 16), "contiguous", "float64"),
        ((64, 16, 40), "transposed", "float32"),  # not contiguous: NumPy's add, in place
    ],
)
def test_add_bias_adds_in_place_along_the_last_axis(backend, shape, layout, dtype):
    rng = np.random.default_rng(1)
    z = backend.asarray(rng.normal(size=shape), dtype)
    if layout == "transposed":
        z = backend.xp.permute_dims(z, (0, 2, 1))
    bias = backend.asarray(rng.normal(size=z.shape[-1]), dtype)
    expected = backend.to_numpy(z) + backend.to_numpy(bias)
    result = backend.add_bias(z, bias)
    assert result is z
    rtol = 1e-6 if dtype == "float32" else 1e-13
    np.testing.assert_allclose(backend.to_numpy(z), expected, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("rows", [1, 7, 256])
def test_sum_rows_equals_sum_over_the_batch(backend, rows):
    x = _random(backend, (rows, 17))
    expected = backend.to_numpy(backend.xp.sum(x, axis=0))
    np.testing.assert_allclose(backend.to_numpy(backend.sum_rows(x)), expected, rtol=1e-5)
    out = backend.xp.zeros((17,), dtype=x.dtype, device=backend.device)
    result = backend.sum_rows(x, out=out)
    np.testing.assert_allclose(backend.to_numpy(out), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(backend.to_numpy(result), expected, rtol=1e-5, atol=1e-6)


def test_map_chunks_covers_every_index_once(backend):
    n = 300_001
    seen = np.zeros(n, dtype=np.int64)

    def mark(s: slice) -> None:
        seen[s] += 1

    backend.map_chunks(mark, n)
    assert (seen == 1).all()


@pytest.mark.parametrize(
    ("kernel", "strides", "dilation"),
    [
        ((3, 3), (1, 1), (1, 1)),
        ((2, 3), (2, 1), (1, 1)),
        ((3, 2), (1, 1), (2, 3)),
        ((1, 1), (2, 3), (1, 1)),
        ((1, 4), (1, 2), (1, 1)),
    ],
)
def test_im2col_equals_the_portable_one(backend, kernel, strides, dilation):
    x = _random(backend, (2, 9, 8, 3))
    fast = backend.im2col(x, kernel, strides, dilation)
    portable = Backend.im2col(backend, x, kernel, strides, dilation)
    assert fast.dtype == portable.dtype
    np.testing.assert_array_equal(backend.to_numpy(fast), backend.to_numpy(portable))
