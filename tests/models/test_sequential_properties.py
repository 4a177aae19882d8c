"""Property tests: random Sequential stacks over random shapes and dtypes.

Example counts are kept moderate (``EXAMPLES``) so the suite stays fast; raise them locally with
``NNX_HYPOTHESIS_EXAMPLES=500``.
"""

from __future__ import annotations

import os
import tempfile

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nnx
from nnx.layers import Activation, Dense, Dropout, Flatten, Reshape

EXAMPLES = int(os.environ.get("NNX_HYPOTHESIS_EXAMPLES", "60"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
SMOOTH = ["linear", "tanh", "sigmoid", "softplus", "silu", "gelu", "softsign", "softmax", "elu"]
ANY = [*SMOOTH, "relu", "leaky_relu", "log_softmax", "selu", "relu6", "hard_sigmoid"]


@st.composite
def stacks(draw, activations=ANY):
    """``(layers factory, sample shape, dtype, backend name)``."""
    rank = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=rank, max_size=rank)))
    dtype = draw(st.sampled_from(["float32", "float64"]))
    backend = draw(st.sampled_from(nnx.available()))
    kinds = draw(
        st.lists(
            st.sampled_from(["dense", "act", "drop", "reshape", "flat"]), min_size=1, max_size=4
        )
    )
    specs = [("dense", draw(st.integers(1, 5)), draw(st.sampled_from(activations)))]
    for kind in kinds:
        if kind == "dense":
            specs.append((kind, draw(st.integers(1, 5)), draw(st.sampled_from(activations))))
        elif kind == "act":
            specs.append((kind, draw(st.sampled_from(activations))))
        elif kind == "drop":
            specs.append((kind, draw(st.floats(0.0, 0.9))))
        else:
            specs.append((kind,))

    def build():
        out = []
        for spec in specs:
            if spec[0] == "dense":
                out.append(Dense(spec[1], activation=spec[2]))
            elif spec[0] == "act":
                out.append(Activation(spec[1]))
            elif spec[0] == "drop":
                out.append(Dropout(spec[1]))
            elif spec[0] == "reshape":
                out.append(Reshape((-1,)))
            else:
                out.append(Flatten())
        return out

    return build, shape, dtype, backend


def _built(build, shape, dtype, backend, seed=0):
    model = nnx.Sequential(build(), backend=backend, dtype=dtype, seed=seed)
    model.build(shape)
    return model


@SETTINGS
@given(stacks(), st.integers(1, 5), st.booleans())
def test_forward_and_backward_shapes_agree(stack, batch, training):
    build, shape, dtype, backend = stack
    model = _built(build, shape, dtype, backend)
    be = model.backend
    x = be.asarray(np.random.default_rng(0).normal(size=(batch, *shape)), dtype)
    y, backprop = model.forward(x, training=training)
    assert tuple(y.shape) == (batch, *model.output_shape)
    assert be.dtype_name(y) == dtype
    dx = backprop(be.xp.ones_like(y))
    assert tuple(dx.shape) == tuple(x.shape) and be.dtype_name(dx) == dtype
    for p in model.parameters():
        assert p.grad is not None and tuple(p.grad.shape) == p.shape


@SETTINGS
@given(stacks(activations=SMOOTH), st.integers(1, 3), st.booleans())
def test_gradients_match_finite_differences(stack, batch, training):
    build, shape, _, backend = stack
    model = _built(build, shape, "float64", backend)
    x = np.random.default_rng(1).normal(size=(batch, *shape))
    errors = nnx.gradcheck(model, x, training=training, tolerance=1e-5)
    assert "input" in errors


@SETTINGS
@given(stacks(), st.sampled_from(["float32", "float64", "int32", "int64", "bool", "uint8"]))
def test_save_load_round_trips_and_inputs_of_any_dtype_predict(stack, input_dtype):
    build, shape, dtype, backend = stack
    model = _built(build, shape, dtype, backend, seed=3)
    model.compile("adam", "mse")
    x = (np.random.default_rng(2).normal(size=(3, *shape)) * 2).astype(input_dtype)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "m.nnx")
        model.save(path)
        clone = nnx.load(path, backend=backend)
    assert clone.get_config() == model.get_config()
    for a, b in zip(model.get_weights(), clone.get_weights(), strict=True):
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes()
    y = model.predict(x)
    assert y.dtype == np.dtype(dtype) and y.tobytes() == clone.predict(x).tobytes()


INVALID = st.one_of(
    st.builds(lambda u: ("Dense", {"units": u}, "units"), st.integers(max_value=0)),
    st.builds(lambda u: ("Dense", {"units": u}, "units"), st.floats() | st.text() | st.booleans()),
    st.builds(
        lambda r: ("Dropout", {"rate": r}, "rate"),
        st.floats().filter(lambda r: not 0 <= r < 1) | st.text() | st.none(),
    ),
    st.builds(
        lambda a: ("Activation", {"activation": a}, "Unknown activation"),
        st.text(min_size=1).filter(lambda a: a.strip().lower() not in nnx.activations.names()),
    ),
    st.builds(
        lambda t: ("Reshape", {"target_shape": t}, "target_shape"),
        st.lists(st.integers(max_value=0).filter(lambda d: d != -1), min_size=1, max_size=3),
    ),
)


@SETTINGS
@given(INVALID)
def test_invalid_configs_raise_documented_errors(case):
    name, config, words = case
    cls = nnx.layers.layer_class(name)
    try:
        cls.from_config(config)
    except ValueError as error:
        assert words in str(error)
    else:
        raise AssertionError(f"{name}({config}) was accepted")


@SETTINGS
@given(stacks(), st.integers(1, 4))
def test_wrong_input_shapes_are_refused(stack, extra):
    build, shape, dtype, backend = stack
    model = _built(build, shape, dtype, backend)
    wrong = (*shape[:-1], shape[-1] + extra)
    x = np.zeros((2, *wrong), dtype)
    try:
        model.predict(x)
    except ValueError as error:
        assert "expected input shape" in str(error) and str((2, *wrong)) in str(error)
    else:
        raise AssertionError(f"input {wrong} accepted by a model built for {shape}")
