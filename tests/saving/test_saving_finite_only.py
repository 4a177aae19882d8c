"""``save(..., finite_only=True)``: weights with NaN/Inf are refused on the host copy, before
anything is written (what the checkpoint callbacks use: one device read per save)."""

from __future__ import annotations

import numpy as np
import pytest

import nnx
from nnx.layers import Dense
from nnx.saving import NonFiniteWeightsError, save, save_weights


def _model(backend):
    return nnx.Sequential([Dense(3, input_shape=(2,)), Dense(1)], backend=backend, seed=0)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize("weights_only", [False, True])
def test_nonfinite_weights_are_refused_and_nothing_is_written(backend, tmp_path, bad, weights_only):
    model = _model(backend)
    weights = model.get_weights()
    weights[2][0, 0] = bad
    model.set_weights(weights)
    path = tmp_path / "m.nnx"
    write = save_weights if weights_only else save
    with pytest.raises(NonFiniteWeightsError, match=r"'.*m\.nnx'.*weights/2"):
        write(model, path, finite_only=True)
    assert not path.exists()
    write(model, path)  # without the option the weights are written as they are
    assert path.exists()


def test_finite_weights_save_with_the_check(backend, tmp_path):
    model = _model(backend)
    save(model, tmp_path / "m.nnx", finite_only=True, epoch=2)
    clone = nnx.load(tmp_path / "m.nnx", backend=backend)
    for a, b in zip(model.get_weights(), clone.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
