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
        assert len(r[f"{name}_sample"]) == 8 + 20
