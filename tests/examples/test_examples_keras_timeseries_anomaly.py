"""keras.io's timeseries anomaly detection (``examples/keras_timeseries_anomaly.py``) runs as
written: the script itself, with only its size cut (every 4th training window, 6 epochs) and its
figures closed instead of shown."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest

import nnx

pytest.importorskip("matplotlib")

SCRIPT = pathlib.Path(__file__).parents[2] / "examples" / "keras_timeseries_anomaly.py"

# (the tutorial's line, the smoke run's line, how often it occurs)
SHRINK = (
    (
        "x_train = create_sequences(df_training_value)  #",
        "x_train = create_sequences(df_training_value)[::4]  #",
        1,
    ),
    ("    epochs=50,", "    epochs=6,", 1),
    ("plt.show()", "plt.close()", 2),
)

#: the weights' seed of the cut run (the full script's are unseeded, as on keras.io)
SEED = 0


@pytest.fixture(scope="module")
def tutorial(shrunk_script) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    np.random.seed(0)
    with nnx.utils.seeded(SEED):  # the tutorial sets no seed: fix the weights' draw here
        return shrunk_script(SCRIPT, SHRINK)


def test_the_tutorial_only_changes_the_import_and_the_data() -> None:
    source = SCRIPT.read_text()
    assert "import nnx as keras  # nnx:" in source and "from nnx import layers  # nnx:" in source
    code = [line.strip() for line in source.splitlines()]
    assert not [line for line in code if line.startswith(("import keras", "from keras"))]
    assert source.count("layers.Conv1DTranspose(") == 3


@pytest.mark.slow
def test_the_autoencoder_flags_the_jump(tutorial: dict) -> None:
    model = tutorial["model"]
    assert tuple(model.output_shape)[-2:] == (288, 1)
    flagged = np.flatnonzero(tutorial["anomalies"])
    # windows (288 steps) touching the jump of read_series(jump=True): steps 3138..3325
    touching = (flagged + 287 >= 11 * 288 - 30) & (flagged < 12 * 288 - 130)
    assert flagged.size >= 100
    assert touching.mean() > 0.8
    # the points the tutorial marks (inside runs of flagged windows) lie at the jump; the cut
    # run may mark none (its runs of flagged windows are shorter than a window)
    points = np.asarray(tutorial["anomalous_data_indices"], dtype=int)
    assert np.all((points > 11 * 288 - 288) & (points < 12 * 288 + 288))
