"""The fused numba optimizer kernels give the numbers of the portable updates (flat buffers)."""

from __future__ import annotations

import numpy as np
import pytest

from nnx.backends import get_backend
from nnx.backends.numba_paths import kernels
from nnx.layers import Parameter
from nnx.layers.parameter import FlatParameters
from nnx.optimizers import SGD, Adadelta, Adagrad, Adam, AdamW, Nadam, RMSprop

OPTIMIZERS = {
    "sgd": lambda **k: SGD(0.05, **k),
    "sgd_momentum": lambda **k: SGD(0.05, momentum=0.9, **k),
    "sgd_nesterov": lambda **k: SGD(0.05, momentum=0.9, nesterov=True, **k),
    "rmsprop": lambda **k: RMSprop(0.01, **k),
    "rmsprop_momentum_centered": lambda **k: RMSprop(0.01, momentum=0.5, centered=True, **k),
    "adagrad": lambda **k: Adagrad(0.1, **k),
    "adadelta": lambda **k: Adadelta(1.0, rho=0.8, epsilon=1e-3, **k),
    "adam": lambda **k: Adam(0.01, **k),
    "amsgrad": lambda **k: Adam(0.01, amsgrad=True, **k),
    "nadam": lambda **k: Nadam(0.01, **k),
}
PRELUDES = {
    "none": {},
    "weight_decay": {"weight_decay": 0.1},
    "clipvalue": {"clipvalue": 0.5},
    "global_clipnorm": {"global_clipnorm": 1.0},
}


def _run(numba, on: bool, make, dtype: str, sizes: tuple[int, ...], steps: int = 3):
    """Weights and slots after ``steps`` flat steps with numba ``on`` / off."""
    numba(on)
    b = get_backend("numpy")
    rng = np.random.default_rng(0)
    params = [
        Parameter(b.asarray(rng.normal(size=(n,)), dtype), f"p{i}") for i, n in enumerate(sizes)
    ]
    flat = FlatParameters.create(params, b)
    assert flat is not None
    opt = make()
    for _ in range(steps):
        flat.grad[...] = rng.normal(size=flat.grad.shape) * 2
        opt.step(flat)
    slots = {k: v.copy() for k, v in opt._flat[1].items()}
    return flat.value.copy(), slots


@pytest.mark.parametrize("prelude", PRELUDES)
@pytest.mark.parametrize("name", OPTIMIZERS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fused_step_equals_the_portable_step(numba, close, name, prelude, dtype):
    make = lambda: OPTIMIZERS[name](**PRELUDES[prelude])  # noqa: E731
    w_ref, s_ref = _run(numba, False, make, dtype, (7, 30))
    w, s = _run(numba, True, make, dtype, (7, 30))
    close(w, w_ref)
    assert s.keys() == s_ref.keys()
    for k in s:
        close(s[k], s_ref[k])


def test_the_fused_step_is_taken(numba):
    numba(True)
    b = get_backend("numpy")
    w, g, m, v = (b.asarray(np.ones(5), "float64") for _ in range(4))
    opt = Adam(0.1)
    assert opt.fused_step(b, w, g, {"momentum": m, "velocity": v}, opt.coefficients(0.1, 0),
                          _no_prelude())  # fmt: skip
    assert float(w[0]) != 1.0
    numba(False)
    assert not opt.fused_step(b, w, g, {"momentum": m, "velocity": v},
                              opt.coefficients(0.1, 0), _no_prelude())  # fmt: skip


@pytest.mark.parametrize("name", ["sgd_momentum", "adam"])
def test_large_buffers_are_split_over_threads(numba, close, name):
    numba(True)
    from nnx.backends.numba_jit import PARALLEL_MIN_SIZE

    sizes = (PARALLEL_MIN_SIZE, 1000)
    w, s = _run(numba, True, OPTIMIZERS[name], "float32", sizes, steps=2)
    w_ref, s_ref = _run(numba, False, OPTIMIZERS[name], "float32", sizes, steps=2)
    close(w, w_ref)
    for k in s:
        close(s[k], s_ref[k])
    assert kernels() is None  # the last run switched numba off again


def _no_prelude():
    from nnx.backends.coefficients import NO_PRELUDE

    return NO_PRELUDE


def test_adamw_decays_in_the_kernel(numba, close):
    make = lambda: AdamW(0.01, weight_decay=0.5)  # noqa: E731
    close(
        _run(numba, True, make, "float64", (11,))[0], _run(numba, False, make, "float64", (11,))[0]
    )
