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
    for module in ("tqdm.auto", "tqdm.std"):
        monkeypatch.setitem(sys.modules, module, None)  # import now fails
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


def test_text_tqdm_without_ipywidgets_never_warns(backend, capsys, monkeypatch):
    """No ipywidgets (a bare Jupyter kernel): tqdm's text bar, not tqdm.auto's TqdmWarning
    "IProgress not found" (pyproject turns warnings into errors, so one would fail here)."""
    import importlib.util

    from tqdm.std import tqdm as text_tqdm

    from nnx.callbacks import progress

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "ipywidgets" else real_find_spec(name, *a),
    )
    assert progress._tqdm_class() is text_tqdm
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # tqdm.auto must not be needed
    _model(backend).fit(X, Y, epochs=1, verbose=1)
    captured = capsys.readouterr()
    assert "accuracy" in captured.out and "IProgress" not in captured.out + captured.err


def test_widget_tqdm_when_ipywidgets_is_importable(monkeypatch):
    import importlib.util

    from tqdm.auto import tqdm as auto_tqdm

    from nnx.callbacks import progress

    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object())
    assert progress._tqdm_class() is auto_tqdm
