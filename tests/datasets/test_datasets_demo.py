"""nnx.datasets.demo (the sets of ``python -m nnx demo``) and the demo command itself."""

from __future__ import annotations

import re

import numpy as np
import pytest

from nnx.cli import DEMO_THRESHOLD, build_parser, main
from nnx.datasets.demo import DEMO_DATASETS, DemoSplit, load_demo


@pytest.mark.parametrize(
    ("name", "train", "test", "classes", "y_dtype"),
    [
        ("moons", (150, 2), (50, 2), 2, np.float32),
        ("circles", (150, 2), (50, 2), 2, np.float32),
        ("xor", (4, 2), (4, 2), 2, np.float32),
        ("breast_cancer", (426, 30), (143, 30), 2, np.float32),
        ("digits", (1347, 64), (450, 64), 10, np.int64),
    ],
)
def test_load_demo_splits_and_shapes(name, train, test, classes, y_dtype):
    split = load_demo(name, seed=0, samples=200)
    assert isinstance(split, DemoSplit) and split.classes == classes
    assert split.X_train.shape == train and split.X_test.shape == test
    assert split.X_train.dtype == np.float32 and split.y_train.dtype == y_dtype
    assert split.y_train.ndim == (2 if classes == 2 else 1)
    assert split.description


def test_scaled_sets_are_standardised_on_the_training_part():
    split = load_demo("digits")
    np.testing.assert_allclose(split.X_train.mean(0), 0.0, atol=1e-5)
    spread = split.X_train.std(0)
    assert np.all((np.abs(spread - 1.0) < 1e-4) | (spread == 0.0))


def test_load_demo_is_seeded_and_refuses_unknown_names():
    a, b = load_demo("moons", seed=3, samples=100), load_demo("moons", seed=3, samples=100)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    assert set(DEMO_DATASETS) == {"moons", "circles", "xor", "breast_cancer", "digits"}
    with pytest.raises(ValueError, match="load_demo: name must be one of 'moons'.*name='mnist'"):
        load_demo("mnist")


@pytest.mark.parametrize("dataset", ["circles", "xor", "breast_cancer", "digits"])
def test_demo_datasets_pass_their_bar(dataset, capsys):
    epochs = "40" if dataset != "xor" else "300"
    assert main(["demo", "--dataset", dataset, "--verbose", "0", "--epochs", epochs]) == 0
    out = capsys.readouterr().out
    assert f"nnx demo: {dataset}" in out
    accuracy = float(re.search(r"test accuracy: ([0-9.]+)", out).group(1))
    assert accuracy >= DEMO_THRESHOLD


def test_demo_plot_writes_a_png(tmp_path, capsys):
    image = pytest.importorskip("matplotlib.image")
    target = tmp_path / "demo.png"
    code = main(["demo", "--epochs", "5", "--verbose", "0", "--plot", str(target)])
    captured = capsys.readouterr()
    accuracy = float(re.search(r"test accuracy: ([0-9.]+)", captured.out).group(1))
    assert code == (0 if accuracy >= DEMO_THRESHOLD else 1)
    assert ("FAILED" in captured.err) == (code == 1)
    assert f"plot saved to {target}" in captured.out
    pixels = image.imread(target)
    assert pixels.shape[0] == 360 and pixels.shape[1] % 450 == 0 and pixels.shape[1] >= 900
    ink = (pixels[..., :3] < 0.9).any(axis=-1)
    assert 0.02 < ink.mean() < 0.98, "the figure has drawn content, not a blank canvas"


def test_unknown_dataset_is_refused(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["demo", "--dataset", "mnist"])
    assert "invalid choice" in capsys.readouterr().err
