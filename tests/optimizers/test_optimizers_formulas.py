"""Optimizers: golden values against a plain NumPy version of each published formula, and
PyTorch where it is installed."""

from __future__ import annotations

import numpy as np
import pytest
from optimizer_cases import CASES, IDS, data, make, reference, set_grads, values

import nnx.optimizers as optimizers


# --- golden values -------------------------------------------------------------------------
@pytest.mark.parametrize(("kind", "hp"), CASES, ids=IDS)
def test_three_steps_match_the_published_formula(backend, kind, hp):
    ws0, grads = data()
    params, opt = make(backend, ws0), optimizers.get({"name": kind, **hp})
    expected, previous = reference(kind, hp, ws0, grads), ws0
    for t in range(3):
        set_grads(backend, params, grads[t])
        opt.step(params)
        got = values(backend, params)
        for w, e, prev in zip(got, expected[t], previous, strict=True):
            np.testing.assert_allclose(w, e, rtol=1e-12, atol=1e-14)
            np.testing.assert_allclose(w - prev, e - prev, rtol=1e-9, atol=1e-15)
        previous = expected[t]
    assert opt.iterations == 3


@pytest.mark.parametrize(("kind", "hp"), CASES, ids=IDS)
def test_float32_stays_float32(backend, kind, hp):
    ws0, grads = data(2)
    params, opt = make(backend, ws0, "float32"), optimizers.get({"name": kind, **hp})
    for gs in grads:
        set_grads(backend, params, gs, "float32")
        opt.step(params)
    assert all(backend.dtype_name(p.value) == "float32" for p in params)
    for w, e in zip(values(backend, params), reference(kind, hp, ws0, grads)[-1], strict=True):
        np.testing.assert_allclose(w, e, rtol=1e-4, atol=1e-5)


def test_torch_gives_the_same_three_steps(backend):
    torch = pytest.importorskip("torch")
    o = torch.optim
    cases = [
        ({"name": "sgd", "learning_rate": 0.1}, lambda p: o.SGD(p, lr=0.1)),
        (
            {"name": "sgd", "learning_rate": 0.1, "momentum": 0.9},
            lambda p: o.SGD(p, lr=0.1, momentum=0.9),
        ),
        (
            {"name": "sgd", "learning_rate": 0.1, "momentum": 0.9, "nesterov": True},
            lambda p: o.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
        ),
        ({"name": "adam", "learning_rate": 0.1}, lambda p: o.Adam(p, lr=0.1, eps=1e-7)),
        (
            {"name": "adam", "learning_rate": 0.1, "beta_1": 0.8, "amsgrad": True},
            lambda p: o.Adam(p, lr=0.1, betas=(0.8, 0.999), eps=1e-7, amsgrad=True),
        ),
        (
            {"name": "adamw", "learning_rate": 0.1},
            lambda p: o.AdamW(p, lr=0.1, eps=1e-7, weight_decay=0.004),
        ),
        (
            {"name": "adamw", "learning_rate": 0.1, "weight_decay": 0.2},
            lambda p: o.AdamW(p, lr=0.1, eps=1e-7, weight_decay=0.2),
        ),
        ({"name": "nadam", "learning_rate": 0.1}, lambda p: o.NAdam(p, lr=0.1, eps=1e-7)),
        # torch adds epsilon outside the square root: they agree for epsilon = 0
        (
            {"name": "adagrad", "learning_rate": 0.1, "epsilon": 0.0},
            lambda p: o.Adagrad(p, lr=0.1, initial_accumulator_value=0.1, eps=0.0),
        ),
        (
            {"name": "rmsprop", "learning_rate": 0.01, "epsilon": 0.0},
            lambda p: o.RMSprop(p, lr=0.01, alpha=0.9, eps=0.0),
        ),
        (
            {
                "name": "rmsprop",
                "learning_rate": 0.01,
                "epsilon": 0.0,
                "momentum": 0.5,
                "centered": True,
            },
            lambda p: o.RMSprop(p, lr=0.01, alpha=0.9, eps=0.0, momentum=0.5, centered=True),
        ),
        (
            {"name": "adadelta", "learning_rate": 1.0, "rho": 0.9, "epsilon": 1e-6},
            lambda p: o.Adadelta(p, lr=1.0, rho=0.9, eps=1e-6),
        ),
    ]
    ws0, grads = data()
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # else torch keeps NAdam's mu_product in float32
    try:
        for spec, make_torch in cases:
            _compare_with_torch(backend, torch, spec, make_torch, ws0, grads)
    finally:
        torch.set_default_dtype(default)


def _compare_with_torch(backend, torch, spec, make_torch, ws0, grads):
    params, opt = make(backend, ws0), optimizers.get(spec)
    tparams = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in ws0]
    topt = make_torch(tparams)
    for gs in grads:
        set_grads(backend, params, gs)
        opt.step(params)
        for tp, g in zip(tparams, gs, strict=True):
            tp.grad = torch.tensor(g, dtype=torch.float64)
        topt.step()
        for w, tp in zip(values(backend, params), tparams, strict=True):
            np.testing.assert_allclose(
                w, tp.detach().numpy(), rtol=1e-12, atol=1e-14, err_msg=str(spec)
            )
