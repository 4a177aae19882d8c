"""Schedules in training: the LR callbacks and the LR range test (their code lives in the
callbacks and tools; these tests pin how they drive an optimizer's learning rate)."""

from __future__ import annotations

import math

import pytest

import nnx
from nnx import schedules
from nnx.callbacks import LearningRateScheduler, ReduceLROnPlateau
from nnx.datasets import make_moons
from nnx.layers import Dense
from nnx.optimizers import SGD, Adam


def _model(seed=0):
    model = nnx.Sequential(
        [Dense(8, activation="tanh", input_shape=(2,)), Dense(1, activation="sigmoid")], seed=seed
    )
    model.compile(SGD(0.1), "binary_crossentropy")
    return model


def test_learning_rate_scheduler_sets_rate_each_epoch_and_records_it():
    X, y = make_moons(64, seed=0)
    model = _model()
    history = model.fit(
        X,
        y.reshape(-1, 1),
        epochs=4,
        verbose=0,
        callbacks=[LearningRateScheduler(lambda epoch, lr: 0.1 * 0.5**epoch)],
    )
    assert history.history["learning_rate"] == [0.1, 0.05, 0.025, 0.0125]
    assert model.optimizer.learning_rate == 0.0125
    one_arg = LearningRateScheduler(schedules.StepDecay(1.0, rate=0.1, steps=2))
    history = _model().fit(X, y.reshape(-1, 1), epochs=3, verbose=0, callbacks=[one_arg])
    assert history.history["learning_rate"] == pytest.approx([1.0, 1.0, 0.1])


def test_reduce_lr_on_plateau_reduces_after_patience():
    model = _model()
    cb = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=2, min_lr=0.02)
    cb.set_model(model)
    cb.on_train_begin()
    rates = []
    for epoch, loss in enumerate([1.0, 0.9, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95]):
        cb.on_epoch_end(epoch, {"loss": loss})
        rates.append(model.optimizer.learning_rate)
    assert rates == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.02])
    assert ReduceLROnPlateau(monitor="val_f1").mode == "max"


def test_lr_find_leaves_the_model_untouched_and_suggests_a_sane_rate():
    X, y = make_moons(512, noise=0.1, seed=0)
    model = nnx.Sequential(
        [Dense(16, activation="relu", input_shape=(2,)), Dense(1, activation="sigmoid")], seed=0
    )
    model.compile(Adam(1e-3), "binary_crossentropy", metrics=["accuracy"])
    before = model.get_weights()
    result = nnx.lr_find(model, X, y.reshape(-1, 1), start_lr=1e-5, end_lr=10.0, num_steps=80)
    assert all((a == b).all() for a, b in zip(before, model.get_weights(), strict=True))
    assert model.optimizer.iterations == 0 and model.optimizer.learning_rate == 1e-3
    assert len(result.rates) == len(result.losses) >= 20
    assert 1e-5 <= result.suggestion <= 10.0
    at = result.rates.index(result.suggestion)
    assert at <= result.losses.index(min(result.losses))
    assert min(result.losses) < result.losses[0]
    with pytest.raises(ValueError, match="start_lr"):
        nnx.lr_find(model, X, y.reshape(-1, 1), start_lr=1.0, end_lr=0.1)
    assert math.isfinite(result.suggestion)


def test_lr_find_then_fit_equals_fit_alone_even_with_dropout():
    X, y = make_moons(128, noise=0.1, seed=0)

    def build():
        m = nnx.Sequential(
            [
                Dense(16, activation="relu", input_shape=(2,)),
                nnx.layers.Dropout(0.3),
                Dense(1, activation="sigmoid"),
            ],
            seed=3,
        )
        m.compile(Adam(1e-2), "binary_crossentropy")
        return m

    probed, fresh = build(), build()
    nnx.lr_find(probed, X, y.reshape(-1, 1), num_steps=20)
    for m in (probed, fresh):
        m.fit(X, y.reshape(-1, 1), epochs=2, verbose=0)
    assert all(
        (a == b).all() for a, b in zip(probed.get_weights(), fresh.get_weights(), strict=True)
    )
