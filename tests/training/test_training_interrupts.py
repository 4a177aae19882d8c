"""Ctrl-C during training: ``train_step`` leaves the weights, the optimizer's slots and
``iterations`` all at the step before or all at the step after, never mixed. nnx 0.1 got it
wrong in about half of 60 timed interrupts on the threaded flat-buffer path (a model above 2^17
parameters): chunks handed to the pool kept running after the ``KeyboardInterrupt`` and
``iterations += 1`` was skipped."""

from __future__ import annotations

import os
import random
import signal
import threading
import time

import numpy as np
import pytest

import nnx
from nnx.backends.numpy_backend import PARALLEL_MIN_SIZE
from nnx.callbacks import Callback
from nnx.layers import Dense
from nnx.training.interrupts import deferred_interrupts, interrupt_session

TRIALS = 40


def _model(backend, optimizer="adam"):
    # 256 * 512 + 512 weights: above PARALLEL_MIN_SIZE, so NumPy's update runs in threads
    model = nnx.Sequential([Dense(512, input_shape=(256,))], backend=backend, seed=0)
    model.compile(optimizer, "mse")
    return model


def _state(model):
    opt = model.optimizer.state_dict()
    slots = [
        {k: model.backend.to_numpy(v).copy() for k, v in s.items()} for s in opt.pop("slots") if s
    ]
    return model.get_weights(), slots, opt["iterations"], opt


def _equal(a, b):
    weights_a, slots_a, it_a, _ = a
    weights_b, slots_b, it_b, _ = b
    same_weights = all(
        x.tobytes() == y.tobytes() for x, y in zip(weights_a, weights_b, strict=True)
    )
    same_slots = len(slots_a) == len(slots_b) and all(
        sa.keys() == sb.keys() and all(sa[k].tobytes() == sb[k].tobytes() for k in sa)
        for sa, sb in zip(slots_a, slots_b, strict=True)
    )
    return same_weights and same_slots and it_a == it_b


def _one_step_from(state, reference, batch):
    """The state one uninterrupted train_step after ``state``."""
    weights, slots, _, opt = state
    reference.set_weights(weights)
    params = reference.trainable_parameters()
    entries = [{k: reference.backend.asarray(v) for k, v in s.items()} for s in slots] or []
    reference.optimizer.load_state_dict({**opt, "slots": entries}, params)
    reference.train_step(*batch)
    return _state(reference)


def _interrupt_after(seconds):
    return threading.Timer(seconds, lambda: os.kill(os.getpid(), signal.SIGINT))


@pytest.mark.skipif(not hasattr(signal, "SIGINT") or os.name == "nt", reason="POSIX signals")
@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_timed_interrupts_leave_the_state_before_or_after_a_step(backend, optimizer):
    model, reference = _model(backend, optimizer), _model(backend, optimizer)
    if optimizer == "sgd":
        model.optimizer = reference.optimizer = nnx.optimizers.SGD(0.01, momentum=0.9)
    rng = np.random.default_rng(0)
    batch = (
        model.backend.asarray(rng.normal(size=(16, 256)).astype("float32")),
        model.backend.asarray(rng.normal(size=(16, 512)).astype("float32")),
    )
    model.train_step(*batch)  # slots exist from here on
    reference.train_step(*batch)
    if backend.name == "numpy":
        assert model.count_params() > PARALLEL_MIN_SIZE
    draw = random.Random(14)
    outcomes = {"before": 0, "after": 0}
    for _ in range(TRIALS):
        before = _state(model)
        timer = _interrupt_after(draw.uniform(0.0, 0.004))
        try:
            timer.start()  # inside the try: the signal may come before start() returns
            while True:
                before = _state(model)
                model.train_step(*batch)
        except KeyboardInterrupt:
            pass
        finally:
            timer.join()
        now = _state(model)
        if _equal(now, before):
            outcomes["before"] += 1
        else:
            assert now[2] == before[2] + 1, (
                f"a mixed state: weights or slots moved, iterations {before[2]} -> {now[2]}"
            )
            assert _equal(now, _one_step_from(before, reference, batch)), "a mixed state"
            outcomes["after"] += 1
    assert sum(outcomes.values()) == TRIALS


class _Snapshots(Callback):
    """Keeps the state at the start of each batch, as the test's "before"."""

    def on_train_batch_begin(self, batch, logs=None):
        self.before, self.batch = _state(self.model), batch


@pytest.mark.skipif(os.name == "nt", reason="POSIX signals")
def test_timed_interrupts_during_fit_leave_the_state_before_or_after_a_step(backend):
    model, reference = _model(backend, "adam"), _model(backend, "adam")
    rng = np.random.default_rng(1)
    x = rng.normal(size=(64, 256)).astype("float32")
    y = rng.normal(size=(64, 512)).astype("float32")
    snapshots = _Snapshots()
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False, callbacks=[snapshots])
    draw = random.Random(41)
    for _ in range(TRIALS // 2):
        timer = _interrupt_after(draw.uniform(0.0, 0.01))
        try:
            timer.start()
            model.fit(
                x, y, batch_size=16, epochs=10**6, verbose=0, shuffle=False, callbacks=[snapshots]
            )
        except KeyboardInterrupt:
            pass
        finally:
            timer.join()
        before, now = snapshots.before, _state(model)
        if not _equal(now, before):
            assert now[2] == before[2] + 1, f"a mixed state: iterations {before[2]} -> {now[2]}"
            rows = slice(16 * snapshots.batch, 16 * snapshots.batch + 16)
            batch = (model.backend.asarray(x[rows]), model.backend.asarray(y[rows]))
            assert _equal(now, _one_step_from(before, reference, batch)), "a mixed state"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_inside_a_session_only_update_blocks_hold_the_signal():
    with interrupt_session():
        with pytest.raises(KeyboardInterrupt):  # outside a block: at once, as always
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1)
        events = []
        with pytest.raises(KeyboardInterrupt), deferred_interrupts():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.01)
            events.append("block finished")
        assert events == ["block finished"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_an_interrupt_inside_the_block_waits_for_its_end():
    events = []
    with pytest.raises(KeyboardInterrupt), deferred_interrupts():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.01)  # the signal has arrived: it is held
        events.append("block finished")
    assert events == ["block finished"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_no_interrupt_no_change():
    handler = signal.getsignal(signal.SIGINT)
    with deferred_interrupts():
        pass
    assert signal.getsignal(signal.SIGINT) is handler


def test_other_threads_run_the_block_unchanged():
    seen = []

    def work():
        with deferred_interrupts():
            seen.append(signal.getsignal(signal.SIGINT))

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert seen == [signal.getsignal(signal.SIGINT)]


def test_the_threaded_update_finishes_every_chunk_before_raising():
    backend = nnx.backends.get_backend("numpy")
    done = []

    def chunk(s):
        if s.start == 0:
            raise RuntimeError("first chunk fails")
        time.sleep(0.05)
        done.append(s)

    n = PARALLEL_MIN_SIZE * 4
    with pytest.raises(RuntimeError, match="first chunk fails"):
        backend.map_chunks(chunk, n)
    if backend._threads > 1:
        assert len(done) == backend._threads - 1  # the slow chunks had all finished


def test_a_block_skips_the_enum_wrapping_of_the_signal_module(monkeypatch):
    # the wrapping made a block cost 10-15 µs: the raw _signal calls do the same without it
    def refuse(*args):
        raise AssertionError("signal's enum wrapping ran")

    handler = signal.getsignal(signal.SIGINT)
    monkeypatch.setattr(signal, "_int_to_enum", refuse)
    events = []
    with pytest.raises(KeyboardInterrupt), deferred_interrupts():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.01)
        events.append("block finished")
    assert events == ["block finished"]
    monkeypatch.undo()
    assert signal.getsignal(signal.SIGINT) is handler


def test_an_ignored_signal_stays_ignored_and_is_restored():
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with deferred_interrupts():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.01)
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)
