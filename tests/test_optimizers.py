"""Optimizers: golden values against a plain NumPy version of each published formula, PyTorch
where it is installed, in-place updates, checkpoints, configs, the registry and argument checks."""

from __future__ import annotations

import json
import pathlib
import re
import sys
import types
from typing import Any

import numpy as np
import pytest

import nnx.backends
import nnx.optimizers as optimizers
from nnx.layers.base import Parameter
from nnx.optimizers import SGD, Adam, AdamW, Nadam, Optimizer, RMSprop

SHAPES = [(3, 4), (5,)]
# Keras 3 defaults, written out independently of the implementation
DEFAULTS: dict[str, dict[str, Any]] = {
    "sgd": {"learning_rate": 0.01, "momentum": 0.0, "nesterov": False},
    "rmsprop": {
        "learning_rate": 0.001,
        "rho": 0.9,
        "momentum": 0.0,
        "epsilon": 1e-7,
        "centered": False,
    },
    "adagrad": {"learning_rate": 0.001, "initial_accumulator_value": 0.1, "epsilon": 1e-7},
    "adadelta": {"learning_rate": 0.001, "rho": 0.95, "epsilon": 1e-7},
    "adam": {
        "learning_rate": 0.001,
        "beta_1": 0.9,
        "beta_2": 0.999,
        "epsilon": 1e-7,
        "amsgrad": False,
    },
    "adamw": {
        "learning_rate": 0.001,
        "weight_decay": 0.004,
        "beta_1": 0.9,
        "beta_2": 0.999,
        "epsilon": 1e-7,
        "amsgrad": False,
    },
    "nadam": {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
}


def halving(step: int) -> float:
    return 0.1 * 0.5**step


CASES: list[tuple[str, dict[str, Any]]] = [
    ("sgd", {}),
    ("sgd", {"learning_rate": 0.1}),
    ("sgd", {"learning_rate": 0.1, "momentum": 0.9}),
    ("sgd", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}),
    ("rmsprop", {"learning_rate": 0.01}),
    ("rmsprop", {"learning_rate": 0.01, "momentum": 0.5}),
    ("rmsprop", {"learning_rate": 0.01, "centered": True}),
    ("rmsprop", {"learning_rate": 0.01, "rho": 0.8, "momentum": 0.5, "centered": True}),
    ("adagrad", {"learning_rate": 0.1}),
    ("adagrad", {"learning_rate": 0.1, "initial_accumulator_value": 0.5, "epsilon": 1e-3}),
    ("adadelta", {"learning_rate": 1.0}),
    ("adadelta", {"learning_rate": 1.0, "rho": 0.9, "epsilon": 1e-3}),
    ("adam", {"learning_rate": 0.1}),
    ("adam", {"learning_rate": 0.1, "amsgrad": True}),
    ("adam", {"learning_rate": 0.1, "beta_1": 0.5, "beta_2": 0.9, "epsilon": 1e-2}),
    ("adamw", {"learning_rate": 0.1}),
    ("adamw", {"learning_rate": 0.1, "weight_decay": 0.1, "amsgrad": True}),
    ("nadam", {"learning_rate": 0.1}),
    ("nadam", {"learning_rate": 0.1, "beta_1": 0.8, "epsilon": 1e-2}),
    ("sgd", {"learning_rate": 0.1, "clipnorm": 0.5}),
    ("adam", {"learning_rate": 0.1, "clipvalue": 0.05}),
    ("rmsprop", {"learning_rate": 0.01, "global_clipnorm": 0.3}),
    ("adagrad", {"learning_rate": 0.1, "clipnorm": 0.5, "weight_decay": 0.01}),
    ("sgd", {"learning_rate": 0.1, "momentum": 0.9, "weight_decay": 0.1}),
    ("nadam", {"learning_rate": 0.1, "weight_decay": 0.05, "global_clipnorm": 1.0}),
    ("adam", {"learning_rate": halving}),
    ("sgd", {"learning_rate": halving, "momentum": 0.9, "weight_decay": 0.1}),
]


def _case_id(kind: str, hp: dict[str, Any]) -> str:
    return "-".join([kind, *(f"{a}={getattr(v, '__name__', v)}" for a, v in hp.items())])


IDS = [_case_id(kind, hp) for kind, hp in CASES]


def data(steps: int = 3) -> tuple[list[np.ndarray], list[list[np.ndarray]]]:
    rng = np.random.default_rng(0)
    ws = [rng.normal(size=s) for s in SHAPES]
    return ws, [[rng.normal(size=s) for s in SHAPES] for _ in range(steps)]


def reference(
    kind: str, hp: dict[str, Any], ws0: list[np.ndarray], grads: list[list[np.ndarray]]
) -> list[list[np.ndarray]]:
    """The weights after each step, by the published formulas written out in float64."""
    h = {**DEFAULTS[kind], "weight_decay": DEFAULTS[kind].get("weight_decay"), **hp}
    ws = [w.copy() for w in ws0]
    st: list[dict[str, Any]] = [{} for _ in ws]
    u_prod, out = 1.0, []
    for t, gs in enumerate(grads):
        lr = h["learning_rate"](t) if callable(h["learning_rate"]) else h["learning_rate"]
        if h.get("clipnorm"):
            gs = [g * min(1.0, h["clipnorm"] / np.sqrt(np.sum(g**2))) for g in gs]
        if h.get("clipvalue"):
            gs = [np.clip(g, -h["clipvalue"], h["clipvalue"]) for g in gs]
        if h.get("global_clipnorm"):
            norm = np.sqrt(sum(np.sum(g**2) for g in gs))
            gs = [g * min(1.0, h["global_clipnorm"] / norm) for g in gs]
        T = t + 1
        if kind == "nadam":
            u_t = h["beta_1"] * (1 - 0.5 * 0.96 ** (0.004 * T))
            u_next = h["beta_1"] * (1 - 0.5 * 0.96 ** (0.004 * (T + 1)))
            u_prod *= u_t
        for w, g, s in zip(ws, gs, st, strict=True):
            if h["weight_decay"]:
                w -= lr * h["weight_decay"] * w
            if kind == "sgd" and h["momentum"] == 0:
                w -= lr * g
            elif kind == "sgd":
                s["v"] = h["momentum"] * s.get("v", 0.0) - lr * g
                w += h["momentum"] * s["v"] - lr * g if h["nesterov"] else s["v"]
            elif kind == "rmsprop":
                rho = h["rho"]
                s["v"] = rho * s.get("v", 0.0) + (1 - rho) * g**2
                denom = s["v"]
                if h["centered"]:
                    s["mg"] = rho * s.get("mg", 0.0) + (1 - rho) * g
                    denom = s["v"] - s["mg"] ** 2
                inc = lr * g / np.sqrt(denom + h["epsilon"])
                if h["momentum"]:
                    s["m"] = h["momentum"] * s.get("m", 0.0) + inc
                    inc = s["m"]
                w -= inc
            elif kind == "adagrad":
                s["acc"] = s.get("acc", h["initial_accumulator_value"]) + g**2
                w -= lr * g / np.sqrt(s["acc"] + h["epsilon"])
            elif kind == "adadelta":
                rho, eps = h["rho"], h["epsilon"]
                s["eg"] = rho * s.get("eg", 0.0) + (1 - rho) * g**2
                delta = g * np.sqrt(s.get("edx", 0.0) + eps) / np.sqrt(s["eg"] + eps)
                s["edx"] = rho * s.get("edx", 0.0) + (1 - rho) * delta**2
                w -= lr * delta
            else:  # adam, adamw, nadam
                b1, b2 = h["beta_1"], h["beta_2"]
                s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
                s["v"] = b2 * s.get("v", 0.0) + (1 - b2) * g**2
                v = s["v"]
                if h.get("amsgrad"):
                    v = s["vmax"] = np.maximum(s.get("vmax", 0.0), s["v"])
                if kind == "nadam":
                    m_hat = u_next * s["m"] / (1 - u_prod * u_next) + (1 - u_t) * g / (1 - u_prod)
                else:
                    m_hat = s["m"] / (1 - b1**T)
                w -= lr * m_hat / (np.sqrt(v / (1 - b2**T)) + h["epsilon"])
        out.append([w.copy() for w in ws])
    return out


def make(backend: Any, arrays: list[np.ndarray], dtype: str = "float64") -> list[Parameter]:
    # NOTE: copies, since the numpy backend shares host memory and steps are in place
    return [
        Parameter(backend.asarray(a.copy(), dtype=dtype), f"p{i}") for i, a in enumerate(arrays)
    ]


def set_grads(backend: Any, params: list[Parameter], gs: list[np.ndarray], dtype: str = "float64"):
    for p, g in zip(params, gs, strict=True):
        p.grad = backend.asarray(g, dtype=dtype)


def values(backend: Any, params: list[Parameter]) -> list[np.ndarray]:
    return [backend.to_numpy(p.value) for p in params]


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


# --- config and registry -------------------------------------------------------------------
class Halving:
    """A schedule with a config, standing in for one of ``nnx.schedules``."""

    def __init__(self, initial: float) -> None:
        self.initial = initial

    def __call__(self, step: int) -> float:
        return self.initial * 0.5**step

    def get_config(self) -> dict[str, Any]:
        return {"initial": self.initial}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Halving:
        return cls(**config)


@pytest.mark.parametrize("name", optimizers.names())
def test_config_round_trips_through_json(name):
    opt = optimizers.get(name)
    assert {k: v for k, v in opt.get_config().items() if k in DEFAULTS[name]} == DEFAULTS[name]
    custom = type(opt).from_config(
        {**opt.get_config(), "learning_rate": 0.3, "clipvalue": 2.0, "name": "mine"}
    )
    config = json.loads(json.dumps(custom.get_config()))
    assert type(custom).from_config(config).get_config() == config
    assert optimizers.get(optimizers.serialize(custom)).get_config() == config


def test_schedules_are_stored_as_their_config(monkeypatch):
    monkeypatch.setitem(sys.modules, "nnx.schedules", types.SimpleNamespace(Halving=Halving))
    config = Adam(learning_rate=Halving(0.2)).get_config()
    assert config["learning_rate"] == {"class_name": "Halving", "config": {"initial": 0.2}}
    assert Adam.from_config(json.loads(json.dumps(config))).learning_rate == 0.2
    plain = SGD(learning_rate=halving).get_config()
    assert plain["learning_rate"] == repr(halving)
    with pytest.raises(ValueError, match="plain callable"):
        SGD.from_config(plain)


def test_registry_resolves_names_instances_and_dicts():
    assert optimizers.names() == ["adadelta", "adagrad", "adam", "adamw", "nadam", "rmsprop", "sgd"]
    for name in optimizers.names():
        assert type(optimizers.get(name.upper())).__name__.lower() == name
    assert isinstance(optimizers.get(" RMSprop "), RMSprop)
    opt = AdamW()
    assert optimizers.get(opt) is opt
    sgd = optimizers.get({"name": "SGD", "momentum": 0.5, "learning_rate": 0.2})
    assert isinstance(sgd, SGD)
    assert (sgd.momentum, sgd.learning_rate) == (0.5, 0.2)
    valid = "adadelta, adagrad, adam, adamw, nadam, rmsprop, sgd"
    with pytest.raises(ValueError, match=f"Unknown optimizer 'adamax'. Valid optimizers: {valid}"):
        optimizers.get("adamax")
    with pytest.raises(ValueError, match="Unknown optimizer None"):
        optimizers.get({"momentum": 0.9})
    with pytest.raises(TypeError, match="Expected an optimizer name"):
        optimizers.get(3)  # type: ignore[arg-type]


BAD_ARGUMENTS: list[tuple[type[Optimizer], dict[str, Any], str]] = [
    (SGD, {"learning_rate": -1}, "^SGD: learning_rate must be >= 0, received learning_rate=-1$"),
    (Adam, {"learning_rate": "0.1"}, "learning_rate must be a float or a schedule"),
    (Adam, {"learning_rate": float("nan")}, "learning_rate must be >= 0"),
    (SGD, {"clipnorm": 1.0, "global_clipnorm": 1.0}, "only one of clipnorm, clipvalue"),
    (SGD, {"clipvalue": 1.0, "clipnorm": 1.0}, "received clipnorm=1.0, clipvalue=1.0"),
    (SGD, {"clipnorm": 0}, "SGD: clipnorm must be > 0, received clipnorm=0"),
    (SGD, {"weight_decay": -0.1}, "weight_decay must be >= 0"),
    (SGD, {"momentum": 1.5}, r"SGD: momentum must be in \[0, 1\], received momentum=1.5"),
    (SGD, {"nesterov": 1}, "nesterov must be True or False, received nesterov=1"),
    (RMSprop, {"rho": -0.1}, r"rho must be in \[0, 1\]"),
    (RMSprop, {"centered": "yes"}, "centered must be True or False"),
    (Adam, {"beta_1": 1.0}, r"Adam: beta_1 must be in \[0, 1\), received beta_1=1.0"),
    (Adam, {"epsilon": -1e-7}, "epsilon must be >= 0"),
    (Adam, {"amsgrad": None}, "amsgrad must be True or False"),
    (AdamW, {"weight_decay": None}, "AdamW: weight_decay must be a float"),
    (Nadam, {"beta_2": True}, "beta_2 must be a float, received beta_2=True"),
    (SGD, {"name": 3}, "name must be a str"),
]


@pytest.mark.parametrize(("cls", "kwargs", "message"), BAD_ARGUMENTS)
def test_bad_arguments_are_rejected_early(cls, kwargs, message):
    with pytest.raises(ValueError, match=message):
        cls(**kwargs)


def test_module_is_pure_and_documented():
    for path in pathlib.Path(optimizers.__file__).parent.glob("*.py"):
        assert not re.search(r"^\s*(import|from)\s+(numpy|cupy)\b", path.read_text(), re.M), path
    for name in optimizers.__all__:
        obj = getattr(optimizers, name)
        assert name == "LearningRate" or (obj.__doc__ or "").strip(), name
    assert issubclass(AdamW, Optimizer)
