"""Host memory stays flat over 10,000 training steps (tracemalloc, not timings)."""

from __future__ import annotations

import gc
import tracemalloc

import numpy as np

import nnx
from nnx.layers import Dense, Dropout

STEPS = 10_000
BATCH = 16


def _model():
    model = nnx.Sequential(
        [Dense(16, "relu", input_shape=(8,)), Dropout(0.1), Dense(1, "sigmoid")], seed=0
    )
    model.compile(nnx.optimizers.Adam(1e-3), "binary_crossentropy", ["accuracy"])
    return model


def _data(n):
    x = np.random.default_rng(0).normal(size=(n, 8)).astype("float32")
    return x, (x[:, :1] > 0).astype("float32")


def _growth(run) -> int:
    """Bytes still allocated after ``run()`` that were not before it (after a warm-up)."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        run()
        gc.collect()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    return sum(s.size_diff for s in after.compare_to(before, "filename"))


def test_train_step_memory_is_flat():
    model = _model()
    x, y = _data(BATCH)
    xb, yb = model.backend.asarray(x), model.backend.asarray(y)
    for _ in range(200):  # warm-up: optimizer slots, caches of the array library
        model.train_step(xb, yb)

    def run():
        for _ in range(STEPS):
            model.train_step(xb, yb)

    growth = _growth(run)
    print(f"train_step: {growth} bytes over {STEPS} steps ({growth / STEPS:.2f} B/step)")
    assert growth < 64 * 1024, growth


def test_fit_memory_is_flat_apart_from_the_per_epoch_history():
    model = _model()
    x, y = _data(BATCH * 10)  # 10 steps per epoch, 1,000 epochs
    model.fit(x, y, epochs=5, batch_size=BATCH, verbose=0)

    def run():
        model.fit(x, y, epochs=STEPS // 10, batch_size=BATCH, verbose=0)

    growth = _growth(run)
    print(f"fit: {growth} bytes over {STEPS} steps ({growth / STEPS:.2f} B/step)")
    # what must stay: History of 1,000 epochs x 2 floats (~24 B each + list slots)
    assert growth < 256 * 1024, growth
