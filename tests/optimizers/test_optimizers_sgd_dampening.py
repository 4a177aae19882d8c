"""SGD's ``dampening``: torch.optim.SGD number by number, the lessons' damped momentum, errors."""

from __future__ import annotations

import numpy as np
import pytest
from optimizer_cases import data, make, set_grads, values

from nnx.optimizers import SGD


def _steps(backend, opt, ws0, grads):
    params = make(backend, ws0)
    out = []
    for gs in grads:
        set_grads(backend, params, gs)
        opt.step(params)
        out.append([np.array(v, copy=True) for v in values(backend, params)])
    return out


@pytest.mark.parametrize(("momentum", "dampening"), [(0.9, 0.9), (0.9, 0.5), (0.5, 1.0)])
def test_dampening_matches_torch_step_by_step(backend, momentum, dampening):
    torch = pytest.importorskip("torch")
    ws0, grads = data(5)
    got = _steps(backend, SGD(0.1, momentum=momentum, dampening=dampening), ws0, grads)
    tparams = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in ws0]
    topt = torch.optim.SGD(tparams, lr=0.1, momentum=momentum, dampening=dampening)
    for step, gs in enumerate(grads):
        for tp, g in zip(tparams, gs, strict=True):
            tp.grad = torch.tensor(g, dtype=torch.float64)
        topt.step()
        for w, tp in zip(got[step], tparams, strict=True):
            np.testing.assert_allclose(w, tp.detach().numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(("momentum", "dampening"), [(0.9, 0.9), (0.9, 0.5), (0.5, 1.0)])
def test_dampening_follows_torchs_formula_without_torch(backend, momentum, dampening):
    """torch's ``buf = g`` (first step), ``buf = mu buf + (1 - d) g``, ``w -= lr buf``; with
    ``d = mu = beta`` that is the lessons' ``v = beta v + (1 - beta) g`` from the second step."""
    lr = 0.1
    ws0, grads = data(4)
    got = _steps(backend, SGD(lr, momentum=momentum, dampening=dampening), ws0, grads)
    ws = [w.copy() for w in ws0]
    bufs = [g.copy() for g in grads[0]]
    for step, gs in enumerate(grads):
        if step:
            bufs = [momentum * b + (1 - dampening) * g for b, g in zip(bufs, gs, strict=True)]
        ws = [w - lr * b for w, b in zip(ws, bufs, strict=True)]
        for w, e in zip(got[step], ws, strict=True):
            np.testing.assert_allclose(w, e, rtol=1e-12, atol=1e-14)


def test_zero_dampening_changes_nothing(backend):
    ws0, grads = data(3)
    plain = _steps(backend, SGD(0.1, momentum=0.9), ws0, grads)
    zero = _steps(backend, SGD(0.1, momentum=0.9, dampening=0.0), ws0, grads)
    for a, b in zip(plain[-1], zero[-1], strict=True):
        np.testing.assert_array_equal(a, b)


def test_dampening_round_trips_and_is_checked():
    opt = SGD(0.1, momentum=0.9, dampening=0.9)
    assert SGD.from_config(opt.get_config()).dampening == 0.9
    with pytest.raises(ValueError, match=r"dampening.*1\.5"):
        SGD(0.1, momentum=0.9, dampening=1.5)
    with pytest.raises(ValueError, match="Nesterov.*dampening=0.5"):
        SGD(0.1, momentum=0.9, nesterov=True, dampening=0.5)
