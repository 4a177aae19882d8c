"""Losses: values against the formulas, float64 gradient checks, stability, refusals."""

from __future__ import annotations

import json

import numpy as np
import pytest

import nnx
from nnx import losses
from nnx.registry import serialize

RNG = np.random.default_rng(0)
Y_REG = RNG.normal(size=(6, 3))
P_REG = RNG.normal(size=(6, 3))
Y_BIN = RNG.integers(0, 2, size=(6, 2)).astype(float)
P_BIN = RNG.uniform(0.05, 0.95, size=(6, 2))
Y_CAT = np.eye(4)[RNG.integers(0, 4, size=6)]
P_CAT = RNG.dirichlet(np.ones(4), size=6)
Z = RNG.normal(size=(6, 4)) * 3


def _softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


CASES = [
    ("mse", losses.MeanSquaredError(), Y_REG, P_REG, np.mean((P_REG - Y_REG) ** 2)),
    ("mae", losses.MeanAbsoluteError(), Y_REG, P_REG, np.mean(np.abs(P_REG - Y_REG))),
    (
        "huber",
        losses.Huber(delta=0.7),
        Y_REG,
        P_REG,
        np.mean(
            np.where(
                np.abs(P_REG - Y_REG) <= 0.7,
                0.5 * (P_REG - Y_REG) ** 2,
                0.7 * (np.abs(P_REG - Y_REG) - 0.35),
            )
        ),
    ),
    (
        "bce",
        losses.BinaryCrossentropy(),
        Y_BIN,
        P_BIN,
        np.mean(-(Y_BIN * np.log(P_BIN) + (1 - Y_BIN) * np.log(1 - P_BIN))),
    ),
    (
        "bce_logits",
        losses.BinaryCrossentropy(from_logits=True),
        Y_BIN,
        Z[:, :2],
        np.mean(
            -(
                Y_BIN * np.log(1 / (1 + np.exp(-Z[:, :2])))
                + (1 - Y_BIN) * np.log(1 - 1 / (1 + np.exp(-Z[:, :2])))
            )
        ),
    ),
    (
        "cce",
        losses.CategoricalCrossentropy(),
        Y_CAT,
        P_CAT,
        np.mean(-(Y_CAT * np.log(P_CAT)).sum(-1)),
    ),
    (
        "cce_logits",
        losses.CategoricalCrossentropy(from_logits=True),
        Y_CAT,
        Z,
        np.mean(-(Y_CAT * np.log(_softmax(Z))).sum(-1)),
    ),
    (
        "cce_smooth",
        losses.CategoricalCrossentropy(label_smoothing=0.1),
        Y_CAT,
        P_CAT,
        np.mean(-((Y_CAT * 0.9 + 0.025) * np.log(P_CAT)).sum(-1)),
    ),
    (
        "sparse_logits",
        losses.SparseCategoricalCrossentropy(from_logits=True),
        Y_CAT.argmax(-1),
        Z,
        np.mean(-np.log(_softmax(Z))[np.arange(6), Y_CAT.argmax(-1)]),
    ),
    (
        "sparse",
        losses.SparseCategoricalCrossentropy(),
        Y_CAT.argmax(-1),
        P_CAT,
        np.mean(-np.log(P_CAT)[np.arange(6), Y_CAT.argmax(-1)]),
    ),
]


@pytest.mark.parametrize(("name", "loss", "y", "p", "expected"), CASES, ids=[c[0] for c in CASES])
def test_value_matches_formula(backend, name, loss, y, p, expected):
    yb = backend.asarray(y) if "sparse" in name else backend.asarray(y, "float64")
    value = loss(yb, backend.asarray(p, "float64"))
    assert float(value) == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize(("name", "loss", "y", "p", "expected"), CASES, ids=[c[0] for c in CASES])
def test_gradient_check(backend, name, loss, y, p, expected):
    errors = nnx.gradcheck(loss, p, y_true=y, backend=backend)
    assert errors["y_pred"] < 1e-6


@pytest.mark.parametrize("weight_shape", [(6,), (6, 1)])
def test_sample_weight_is_a_weighted_sum_over_batch_size(backend, weight_shape):
    """One weight per sample, whether given as (n,) or as a column (n, 1): the value, the
    gradient and the fused value_and_gradient weight the same way (a (6, 1) column used to
    broadcast the value to a (6, 6) outer product)."""
    w = np.array([1.0, 0.0, 2.0, 1.0, 0.5, 1.0])
    loss = losses.MeanSquaredError()
    y, p = backend.asarray(Y_REG, "float64"), backend.asarray(P_REG, "float64")
    wb = backend.asarray(w.reshape(weight_shape), "float64")
    per_sample = ((P_REG - Y_REG) ** 2).mean(-1)
    expected_grad = 2 * (P_REG - Y_REG) / 3 * w[:, None] / 6
    value, grad = loss.value_and_gradient(y, p, wb)
    for v in (loss(y, p, wb), value):
        assert float(v) == pytest.approx((w * per_sample).sum() / 6, rel=1e-12)
    for g in (loss.gradient(y, p, wb), grad):
        np.testing.assert_allclose(backend.to_numpy(g), expected_grad, rtol=1e-12)


@pytest.mark.parametrize(
    "loss",
    [losses.BinaryCrossentropy(from_logits=True), losses.CategoricalCrossentropy(from_logits=True)],
)
def test_extreme_logits_are_finite_in_float32(backend, loss):
    z = backend.asarray([[1e4, -1e4], [-1e4, 1e4]], "float32")
    y = backend.asarray([[1.0, 0.0], [1.0, 0.0]], "float32")
    value, grad = loss(y, z), loss.gradient(y, z)
    assert np.isfinite(float(value)) and float(value) > 1e3  # one sample is confidently wrong
    assert np.all(np.isfinite(backend.to_numpy(grad)))


def test_probabilities_of_exactly_zero_and_one_are_finite(backend):
    loss = losses.BinaryCrossentropy()
    y = backend.asarray([[1.0], [0.0]], "float32")
    p = backend.asarray([[0.0], [1.0]], "float32")
    assert np.isfinite(float(loss(y, p)))
    assert np.all(np.isfinite(backend.to_numpy(loss.gradient(y, p))))


def test_fused_logit_gradient_is_p_minus_y(backend):
    loss = losses.CategoricalCrossentropy(from_logits=True)
    grad = backend.to_numpy(
        loss.gradient(backend.asarray(Y_CAT, "float64"), backend.asarray(Z, "float64"))
    )
    np.testing.assert_allclose(grad, (_softmax(Z) - Y_CAT) / 6, rtol=1e-12)


def test_shape_mismatch_is_refused_not_broadcast(backend):
    with pytest.raises(ValueError, match=r"same shape.*\(4,\).*\(4, 3\)"):
        losses.MeanSquaredError()(backend.asarray(np.zeros(4)), backend.asarray(np.zeros((4, 3))))


@pytest.mark.parametrize("loss", [losses.MeanSquaredError(), losses.BinaryCrossentropy()])
def test_rank_one_targets_meet_one_column_outputs_as_keras_does(loss, backend):
    y1 = np.array([0.0, 1.0, 1.0, 0.0])
    p = backend.asarray(np.array([[0.2], [0.7], [0.4], [0.1]]))
    expected = float(loss(backend.asarray(y1[:, None]), p))
    assert float(loss(backend.asarray(y1), p)) == pytest.approx(expected, rel=1e-12)
    grad = backend.to_numpy(loss.gradient(backend.asarray(y1), p))
    assert grad.shape == (4, 1)
    np.testing.assert_allclose(
        grad, backend.to_numpy(loss.gradient(backend.asarray(y1[:, None]), p))
    )


NAMES = {
    "mean_squared_error": losses.MeanSquaredError,
    "mse": losses.MeanSquaredError,
    "MeanSquaredError": losses.MeanSquaredError,
    "mean_absolute_error": losses.MeanAbsoluteError,
    "mae": losses.MeanAbsoluteError,
    "huber": losses.Huber,
    "huber_loss": losses.Huber,
    "binary_crossentropy": losses.BinaryCrossentropy,
    "bce": losses.BinaryCrossentropy,
    "binarycrossentropy": losses.BinaryCrossentropy,
    "categorical_crossentropy": losses.CategoricalCrossentropy,
    "crossentropy": losses.CategoricalCrossentropy,
    "cce": losses.CategoricalCrossentropy,
    "sparse_categorical_crossentropy": losses.SparseCategoricalCrossentropy,
    "Sparse-Categorical-Crossentropy": losses.SparseCategoricalCrossentropy,
}


@pytest.mark.parametrize("name", sorted(NAMES))
def test_registry_resolves_every_name_and_alias(name):
    loss = losses.get(name)
    assert type(loss) is NAMES[name] and loss.name == loss.registry_name


def test_names_lists_names_aliases_and_class_names():
    names = losses.names()
    assert names == sorted(names)
    assert {"mse", "bce", "cce", "huber_loss", "crossentropy"} <= set(names)
    assert {"meansquarederror", "sparsecategoricalcrossentropy"} <= set(names)
    assert set(losses.LOSSES.names()) < set(names)
    with pytest.raises(ValueError, match="Unknown loss 'msee'. Valid losses:.*mean_squared_error"):
        losses.get("msee")


LOSS_OBJECTS = [
    losses.MeanSquaredError(),
    losses.MeanAbsoluteError(name="l1"),
    losses.Huber(delta=0.3),
    losses.BinaryCrossentropy(from_logits=True, name="bce_logits"),
    losses.CategoricalCrossentropy(label_smoothing=0.2),
    losses.SparseCategoricalCrossentropy(from_logits=True),
]


@pytest.mark.parametrize("loss", LOSS_OBJECTS, ids=lambda loss: type(loss).__name__)
def test_serialize_round_trips_through_get(loss):
    spec = serialize(loss)
    assert spec["class_name"] == type(loss).__name__
    assert "class_name" not in spec["config"]
    clone = losses.get(json.loads(json.dumps(spec)))
    assert type(clone) is type(loss) and clone.get_config() == loss.get_config()
    assert clone.name == loss.name and repr(clone) == repr(loss)


def test_get_config_is_the_constructor_arguments():
    assert losses.Huber(2.0).get_config() == {"delta": 2.0, "name": "huber"}
    assert losses.CategoricalCrossentropy(True, 0.1, name="c").get_config() == {
        "from_logits": True,
        "label_smoothing": 0.1,
        "name": "c",
    }
    for loss in LOSS_OBJECTS:
        assert type(loss).from_config(loss.get_config()).get_config() == loss.get_config()


@pytest.mark.parametrize(
    ("saved", "cls", "arguments"),
    [
        (
            {"class_name": "sparse_categorical_crossentropy", "name": "scce", "from_logits": True},
            losses.SparseCategoricalCrossentropy,
            {"from_logits": True, "name": "scce"},
        ),
        (
            {"class_name": "huber", "name": "huber", "delta": 0.5},
            losses.Huber,
            {"delta": 0.5, "name": "huber"},
        ),
        (
            {
                "class_name": "categorical_crossentropy",
                "name": "categorical_crossentropy",
                "from_logits": False,
                "label_smoothing": 0.1,
            },
            losses.CategoricalCrossentropy,
            {"from_logits": False, "label_smoothing": 0.1, "name": "categorical_crossentropy"},
        ),
    ],
)
def test_get_reads_the_dicts_nnx_0_1_wrote(saved, cls, arguments):
    loss = losses.get(saved)
    assert type(loss) is cls and loss.get_config() == arguments


def test_bad_configs_are_refused_with_the_valid_names():
    with pytest.raises(ValueError, match="Unknown loss 'nope'. Valid losses: .*huber"):
        losses.get({"class_name": "nope", "config": {}})
    with pytest.raises(ValueError, match="Invalid config for loss 'Huber'"):
        losses.get({"class_name": "Huber", "config": {"alpha": 1.0}})
    with pytest.raises(ValueError, match="needs a 'class_name' key"):
        losses.get({"config": {}})


def test_with_logits_keeps_every_other_argument():
    fused = losses.CategoricalCrossentropy(label_smoothing=0.2, name="cce").with_logits()
    assert fused.get_config() == {"from_logits": True, "label_smoothing": 0.2, "name": "cce"}


def test_invalid_arguments():
    with pytest.raises(ValueError, match=r"Huber: delta must be a float > 0, received delta=-1\."):
        losses.Huber(delta=-1)
    with pytest.raises(
        ValueError,
        match=r"CategoricalCrossentropy: label_smoothing must be a float in \[0, 1\], "
        r"received label_smoothing=2\.",
    ):
        losses.CategoricalCrossentropy(label_smoothing=2)


@pytest.mark.parametrize(("name", "loss", "y", "p", "expected"), CASES, ids=[c[0] for c in CASES])
def test_value_and_gradient_equals_the_separate_calls(backend, name, loss, y, p, expected):
    yb = backend.asarray(y) if "sparse" in name else backend.asarray(y, "float64")
    pb, w = backend.asarray(p, "float64"), backend.asarray(np.linspace(0.5, 1.5, len(p)), "float64")
    value, grad = loss.value_and_gradient(yb, pb, w)
    assert float(value) == pytest.approx(float(loss(yb, pb, w)), rel=1e-12)
    np.testing.assert_allclose(
        backend.to_numpy(grad), backend.to_numpy(loss.gradient(yb, pb, w)), rtol=1e-12, atol=1e-15
    )
