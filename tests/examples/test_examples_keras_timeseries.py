"""keras.io's "Timeseries classification with a Transformer model" (``examples/
keras_timeseries_transformer.py``) runs as written and learns its generated two-class series
well above chance (length and epochs cut for the tests)."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest

SCRIPT = pathlib.Path(__file__).parents[2] / "examples" / "keras_timeseries_transformer.py"

# (the script's line, the test's line): each must be in the script exactly once
SHRINK = (
    ("length = 500  # nnx: FordA's", "length = 100"),
    (
        "idx = np.random.permutation(len(x_train))",
        "idx = np.random.default_rng(0).permutation(320)",
    ),
    ("return keras.Model(inputs, outputs)", "return keras.Model(inputs, outputs, seed=0)"),
    ("epochs=15,  # nnx: 200", "epochs=30, verbose=0,"),
    ("batch_size=64,", "batch_size=16,"),
    ("model.summary()", "pass"),
    ("verbose=1)  # nnx", "verbose=0)  # nnx"),
)


@pytest.fixture(scope="module")
def tutorial(shrunk_script) -> dict:
    return shrunk_script(SCRIPT, SHRINK)


def test_the_tutorial_only_changes_the_import_the_data_and_the_sizes() -> None:
    source = SCRIPT.read_text()
    assert "import nnx as keras\nfrom nnx import layers\n" in source
    assert "tensorflow" not in source.replace("`from tensorflow", "")
    for line in (
        "def transformer_encoder(inputs, head_size, num_heads, ff_dim, dropout=0):",
        "x = layers.LayerNormalization(epsilon=1e-6)(x)",
        "x = layers.Conv1D(filters=inputs.shape[-1], kernel_size=1)(x)",
        'x = layers.GlobalAveragePooling1D(data_format="channels_first")(x)',
        "callbacks = [keras.callbacks.EarlyStopping(patience=10, restore_best_weights=True)]",
        "optimizer=keras.optimizers.Adam(learning_rate=1e-4),",
    ):
        assert line in source, line


def test_the_transformer_classifies_the_series(tutorial: dict) -> None:
    _, accuracy = tutorial["results"]
    assert accuracy > 0.8  # chance: 0.5
    history = tutorial["history"].history
    assert history["loss"][-1] < history["loss"][0]
    assert tutorial["x_train"].shape == (320, 100, 1)


def test_one_channel_layer_norm_blocks_the_attention_gradient_as_in_keras(tutorial: dict) -> None:
    """LayerNormalization over one feature outputs its beta: the attention learns nothing."""
    model = tutorial["model"]
    attention = next(x for x in model.layers if type(x).__name__ == "MultiHeadAttention")
    backend = model.backend
    x, y = tutorial["x_test"][:8].astype("float32"), tutorial["y_test"][:8]
    model.compute_gradients(backend.asarray(x), backend.asarray(y))
    head = model.layers[-1].kernel.grad
    assert all(np.all(backend.to_numpy(p.grad) == 0) for p in attention.parameters())
    assert np.abs(backend.to_numpy(head)).max() > 0


def test_the_tutorials_full_size_model_has_keras_parameter_count(tutorial: dict) -> None:
    model = tutorial["build_model"](
        (500, 1), head_size=256, num_heads=4, ff_dim=4, num_transformer_blocks=4,
        mlp_units=[128], mlp_dropout=0.4, dropout=0.25,
    )  # fmt: skip
    assert model.count_params() == 93_130  # keras.io's model.summary(): "Total params: 93,130"
