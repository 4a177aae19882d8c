"""The PyTorch twin of the character LMs (``examples/sequence_char_lm_torch.py``): from the
same initial LSTM weights, on the same batches, torch and nnx reach the same held-out bits."""

from __future__ import annotations

import importlib
import math
import pathlib
import sys

import pytest

pytest.importorskip("torch")

EXAMPLES = pathlib.Path(__file__).parents[2] / "examples"


def _load(name: str):
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    return importlib.import_module(name)


@pytest.mark.slow
def test_the_lstm_twin_matches_nnx_step_for_step():
    lm, twin = _load("sequence_char_lm"), _load("sequence_char_lm_torch")
    data = lm.prepare(lm.QUICK)
    ours, theirs = lm.train("lstm", lm.QUICK, data), twin.train("lstm", lm.QUICK, data)
    assert ours["lstm_bits_before"] == pytest.approx(theirs["torch_lstm_bits_before"], abs=1e-4)
    assert ours["lstm_bits_after"] == pytest.approx(theirs["torch_lstm_bits_after"], abs=2e-3)
    assert ours["lstm_bits_after"] < ours["lstm_bits_before"] - 0.5


@pytest.mark.slow
def test_the_transformer_twin_learns():
    lm, twin = _load("sequence_char_lm"), _load("sequence_char_lm_torch")
    data = lm.prepare(lm.QUICK)
    r = twin.train("transformer", lm.QUICK, data)
    assert r["torch_transformer_bits_after"] < math.log2(len(data["chars"])) - 0.5
    assert len(r["torch_transformer_sample_t0.5"]) == 40 + lm.QUICK.sample_length
