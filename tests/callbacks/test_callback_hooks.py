"""The callback protocol: hook order, History after the user's callbacks, resume_epoch."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.callbacks import Callback, CallbackList, History, LambdaCallback
from nnx.layers import Dense


def _model(backend="numpy"):
    model = nnx.Sequential([Dense(1, activation="sigmoid", input_shape=(2,))], backend=backend)
    model.compile("adam", "binary_crossentropy")
    return model


X = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
Y = (X[:, :1] > 0).astype("float32")


def test_lambda_and_custom_callbacks_see_the_hooks(backend):
    seen = []
    cb = LambdaCallback(
        on_epoch_end=lambda e, logs: seen.append((e, logs["loss"])),
        on_train_batch_end=lambda b, logs: seen.append(b),
    )
    _model(backend).fit(X, Y, epochs=2, batch_size=16, verbose=0, callbacks=[cb], initial_epoch=1)
    assert seen[:4] == [0, 1, 2, 3] and seen[-1][0] == 1 and isinstance(seen[-1][1], float)
    assert len(seen) == 5  # one epoch (initial_epoch=1) of 4 batches, then its end


def test_history_runs_after_the_users_callbacks_and_records_what_they_log():
    class Annotate(Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["double_loss"] = 2 * logs["loss"]

    history = _model().fit(X, Y, epochs=3, verbose=0, callbacks=[Annotate()])
    assert list(history.history) == ["loss", "double_loss"]
    assert history.history["double_loss"] == [2 * v for v in history.history["loss"]]


def test_learning_rate_callbacks_are_recorded_by_history():
    reduce = nnx.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=0, min_delta=10)
    model = _model()
    history = model.fit(X, Y, epochs=3, verbose=0, callbacks=[reduce])
    # after the first epoch none improves by 10: the rate halves at the end of epochs 1 and 2,
    # and each epoch logs the rate it trained with
    assert history.history["learning_rate"] == pytest.approx([0.001, 0.001, 0.0005])
    assert model.optimizer.learning_rate == pytest.approx(0.00025)


def test_a_callback_can_ask_fit_to_resume_at_an_epoch():
    class Resume(Callback):
        def on_train_begin(self, logs=None):
            self.resume_epoch = 2

    history = _model().fit(X, Y, epochs=4, verbose=0, callbacks=[Resume()])
    assert history.epoch == [2, 3]
    later = _model().fit(X, Y, epochs=4, verbose=0, callbacks=[Resume()], initial_epoch=3)
    assert later.epoch == [3]  # the larger of initial_epoch and every resume_epoch


def test_callback_list_dispatches_in_order_and_refuses_non_callbacks():
    calls = []
    first = LambdaCallback(on_train_begin=lambda logs=None: calls.append("first"))
    second = LambdaCallback(on_train_begin=lambda logs=None: calls.append("second"))
    hooks = CallbackList([first, second], model="m", params={"epochs": 1})
    hooks.on_train_begin()
    assert calls == ["first", "second"] and first.model == "m" and second.params == {"epochs": 1}
    with pytest.raises(TypeError, match="Callback instances, received function"):
        CallbackList([lambda: None], model=None, params={})
    with pytest.raises(ValueError, match="unknown hook 'on_epoch_finish'"):
        LambdaCallback(on_epoch_finish=print)


def test_history_is_the_models_history():
    model = _model()
    history = model.fit(X, Y, epochs=1, verbose=0)
    assert isinstance(history, History) and model.history is history and history.epoch == [0]
