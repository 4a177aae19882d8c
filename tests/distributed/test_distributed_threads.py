"""DataParallel on every backend with replicas as threads (the MPI stand-in), against one process.

Three replicas split a global batch of 12 rows 4/4/4 and the last batch of 1 row 0/0/1 (two
replicas compute a padding row of weight 0), so uneven and empty shards are both exercised.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import nnx
from nnx.distributed import DataParallel
from nnx.distributed.communicator import ThreadCommunicator, ThreadGroup
from nnx.layers import (
    BatchNormalization,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GaussianNoise,
    MaxPooling2D,
    RandomFlip,
    RandomRotation,
    SpatialDropout2D,
)


def replicas(n: int, work: Callable[[DataParallel], Any], **options: Any) -> list[Any]:
    """``work(strategy)`` on ``n`` threads, each inside its own DataParallel; the results."""
    group, results = ThreadGroup(n), [None] * n
    errors: list[BaseException] = []

    def run(rank: int) -> None:
        try:
            strategy = DataParallel(ThreadCommunicator(group, rank), **options)
            with strategy:
                results[rank] = work(strategy)
        except BaseException as error:
            errors.append(error)
            group.barrier.abort()

    threads = [threading.Thread(target=run, args=(r,)) for r in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(37, 4))
    return x, (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0.5)


def model(backend: Any, batch_norm: bool = False) -> nnx.Sequential:
    layers: list[Any] = [Dense(8, activation="relu", input_shape=(4,)), Dropout(0.25)]
    if batch_norm:
        layers.append(BatchNormalization(momentum=0.5))
    layers.append(Dense(3, activation="softmax"))
    m = nnx.Sequential(layers, seed=1, dtype="float64", backend=backend)
    m.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy", "f1_macro"])
    return m


def train(m: nnx.Sequential) -> dict[str, Any]:
    x, y = data()
    # an evaluate inside fit (a callback's) must not end fit's distributed set-up
    probe = nnx.callbacks.LambdaCallback(on_epoch_end=lambda e, logs=None: m.evaluate(x, y))
    history = m.fit(
        x, y, batch_size=12, epochs=3, verbose=0, validation_data=(x[:9], y[:9]), callbacks=[probe]
    )
    return {
        "weights": m.get_weights(),
        "history": history.history,
        "evaluate": m.evaluate(x, y, batch_size=5, return_dict=True),
        "predict": m.predict(x, batch_size=12),
    }


def assert_close(got: dict[str, Any], want: dict[str, Any], tol: float = 1e-10) -> None:
    for a, b in zip(got["weights"], want["weights"], strict=True):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
    for key in want["history"]:
        np.testing.assert_allclose(got["history"][key], want["history"][key], rtol=tol, atol=tol)
    for key in want["evaluate"]:
        np.testing.assert_allclose(got["evaluate"][key], want["evaluate"][key], rtol=tol)
    np.testing.assert_allclose(got["predict"], want["predict"], rtol=tol, atol=tol)


@pytest.mark.parametrize("batch_norm", ["none", "sync"])
def test_three_replicas_train_as_one_process(backend: Any, batch_norm: str) -> None:
    bn = batch_norm == "sync"
    reference = train(model(backend, bn))
    mode = "sync" if bn else "local"
    results = replicas(3, lambda s: train(model(backend, bn)), batch_norm=mode)
    for result in results:
        assert_close(result, reference)


def test_local_batch_norm_ends_epochs_with_equal_statistics(backend: Any) -> None:
    def work(strategy: DataParallel) -> list[np.ndarray]:
        m = model(backend, batch_norm=True)
        m.fit(*data(), batch_size=12, epochs=1, verbose=0)
        return m.get_weights()

    first, second = replicas(2, work)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)


def test_replicas_start_from_rank_zero_weights(backend: Any) -> None:
    def work(strategy: DataParallel) -> list[np.ndarray]:
        m = nnx.Sequential([Dense(2, input_shape=(3,))], seed=strategy.rank, backend=backend)
        m.compile(nnx.optimizers.SGD(0.0), "mse")
        m.fit(np.ones((4, 3)), np.zeros((4, 2)), batch_size=4, verbose=0)
        return m.get_weights()

    first, second = replicas(2, work)
    unseeded = nnx.Sequential([Dense(2, input_shape=(3,))], seed=0, backend=backend)
    for a, b, c in zip(first, second, unseeded.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)


def test_debug_mode_names_diverged_ranks(backend: Any) -> None:
    def work(strategy: DataParallel) -> None:
        m = model(backend)

        def nudge(batch: int, logs: Any = None) -> None:
            if strategy.rank == 1:
                m.layers[0].kernel.value[...] = m.layers[0].kernel.value + 1e-3

        cb = nnx.callbacks.LambdaCallback(on_train_batch_end=nudge)
        m.fit(*data(), batch_size=12, epochs=1, verbose=0, callbacks=[cb])

    with pytest.raises(RuntimeError, match=r"weights of rank\(s\) \[1\] differ from rank 0"):
        replicas(2, work, debug=True)


def test_only_rank_zero_writes_files(backend: Any, tmp_path: Any) -> None:
    def work(strategy: DataParallel) -> None:
        m = nnx.Sequential([Dense(1, input_shape=(2,))], seed=0, backend=backend)
        m.save_weights(tmp_path / f"weights-{strategy.rank}.nnx")

    replicas(2, work)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["weights-0.nnx"]


def test_shards_cover_each_batch_in_order() -> None:
    strategy = DataParallel(ThreadCommunicator(ThreadGroup(1), 0))
    for n, size in [(10, 3), (2, 3), (7, 2)]:
        rows, pads = [], 0
        for r in range(size):
            strategy.rank, strategy.world_size = r, size
            piece = strategy.shard(slice(5, 5 + n))
            if strategy.valid_rows(piece.stop - piece.start):
                rows.extend(range(piece.start, piece.stop))
            else:
                pads += 1
        assert rows == list(range(5, 5 + n))
        assert pads == max(0, size - n)


def test_bad_options_are_refused() -> None:
    comm = ThreadCommunicator(ThreadGroup(1), 0)
    with pytest.raises(ValueError, match="batch_norm"):
        DataParallel(comm, batch_norm="global")
    with pytest.raises(ValueError, match="communicator"):
        DataParallel("gloo")


def test_missing_mpi4py_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    with pytest.raises(nnx.distributed.MissingDependencyError, match=r"nnx-array\[mpi\]"):
        nnx.distributed.rank()


def test_one_process_world(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NNX_DISTRIBUTED_NO_ABORT", "1")
    assert nnx.distributed.init() == (0, 1)
    assert nnx.distributed.is_main() and nnx.distributed.world_size() == 1
    assert os.environ["NNX_DISTRIBUTED_NO_ABORT"] == "1"


def test_sample_and_class_weights_penalties_and_clipping_match(backend: Any) -> None:
    rng = np.random.default_rng(3)
    x, y, w = rng.normal(size=(41, 4)), rng.integers(0, 3, 41), rng.uniform(0.2, 2.0, 41)

    def train_weighted() -> dict[str, Any]:
        hidden = Dense(8, activation="relu", kernel_regularizer=nnx.regularizers.l2(0.01))
        m = nnx.Sequential(
            [nnx.layers.Input((4,)), hidden, Dropout(0.2), Dense(3, activation="softmax")],
            seed=1,
            dtype="float64",
            backend=backend,
        )
        lr = nnx.schedules.ExponentialDecay(0.1, 10, 0.5)
        m.compile(
            nnx.optimizers.SGD(lr, momentum=0.9, clipnorm=1.0),
            "sparse_categorical_crossentropy",
            ["accuracy"],
        )
        h = m.fit(
            x,
            y,
            batch_size=9,
            epochs=2,
            verbose=0,
            sample_weight=w,
            class_weight={0: 2.0},
            validation_split=0.2,
        )
        return {
            "weights": m.get_weights(),
            "history": h.history,
            "evaluate": {},
            "predict": m.predict(x),
        }

    reference = train_weighted()
    for result in replicas(2, lambda s: train_weighted()):
        assert_close(result, reference)


def test_cnn_with_augmentation_and_synchronized_batch_norm_matches(backend: Any) -> None:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(23, 6, 6, 1)), rng.integers(0, 2, 23)

    def train_cnn() -> dict[str, Any]:
        layers = [
            RandomFlip("horizontal", input_shape=(6, 6, 1)),
            RandomRotation(0.1),
            GaussianNoise(0.1),
            Conv2D(3, (3, 3), activation="relu"),
            BatchNormalization(),
            SpatialDropout2D(0.2),
            MaxPooling2D((2, 2)),
            Flatten(),
            Dense(2, activation="softmax"),
        ]
        m = nnx.Sequential(layers, seed=2, dtype="float64", backend=backend)
        m.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
        h = m.fit(x, y, batch_size=8, epochs=2, verbose=0)  # 3/3/2 rows, then 2/2/3
        return {
            "weights": m.get_weights(),
            "history": h.history,
            "evaluate": {},
            "predict": m.predict(x),
        }

    reference = train_cnn()
    for result in replicas(3, lambda s: train_cnn(), batch_norm="sync"):
        assert_close(result, reference)


def test_batch_streams_are_refused_under_data_parallel():
    """A PyDataset or a generator cannot be split across replicas yet: a clear error, not a
    silently doubled gradient (every replica would train on the whole batch)."""
    x, y = data()

    class Batches(nnx.data.PyDataset):
        def __len__(self) -> int:
            return 3

        def __getitem__(self, i: int) -> tuple[np.ndarray, np.ndarray]:
            return x[i * 12 : (i + 1) * 12], y[i * 12 : (i + 1) * 12]

    def work(strategy: DataParallel) -> list[str]:
        m, messages = model("numpy"), []
        for stream in (Batches(), [(x[:12], y[:12])]):
            with pytest.raises(ValueError, match="DataParallel shards array data") as error:
                m.fit(stream, epochs=1, verbose=0)
            messages.append(str(error.value))
        with pytest.raises(ValueError, match="DataParallel shards array data"):
            m.predict(Batches())
        return messages

    for messages in replicas(2, work):
        assert "pass arrays" in messages[0]
