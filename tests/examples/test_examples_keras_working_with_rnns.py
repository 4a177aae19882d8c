"""keras.io's "Working with RNNs" guide (``examples/keras_working_with_rnns.py``) runs as written:
the script itself, with its data cut (a few hundred digits, short nested sequences)."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest

SCRIPT = pathlib.Path(__file__).parents[2] / "examples" / "keras_working_with_rnns.py"

# (the guide's line, the smoke run's line): each must be in the script once
SHRINK = (
    ("    split = 1500\n", "    split = 256\n"),
    ("    return (images[:split], labels[:split]), (images[split:], labels[split:])",
     "    return (images[:split], labels[:split]), (images[split:400], labels[split:400])"),
    ("num_batches = 2  # nnx: was 10", "num_batches = 1"),
    ("timestep = 10  # nnx: was 50", "timestep = 3"),
)  # fmt: skip


@pytest.fixture(scope="module")
def guide(shrunk_script) -> dict:
    pytest.importorskip("sklearn", reason='the MNIST stand-in: pip install "nnx-array[sklearn]"')
    pytest.importorskip("matplotlib", reason='the guide plots: pip install "nnx-array[plot]"')
    import matplotlib

    matplotlib.use("Agg")
    np.random.seed(0)
    return shrunk_script(SCRIPT, SHRINK)


def test_the_guide_only_changes_what_it_marks(keras_import_lines) -> None:
    source = SCRIPT.read_text()
    assert "import nnx as keras\nfrom nnx import layers, ops\n" in source
    assert not keras_import_lines(source)
    assert "\nimport tensorflow" not in source
    for line in (
        "lstm_layer = layers.LSTM(64, stateful=True)",
        "lstm_layer.reset_states()",
        "new_output = new_lstm_layer(paragraph3, initial_state=existing_state)",
        "noncudnn_model.set_weights(model.get_weights())",
        "rnn = keras.layers.RNN(cell)",
        "outputs = rnn((input_1, input_2))",
        "@keras.saving.register_keras_serializable()",
    ):
        assert line in source, line


def test_state_reuse_and_stateful_layers(guide: dict) -> None:
    states = guide["existing_state"]
    assert [tuple(s.shape) for s in states] == [(20, 64), (20, 64)]
    assert guide["new_output"].shape == (20, 64)


def test_lstm_and_rnn_of_lstmcell_models_share_weights(guide: dict) -> None:
    model, twin = guide["model"], None
    cudnn = guide["build_model"](allow_cudnn_kernel=True)
    twin = guide["build_model"](allow_cudnn_kernel=False)
    twin.set_weights(cudnn.get_weights())
    x = guide["x_test"][:8]
    np.testing.assert_allclose(twin.predict(x), cudnn.predict(x), rtol=1e-5, atol=1e-6)
    assert type(twin.layers[0]).__name__ == "RNN" and model is not None


def test_nested_cell_model_trains(guide: dict) -> None:
    model = guide["model"]
    assert [tuple(y.shape) for y in model.predict(guide["input_data"])] == [(64, 10), (64, 20, 30)]
    assert model.count_params() == 32 * 10 + 64 * 32 * 20 * 30
