"""The progress display of fit(verbose=1|2): tqdm or the plain bar, and one line per epoch."""

from __future__ import annotations

import re
import sys

import numpy as np

import nnx
from nnx.layers import Dense

X = np.random.default_rng(0).normal(size=(75, 2)).astype("float32")
Y = (X[:, :1] * X[:, 1:] > 0).astype("float32")


def _model(backend):
    model = nnx.Sequential(
        [Dense(8, activation="relu", input_shape=(2,)), Dense(1, activation="sigmoid")],
        backend=backend,
        seed=0,
    )
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    return model


def test_progress_bar_verbose_1(backend, capsys):
    _model(backend).fit(X, Y, epochs=1, verbose=1)
    captured = capsys.readouterr()
    assert "Epoch 1/1" in captured.out + captured.err
    assert "accuracy" in captured.out + captured.err


def test_plain_progress_bar_without_tqdm(backend, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # import now fails
    _model(backend).fit(X, Y, epochs=2, verbose=1)
    out = capsys.readouterr().out
    assert "Epoch 2/2 [====================] 3/3" in out and "accuracy:" in out


def test_verbose_2_prints_one_line_per_epoch_with_the_epoch_logs(capsys):
    history = _model("numpy").fit(X, Y, epochs=3, verbose=2, validation_split=0.2)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    for epoch, line in enumerate(lines):
        match = re.fullmatch(
            rf"Epoch {epoch + 1}/3 - \d+\.\d\ds - loss: (\S+) - accuracy: \S+ - "
            r"val_loss: \S+ - val_accuracy: \S+",
            line,
        )
        assert match, line
        assert float(match.group(1)) == round(history.history["loss"][epoch], 4)
