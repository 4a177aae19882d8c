"""Optimizer checkpoints: state_dict / load_state_dict round trips and their checks."""

from __future__ import annotations

import json

import numpy as np
import pytest
from optimizer_cases import CASES, IDS, data, make, set_grads, values

import nnx.optimizers as optimizers
from nnx.optimizers import SGD, Adam, Nadam


# --- checkpoints ---------------------------------------------------------------------------
@pytest.mark.parametrize(("kind", "hp"), CASES, ids=IDS)
def test_state_dict_round_trip_gives_the_same_next_update(backend, kind, hp):
    ws0, grads = data(4)
    a, opt_a = make(backend, ws0), optimizers.get({"name": kind, **hp})
    for gs in grads[:2]:
        set_grads(backend, a, gs)
        opt_a.step(a)
    state = opt_a.state_dict()
    saved = [
        None if s is None else {k: backend.to_numpy(v) for k, v in s.items()}
        for s in state["slots"]
    ]
    b, opt_b = make(backend, values(backend, a)), optimizers.get({"name": kind, **hp})
    opt_b.load_state_dict(state)
    for gs in grads[2:]:
        for params, opt in ((a, opt_a), (b, opt_b)):
            set_grads(backend, params, gs)
            opt.step(params)
        for wa, wb in zip(values(backend, a), values(backend, b), strict=True):
            np.testing.assert_array_equal(wa, wb)
    assert opt_b.iterations == 4
    for s, host in zip(state["slots"], saved, strict=True):  # the state holds copies
        for k, v in (s or {}).items():
            np.testing.assert_array_equal(backend.to_numpy(v), (host or {})[k])


def test_state_loads_from_host_arrays(backend):
    ws0, grads = data(3)
    a, opt_a = make(backend, ws0), Nadam(learning_rate=0.1)
    set_grads(backend, a, grads[0])
    opt_a.step(a)
    state = opt_a.state_dict()
    state["slots"] = [{k: backend.to_numpy(v) for k, v in s.items()} for s in state["slots"]]
    state = json.loads(json.dumps({**state, "slots": None})) | {"slots": state["slots"]}
    b, opt_b = make(backend, values(backend, a)), Nadam(learning_rate=0.1)
    opt_b.load_state_dict(state, b)
    for gs in grads[1:]:
        for params, opt in ((a, opt_a), (b, opt_b)):
            set_grads(backend, params, gs)
            opt.step(params)
    for wa, wb in zip(values(backend, a), values(backend, b), strict=True):
        np.testing.assert_array_equal(wa, wb)


def test_load_state_dict_checks_shapes_slots_and_class(backend):
    ws0, grads = data(1)
    params, opt = make(backend, ws0), SGD(momentum=0.9)
    set_grads(backend, params, grads[0])
    opt.step(params)
    state = opt.state_dict()
    swapped = make(backend, ws0[::-1])
    with pytest.raises(ValueError, match=r"slot 'momentum' of parameter 0 \('p0'\) has shape"):
        SGD(momentum=0.9).load_state_dict(state, swapped)
    later = SGD(momentum=0.9)
    later.load_state_dict(state)
    set_grads(backend, swapped, grads[0][::-1])
    with pytest.raises(ValueError, match="slot 'momentum' of parameter 0"):
        later.step(swapped)
    with pytest.raises(ValueError, match=r"parameter 0 has shape \(5,\), expected \(3, 4\)"):
        opt.load_state_dict({**state, "slots": state["slots"][::-1]})
    with pytest.raises(ValueError, match=r"parameter 0 has slots \['momentum'\], not \[\]"):
        SGD().load_state_dict(state)
    with pytest.raises(ValueError, match="cannot load the state of a SGD"):
        Adam().load_state_dict(state)
