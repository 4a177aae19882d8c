"""``pad_sequences`` (``nnx.utils`` and ``nnx.preprocessing.sequence``): the expected arrays are
written from Keras's documented rules (pad / truncate before or after, ``maxlen`` defaults to
the longest), and bad arguments are refused by name."""

from __future__ import annotations

import numpy as np
import pytest

import nnx.preprocessing
import nnx.utils
from nnx.preprocessing.sequence import pad_sequences

SEQUENCES = [[1], [2, 3], [4, 5, 6]]


def test_both_import_paths_are_one_function():
    assert nnx.utils.pad_sequences is pad_sequences is nnx.preprocessing.pad_sequences


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, [[0, 0, 1], [0, 2, 3], [4, 5, 6]]),
        ({"value": -1}, [[-1, -1, 1], [-1, 2, 3], [4, 5, 6]]),
        ({"padding": "post"}, [[1, 0, 0], [2, 3, 0], [4, 5, 6]]),
        ({"maxlen": 2}, [[0, 1], [2, 3], [5, 6]]),
        ({"maxlen": 2, "truncating": "post"}, [[0, 1], [2, 3], [4, 5]]),
        ({"maxlen": 2, "truncating": "post", "padding": "post"}, [[1, 0], [2, 3], [4, 5]]),
        ({"maxlen": 4, "padding": "post"}, [[1, 0, 0, 0], [2, 3, 0, 0], [4, 5, 6, 0]]),
    ],
)
def test_padding_and_truncation_follow_the_documented_rules(kwargs, expected):
    out = pad_sequences(SEQUENCES, **kwargs)
    assert isinstance(out, np.ndarray) and out.dtype == np.int32
    np.testing.assert_array_equal(out, np.array(expected))


def test_dtypes_empty_sequences_and_vector_steps():
    out = pad_sequences([[0.5, 1.5], []], dtype="float32", value=-0.25)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [[0.5, 1.5], [-0.25, -0.25]])
    steps = pad_sequences([np.ones((1, 2)), np.full((3, 2), 2.0)], dtype="float64", maxlen=2)
    np.testing.assert_array_equal(steps, [[[0, 0], [1, 1]], [[2, 2], [2, 2]]])
    assert pad_sequences([[7, 8, 9]], dtype="int64").dtype == np.int64


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"padding": "middle"}, r"padding must be one of 'pre', 'post'.*padding='middle'"),
        ({"truncating": "both"}, r"truncating must be one of 'pre', 'post'.*truncating='both'"),
        ({"dtype": "str"}, r"dtype must be one of 'int32'.*dtype='str'"),
        ({"maxlen": 0}, r"maxlen.*maxlen=0"),
        ({"value": "x"}, r"value.*value='x'"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        pad_sequences(SEQUENCES, **kwargs)


def test_bad_sequences_are_refused_clearly():
    with pytest.raises(ValueError, match=r"sequences\[1\] is int 5"):
        pad_sequences([[1], 5])
    with pytest.raises(ValueError, match=r"sequences must be a list of sequences, received str"):
        pad_sequences("abc")
    with pytest.raises(ValueError, match=r"sequences\[1\] has steps of shape \(3,\).*\(2,\)"):
        pad_sequences([np.ones((1, 2)), np.ones((2, 3))], dtype="float32")
