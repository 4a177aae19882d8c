"""Optimizer configs, the serialised form, the registry and argument checks."""

from __future__ import annotations

import json
import pathlib
import re
from typing import Any

import pytest
from optimizer_cases import DEFAULTS, halving

import nnx.optimizers as optimizers
from nnx.optimizers import SGD, Adam, AdamW, Nadam, Optimizer, RMSprop
from nnx.schedules import ExponentialDecay


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


def test_schedules_are_stored_in_the_serialised_form():
    schedule = ExponentialDecay(0.2, decay_steps=10, decay_rate=0.5)
    config = Adam(learning_rate=schedule).get_config()
    assert config["learning_rate"] == {
        "class_name": "ExponentialDecay",
        "config": {
            "initial_learning_rate": 0.2,
            "decay_steps": 10,
            "decay_rate": 0.5,
            "staircase": False,
        },
    }
    rebuilt = Adam.from_config(json.loads(json.dumps(config)))
    assert isinstance(rebuilt.learning_rate_schedule, ExponentialDecay)
    assert rebuilt.learning_rate == 0.2 and rebuilt.get_config() == config
    plain = SGD(learning_rate=halving).get_config()
    assert plain["learning_rate"] == repr(halving)
    with pytest.raises(ValueError, match="plain callable"):
        SGD.from_config(plain)


def test_a_schedule_that_nnx_does_not_know_is_a_clear_error():
    config = Adam(learning_rate=Halving(0.2)).get_config()
    assert config["learning_rate"] == {"class_name": "Halving", "config": {"initial": 0.2}}
    with pytest.raises(ValueError, match=r"Unknown schedule 'Halving'\. Valid schedules: Cos"):
        Adam.from_config(config)


def test_the_0_1_optimizer_form_still_loads():
    saved = {  # as nnx 0.1 wrote Adam with an ExponentialDecay schedule
        "class_name": "Adam",
        "config": {
            "name": "adam",
            "learning_rate": {
                "class_name": "ExponentialDecay",
                "config": {
                    "initial_learning_rate": 0.01,
                    "decay_steps": 10,
                    "decay_rate": 0.9,
                    "staircase": False,
                },
            },
            "weight_decay": None,
            "clipnorm": 1.0,
            "clipvalue": None,
            "global_clipnorm": None,
            "beta_1": 0.9,
            "beta_2": 0.999,
            "epsilon": 1e-07,
            "amsgrad": False,
        },
    }
    opt = optimizers.get(saved)
    assert isinstance(opt, Adam) and opt.clipnorm == 1.0
    assert isinstance(opt.learning_rate_schedule, ExponentialDecay)
    assert optimizers.serialize(opt) == saved  # the same form is written today
    sgd = optimizers.get({"name": "sgd", "momentum": 0.9, "nesterov": True})  # a 0.1 dict
    assert (type(sgd), sgd.momentum, sgd.nesterov) == (SGD, 0.9, True)


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
    with pytest.raises(ValueError, match=r"config needs a 'class_name' key \(one of adadelta, "):
        optimizers.get({"momentum": 0.9})
    with pytest.raises(TypeError, match="Expected an optimizer name"):
        optimizers.get(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Invalid config for optimizer 'sgd'"):
        optimizers.get({"name": "sgd", "betas": 0.9})


BAD_ARGUMENTS: list[tuple[type[Optimizer], dict[str, Any], str]] = [
    (
        SGD,
        {"learning_rate": -1},
        r"^SGD: learning_rate must be a float >= 0, received learning_rate=-1\.$",
    ),
    (Adam, {"learning_rate": "0.1"}, "learning_rate must be a float or a schedule"),
    (Adam, {"learning_rate": float("nan")}, "learning_rate must be a float >= 0"),
    (Adam, {"learning_rate": float("inf")}, "learning_rate must be a float >= 0"),
    (SGD, {"clipnorm": 1.0, "global_clipnorm": 1.0}, "only one of clipnorm, clipvalue"),
    (SGD, {"clipvalue": 1.0, "clipnorm": 1.0}, "received clipnorm=1.0, clipvalue=1.0"),
    (SGD, {"clipnorm": 0}, r"^SGD: clipnorm must be a float > 0, received clipnorm=0\.$"),
    (SGD, {"weight_decay": -0.1}, "weight_decay must be a float >= 0"),
    (SGD, {"momentum": 1.5}, r"SGD: momentum must be a float in \[0, 1\], received momentum=1.5"),
    (SGD, {"nesterov": 1}, "nesterov must be True or False, received nesterov=1"),
    (RMSprop, {"rho": -0.1}, r"rho must be a float in \[0, 1\]"),
    (RMSprop, {"centered": "yes"}, "centered must be True or False"),
    (Adam, {"beta_1": 1.0}, r"Adam: beta_1 must be a float in \[0, 1\), received beta_1=1.0"),
    (Adam, {"epsilon": -1e-7}, "epsilon must be a float >= 0"),
    (Adam, {"amsgrad": None}, "amsgrad must be True or False"),
    (AdamW, {"weight_decay": None}, "AdamW: weight_decay must be a float"),
    (Nadam, {"beta_2": True}, r"beta_2 must be a float in \[0, 1\), received beta_2=True"),
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
