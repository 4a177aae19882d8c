"""A quick run of the encoder-decoder addition example (2-digit sums, a small model): it learns
beyond what ignoring the question allows, and its file predicts the same after loading."""

from __future__ import annotations

import importlib.util
import pathlib
import sys

import numpy as np
import pytest

EXAMPLES = pathlib.Path(__file__).parents[2] / "examples"


def _module():
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    spec = importlib.util.spec_from_file_location(
        "seq2seq_addition", EXAMPLES / "seq2seq_addition.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_questions_encode_reversed_padded_text():
    x, y, texts = _module().questions(50, 2, seed=1)
    chars = _module().CHARS
    assert x.shape == (50, 5, 12) and y.shape == (50, 3)
    for row, label, text in zip(x, y, texts, strict=True):
        assert "".join(chars[k] for k in row.argmax(-1)) == text.ljust(5)[::-1]
        a, b = map(int, text.split("+"))
        assert "".join(chars[k] for k in label).strip() == str(a + b)


@pytest.mark.slow
def test_encoder_decoder_learns_to_add_a_little(tmp_path):
    r = _module().main(quick=True, out=tmp_path)
    assert r["val_char_accuracy"] > r["majority_char_accuracy"] + 0.08
    assert r["loaded_predicts_the_same"]
    model = _module().encoder_decoder(digits=2, units=4, seed=0)
    nodes = {n["layer"]: n for n in model.get_config()["nodes"]}
    assert nodes["decoder"]["keywords"] == {"initial_state": [["encoder", 0, 1], ["encoder", 0, 2]]}
    assert np.isfinite(model.predict(_module().questions(3, 2, seed=2)[0])).all()
