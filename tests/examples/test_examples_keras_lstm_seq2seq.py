"""keras.io's character-level LSTM seq2seq tutorial (``examples/keras_lstm_seq2seq.py``) runs as
written: training on one-hot sequences, ``model.save`` / ``load_model``, and the inference
models wired from the loaded model's ``model.input`` and ``model.layers[i].output``."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest

SCRIPT = pathlib.Path(__file__).parents[2] / "examples" / "keras_lstm_seq2seq.py"

# (the tutorial's line, the smoke run's line): each must be in the script
SHRINK = (
    ("epochs = 40", "epochs = 4"),
    ("num_samples = 3000", "num_samples = 400"),
    ("latent_dim = 128  # nnx", "latent_dim = 64  # nnx"),
    ("for seq_index in range(20):", "for seq_index in range(2):"),
)


@pytest.fixture(scope="module")
def tutorial(tmp_path_factory: pytest.TempPathFactory, shrunk_script) -> dict:
    folder = str(tmp_path_factory.mktemp("s2s"))
    return shrunk_script(SCRIPT, SHRINK, [('os.environ.get("TMPDIR", "/tmp")', repr(folder))])


def test_only_the_import_the_data_and_the_sizes_change(keras_import_lines) -> None:
    source = SCRIPT.read_text()
    assert "import nnx as keras  # nnx: was `import keras`" in source
    assert not keras_import_lines(source)
    for line in (
        "encoder_outputs, state_h_enc, state_c_enc = model.layers[2].output  # lstm_1",
        "decoder_outputs, _, _ = decoder_lstm(decoder_inputs, initial_state=encoder_states)",
        "encoder_inputs = model.input[0]  # input_1",
    ):
        assert line in source


def test_the_number_words_are_right() -> None:
    source = SCRIPT.read_text()
    namespace: dict = {}
    exec(source[source.index("ONES = ") : source.index("def write_pairs")], namespace)
    words = namespace["words"]
    assert [words(n) for n in (0, 7, 13, 40, 105, 4051, 9999)] == [
        "zero",
        "seven",
        "thirteen",
        "forty",
        "one hundred five",
        "four thousand fifty one",
        "nine thousand nine hundred ninety nine",
    ]


def test_the_loaded_model_rewires_into_encoder_and_decoder(tutorial: dict) -> None:
    model, latent = tutorial["model"], tutorial["latent_dim"]
    x = tutorial["encoder_input_data"][:3]
    h, c = tutorial["encoder_model"].predict(x, verbose=0)
    assert h.shape == c.shape == (3, latent)
    # the decoder model run step by step from the encoder's states gives the trained
    # model's own first-step prediction
    start = tutorial["decoder_input_data"][:3, :1]
    step, h1, c1 = tutorial["decoder_model"].predict([start, h, c], verbose=0)
    whole = model.predict([x, tutorial["decoder_input_data"][:3]], verbose=0)
    np.testing.assert_allclose(step[:, 0], whole[:, 0], rtol=1e-4, atol=1e-6)
    assert h1.shape == c1.shape == (3, latent)


def test_training_learns_beyond_the_padding(tutorial: dict) -> None:
    model = tutorial["model"]
    x = [tutorial["encoder_input_data"], tutorial["decoder_input_data"]]
    y = tutorial["decoder_target_data"]
    loss, accuracy = model.evaluate(x, y, verbose=0)
    pred = model.predict(x, verbose=0)
    # Keras's accuracy counts every timestep: the metric is the mean over (sample, step)
    assert accuracy == pytest.approx(float((pred.argmax(-1) == y.argmax(-1)).mean()), abs=1e-6)
    assert loss < np.log(tutorial["num_decoder_tokens"]) - 0.5  # below the uniform guess
    assert isinstance(tutorial["decode_sequence"](x[0][:1]), str)
