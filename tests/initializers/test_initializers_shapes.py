"""Initializers: shapes, dtypes, seeds, the same values on every backend, the constant and
orthogonal ones."""

from __future__ import annotations

import numpy as np
import pytest

import nnx.backends as nb
from nnx import initializers as I
from nnx.backends import Backend

ALL = I.names()


RANDOM = [
    "random_normal",
    "random_uniform",
    "truncated_normal",
    "variance_scaling",
    "glorot_uniform",
    "glorot_normal",
    "he_normal",
    "he_uniform",
    "lecun_normal",
    "lecun_uniform",
    "orthogonal",
]


def draw(backend: Backend, spec, shape, seed=0, dtype="float64") -> np.ndarray:
    return backend.to_numpy(I.get(spec)(shape, backend.rng(seed), dtype))


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_shape_and_dtype(backend: Backend, name: str, dtype: str) -> None:
    w = I.get(name)((4, 3), backend.rng(0), dtype)
    assert type(w) is type(backend.asarray([0.0]))
    assert tuple(w.shape) == (4, 3)
    assert backend.dtype_name(w) == dtype


@pytest.mark.parametrize("name", [n for n in ALL if n not in ("orthogonal", "identity")])
@pytest.mark.parametrize("shape", [(5,), (2, 3, 4), (3, 3, 2, 4), (0, 3)])
def test_other_ranks(backend: Backend, name: str, shape: tuple[int, ...]) -> None:
    w = I.get(name)(shape, backend.rng(0))
    assert tuple(w.shape) == shape
    assert backend.dtype_name(w) == "float32"


def test_default_dtype_is_float32(backend: Backend) -> None:
    assert backend.dtype_name(I.GlorotUniform()((2, 2), backend.rng(0))) == "float32"


@pytest.mark.parametrize("name", RANDOM)
def test_same_seed_same_values_and_other_seed_differs(backend: Backend, name: str) -> None:
    a, b = draw(backend, name, (20, 10), seed=3), draw(backend, name, (20, 10), seed=3)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, draw(backend, name, (20, 10), seed=4))


@pytest.mark.parametrize("name", RANDOM)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_identical_values_on_every_backend(backend: Backend, name: str, dtype: str) -> None:
    reference = draw(nb.get_backend("numpy"), name, (3, 3, 4, 5), seed=11, dtype=dtype)
    got = draw(backend, name, (3, 3, 4, 5), seed=11, dtype=dtype)
    assert got.dtype == reference.dtype
    np.testing.assert_array_equal(got, reference)


def test_random_initializers_need_a_float_dtype(backend: Backend) -> None:
    with pytest.raises(ValueError, match="dtype='int32'"):
        I.RandomNormal()((2, 2), backend.rng(0), "int32")
    with pytest.raises(ValueError, match="dtype='int64'"):
        I.GlorotUniform()((2, 2), backend.rng(0), "int64")


def test_bad_shape() -> None:
    rng = nb.get_backend("numpy").rng(0)
    with pytest.raises(ValueError, match=r"received \(2, -1\)"):
        I.Zeros()((2, -1), rng)
    with pytest.raises(ValueError, match="non-negative ints"):
        I.HeNormal()(("a", 2), rng)  # type: ignore[arg-type]


def test_zeros_ones_constant(backend: Backend) -> None:
    rng = backend.rng(0)
    np.testing.assert_array_equal(backend.to_numpy(I.Zeros()((2, 3), rng)), np.zeros((2, 3)))
    np.testing.assert_array_equal(backend.to_numpy(I.Ones()((2, 3), rng)), np.ones((2, 3)))
    w = backend.to_numpy(I.Constant(-1.5)((4,), rng, "float64"))
    np.testing.assert_array_equal(w, np.full(4, -1.5))
    assert backend.dtype_name(I.Zeros()((2,), rng, "int64")) == "int64"


def test_identity(backend: Backend) -> None:
    rng = backend.rng(0)
    np.testing.assert_array_equal(backend.to_numpy(I.Identity()((3, 3), rng)), np.eye(3))
    np.testing.assert_array_equal(
        backend.to_numpy(I.Identity(0.5)((2, 3), rng)), 0.5 * np.eye(2, 3)
    )
    with pytest.raises(ValueError, match="2-D"):
        I.Identity()((2, 2, 2), rng)


@pytest.mark.parametrize("shape", [(6, 6), (8, 3), (3, 8), (3, 3, 4, 8), (2, 2, 2, 20)])
@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_orthogonal(backend: Backend, shape: tuple[int, ...], gain: float) -> None:
    w = draw(backend, I.Orthogonal(gain), shape)
    assert w.shape == shape
    m = w.reshape(-1, shape[-1])
    gram = m.T @ m if m.shape[0] >= m.shape[1] else m @ m.T
    np.testing.assert_allclose(gram, gain**2 * np.eye(gram.shape[0]), atol=1e-12)


def test_orthogonal_float32(backend: Backend) -> None:
    w = draw(backend, "orthogonal", (64, 32), dtype="float32").astype(np.float64)
    np.testing.assert_allclose(w.T @ w, np.eye(32), atol=1e-5)


def test_orthogonal_sign_correction_matches_reference(backend: Backend) -> None:
    # the normal matrix the initializer draws first, through the same public generator
    a = backend.to_numpy(backend.rng(9).normal((5, 4), dtype="float64"))
    q, r = np.linalg.qr(a)
    expected = q * np.sign(np.diag(r))
    np.testing.assert_allclose(draw(backend, "orthogonal", (5, 4), seed=9), expected, atol=1e-14)
    np.testing.assert_allclose(draw(backend, "orthogonal", (4, 5), seed=9), expected.T, atol=1e-14)


def test_orthogonal_wide_kernels_are_row_major_on_numpy() -> None:
    """A recurrent kernel ``(units, 4 units)`` is the transpose of a QR factor: stored as the
    transpose's view it would be column-major, and every fast path would copy it each call."""
    w = I.Orthogonal()((16, 64), nb.get_backend("numpy").rng(0), "float32")
    assert w.flags.c_contiguous
    np.testing.assert_allclose(w @ w.T, np.eye(16), atol=1e-6)


def test_orthogonal_needs_two_dimensions() -> None:
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        I.Orthogonal()((5,), nb.get_backend("numpy").rng(0))
