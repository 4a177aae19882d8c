"""keras.io's character-level LSTM tutorial (``examples/keras_char_lstm.py``) runs as written:
the script itself, with only its size cut (a short text, one epoch, a few sampled characters)."""

from __future__ import annotations

import math
import pathlib

import numpy as np
import pytest

SCRIPT = pathlib.Path(__file__).parents[2] / "examples" / "keras_char_lstm.py"

# (the tutorial's line, the smoke run's line): each must be in the script, so that an edit of
# the example that drops one fails here instead of running the full tutorial in the tests
SHRINK = (
    ("text = shipped_text().lower()", "text = shipped_text(3000).lower()"),
    ("epochs = 40", "epochs = 1"),
    ("for i in range(400):", "for i in range(3):"),
)


@pytest.fixture(scope="module")
def tutorial(shrunk_script) -> dict:
    np.random.seed(0)
    return shrunk_script(SCRIPT, SHRINK)


def test_the_tutorial_only_changes_the_import_and_the_text(keras_import_lines) -> None:
    source = SCRIPT.read_text()
    assert "import nnx as keras\nfrom nnx import layers\n" in source
    assert not keras_import_lines(source)
    assert 'np.zeros((len(sentences), maxlen, len(chars)), dtype="bool")' in source
    assert "keras.Input(shape=(maxlen, len(chars)))," in source
    assert "preds = model.predict(x_pred, verbose=0)[0]" in source


def test_the_tutorial_trains_on_bool_one_hot_inputs(tutorial: dict) -> None:
    x, y, model, chars = tutorial["x"], tutorial["y"], tutorial["model"], tutorial["chars"]
    assert x.dtype == np.bool_ and y.dtype == np.bool_
    assert model.input_shape == (40, len(chars))
    # one epoch of RMSprop beats the uniform guess ln(vocabulary) on the training text
    assert float(model.evaluate(x, y, verbose=0)) < math.log(len(chars)) - 0.3


def test_the_tutorial_samples_characters(tutorial: dict) -> None:
    preds = tutorial["model"].predict(tutorial["x"][:2], verbose=0)
    assert preds.shape == (2, len(tutorial["chars"]))
    np.testing.assert_allclose(preds.sum(axis=1), 1.0, rtol=1e-5)
    generated = tutorial["generated"]
    assert len(generated) == 3 and set(generated) <= set(tutorial["chars"])
