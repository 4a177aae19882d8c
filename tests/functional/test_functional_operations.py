"""The tensor operations' vector-Jacobian products against central differences (float64, on
every backend), broadcasting's adjoint, and the shape rules' errors."""

from __future__ import annotations

import numpy as np
import pytest

from nnx.functional.operations import OPERATIONS, broadcast, unbroadcast
from nnx.gradcheck import numeric_gradient, relative_error

RNG = np.random.default_rng(3)

#: (operation, input shapes, params, positive inputs only)
CASES = [
    ("add", [(2, 3, 4), (3, 4)], {}, False),
    ("subtract", [(2, 1, 4), (3, 1)], {}, False),
    ("multiply", [(2, 3, 4), (1, 4)], {}, False),
    ("divide", [(2, 3), (3,)], {}, True),
    ("power", [(2, 3)], {"scalar": 3.0, "scalar_first": False}, True),
    ("power", [(2, 3)], {"scalar": 2.0, "scalar_first": True}, False),
    ("subtract", [(2, 3)], {"scalar": 1.5, "scalar_first": True}, False),
    ("divide", [(2, 3)], {"scalar": 2.0, "scalar_first": True}, True),
    ("matmul", [(2, 3, 4), (4, 5)], {}, False),
    ("matmul", [(2, 3, 4), (2, 4, 2)], {}, False),
    ("negative", [(2, 3)], {}, False),
    ("exp", [(2, 3)], {}, False),
    ("log", [(2, 3)], {}, True),
    ("sqrt", [(2, 3)], {}, True),
    ("square", [(2, 3)], {}, False),
    ("abs", [(2, 3)], {}, False),
    ("tanh", [(2, 3)], {}, False),
    ("sigmoid", [(2, 3)], {}, False),
    ("relu", [(2, 3)], {}, False),
    ("softmax", [(2, 3, 4)], {"axis": -1}, False),
    ("sum", [(2, 3, 4)], {"axis": [1, 2]}, False),
    ("mean", [(2, 3, 4)], {"axis": 1, "keepdims": True}, False),
    ("max", [(2, 3, 4)], {"axis": -1}, False),
    ("min", [(2, 3, 4)], {"axis": 1}, False),
    ("reshape", [(2, 3, 4)], {"shape": [None, 12]}, False),
    ("transpose", [(2, 3, 4)], {"axes": [0, 2, 1]}, False),
    ("expand_dims", [(2, 3)], {"axis": -1}, False),
    ("squeeze", [(2, 1, 3)], {"axis": 1}, False),
    ("concatenate", [(2, 3), (2, 2)], {"axis": 1}, False),
    ("stack", [(2, 3), (2, 3)], {"axis": 1}, False),
    ("cumsum", [(2, 4)], {"axis": 1}, False),
    (
        "getitem",
        [(2, 5, 3)],
        {"index": [{"slice": [None, None, None]}, {"slice": [1, 4, 2]}, 0]},
        False,
    ),
    ("cast", [(2, 3)], {"dtype": "float64"}, False),
]


@pytest.mark.parametrize(("op", "shapes", "params", "positive"), CASES)
def test_vjp_matches_central_differences(backend, op, shapes, params, positive):
    xp = backend.xp
    xs = [
        backend.asarray(np.abs(v) + 0.5 if positive else v, "float64")
        for v in (RNG.normal(size=s) for s in shapes)
    ]
    y, vjp = OPERATIONS[op].forward(xs, params)
    r = backend.asarray(RNG.normal(size=tuple(y.shape)), "float64")
    grads = vjp(r)
    assert len(grads) == len(xs)
    for x, g in zip(xs, grads, strict=True):
        assert tuple(g.shape) == tuple(x.shape)

        def f() -> float:
            return float(xp.sum(OPERATIONS[op].forward(xs, params)[0] * r))

        assert relative_error(g, numeric_gradient(f, x)) < 1e-7, op


def test_where_sends_the_gradient_to_the_branch_taken(backend):
    xp = backend.xp
    c = backend.asarray([[True, False, True]])
    a = backend.asarray([[1.0, 2.0, 3.0]], "float64")
    b = backend.asarray([10.0], "float64")
    y, vjp = OPERATIONS["where"].forward([c, a, b], {})
    g = vjp(xp.ones_like(y))
    assert backend.to_numpy(y).tolist() == [[1.0, 10.0, 3.0]]
    assert g[0] is None
    assert backend.to_numpy(g[1]).tolist() == [[1.0, 0.0, 1.0]]
    assert backend.to_numpy(g[2]).tolist() == [1.0]


def test_unbroadcast_sums_over_the_broadcast_axes():
    dy = np.ones((2, 3, 4))
    assert unbroadcast(dy, (3, 1)).tolist() == [[8.0]] * 3
    assert unbroadcast(dy, (2, 3, 4)).shape == (2, 3, 4)


def test_shape_rules_name_the_operation_and_the_shapes():
    assert broadcast((None, 4, 8), (1, 4, 8), "add") == (None, 4, 8)
    with pytest.raises(ValueError, match=r"add: shapes \(None, 4, 8\) and \(4, 7\)"):
        broadcast((None, 4, 8), (4, 7), "add")
    with pytest.raises(ValueError, match=r"multiply: .*axis 0: None against 5"):
        broadcast((None, 3), (5, 3), "multiply")
    with pytest.raises(ValueError, match="matmul: shapes"):
        OPERATIONS["matmul"].shape([(None, 3, 4), (5, 2)], {})
    with pytest.raises(ValueError, match="sum: axis 0 is the batch axis"):
        OPERATIONS["sum"].shape([(None, 3)], {"axis": None})
    with pytest.raises(ValueError, match="reshape: .*must start with None or -1"):
        OPERATIONS["reshape"].shape([(None, 3, 4)], {"shape": [3, 4]})
    assert OPERATIONS["reshape"].shape([(None, 3, 4)], {"shape": [-1, 2, -1]}) == (None, 2, 6)
    with pytest.raises(ValueError, match="transpose: axes"):
        OPERATIONS["transpose"].shape([(None, 3, 4)], {"axes": None})
    with pytest.raises(ValueError, match="batch axis .* must be kept whole"):
        OPERATIONS["getitem"].shape([(None, 3)], {"index": [0]})
