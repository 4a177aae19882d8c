"""Regularizers by name: the registry, the serialised form and 0.1's, argument checks."""

from __future__ import annotations

import json

import pytest

from nnx import regularizers as R


def test_names() -> None:
    assert R.names() == ["l1", "l1_l2", "l2"]


@pytest.mark.parametrize(
    ("spec", "config"),
    [
        ("l1", {"l1": 0.01}),
        ("L1", {"l1": 0.01}),
        ("l2", {"l2": 0.01}),
        (" L2 ", {"l2": 0.01}),
        ("l1_l2", {"l1": 0.01, "l2": 0.01}),
        ("L1L2", {"l1": 0.01, "l2": 0.01}),
    ],
)
def test_get_by_name(spec: str, config: dict) -> None:
    assert R.get(spec).get_config() == config


def test_get_none_and_instances() -> None:
    assert R.get(None) is None
    reg = R.L2(0.3)
    assert R.get(reg) is reg

    class Custom:
        def __call__(self, w):
            return w.sum()

        def gradient(self, w):
            return w * 0 + 1

    custom = Custom()
    assert R.get(custom) is custom


@pytest.mark.parametrize("reg", [R.L1(0.2), R.L2(0.3), R.L1L2(0.1, 0.0), R.l1_l2()], ids=repr)
def test_config_round_trip(reg: R.Regularizer) -> None:
    config = reg.get_config()
    serialised = R.serialize(reg)
    assert serialised == {"class_name": type(reg).__name__, "config": config}
    rebuilt = R.get(json.loads(json.dumps(serialised)))
    assert type(rebuilt) is type(reg)
    assert rebuilt.get_config() == config
    legacy = R.get({"name": type(reg).name, **config})  # the form nnx 0.1 wrote
    assert type(legacy) is type(reg) and legacy.get_config() == config


def test_config_dict_uses_class_defaults() -> None:
    assert R.get({"name": "l1_l2", "l1": 0.5}).get_config() == {"l1": 0.5, "l2": 0.0}
    assert R.get({"name": "l2"}).l2 == 0.01
    assert R.get({"class_name": "L1L2", "config": {"l2": 0.5}}).get_config() == {
        "l1": 0.0,
        "l2": 0.5,
    }


def test_unknown_name_lists_valid_names() -> None:
    with pytest.raises(ValueError, match=r"Unknown regularizer 'l3'\. Valid regularizers: l1, "):
        R.get("l3")
    with pytest.raises(ValueError, match="Unknown regularizer 'elastic'"):
        R.get({"name": "elastic"})


def test_bad_specs() -> None:
    with pytest.raises(ValueError, match="config needs a 'class_name' key"):
        R.get({"l2": 0.1})
    with pytest.raises(ValueError, match="Invalid config for regularizer 'l2'"):
        R.get({"name": "l2", "l1": 0.1})
    with pytest.raises(ValueError, match="gradient"):
        R.get(lambda w: w.sum())
    with pytest.raises(ValueError, match=r"Cannot interpret 0\.01"):
        R.get(0.01)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: R.L2(-1), "L2: l2 must be a float >= 0, received l2=-1."),
        (lambda: R.L1(-0.5), "L1: l1 must be a float >= 0, received l1=-0.5."),
        (lambda: R.L1L2(l1=-0.1), "L1L2: l1 must be a float >= 0, received l1=-0.1."),
        (lambda: R.L1L2(l2=-2.0), "L1L2: l2 must be a float >= 0, received l2=-2.0."),
        (lambda: R.l1_l2(l2=-3), "L1L2: l2 must be a float >= 0, received l2=-3."),
        (lambda: R.l2("0.1"), "L2: l2 must be a float >= 0, received l2='0.1'."),
        (lambda: R.l1(float("nan")), "L1: l1 must be a float >= 0, received l1=nan."),
        (lambda: R.L2(float("inf")), "L2: l2 must be a float >= 0, received l2=inf."),
        (lambda: R.L2(True), "L2: l2 must be a float >= 0, received l2=True."),
        (lambda: R.get({"name": "l2", "l2": -1}), "L2: l2 must be a float >= 0, received l2=-1."),
    ],
)
def test_argument_validation(make, message: str) -> None:
    with pytest.raises(ValueError) as info:
        make()
    assert str(info.value) == message


def test_every_public_name_has_a_docstring() -> None:
    for name in R.__all__:
        if getattr(R, name).__module__ != R.__name__:  # re-exported (nnx.registry.serialize)
            continue
        doc = getattr(R, name).__doc__ or ""
        assert doc.strip() and ">>>" in doc, name
