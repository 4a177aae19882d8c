"""keras.io's convolutional autoencoder (``examples/keras_conv_autoencoder.py``) runs as written:
the script itself, with only its size cut (256 training images, batches of 16, 4 + 2 epochs) and
its figures closed instead of shown."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest

pytest.importorskip("sklearn")
pytest.importorskip("matplotlib")

SCRIPT = pathlib.Path(__file__).parents[2] / "examples" / "keras_conv_autoencoder.py"

# (the tutorial's line, the smoke run's line): each must be in the script (count times)
SHRINK = (
    ("def load_data(train=1500):", "def load_data(train=256):", 1),
    (
        "return (images[:train], labels[:train]), (images[train:], labels[train:])",
        "return (images[:train], labels[:train]), (images[train:400], labels[train:400])",
        1,
    ),
    ("epochs=6,", "epochs=4,", 1),
    ("epochs=12,", "epochs=2,", 1),
    ("batch_size=128,", "batch_size=16,", 2),
    ("    plt.show()", "    plt.close()", 1),
)


@pytest.fixture(scope="module")
def tutorial(shrunk_script) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    np.random.seed(0)
    return shrunk_script(SCRIPT, SHRINK)


def test_the_tutorial_only_changes_the_imports_and_the_data() -> None:
    source = SCRIPT.read_text()
    assert "from nnx import layers  # nnx:" in source
    assert "from nnx.models import Model  # nnx:" in source
    code = [line.strip() for line in source.splitlines()]
    assert not [line for line in code if line.startswith(("import keras", "from keras"))]
    decoder = 'layers.Conv2DTranspose(32, (3, 3), strides=2, activation="relu", padding="same")(x)'
    assert source.count(decoder) == 2
    assert 'autoencoder.compile(optimizer="adam", loss="binary_crossentropy")' in source


def _bce(y: np.ndarray, p: np.ndarray) -> float:
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return float(np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p))))


@pytest.mark.slow
def test_the_autoencoder_reconstructs_and_denoises(tutorial: dict) -> None:
    model, clean = tutorial["autoencoder"], tutorial["test_data"]
    assert clean.shape[1:] == (28, 28, 1) and tuple(model.output_shape)[-3:] == (28, 28, 1)
    mean_image = tutorial["train_data"].mean(axis=0, keepdims=True)
    baseline_bce = _bce(clean, np.broadcast_to(mean_image, clean.shape))
    baseline_mse = float(np.mean((clean - mean_image) ** 2))
    denoised = tutorial["predictions"]  # the last prediction: from the noisy test images
    assert denoised.shape == clean.shape
    assert _bce(clean, denoised) < baseline_bce - 0.05
    assert float(np.mean((clean - denoised) ** 2)) < 0.6 * baseline_mse
    noisy_mse = float(np.mean((clean - tutorial["noisy_test_data"]) ** 2))
    assert float(np.mean((clean - denoised) ** 2)) < 0.5 * noisy_mse
