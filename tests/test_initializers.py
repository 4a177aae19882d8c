"""Tests for ``nnx.initializers``: shapes, statistics, limits, cross-backend identity, registry."""

from __future__ import annotations

import ast
import inspect
import math

import numpy as np
import pytest

import nnx.backends as nb
from nnx import initializers as I
from nnx.backends import Backend

TRUNC = 0.87962566103423978

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


# --- shapes, dtypes, determinism -------------------------------------------------------------


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


# --- constant initializers ---------------------------------------------------------------------


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


# --- statistics of large draws -----------------------------------------------------------------

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


# --- fans --------------------------------------------------------------------------------------


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


# --- orthogonal --------------------------------------------------------------------------------


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


def test_orthogonal_needs_two_dimensions() -> None:
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        I.Orthogonal()((5,), nb.get_backend("numpy").rng(0))


# --- registry ----------------------------------------------------------------------------------


def test_names() -> None:
    expected = {
        "zeros",
        "ones",
        "constant",
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
        "identity",
    }
    assert set(I.names()) == expected
    assert I.names() == sorted(I.names())


@pytest.mark.parametrize(
    ("spec", "cls"),
    [
        ("glorot_uniform", I.GlorotUniform),
        ("xavier_uniform", I.GlorotUniform),
        ("xavier_normal", I.GlorotNormal),
        ("kaiming_normal", I.HeNormal),
        ("GlorotUniform", I.GlorotUniform),
        ("HeNormal", I.HeNormal),
        ("  He_Uniform ", I.HeUniform),
        ("normal", I.RandomNormal),
        ("uniform", I.RandomUniform),
        ("zero", I.Zeros),
        ("one", I.Ones),
        ("truncated_normal", I.TruncatedNormal),
        ("VarianceScaling", I.VarianceScaling),
        ("orthogonal", I.Orthogonal),
        ("identity", I.Identity),
    ],
)
def test_get_by_name(spec: str, cls: type) -> None:
    assert type(I.get(spec)) is cls


def test_keras_defaults() -> None:
    assert I.get("glorot_uniform").get_config() == {"name": "glorot_uniform"}
    g = I.get("glorot_uniform")
    assert (g.scale, g.mode, g.distribution) == (1.0, "fan_avg", "uniform")
    h = I.get("he_normal")
    assert (h.scale, h.mode, h.distribution) == (2.0, "fan_in", "truncated_normal")
    assert I.get("random_normal").get_config() == {
        "name": "random_normal",
        "mean": 0.0,
        "stddev": 0.05,
    }
    assert I.get("random_uniform").get_config()["minval"] == -0.05
    assert I.get("truncated_normal").get_config()["stddev"] == 0.05
    assert I.get("variance_scaling").get_config() == {
        "name": "variance_scaling",
        "scale": 1.0,
        "mode": "fan_in",
        "distribution": "truncated_normal",
    }
    assert I.get("orthogonal").gain == 1.0


def test_get_instance_class_callable() -> None:
    init = I.RandomNormal(stddev=0.3)
    assert I.get(init) is init
    assert isinstance(I.get(I.HeUniform), I.HeUniform)

    def custom(shape, rng, dtype="float32"):
        return rng.backend.xp.full(shape, 7.0, dtype=rng.backend.dtype(dtype))

    assert I.get(custom) is custom


@pytest.mark.parametrize(
    "init",
    [
        I.Zeros(),
        I.Constant(2.5),
        I.RandomNormal(1.0, 0.2),
        I.RandomUniform(-1.0, 2.0),
        I.TruncatedNormal(0.5, 0.1),
        I.VarianceScaling(0.5, "fan_out", "uniform"),
        I.GlorotNormal(),
        I.LecunUniform(),
        I.Orthogonal(3.0),
        I.Identity(2.0),
    ],
    ids=repr,
)
def test_config_round_trip(backend: Backend, init: I.Initializer) -> None:
    config = init.get_config()
    rebuilt = I.get(dict(config))
    assert type(rebuilt) is type(init)
    assert rebuilt.get_config() == config
    assert repr(rebuilt) == repr(init)
    np.testing.assert_array_equal(draw(backend, rebuilt, (4, 4), 1), draw(backend, init, (4, 4), 1))


def test_unknown_name_lists_valid_names() -> None:
    with pytest.raises(ValueError, match="Unknown initializer 'glorot'") as info:
        I.get("glorot")
    for name in I.names():
        assert name in str(info.value)
    assert "xavier_uniform" in str(info.value)


@pytest.mark.parametrize("spec", [3, None, ["zeros"]])
def test_uninterpretable_spec(spec) -> None:
    with pytest.raises(ValueError, match="Valid initializers"):
        I.get(spec)


def test_bad_configs() -> None:
    with pytest.raises(ValueError, match="'name' key"):
        I.get({"stddev": 0.1})
    with pytest.raises(ValueError, match="Invalid config for initializer 'he_normal'"):
        I.get({"name": "he_normal", "scale": 3.0})
    with pytest.raises(ValueError, match="Unknown initializer 'nope'"):
        I.get({"name": "nope"})


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: I.RandomNormal(stddev=-1.0),
            r"RandomNormal: stddev must be >= 0, received stddev=-1\.0",
        ),
        (lambda: I.TruncatedNormal(stddev=-2), "received stddev=-2"),
        (lambda: I.RandomUniform(1.0, 0.0), "maxval must be >= 1, received maxval=0.0"),
        (lambda: I.Constant("a"), "value must be a finite number, received value='a'"),
        (lambda: I.RandomNormal(mean=float("nan")), "received mean=nan"),
        (lambda: I.VarianceScaling(scale=0), "scale must be > 0, received scale=0"),
        (lambda: I.VarianceScaling(mode="fan"), "received mode='fan'"),
        (lambda: I.VarianceScaling(distribution="gamma"), "received distribution='gamma'"),
        (lambda: I.Orthogonal(gain=True), "received gain=True"),
    ],
)
def test_argument_validation(make, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


# --- integration and purity --------------------------------------------------------------------


def test_layer_add_weight_uses_the_registry(backend: Backend) -> None:
    from nnx.layers.base import Layer

    class Probe(Layer):
        def build_parameters(self, input_shape, rng):
            self.kernel = self.add_weight("kernel", (input_shape[-1], 3), "xavier_uniform", rng)

    layer = Probe()
    layer.build((5,), backend, backend.rng(0))
    reference = draw(nb.get_backend("numpy"), "glorot_uniform", (5, 3), seed=0, dtype="float32")
    np.testing.assert_array_equal(backend.to_numpy(layer.kernel.value), reference)


def test_no_numpy_or_cupy_import() -> None:
    tree = ast.parse(inspect.getsource(I))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert not imported & {"numpy", "cupy"}


def test_every_public_name_has_a_docstring() -> None:
    for name in I.__all__:
        obj = getattr(I, name)
        if name == "InitializerFn":
            continue
        assert inspect.getdoc(obj), name
        assert ">>>" in (obj.__doc__ or ""), name
