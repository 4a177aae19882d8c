"""Initializers by name: the registry, aliases, the serialised form and 0.1's, argument checks."""

from __future__ import annotations

import ast
import inspect
import json
import pathlib

import numpy as np
import pytest

import nnx.backends as nb
from nnx import initializers as I
from nnx.backends import Backend


def draw(backend: Backend, spec, shape, seed=0, dtype="float64") -> np.ndarray:
    return backend.to_numpy(I.get(spec)(shape, backend.rng(seed), dtype))


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
    assert I.get("glorot_uniform").get_config() == {}
    g = I.get("glorot_uniform")
    assert (g.scale, g.mode, g.distribution) == (1.0, "fan_avg", "uniform")
    h = I.get("he_normal")
    assert (h.scale, h.mode, h.distribution) == (2.0, "fan_in", "truncated_normal")
    assert I.get("random_normal").get_config() == {
        "mean": 0.0,
        "stddev": 0.05,
    }
    assert I.get("random_uniform").get_config()["minval"] == -0.05
    assert I.get("truncated_normal").get_config()["stddev"] == 0.05
    assert I.get("variance_scaling").get_config() == {
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
    serialised = I.serialize(init)
    assert serialised == {"class_name": type(init).__name__, "config": config}
    rebuilt = I.get(json.loads(json.dumps(serialised)))
    assert type(rebuilt) is type(init)
    assert rebuilt.get_config() == config
    assert type(init).from_config(config).get_config() == config
    legacy = I.get({"name": type(init).name, **config})  # the form nnx 0.1 wrote
    assert type(legacy) is type(init) and legacy.get_config() == config
    assert repr(rebuilt) == repr(init)
    np.testing.assert_array_equal(draw(backend, rebuilt, (4, 4), 1), draw(backend, init, (4, 4), 1))


def test_unknown_name_lists_valid_names() -> None:
    with pytest.raises(ValueError, match="Unknown initializer 'glorot'") as info:
        I.get("glorot")
    assert (
        str(info.value)
        == f"Unknown initializer 'glorot'. Valid initializers: {', '.join(I.names())}."
    )


@pytest.mark.parametrize("spec", [3, None, ["zeros"]])
def test_uninterpretable_spec(spec) -> None:
    with pytest.raises(ValueError, match="Valid initializers"):
        I.get(spec)


def test_bad_configs() -> None:
    with pytest.raises(ValueError, match="config needs a 'class_name' key"):
        I.get({"stddev": 0.1})
    with pytest.raises(ValueError, match="Invalid config for initializer 'Zeros'"):
        I.get({"class_name": "Zeros", "config": {"value": 1.0}})
    with pytest.raises(ValueError, match="Invalid config for initializer 'he_normal'"):
        I.get({"name": "he_normal", "scale": 3.0})
    with pytest.raises(ValueError, match="Unknown initializer 'nope'"):
        I.get({"name": "nope"})


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: I.RandomNormal(stddev=-1.0),
            r"^RandomNormal: stddev must be a float >= 0, received stddev=-1\.0\.$",
        ),
        (lambda: I.TruncatedNormal(stddev=-2), "received stddev=-2"),
        (lambda: I.RandomUniform(1.0, 0.0), "maxval must be a float >= 1, received maxval=0.0"),
        (lambda: I.Constant("a"), "value must be a finite float, received value='a'"),
        (lambda: I.RandomNormal(mean=float("nan")), "received mean=nan"),
        (lambda: I.VarianceScaling(scale=0), "scale must be a float > 0, received scale=0"),
        (lambda: I.VarianceScaling(mode="fan"), "received mode='fan'"),
        (lambda: I.VarianceScaling(distribution="gamma"), "received distribution='gamma'"),
        (lambda: I.Orthogonal(gain=True), "received gain=True"),
    ],
)
def test_argument_validation(make, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


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
    imported = set()
    for path in pathlib.Path(I.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                imported.add((node.module or "").split(".")[0])
    assert "nnx" in imported and not imported & {"numpy", "cupy"}


def test_every_public_name_has_a_docstring() -> None:
    for name in I.__all__:
        obj = getattr(I, name)
        if name == "InitializerFn" or not obj.__module__.startswith(I.__name__):  # re-exported
            continue
        assert inspect.getdoc(obj), name
        assert ">>>" in (obj.__doc__ or ""), name
