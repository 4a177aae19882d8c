"""Learning-rate schedules: values, argument checks, the registry and the serialised form."""

from __future__ import annotations

import json

import pytest

import nnx
from nnx import schedules
from nnx.optimizers import SGD


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        (schedules.ExponentialDecay(0.1, 10, 0.5), {0: 0.1, 5: 0.1 * 0.5**0.5, 20: 0.025}),
        (schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True), {9: 0.1, 10: 0.05}),
        (schedules.StepDecay(0.2, rate=0.5, steps=3), {0: 0.2, 2: 0.2, 3: 0.1, 7: 0.05}),
        (schedules.InverseTimeDecay(0.1, decay_rate=0.5), {0: 0.1, 2: 0.05, 6: 0.025}),
        (schedules.PiecewiseConstant([5, 10], [1.0, 0.1, 0.01]), {5: 1.0, 6: 0.1, 11: 0.01}),
        (
            schedules.CosineDecay(1.0, decay_steps=100, alpha=0.1),
            {0: 1.0, 50: 0.55, 100: 0.1, 500: 0.1},
        ),
        (
            schedules.CosineDecay(2.0, 10, warmup_steps=4, warmup_start=1.0),
            {0: 1.0, 2: 1.5, 4: 2.0},
        ),
        (schedules.CyclicalLearningRate(0.1, 0.5, 4), {0: 0.1, 2: 0.3, 4: 0.5, 8: 0.1, 10: 0.3}),
        (
            schedules.CyclicalLearningRate(0.0, 1.0, 2, mode="triangular2"),
            {2: 1.0, 6: 0.5, 10: 0.25},
        ),
        (
            schedules.CyclicalLearningRate(0.0, 1.0, 2, mode="exp_range", gamma=0.9),
            {2: 0.81, 6: 0.9**6},
        ),
    ],
)
def test_schedule_values(schedule, expected):
    for step, value in expected.items():
        assert schedule(step) == pytest.approx(value, rel=1e-12)
        assert isinstance(schedule(step), float)
    rebuilt = type(schedule).from_config(schedule.get_config())
    assert [rebuilt(s) for s in expected] == [schedule(s) for s in expected]


def test_schedules_validate_arguments():
    with pytest.raises(ValueError, match=r"^ExponentialDecay: decay_steps must be a float > 0"):
        schedules.ExponentialDecay(0.1, 0, 0.5)
    with pytest.raises(ValueError, match=r"^StepDecay: initial_learning_rate must be a float >= 0"):
        schedules.StepDecay(-0.1)
    # StepDecay(lr, rate, steps) mistyped as StepDecay(lr, steps, rate): refused, not steps=0.
    with pytest.raises(ValueError, match=r"^StepDecay: steps must be a positive int.*steps=0.5"):
        schedules.StepDecay(0.1, 30, 0.5)
    with pytest.raises(ValueError, match="CyclicalLearningRate: mode must be one of 'triangular'"):
        schedules.CyclicalLearningRate(0.1, 1.0, 2, mode="sine")
    with pytest.raises(ValueError, match="boundaries"):
        schedules.PiecewiseConstant([2, 1], [1.0, 0.5, 0.1])
    with pytest.raises(ValueError, match="step"):
        schedules.StepDecay(0.1)(-1)


def test_optimizer_config_round_trips_a_schedule():
    opt = SGD(schedules.StepDecay(0.1, rate=0.5, steps=2), momentum=0.9)
    rebuilt = nnx.optimizers.get(nnx.optimizers.serialize(opt))
    assert isinstance(rebuilt.learning_rate_schedule, schedules.StepDecay)
    rebuilt.iterations = 4
    assert rebuilt.learning_rate == pytest.approx(0.025)


def test_registry_names_and_serialised_form():
    assert schedules.names() == [
        "CosineDecay",
        "CyclicalLearningRate",
        "ExponentialDecay",
        "InverseTimeDecay",
        "PiecewiseConstant",
        "StepDecay",
    ]
    schedule = schedules.CosineDecay(1.0, decay_steps=10, warmup_steps=2)
    serialised = schedules.serialize(schedule)
    assert serialised == {"class_name": "CosineDecay", "config": schedule.get_config()}
    rebuilt = schedules.get(json.loads(json.dumps(serialised)))
    assert type(rebuilt) is schedules.CosineDecay and rebuilt.get_config() == schedule.get_config()
    assert schedules.get(schedule) is schedule
    snake = {"class_name": "step_decay", "config": {"initial_learning_rate": 0.1}}
    assert schedules.get(snake)(10) == 0.05


def test_registry_errors_name_the_valid_schedules():
    with pytest.raises(ValueError, match=r"Unknown schedule 'Halving'\. Valid schedules: Cosine"):
        schedules.get({"class_name": "Halving", "config": {}})
    with pytest.raises(ValueError, match="Invalid config for schedule 'StepDecay'"):
        schedules.get({"class_name": "StepDecay", "config": {"decay": 0.5}})
    with pytest.raises(TypeError, match="Expected a learning-rate schedule"):
        schedules.get(0.1)  # type: ignore[arg-type]
