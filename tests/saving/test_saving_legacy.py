"""Files written by nnx 0.1 (tests/data/v0_1_*, made with 0.1.0 before the 0.2 layout) still
load: same predictions (to float32 rounding: the file's were computed with OpenBLAS's
SkylakeX kernel, and ``OPENBLAS_CORETYPE=Haswell`` moves the last bit of 2 of the CNN's 3), compile
settings and optimizer state restored."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import nnx
from nnx.layers import Dense

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_v0_1_model_file_loads_with_the_same_predictions(name: str) -> None:
    model = nnx.load(DATA / f"v0_1_{name}.nnx", backend="numpy")
    x = np.load(DATA / f"v0_1_{name}_inputs.npy")
    expected = np.load(DATA / f"v0_1_{name}_predictions.npy")
    np.testing.assert_allclose(model.predict(x), expected, rtol=1e-6, atol=1e-7)


def test_v0_1_model_file_restores_compile_settings_and_optimizer_state() -> None:
    model = nnx.load(DATA / "v0_1_mlp.nnx", backend="numpy")
    assert isinstance(model.optimizer, nnx.optimizers.Adam)
    assert model.optimizer.iterations == 10  # 2 epochs x 5 batches
    assert model.optimizer.clipnorm == 1.0
    assert model.optimizer.get_config()["learning_rate"]["class_name"] == "ExponentialDecay"
    assert isinstance(model.loss, nnx.losses.SparseCategoricalCrossentropy)
    assert [m.name for m in model.metrics] == ["accuracy"]
    kernel = model.layers[0]
    assert kernel.kernel_regularizer.get_config()["l1"] == pytest.approx(0.001)
    assert kernel.kernel_initializer.get_config()["stddev"] == pytest.approx(0.2)
    x = np.load(DATA / "v0_1_mlp_inputs.npy")
    history = model.fit(x, np.array([0, 1, 2, 0, 1]), epochs=1, batch_size=5, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert model.optimizer.iterations == 11


def test_v0_1_weights_file_loads_into_the_same_architecture() -> None:
    reference = nnx.load(DATA / "v0_1_cnn.nnx", backend="numpy")
    fresh = nnx.Sequential(
        [type(layer).from_config(layer.get_config()) for layer in reference.layers], seed=99
    )
    fresh.build(reference.input_shape)
    fresh.load_weights(DATA / "v0_1_cnn_weights.nnx")
    for a, b in zip(fresh.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert isinstance(fresh.layers[-1], Dense)
