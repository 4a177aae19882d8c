"""Optimizer.step: in-place updates, nothing read back from the device, skipped parameters,
clipping on a copy, schedules evaluated at the step."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from optimizer_cases import CASES, IDS, SHAPES, data, halving, make, set_grads, values

import nnx.backends
import nnx.optimizers as optimizers
from nnx.optimizers import SGD, Adam


# --- the step ------------------------------------------------------------------------------
@pytest.mark.parametrize(("kind", "hp"), CASES, ids=IDS)
def test_step_updates_the_existing_arrays(backend, kind, hp):
    ws0, grads = data(2)
    params, opt = make(backend, ws0), optimizers.get({"name": kind, **hp})
    before = [p.value for p in params]
    for gs in grads:
        set_grads(backend, params, gs)
        opt.step(params)
    assert all(p.value is b for p, b in zip(params, before, strict=True))
    assert not all(
        np.array_equal(w, w0) for w, w0 in zip(values(backend, params), ws0, strict=True)
    )


@pytest.mark.parametrize(("kind", "hp"), CASES, ids=IDS)
def test_step_never_reads_values_back_from_the_device(monkeypatch, kind, hp):
    pytest.importorskip("array_api_strict")
    backend = nnx.backends.get_backend("array_api_strict")
    ws0, grads = data(2)
    params, opt = make(backend, ws0), optimizers.get({"name": kind, **hp})
    array_type = type(params[0].value)

    def trap(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("an array was read back to the host inside step()")

    with monkeypatch.context() as patch:
        for name in (
            "__bool__",
            "__float__",
            "__int__",
            "__index__",
            "__complex__",
            "__array__",
            "__dlpack__",
        ):
            patch.setattr(array_type, name, trap)
        for gs in grads:
            for p, g in zip(params, gs, strict=True):
                p.grad = backend.asarray(g, dtype="float64")
            opt.step(params)


def test_params_without_grad_or_not_trainable_are_untouched(backend):
    ws0, grads = data(2)
    params = make(backend, [*ws0, ws0[0]])
    opt = Adam(learning_rate=0.1)
    params[1].trainable = False
    for gs in grads:
        params[1].grad = backend.asarray(gs[1], dtype="float64")
        params[2].grad = backend.asarray(gs[0], dtype="float64")
        opt.step(params)
    np.testing.assert_array_equal(backend.to_numpy(params[0].value), ws0[0])
    np.testing.assert_array_equal(backend.to_numpy(params[1].value), ws0[1])
    assert backend.to_numpy(params[2].value).tolist() != ws0[0].tolist()
    assert opt.state_dict()["slots"][:2] == [None, None]
    params[0].grad = backend.asarray(grads[0][0], dtype="float64")
    opt.step(params)  # a position that gets its first gradient late gets fresh slots
    assert opt.state_dict()["slots"][0] is not None


@pytest.mark.parametrize("clip", [{"clipnorm": 0.5}, {"clipvalue": 0.1}, {"global_clipnorm": 0.5}])
def test_clipping_leaves_the_gradient_alone_and_handles_zero(backend, clip):
    ws0, grads = data(1)
    params = make(backend, ws0)
    set_grads(backend, params, grads[0])
    SGD(learning_rate=0.1, **clip).step(params)
    for p, g in zip(params, grads[0], strict=True):
        np.testing.assert_array_equal(backend.to_numpy(p.grad), g)
    set_grads(backend, params, [np.zeros(s) for s in SHAPES])
    before = values(backend, params)
    SGD(learning_rate=0.1, **clip).step(params)
    for w, b in zip(values(backend, params), before, strict=True):
        np.testing.assert_array_equal(w, b)


def test_learning_rate_reports_the_schedule_at_the_current_step(backend):
    opt = SGD(learning_rate=halving)
    assert opt.learning_rate == 0.1
    params = make(backend, [np.ones(2)])
    params[0].grad = backend.asarray(np.ones(2), dtype="float64")
    opt.step(params)
    assert (opt.iterations, opt.learning_rate) == (1, 0.05)
    opt.learning_rate = 0.5
    assert opt.get_config()["learning_rate"] == 0.5
