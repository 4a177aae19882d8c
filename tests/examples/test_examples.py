"""Quick versions of the examples (fewer epochs, looser bounds than examples/README.md)."""

from __future__ import annotations

import importlib.util
import pathlib
import sys

import pytest

EXAMPLES = pathlib.Path(__file__).parents[2] / "examples"


def _example(stem: str):
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    path = next(EXAMPLES.glob(f"{stem}_*.py"))
    spec = importlib.util.spec_from_file_location(f"example_{stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(stem: str, tmp_path: pathlib.Path) -> dict:
    return _example(stem).main(quick=True, out=tmp_path)


def test_01_perceptron(tmp_path):
    r = run("01", tmp_path)
    assert r["and_accuracy"] == r["or_accuracy"] == 1.0
    assert r["xor_accuracy"] <= 0.75 and r["xor_epochs"] == 20


def test_02_xor(tmp_path):
    r = run("02", tmp_path)
    assert r["accuracy"] == 1.0 and r["final_loss"] < 0.05


def test_03_house_price(tmp_path):
    assert run("03", tmp_path)["max_abs_difference"] < 1e-12


def test_04_adam_l2_dropout(tmp_path):
    r = run("04", tmp_path)
    assert r["test_accuracy"] > 0.85 and r["test_auc"] > 0.9


def test_05_activations_vs_sklearn(tmp_path):
    r = run("05", tmp_path)
    assert r["mean_gap"] > -0.03 and r["worst_gap"] > -0.1, r["table"]


def test_06_gradient_check(tmp_path):
    assert run("06", tmp_path)["max_error"] < 1e-4


def test_07_vanishing_gradients(tmp_path):
    r = run("07", tmp_path)
    assert r["sigmoid_ratio_at_10"] < 1e-3 < r["tanh_ratio_at_10"]
    assert r["relu_ratio_at_10"] > 1e-2
    assert (tmp_path / "vanishing_gradients.png").stat().st_size > 5000


def test_08_regression_losses(tmp_path):
    r = run("08", tmp_path)
    assert r["Huber + Adam"] < r["MSE + SGD"]
    assert r["MSE + SGD momentum"] < r["MSE + SGD"]


def test_09_lr_sensitivity(tmp_path):
    r = run("09", tmp_path)
    assert r["best_learning_rate"] >= 1e-3
    assert (tmp_path / "lr_sensitivity.png").exists() and (tmp_path / "depth_vs_mse.png").exists()


def test_10_tutorial_regression(tmp_path):
    r = run("10", tmp_path)
    assert r["train_r2"] > 0.8 and r["test_r2"] > 0.75 and r["mse_gap"] < 0.01


def test_11_breast_cancer(tmp_path):
    r = run("11", tmp_path)
    assert r["test_accuracy"] >= 0.93
    assert (tmp_path / "breast_cancer_confusion.png").exists()


def test_12_optimizer_trajectories(tmp_path):
    r = run("12", tmp_path)
    assert (
        r["Nesterov"] < r["SGD momentum 0.9"] and max(v for k, v in r.items() if k != "table") < 1
    )
    assert (tmp_path / "optimizer_trajectories.png").exists()


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("[0-9]*.py")), ids=lambda p: p.stem)
def test_every_example_has_a_runnable_docstring(path):
    text = path.read_text()
    assert "Run: python examples/" in text and 'if __name__ == "__main__":' in text


def test_image_data_generator_picture(tmp_path):
    spec = importlib.util.spec_from_file_location(
        "example_image_data_generator", EXAMPLES / "image_data_generator.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    path = module.main(tmp_path / "before_after.png")
    assert path.exists() and path.stat().st_size > 5000
