"""Shared by the optimizer tests: Keras defaults, the hyper-parameter cases, and the published
formulas written out in float64 NumPy (the reference every optimizer is checked against)."""

from __future__ import annotations

from typing import Any

import numpy as np

from nnx.layers.base import Parameter

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
