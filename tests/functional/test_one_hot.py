"""nnx.functional.one_hot: the one implementation behind nnx.data.one_hot, the sparse
cross-entropy's targets and the metrics' confusion matrices."""

from __future__ import annotations

import numpy as np
import pytest

from nnx import data, losses
from nnx.functional.one_hot import one_hot


@pytest.mark.parametrize("labels", [[2, 0, 1, 2], [[2], [0], [1], [2]]])
def test_codes_of_each_label(backend, labels):
    codes = one_hot(backend.asarray(labels), 4)
    assert codes.dtype == backend.xp.float32
    np.testing.assert_array_equal(backend.to_numpy(codes), np.eye(4)[[2, 0, 1, 2]])


def test_default_width_is_the_largest_label_plus_one(backend):
    assert backend.to_numpy(one_hot(backend.asarray([0, 3]))).shape == (2, 4)


@pytest.mark.parametrize("dtype", ["int64", "float64"])
def test_dtype_by_name_or_by_dtype(backend, dtype):
    by_name = one_hot(backend.asarray([1, 0]), 2, dtype)
    by_dtype = one_hot(backend.asarray([1, 0]), 2, getattr(backend.xp, dtype))
    assert by_name.dtype == by_dtype.dtype == getattr(backend.xp, dtype)
    assert backend.to_numpy(by_name).tolist() == [[0, 1], [1, 0]]


def test_float_labels_and_out_of_range_labels(backend):
    codes = one_hot(backend.asarray([1.0, 5.0], "float32"), 3)
    assert backend.to_numpy(codes).tolist() == [[0.0, 1.0, 0.0], [0.0, 0.0, 0.0]]


def test_one_implementation():
    assert data.one_hot is one_hot


def test_sparse_crossentropy_targets_are_its_codes(backend):
    y_pred = backend.asarray(np.full((3, 4), 0.25), "float64")
    targets = losses.SparseCategoricalCrossentropy().prepare_targets(
        backend.asarray([3, 0, 1]), y_pred
    )
    np.testing.assert_array_equal(backend.to_numpy(targets), np.eye(4)[[3, 0, 1]])
    assert targets.dtype == backend.xp.float64
