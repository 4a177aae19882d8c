"""``timeseries_dataset_from_array``: Keras's window and target indices, batching, shuffling,
every backend, ``take``, and the errors."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.timeseries import timeseries_dataset_from_array


def _windows(data, targets, length, stride, rate, start, end):
    """Keras's definition, written out: window p of data[start:end] and its target."""
    count = end - start - (length - 1) * rate
    if targets is not None:
        count = min(count, len(targets) - start)
    xs = [data[start + p : start + p + length * rate : rate] for p in range(0, count, stride)]
    ys = None if targets is None else [targets[start + p] for p in range(0, count, stride)]
    return xs, ys


@pytest.mark.parametrize(
    ("length", "stride", "rate", "start", "end", "batch"),
    [(3, 1, 1, None, None, 4), (4, 3, 2, 2, 40, 5), (5, 2, 3, None, 33, 128), (1, 1, 1, 0, 7, 1)],
)
def test_windows_and_targets_follow_keras(length, stride, rate, start, end, batch):
    data = np.arange(50 * 2).reshape(50, 2)
    targets = np.arange(1000, 1045)  # shorter than the data: it bounds the window count
    ds = timeseries_dataset_from_array(data, targets, length, stride, rate, batch,
                                       start_index=start, end_index=end)  # fmt: skip
    xs, ys = _windows(data, targets, length, stride, rate, start or 0, end or 50)
    got_x = np.concatenate([b[0] for b in ds])
    got_y = np.concatenate([b[1] for b in ds])
    np.testing.assert_array_equal(got_x, np.stack(xs))
    np.testing.assert_array_equal(got_y, np.array(ys))
    assert len(ds) == -(-len(xs) // batch) and all(len(b[0]) <= batch for b in ds)


def test_without_targets_batches_are_inputs_alone():
    ds = timeseries_dataset_from_array(np.arange(10.0), None, sequence_length=4, batch_size=3)
    batches = ds.take(5)
    assert len(batches) == 3 and batches[0].shape == (3, 4)
    np.testing.assert_array_equal(batches[-1], [[6.0, 7.0, 8.0, 9.0]])
    assert len(ds.take(0)) == 0


def test_shuffle_is_seeded_and_keeps_every_window():
    data, targets = np.arange(30), np.arange(30) * 10
    make = lambda seed: timeseries_dataset_from_array(  # noqa: E731
        data, targets, sequence_length=3, batch_size=7, shuffle=True, seed=seed
    )
    first = np.concatenate([b[1] for b in make(1)])
    assert first.tolist() != sorted(first.tolist())
    np.testing.assert_array_equal(first, np.concatenate([b[1] for b in make(1)]))
    assert sorted(first.tolist()) == [10 * p for p in range(28)]
    for x, y in make(2):
        np.testing.assert_array_equal(x[:, 0] * 10, y)  # each window keeps its own target


def test_batches_stay_on_the_data_backend_and_fit_an_lstm(backend):
    b = nnx.get_backend(backend)
    t = np.arange(400)
    series = b.asarray(np.sin(t / 8)[:, None], "float32")
    ds = timeseries_dataset_from_array(series, series[8:, ...], sequence_length=8, batch_size=64)
    x, y = ds[0]
    assert b.owns(x) and b.owns(y) and tuple(x.shape) == (64, 8, 1)
    assert len(ds) == len(list(ds)) and ds[-1][0].shape[0] == (400 - 8) % 64
    model = nnx.Sequential([nnx.Input(shape=(8, 1)), nnx.layers.LSTM(8), nnx.layers.Dense(1)],
                           backend=backend, seed=0)  # fmt: skip
    model.compile(nnx.optimizers.Adam(0.02), "mse")
    history = model.fit(ds, epochs=4, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]


def test_lists_are_taken():
    ds = timeseries_dataset_from_array([[1.0], [2.0], [3.0]], [0, 1, 2], sequence_length=2)
    x, y = ds[0]
    assert tuple(x.shape) == (2, 2, 1) and [int(v) for v in y] == [0, 1]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sequence_length": 0}, r"sequence_length.*Received|sequence_length.*0"),
        ({"sequence_stride": 0}, r"sequence_stride"),
        ({"sampling_rate": -1}, r"sampling_rate"),
        ({"batch_size": 0}, r"batch_size"),
        ({"shuffle": 1}, r"shuffle"),
        ({"start_index": 8, "end_index": 5}, r"start_index < end_index.*start_index=8"),
        ({"end_index": 11}, r"end_index <= len\(data\) = 10"),
        ({"sequence_length": 6, "sampling_rate": 2}, r"too few for one window"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    args = {"sequence_length": 3, **kwargs}
    with pytest.raises(ValueError, match=message):
        timeseries_dataset_from_array(np.arange(10), None, **args)


def test_index_out_of_range_and_take_count():
    ds = timeseries_dataset_from_array(np.arange(10), None, sequence_length=3, batch_size=4)
    with pytest.raises(IndexError, match="2 batches; received 2"):
        ds[2]
    with pytest.raises(ValueError, match="count"):
        ds.take(-1)


def test_keras_names():
    assert nnx.utils.timeseries_dataset_from_array is timeseries_dataset_from_array
    assert nnx.preprocessing.timeseries_dataset_from_array is timeseries_dataset_from_array
