"""nnx 0.1's module names that moved in 0.2 still resolve as attributes of ``nnx``."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import nnx
from nnx.layers import Dense


def test_nnx_io_names_resolve_to_nnx_saving_and_nnx_load(tmp_path):
    assert nnx.io.FileFormatError is nnx.saving.FileFormatError
    assert issubclass(nnx.io.FileFormatError, ValueError)
    assert nnx.io.load is nnx.load is nnx.models.load
    assert nnx.io.save is nnx.saving.save and nnx.io.read is nnx.saving.read
    assert nnx.io.FORMAT_VERSION == nnx.saving.FORMAT_VERSION == 1
    model = nnx.Sequential([Dense(2, input_shape=(3,))], seed=0)
    nnx.io.save(model, tmp_path / "m.nnx")
    assert nnx.io.load(tmp_path / "m.nnx").count_params() == 8
    (tmp_path / "bad.nnx").write_bytes(b"nope")
    with pytest.raises(nnx.io.FileFormatError, match="not an nnx file"):
        nnx.io.load(tmp_path / "bad.nnx")


def test_nnx_nonfinite_resolves_to_nnx_training_nonfinite():
    assert nnx.nonfinite is nnx.training.nonfinite
    assert nnx.nonfinite.NonFiniteWarning is nnx.training.NonFiniteWarning
    model = nnx.Sequential([Dense(1, input_shape=(1,))], seed=0)
    model.compile(nnx.optimizers.SGD(1e30), "mse")
    with np.errstate(all="ignore"), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit([[1e10]] * 4, [[0.0]] * 4, epochs=2, batch_size=2, verbose=0)
    assert any(issubclass(w.category, nnx.nonfinite.NonFiniteWarning) for w in caught)


def test_unknown_attributes_still_raise():
    with pytest.raises(AttributeError, match="module 'nnx' has no attribute 'iox'"):
        _ = nnx.iox
