"""Metric names for compile(): every name and alias, spellings, errors, logs in fit()."""

from __future__ import annotations

import numpy as np
import pytest
import sklearn.metrics as skm

import nnx
from nnx import metrics as M
from nnx.datasets import make_moons
from nnx.layers import Dense
from nnx.metrics.registry import ALIASES, METRICS

EXPECTED = {
    "accuracy": (M.BinaryAccuracy, "accuracy"),
    "acc": (M.BinaryAccuracy, "acc"),
    "binary_accuracy": (M.BinaryAccuracy, "binary_accuracy"),
    "categorical_accuracy": (M.CategoricalAccuracy, "categorical_accuracy"),
    "sparse_categorical_accuracy": (M.SparseCategoricalAccuracy, "sparse_categorical_accuracy"),
    "mse": (M.MeanSquaredError, "mse"),
    "mean_squared_error": (M.MeanSquaredError, "mse"),
    "mae": (M.MeanAbsoluteError, "mae"),
    "mean_absolute_error": (M.MeanAbsoluteError, "mae"),
    "precision": (M.Precision, "precision"),
    "recall": (M.Recall, "recall"),
    "f1": (M.F1Score, "f1"),
    "f1_score": (M.F1Score, "f1"),
    "precision_macro": (M.Precision, "precision_macro"),
    "recall_micro": (M.Recall, "recall_micro"),
    "f1_weighted": (M.F1Score, "f1_weighted"),
    "auc": (M.AUC, "auc"),
    "roc_auc": (M.AUC, "auc"),
    "log_loss": (M.LogLoss, "log_loss"),
    "binary_crossentropy_metric": (M.LogLoss, "log_loss"),
    "top_k_accuracy": (M.TopKCategoricalAccuracy, "top_5_accuracy"),
    "top_5_accuracy": (M.TopKCategoricalAccuracy, "top_5_accuracy"),
    "rmse": (M.RootMeanSquaredError, "rmse"),
    "root_mean_squared_error": (M.RootMeanSquaredError, "rmse"),
    "r2": (M.R2Score, "r2"),
    "r2_score": (M.R2Score, "r2"),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_name_resolves_to_a_fresh_metric(name):
    cls, logged = EXPECTED[name]
    metric = M.get(name, "binary_crossentropy")
    assert type(metric) is cls and metric.name == logged
    assert M.get(name) is not M.get(name)


def test_names_lists_every_name_and_alias_and_nothing_else():
    assert set(M.names()) == set(EXPECTED) | {
        "f1_macro",
        "f1_micro",
        "precision_micro",
        "precision_weighted",
        "recall_macro",
        "recall_weighted",
    }
    assert M.names() == sorted(M.names())
    assert set(ALIASES) <= set(M.names()) and "acc" not in METRICS.names()


def test_averaged_names_set_the_average():
    assert M.get("precision_micro").average == "micro"
    assert M.get("f1").average is None


def test_spelling_and_instances():
    assert type(M.get("F1-Macro")) is M.F1Score
    assert M.get("ACCURACY", "sparse_categorical_crossentropy").name == "ACCURACY"
    metric = M.Recall()
    assert M.get(metric) is metric


@pytest.mark.parametrize("spec", ["f2", "", 3, None])
def test_unknown_names_list_the_valid_ones(spec):
    with pytest.raises(ValueError, match=f"Unknown metric {spec!r}. Valid metrics: acc, accuracy"):
        M.get(spec)


def test_fit_logs_metrics_per_epoch_with_the_validation_values():
    X, y = make_moons(128, seed=0)
    model = nnx.Sequential(
        [Dense(8, activation="relu", input_shape=(2,)), Dense(1, activation="sigmoid")], seed=0
    )
    model.compile("adam", "binary_crossentropy", metrics=["f1", "auc"])
    history = model.fit(X, y.reshape(-1, 1), epochs=2, verbose=0, validation_split=0.25)
    assert {"f1", "auc", "val_f1", "val_auc"} <= set(history.history)
    assert len(history.history["val_auc"]) == 2
    X_val, y_val = X[96:], y[96:]  # the last quarter, as Keras
    p = model.predict(X_val).ravel()
    assert history.history["val_auc"][-1] == pytest.approx(skm.roc_auc_score(y_val, p))
    assert history.history["val_f1"][-1] == pytest.approx(
        skm.f1_score(y_val, (p > 0.5).astype(int), zero_division=0)
    )
    assert np.isfinite(history.history["f1"]).all()
