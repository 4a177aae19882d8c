"""The one "improved?" rule shared by EarlyStopping, ReduceLROnPlateau and ModelCheckpoint."""

from __future__ import annotations

import math

import pytest

from nnx.callbacks import EarlyStopping, ModelCheckpoint, ReduceLROnPlateau
from nnx.callbacks.monitor import MonitorCallback, resolve_mode


@pytest.mark.parametrize(
    "monitor, mode",
    [
        ("val_loss", "min"),
        ("loss", "min"),
        ("val_mae", "min"),
        ("accuracy", "max"),
        ("val_auc", "max"),
        ("val_precision", "max"),
        ("recall", "max"),
        ("val_f1", "max"),
        ("r2", "max"),
    ],
)
def test_auto_mode_follows_the_monitor_name_in_every_callback(monitor, mode):
    assert resolve_mode(monitor, "auto") == mode
    callbacks = [
        EarlyStopping(monitor),
        ReduceLROnPlateau(monitor),
        ModelCheckpoint("x.nnx", monitor),
    ]
    assert [cb.mode for cb in callbacks] == [mode] * 3
    assert all(cb.worst == (math.inf if mode == "min" else -math.inf) for cb in callbacks)


def test_is_improvement_needs_more_than_min_delta():
    lower = MonitorCallback("loss", min_delta=0.1)
    assert lower.is_improvement(0.79, 0.9) and not lower.is_improvement(0.8, 0.9)
    higher = MonitorCallback("accuracy", min_delta=-0.1)  # the sign of min_delta is ignored
    assert higher.min_delta == 0.1
    assert higher.is_improvement(0.91, 0.8) and not higher.is_improvement(0.9, 0.8)
    assert MonitorCallback("loss", mode="max").is_improvement(2.0, 1.0)


def test_baseline():
    rule = MonitorCallback("val_loss", baseline=0.5)
    assert rule.beats_baseline(0.4) and not rule.beats_baseline(0.5)
    assert MonitorCallback("val_loss").beats_baseline(1e9)


def test_model_checkpoint_starts_from_initial_value_threshold():
    checkpoint = ModelCheckpoint("x.nnx", "val_accuracy", initial_value_threshold=0.7)
    assert checkpoint.best == 0.7 and checkpoint.baseline == 0.7


@pytest.mark.parametrize("cls", [EarlyStopping, ReduceLROnPlateau])
def test_mode_and_min_delta_are_validated(cls):
    with pytest.raises(ValueError, match=rf"{cls.__name__}: mode must be one of"):
        cls(mode="up")
    with pytest.raises(ValueError, match=rf"{cls.__name__}: min_delta must be a finite float"):
        cls(min_delta="0.1")
