"""EarlyStopping: patience, min_delta, baseline, and restoring the best weights."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import numpy as np
import pytest

import nnx
from nnx import datasets
from nnx.callbacks import EarlyStopping
from nnx.layers import Dense


def _run(stopper, values):
    """Feed ``values`` as the epoch logs; return the epoch at whose end training stopped."""
    stopper.set_model(SimpleNamespace(stop_training=False))
    stopper.on_train_begin()
    for epoch, value in enumerate(values):
        stopper.on_epoch_end(epoch, {"val_loss": value})
        if stopper.model.stop_training:
            return epoch
    return None


def test_patience_counts_epochs_without_improvement():
    assert _run(EarlyStopping(patience=2), [1.0, 0.9, 0.95, 0.95, 0.8]) == 3
    assert _run(EarlyStopping(patience=2), [1.0, 0.9, 0.95, 0.85, 0.95, 0.95]) == 5
    assert _run(EarlyStopping(patience=0), [1.0, 0.9, 0.8]) is None  # every epoch improves
    assert _run(EarlyStopping(patience=0), [1.0, 0.9, 0.9]) == 2


def test_min_delta_and_baseline():
    # 0.95 -> 0.94 is no improvement with min_delta=0.05
    assert _run(EarlyStopping(patience=1, min_delta=0.05), [1.0, 0.9, 0.89]) == 2
    stopper = EarlyStopping(patience=2, baseline=0.85)
    assert _run(stopper, [1.0, 0.9, 0.88, 0.87]) == 1  # improving, never under the baseline
    assert stopper.best == 0.9 and stopper.best_epoch == 1
    assert _run(EarlyStopping(patience=2, baseline=0.85), [1.0, 0.8, 0.79, 0.78]) is None


def test_arguments_are_validated():
    with pytest.raises(ValueError, match="patience must be a non-negative int, received"):
        EarlyStopping(patience=-1)
    with pytest.raises(ValueError, match="mode must be one of 'auto', 'min', 'max'"):
        EarlyStopping(mode="lowest")
    assert EarlyStopping(monitor="val_accuracy").mode == "max"


def test_missing_monitor_warns_and_does_not_stop():
    with pytest.warns(
        UserWarning, match=r"monitor 'val_loss' is not in the logs \(available: loss"
    ):
        assert _run(EarlyStopping(patience=0), []) is None or True
        stopper = EarlyStopping(patience=0)
        stopper.set_model(SimpleNamespace(stop_training=False))
        stopper.on_epoch_end(1, {"loss": 0.3})
    assert stopper.model.stop_training is False


def test_early_stopping_restores_best_weights(backend):
    x, y = datasets.make_moons(n_samples=200, noise=0.2, seed=0)
    x_train, x_test, y_train, y_test = datasets.train_test_split(
        x, y.reshape(-1, 1).astype("float32"), test_size=0.25, seed=0
    )
    model = nnx.Sequential(
        [Dense(16, activation="relu", input_shape=(2,)), Dense(1, activation="sigmoid")],
        backend=backend,
        seed=0,
    )
    model.compile(nnx.optimizers.SGD(learning_rate=5.0), "binary_crossentropy")
    stopper = EarlyStopping(monitor="val_loss", patience=1, restore_best_weights=True)
    hist = model.fit(
        x_train,
        y_train,
        epochs=40,
        verbose=0,
        validation_data=(x_test, y_test),
        callbacks=[stopper],
    )
    val = hist.history["val_loss"]
    # patience=1: training stops at the end of the first epoch that does not improve
    assert stopper.stopped_epoch == hist.epoch[-1] == len(val) - 1 < 39
    assert all(b < a for a, b in itertools.pairwise(val[:-1])) and val[-1] >= val[-2]
    assert stopper.best_epoch == int(np.argmin(val)) == len(val) - 2
    assert model.evaluate(x_test, y_test) == pytest.approx(min(val), rel=1e-5)
