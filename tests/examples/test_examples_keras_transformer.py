"""keras.io's "Text classification with Transformer" (``examples/
keras_text_classification_transformer.py``) runs as written, subclassed layers and all, and
learns its generated rule well above chance in a few seconds (the sizes cut for the tests)."""

from __future__ import annotations

import pathlib

import pytest

SCRIPT = pathlib.Path(__file__).parents[2] / "examples" / "keras_text_classification_transformer.py"

# (the tutorial's line, the test's line): each must be in the script exactly once
SHRINK = (
    ("vocab_size = 20000", "vocab_size = 40"),
    ("maxlen = 200", "maxlen = 9"),
    ("reviews = 5000", "reviews = 480"),
    ("embed_dim = 32", "embed_dim = 16"),
    ("ff_dim = 32", "ff_dim = 16"),
    ("epochs=2", "epochs=5, verbose=0"),
    (
        "model = keras.Model(inputs=inputs, outputs=outputs)",
        "model = keras.Model(inputs=inputs, outputs=outputs, seed=0)",
    ),
)


@pytest.fixture(scope="module")
def tutorial(shrunk_script) -> dict:
    return shrunk_script(SCRIPT, SHRINK)


def test_the_tutorial_only_changes_the_import_and_the_data() -> None:
    source = SCRIPT.read_text()
    assert "import nnx as keras\nfrom nnx import ops\nfrom nnx import layers\n" in source
    assert "class TransformerBlock(layers.Layer):" in source
    assert "return x + positions" in source


def test_the_transformer_learns_the_rule(tutorial: dict) -> None:
    history = tutorial["history"].history
    assert history["val_accuracy"][-1] > 0.85  # chance: 0.5
    assert history["loss"][-1] < history["loss"][0]


def test_the_subclassed_layers_hold_their_sublayers_weights(tutorial: dict) -> None:
    model = tutorial["model"]
    embedding = tutorial["embedding_layer"]
    assert embedding.count_params() == (40 + 9) * 16
    assert model.count_params() == sum(layer.count_params() for layer in model.layers)
