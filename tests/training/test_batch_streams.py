"""fit/evaluate/predict on data served batch by batch: a PyDataset, a list of batches, a
generator with a step count; validation data of either kind; callbacks, progress, the
non-finite guard and checkpoints with them."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import nnx
from nnx.callbacks import ModelCheckpoint
from nnx.data import PyDataset
from nnx.layers import Dense
from nnx.training import NonFiniteWarning

X = np.random.default_rng(1).normal(size=(48, 4)).astype("float32")
Y = (X[:, 0] - X[:, 2] > 0).astype("float32")  # rank 1, as tutorials have it
W = np.linspace(0.5, 2.0, 48).astype("float32")


class Batches(PyDataset):
    """Batches of 8 rows; records the indices asked for and the epoch ends."""

    def __init__(self, x=X, y=Y, w=None, size=8):
        super().__init__()
        self.x, self.y, self.w, self.size = x, y, w, size
        self.seen: list[int] = []
        self.epochs_ended = 0

    def __len__(self):
        return -(-len(self.x) // self.size)

    def __getitem__(self, i):
        self.seen.append(i)
        s = slice(i * self.size, (i + 1) * self.size)
        if self.w is None:
            return self.x[s], self.y[s]
        return self.x[s], self.y[s], self.w[s]

    def on_epoch_end(self):
        self.epochs_ended += 1


def _model(backend="numpy", lr=0.01):
    model = nnx.Sequential(
        [Dense(8, activation="relu", input_shape=(4,)), Dense(1, activation="sigmoid")],
        backend=backend,
        seed=3,
    )
    model.compile(nnx.optimizers.Adam(lr), "binary_crossentropy", metrics=["accuracy"])
    return model


def _same(h1: dict, h2: dict) -> bool:
    return h1.keys() == h2.keys() and all(np.allclose(h1[k], h2[k], rtol=1e-5) for k in h1)


def _endless(x=X, y=Y, size=8):
    while True:
        for i in range(0, len(x), size):
            yield x[i : i + size], y[i : i + size]


def test_a_pydataset_trains_exactly_like_the_same_arrays(backend):
    a, b = _model(backend), _model(backend)
    ha = a.fit(X, Y, batch_size=8, epochs=3, shuffle=False, sample_weight=W, verbose=0)
    data = Batches(w=W)
    hb = b.fit(data, epochs=3, shuffle=False, verbose=0)
    assert _same(ha.history, hb.history)
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_allclose(wa, wb, rtol=1e-6)
    assert data.seen == list(range(6)) * 3 and data.epochs_ended == 3


def test_shuffle_visits_every_batch_once_per_epoch_in_a_seeded_order():
    orders = []
    for _ in range(2):
        data = Batches()
        _model().fit(data, epochs=3, verbose=0)  # shuffle=True by default
        epochs = [data.seen[i : i + 6] for i in range(0, 18, 6)]
        assert all(sorted(e) == list(range(6)) for e in epochs)
        assert len({tuple(e) for e in epochs}) > 1
        orders.append(data.seen)
    assert orders[0] == orders[1]


def test_a_list_of_batches_and_a_generator_train_like_arrays(backend):
    reference = _model(backend).fit(X, Y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    batches = [(X[i : i + 8], Y[i : i + 8]) for i in range(0, 48, 8)]
    from_list = _model(backend).fit(batches, epochs=2, verbose=0)
    from_gen = _model(backend).fit(_endless(), steps_per_epoch=6, epochs=2, verbose=0)
    assert _same(from_list.history, reference.history)
    assert _same(from_gen.history, reference.history)


def test_each_batch_reaches_the_model_on_its_backend_one_at_a_time(backend):
    model, shapes = _model(backend), []
    step = model.train_step

    def spy(x, y, w=None):
        assert backend.owns(x) and backend.owns(y)
        shapes.append((tuple(x.shape), tuple(y.shape)))
        return step(x, y, w)

    model.train_step = spy
    model.fit(_endless(), steps_per_epoch=2, epochs=1, verbose=0)
    assert shapes == [((8, 4), (8, 1))] * 2


def test_an_iterator_without_a_step_count_is_a_clear_error():
    with pytest.raises(ValueError, match="steps_per_epoch"):
        _model().fit(_endless(), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="validation_steps"):
        _model().fit(X, Y, validation_data=_endless(), verbose=0)
    with pytest.raises(ValueError, match="steps="):
        _model().predict(_endless())
    with pytest.raises(ValueError, match="sample_weight"):
        _model().fit(Batches(), sample_weight=W, verbose=0)
    with pytest.raises(ValueError, match="y, validation_split must not be given"):
        _model().fit(Batches(), Y, validation_split=0.2, verbose=0)
    assert _model().fit(Batches(), validation_split=0, verbose=0).epoch == [0]


def test_a_generator_that_runs_dry_stops_training_with_a_warning():
    finite = ((X[i : i + 8], Y[i : i + 8]) for i in range(0, 48, 8))
    with pytest.warns(UserWarning, match="ran out of data after 2"):
        history = _model().fit(finite, steps_per_epoch=4, epochs=5, verbose=0)
    assert history.epoch == [0, 1]  # the second epoch had the last 2 batches


def test_validation_data_may_be_a_pydataset_or_a_generator(backend):
    model = _model(backend)
    h1 = model.fit(X, Y, epochs=2, verbose=0, validation_data=Batches())
    h2 = _model(backend).fit(
        Batches(), epochs=2, verbose=0, validation_data=_endless(), validation_steps=6
    )
    assert set(h1.history) == set(h2.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    expected = model.evaluate(X, Y, return_dict=True)
    assert h1.history["val_loss"][-1] == pytest.approx(expected["loss"], rel=1e-5)


def test_evaluate_and_predict_read_batches_too(backend):
    model = _model(backend)
    model.fit(X, Y, epochs=1, verbose=0)
    reference = model.evaluate(X, Y, return_dict=True)
    assert model.evaluate(Batches(), return_dict=True) == pytest.approx(reference, rel=1e-5)
    assert model.evaluate(_endless(), steps=6, return_dict=True) == pytest.approx(
        reference, rel=1e-5
    )
    expected = model.predict(X)
    np.testing.assert_allclose(model.predict(Batches()), expected, rtol=1e-5)
    inputs_only = (X[i : i + 8] for i in range(0, 48, 8))
    np.testing.assert_allclose(model.predict(inputs_only, steps=6), expected, rtol=1e-5)


def test_progress_callbacks_and_checkpoints_work_on_a_generator(tmp_path, capsys):
    seen = []
    cb = nnx.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: seen.append(b))
    path = tmp_path / "best.nnx"
    ckpt = ModelCheckpoint(path, monitor="val_loss")

    class Unsized:  # an iterable without len: the bar does not know the total
        def __iter__(self):
            return iter([(X[:24], Y[:24]), (X[24:], Y[24:])])

    model = _model()
    model.fit(Unsized(), epochs=2, verbose=2, callbacks=[cb, ckpt], validation_data=Batches())
    assert seen == [0, 1, 0, 1] and path.exists()
    assert "Epoch 2/2" in capsys.readouterr().out
    np.testing.assert_allclose(nnx.load(path).predict(X), model.predict(X), rtol=1e-6)


@pytest.mark.parametrize("replayable", [True, False])
def test_the_nonfinite_guard_on_batch_streams(replayable):
    x = X.copy()
    x[20] = 1e30  # batch 2 overflows
    model = _model(lr=1.0)
    start = model.get_weights()
    data = Batches(x=x) if replayable else _endless(x=x)
    kwargs = {"shuffle": False} if replayable else {"steps_per_epoch": 6}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.warns(NonFiniteWarning):
            history = model.fit(data, epochs=3, verbose=0, **kwargs)
    assert history.nonfinite["batch"] == (2 if replayable else None)
    assert all(np.isfinite(w).all() for w in model.get_weights())
    if not replayable:
        for before, after in zip(start, model.get_weights(), strict=True):
            np.testing.assert_array_equal(before, after)
