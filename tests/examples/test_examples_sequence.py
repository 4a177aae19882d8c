"""Quick runs of the sequence examples (fewer samples, shorter sequences and looser bounds than
the full runs their docstrings and the README state)."""

from __future__ import annotations

import importlib.util
import math
import pathlib
import sys

import pytest

EXAMPLES = pathlib.Path(__file__).parents[2] / "examples"


def run(name: str, tmp_path: pathlib.Path) -> dict:
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module.main(quick=True, out=tmp_path)


@pytest.mark.slow
def test_forecasting_beats_the_naive_forecast(tmp_path):
    r = run("sequence_forecasting", tmp_path)
    assert r["lstm_sine_factor"] > 10 and r["gru_sine_factor"] > 10
    assert r["lstm_noisy_factor"] > 1.5 and r["gru_noisy_factor"] > 1.5


@pytest.mark.slow
def test_adding_problem_short_sequences(tmp_path):
    r = run("sequence_adding_problem", tmp_path)
    assert r["lstm_mse"] < 0.02 and r["gru_mse"] < 0.02  # length 10 here; 50 in the full run
    assert r["baseline_mse"] > 0.1


@pytest.mark.slow
def test_masked_sequence_classification(tmp_path):
    r = run("sequence_classification", tmp_path)
    assert r["test_accuracy"] > 0.85 > r["majority_class"]
    assert r["padding_drift"] < 1e-5


@pytest.mark.slow
def test_char_language_models_learn_and_sample(tmp_path):
    r = run("sequence_char_lm", tmp_path)
    uniform = math.log2(r["vocabulary"])
    for name in ("lstm", "transformer"):
        assert r[f"{name}_bits_after"] < min(r[f"{name}_bits_before"], uniform) - 0.3
        for temperature in (0.5, 1.0):
            assert len(r[f"{name}_sample_t{temperature}"]) == 40 + 20  # prompt + sample


def test_char_lm_data_windows_and_batch_order():
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    import sequence_char_lm as lm

    text = lm.corpus(5000)
    assert len(text) == 5000 and text == text.lower() and "  " not in text
    chars, codes = lm.encode("abcab")
    assert chars == ["a", "b", "c"] and codes.tolist() == [0, 1, 2, 0, 1]
    x, y = lm.windows(codes, steps=2, stride=2)
    assert x.tolist() == [[0, 1], [2, 0]] and y.tolist() == [[1, 2], [0, 1]]
    order = lm.batch_order(5, batch_size=3, updates=4, seed=0)
    assert len(order) == 12 and sorted(order[:5].tolist()) == list(range(5))
    assert sorted(order[5:10].tolist()) == list(range(5))
    assert lm.batch_order(5, 3, 4, seed=0).tolist() == order.tolist()


@pytest.mark.slow
def test_text_sentiment_from_raw_strings(tmp_path):
    r = run("text_sentiment", tmp_path)
    assert r["test_accuracy"] > 0.95 > r["majority_class"]
    assert r["unseen_words_accuracy"] > 0.9
    assert r["p_negative_example"] < 0.5 < r["p_positive_example"]
