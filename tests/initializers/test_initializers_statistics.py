"""Initializers: the statistics of large draws, Keras's variance scaling and fans."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nnx import initializers as I
from nnx.backends import Backend

TRUNC = 0.87962566103423978


def draw(backend: Backend, spec, shape, seed=0, dtype="float64") -> np.ndarray:
    return backend.to_numpy(I.get(spec)(shape, backend.rng(seed), dtype))


SHAPE = (400, 500)  # 200 000 draws: the sample std is within ~0.3% of the true one


def test_random_normal_statistics(backend: Backend) -> None:
    w = draw(backend, I.RandomNormal(mean=1.0, stddev=2.0), SHAPE)
    assert abs(w.mean() - 1.0) < 0.02
    assert abs(w.std() / 2.0 - 1.0) < 0.01


def test_random_normal_keras_defaults(backend: Backend) -> None:
    w = draw(backend, "random_normal", SHAPE)
    assert abs(w.mean()) < 0.001
    assert abs(w.std() / 0.05 - 1.0) < 0.01


def test_random_uniform_statistics(backend: Backend) -> None:
    w = draw(backend, I.RandomUniform(-1.0, 3.0), SHAPE)
    assert w.min() >= -1.0 and w.max() < 3.0
    assert w.min() < -0.999 and w.max() > 2.999
    assert abs(w.mean() - 1.0) < 0.02
    assert abs(w.std() / (4.0 / math.sqrt(12.0)) - 1.0) < 0.01
    d = draw(backend, "random_uniform", SHAPE)
    assert d.min() >= -0.05 and d.max() < 0.05


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_truncated_normal_within_two_stddev(backend: Backend, dtype: str) -> None:
    w = draw(backend, I.TruncatedNormal(mean=0.5, stddev=0.1), SHAPE, dtype=dtype)
    bound = np.asarray(0.2, dtype=dtype)
    assert np.all(np.abs(w.astype(np.float64) - 0.5) <= bound * (1 + 1e-6))
    assert np.abs(w - 0.5).max() > 0.199  # the tails are reached, not clipped early
    assert abs(w.mean() - 0.5) < 0.002
    assert abs(w.std() / (0.1 * TRUNC) - 1.0) < 0.01


def fans_avg(shape):
    fan_in, fan_out = I.compute_fans(shape)
    return (fan_in + fan_out) / 2


# (name, the samples' standard deviation, whether uniform) for each preset, from Keras's formulas
PRESETS = [
    ("glorot_uniform", lambda s: math.sqrt(1.0 / fans_avg(s)), True),
    ("glorot_normal", lambda s: math.sqrt(1.0 / fans_avg(s)), False),
    ("he_uniform", lambda s: math.sqrt(2.0 / I.compute_fans(s)[0]), True),
    ("he_normal", lambda s: math.sqrt(2.0 / I.compute_fans(s)[0]), False),
    ("lecun_uniform", lambda s: math.sqrt(1.0 / I.compute_fans(s)[0]), True),
    ("lecun_normal", lambda s: math.sqrt(1.0 / I.compute_fans(s)[0]), False),
]


@pytest.mark.parametrize(("name", "std", "uniform"), PRESETS, ids=[p[0] for p in PRESETS])
@pytest.mark.parametrize("shape", [SHAPE, (5, 5, 40, 80)], ids=["dense", "conv"])
def test_variance_scaling_presets(backend: Backend, name, std, uniform, shape) -> None:
    w = draw(backend, name, shape)
    expected = std(shape)
    assert abs(w.mean()) < 0.01 * expected
    assert abs(w.std() / expected - 1.0) < 0.01
    if uniform:  # U[-limit, limit) has std limit / sqrt(3)
        limit = expected * math.sqrt(3.0)
        assert np.abs(w).max() <= limit and np.abs(w).max() > 0.999 * limit
    else:  # truncated at 2 * stddev with stddev = std / 0.8796...
        assert np.abs(w).max() <= 2.0 * expected / TRUNC


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_glorot_uniform_limit_exactly_respected(backend: Backend, dtype: str) -> None:
    fan_in, fan_out = 300, 700
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    w = draw(backend, "glorot_uniform", (fan_in, fan_out), dtype=dtype)
    # U[-limit, limit) in float64, then rounded: never beyond the limit in the target dtype
    assert np.all(np.abs(w) <= np.asarray(limit, dtype=dtype))
    assert np.abs(w).max() > 0.9999 * limit


@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "fan_avg"])
@pytest.mark.parametrize("distribution", ["truncated_normal", "untruncated_normal", "uniform"])
def test_variance_scaling_general(backend: Backend, mode: str, distribution: str) -> None:
    shape = (3, 3, 20, 50)
    fan_in, fan_out = 180, 450
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
    w = draw(backend, I.VarianceScaling(3.0, mode, distribution), shape, seed=5)
    assert abs(w.std() / math.sqrt(3.0 / n) - 1.0) < 0.015


def test_variance_scaling_normal_is_truncated_alias() -> None:
    assert I.VarianceScaling(distribution="normal").distribution == "truncated_normal"


def test_variance_scaling_matches_presets(backend: Backend) -> None:
    generic = I.VarianceScaling(scale=1.0, mode="fan_avg", distribution="uniform")
    np.testing.assert_array_equal(
        draw(backend, generic, (30, 20), seed=2), draw(backend, "glorot_uniform", (30, 20), seed=2)
    )
    generic = I.VarianceScaling(scale=2.0, mode="fan_in", distribution="truncated_normal")
    np.testing.assert_array_equal(
        draw(backend, generic, (30, 20), seed=2), draw(backend, "he_normal", (30, 20), seed=2)
    )


@pytest.mark.parametrize(
    ("shape", "fans"),
    [
        ((), (1, 1)),
        ((7,), (7, 7)),
        ((10, 20), (10, 20)),
        ((5, 16, 32), (80, 160)),  # Conv1D kernel (width, in, out)
        ((3, 3, 16, 32), (144, 288)),  # Conv2D kernel (h, w, in, out)
        ((2, 3, 3, 4, 8), (72, 144)),  # Conv3D kernel
    ],
)
def test_compute_fans(shape, fans) -> None:
    assert I.compute_fans(shape) == fans


def test_conv_kernel_uses_receptive_field(backend: Backend) -> None:
    shape = (3, 3, 16, 32)
    w = draw(backend, "he_uniform", shape)
    limit = math.sqrt(6.0 / (3 * 3 * 16))
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.99 * limit


def test_zero_fan_counts_as_one(backend: Backend) -> None:
    w = draw(backend, "glorot_uniform", (0, 0))
    assert w.shape == (0, 0)
