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
    assert r["best_learning_rate"] >= 1e-3 and r["best_adam_learning_rate"] >= 1e-3
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


def test_13_lesson_forward_backprop_prints_the_lessons_numbers(tmp_path):
    r = run("13", tmp_path)
    assert f"{r['house_price']:.2f}" == "-1401.69"
    assert [f"{v:.4f}" for v in r["losses"]] == [
        "0.4811", "0.1614", "0.1077", "0.0603", "0.0293",
        "0.0139", "0.0072", "0.0046", "0.0033", "0.0023",
    ]  # fmt: skip
    assert f"{r['prediction']:.2f}" == "0.50"
    assert f"{r['optimized_start']:.4f}" == "0.2500"
    assert r["modern_mse"] < 0.05


def test_14_lesson_from_scratch_matches_the_lessons_code(tmp_path):
    r = run("14", tmp_path)
    assert r["step"] == pytest.approx(0.3, abs=1e-15)
    assert r["neuron_gap"] < 1e-15 and r["and_weight_gap"] < 1e-15
    assert r["and_outputs"] == [0, 0, 0, 1]
    assert r["xor_gap"] < 1e-12  # 10000 epochs of the lesson's loop, bias-free
    assert r["xor_no_bias_accuracy"] == 0.75 and r["xor_modern_accuracy"] == 1.0


def test_15_lesson_fundamentals_matches_the_lessons_code(tmp_path):
    r = run("15", tmp_path)
    assert r["perceptron_gap"] < 1e-12 and r["perceptron_accuracy"] == 1.0
    assert [f"{v:.4f}" for v in r["losses_nnx"]] == [f"{v:.4f}" for v in r["losses_lesson"]]
    assert r["mlp_gap"] < 1e-5  # the lesson backpropagates through already-updated weights
    assert r["sgd_gap"] < 1e-12 and r["momentum_gap"] < 1e-12
    assert r["modern_accuracy"] > r["mlp_accuracy"] + 0.3


def test_16_lesson_practice_matches_the_lessons_code(tmp_path):
    r = run("16", tmp_path)
    assert r["activation_gap"] == 0.0
    assert r["rate_gap"] < 1e-9 and r["rates_compared"] >= 6
    assert r["depth_gap"] < 1e-9
    assert abs(r["damped_nnx"] - r["damped_lesson"]) < 0.1 * r["damped_lesson"]
    assert all(r["modern_depth_mse"][d] < r["lesson_depth_mse"][d] for d in r["modern_depth_mse"])
    assert (tmp_path / "lesson_lr_sensitivity.png").exists()


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("[0-9]*.py")), ids=lambda p: p.stem)
def test_every_example_has_a_runnable_docstring(path):
    text = path.read_text()
    assert "Run: python examples/" in text and 'if __name__ == "__main__":' in text


def test_gallery_shows_every_plot_with_its_png():
    text = (EXAMPLES / "README.md").read_text()
    import nnx.plot

    for name in nnx.plot.__all__:
        if name.startswith("plot_") and name != "plot_summary":
            assert f"plot.{name}(" in text, f"{name} is missing from the gallery"
    images = [line.split("](")[1].rstrip(")") for line in text.splitlines() if "](gallery/" in line]
    assert len(images) >= 18
    for image in images:
        data = (EXAMPLES / image).read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 5000, image


def test_image_data_generator_picture(tmp_path):
    spec = importlib.util.spec_from_file_location(
        "example_image_data_generator", EXAMPLES / "image_data_generator.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    path = module.main(tmp_path / "before_after.png")
    assert path.exists() and path.stat().st_size > 5000
