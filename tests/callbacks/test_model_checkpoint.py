"""ModelCheckpoint: file names, best-only and weights-only saves, exact resume from a file."""

from __future__ import annotations

import os

import numpy as np
import pytest

import nnx
from nnx.callbacks import BackupAndRestore, ModelCheckpoint
from nnx.layers import Dense, Dropout


def _data(n=48):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4)).astype("float32")
    y = (x[:, :1] * x[:, 1:2] > 0).astype("float32")
    return x, y


def _model(backend="numpy"):
    model = nnx.Sequential(
        [Dense(8, activation="relu", input_shape=(4,)), Dropout(0.3), Dense(1, "sigmoid")],
        backend=backend,
        seed=7,
    )
    model.compile(nnx.optimizers.Adam(0.01), "binary_crossentropy", ["accuracy"])
    return model


def _same(a, b):
    return all(x.tobytes() == y.tobytes() for x, y in zip(a, b, strict=True))


def test_resume_from_checkpoint_is_bit_exact(backend, tmp_path):
    x, y = _data()
    pattern = str(tmp_path / "ckpt-{epoch}.nnx")
    full = _model(backend)
    full.fit(x, y, epochs=4, batch_size=8, verbose=0, callbacks=[ModelCheckpoint(pattern)])
    assert sorted(os.listdir(tmp_path)) == [f"ckpt-{e}.nnx" for e in (1, 2, 3, 4)]
    resumed = nnx.load(pattern.format(epoch=2), backend=backend)
    history = resumed.fit(x, y, epochs=4, batch_size=8, verbose=0, initial_epoch=2)
    assert history.epoch == [2, 3]
    assert _same(full.get_weights(), resumed.get_weights())
    assert resumed.optimizer.iterations == full.optimizer.iterations == 24


def test_save_best_only_and_weights_only(tmp_path):
    x, y = _data()
    model = _model()
    best = ModelCheckpoint(
        tmp_path / "best.nnx", monitor="val_loss", save_best_only=True, verbose=0
    )
    weights = ModelCheckpoint(tmp_path / "w-{epoch:02d}.nnx", save_weights_only=True)
    history = model.fit(x, y, epochs=3, verbose=0, validation_split=0.25, callbacks=[best, weights])
    assert best.best == min(history.history["val_loss"])
    assert os.path.exists(tmp_path / "w-03.nnx")
    other = _model()
    other.build((4,))
    other.load_weights(tmp_path / "w-03.nnx")
    assert _same(model.get_weights(), other.get_weights())
    assert nnx.load(tmp_path / "best.nnx").optimizer.iterations > 0


def test_epoch_is_numbered_from_1_in_every_file_name(tmp_path):
    """One convention (Keras's): ``{epoch}`` is the 1-based epoch the save belongs to, at epoch
    ends and for save_freq=N saves alike; ``{batch}`` is the 1-based batch within it."""
    x, y = _data()  # 48 samples, batch_size 8: 6 batches per epoch
    by_epoch = ModelCheckpoint(str(tmp_path / "e-{epoch}.nnx"))
    by_batch = ModelCheckpoint(str(tmp_path / "b-{epoch}-{batch}.nnx"), save_freq=4)
    _model().fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[by_epoch, by_batch])
    assert sorted(os.listdir(tmp_path)) == [
        "b-1-4.nnx",  # 4th batch of epoch 1
        "b-2-2.nnx",  # 8th batch overall: 2nd of epoch 2
        "b-2-6.nnx",
        "e-1.nnx",
        "e-2.nnx",
    ]
    iterations = {
        name: nnx.load(tmp_path / name).optimizer.iterations for name in os.listdir(tmp_path)
    }
    assert iterations == {
        "b-1-4.nnx": 4,
        "b-2-2.nnx": 8,
        "b-2-6.nnx": 12,
        "e-1.nnx": 6,
        "e-2.nnx": 12,
    }
    # the metadata counts what is done: epochs completed, batches completed in the epoch
    extra = {name: nnx.saving.read(tmp_path / name)[1]["extra"] for name in iterations}
    assert extra["b-2-2.nnx"] == {"epoch": 1, "batch": 2} and extra["e-1.nnx"] == {"epoch": 1}


def test_batch_field_is_only_filled_for_batch_saves(tmp_path):
    x, y = _data()
    cb = ModelCheckpoint(str(tmp_path / "{epoch}-{batch}.nnx"))
    with pytest.raises(ValueError, match=r"cannot fill filepath=.*\['epoch'\]"):
        _model().fit(x, y, epochs=1, verbose=0, callbacks=[cb])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"save_freq": 0}, "save_freq must be 'epoch' or a positive int"),
        ({"save_freq": "batch"}, "save_freq must be"),
        ({"mode": "up"}, "mode must be one of 'auto', 'min', 'max', received mode='up'"),
    ],
)
def test_checkpoint_arguments_are_validated(kwargs, match, tmp_path):
    with pytest.raises(ValueError, match=match):
        ModelCheckpoint(tmp_path / "x", **kwargs)


def test_unknown_filepath_field_is_a_clear_error(tmp_path):
    x, y = _data()
    cb = ModelCheckpoint(str(tmp_path / "{nope}.nnx"))
    with pytest.raises(ValueError, match="cannot fill filepath"):
        _model().fit(x, y, epochs=1, verbose=0, callbacks=[cb])


def test_checkpoints_never_overwrite_a_good_file_with_nan_weights(tmp_path):
    x = np.full((16, 4), 1e3, "float32")
    model = nnx.Sequential([Dense(1, input_shape=(4,))], seed=0)
    model.compile(nnx.optimizers.SGD(1e3), "mse", stop_on_nonfinite=False)
    path = tmp_path / "last.nnx"
    callbacks = [ModelCheckpoint(path, save_freq=1), BackupAndRestore(tmp_path / "b", 1, False)]
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning, match="not saving"):
        model.fit(
            x, np.ones((16, 1), "float32"), epochs=3, batch_size=4, verbose=0, callbacks=callbacks
        )
    for saved in (path, callbacks[1].path):
        assert all(np.isfinite(w).all() for w in nnx.load(saved).get_weights())
