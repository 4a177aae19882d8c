"""The metric protocol: Mean, MeanMetricWrapper (with sample weights), direction, float_dtype."""

from __future__ import annotations

import numpy as np
import pytest

from nnx import metrics as M
from nnx.metrics.base import HIGHER_IS_BETTER, float_dtype


def test_mean_is_the_weighted_mean_and_resets():
    m = M.Mean("loss")
    m.update_value(2.0, weight=3)
    m.update_value(4.0, weight=1)
    assert m.result() == pytest.approx(2.5)
    m.reset_state()
    assert (m.total, m.count, m.result()) == (0.0, 0.0, 0.0)


@pytest.mark.parametrize("weight_shape", [(4,), (4, 1)])
def test_mean_metric_wrapper_weights_each_sample_once(backend, weight_shape):
    """A (n, 1) weight column is one weight per sample, not an (n, n) outer product."""
    m = M.MeanMetricWrapper(lambda y, p: backend.xp.reshape(p - y, (-1,)), "diff")
    y = backend.asarray([[0.0], [0.0], [0.0], [0.0]], "float64")
    p = backend.asarray([[1.0], [2.0], [3.0], [4.0]], "float64")
    w = np.array([1.0, 0.0, 2.0, 1.0]).reshape(weight_shape)
    m.update_state(y, p, backend.asarray(w, "float64"))
    m.update_state(y, p)
    expected = ((1 * 1 + 3 * 2 + 4 * 1) + (1 + 2 + 3 + 4)) / (4.0 + 4)
    assert float(m.result()) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("name", "mode"),
    [
        ("loss", "min"),
        ("val_loss", "min"),
        ("mse", "min"),
        ("val_rmse", "min"),
        ("log_loss", "min"),
        ("accuracy", "max"),
        ("val_acc", "max"),
        ("top_5_accuracy", "max"),
        ("auc", "max"),
        ("val_precision_macro", "max"),
        ("recall", "max"),
        ("f1_weighted", "max"),
        ("val_r2", "max"),
    ],
)
def test_direction(name, mode):
    assert M.direction(name) == mode


def test_direction_covers_every_scalar_registry_metric_but_the_errors():
    errors = {"mse", "mae", "rmse", "log_loss", "mean_squared_error", "mean_absolute_error"}
    errors |= {"root_mean_squared_error", "binary_crossentropy_metric"}
    for name in M.names():
        assert M.direction(name) == ("min" if name in errors else "max"), name
    assert set(HIGHER_IS_BETTER) == {"acc", "auc", "precision", "recall", "f1", "r2"}


def test_float_dtype(backend):
    xp = backend.xp
    assert float_dtype(xp, backend.asarray([1, 2])) == xp.float64
    assert float_dtype(xp, backend.asarray([1.0], "float32")) == xp.float32


def test_metric_base_class_is_abstract():
    m = M.Metric("m")
    for call in (lambda: m.update_state(None, None), m.result, m.reset_state):
        with pytest.raises(NotImplementedError):
            call()
