"""Benchmark parametrization: backends worth timing (numpy; cupy where a CUDA device answers).

``array_api_strict`` is for conformance, not speed, so it is never timed. In CI the suite runs
with ``--benchmark-disable`` (each benchmarked function runs once) and checks what it times.
Run the timings with ``python -m pytest bench --benchmark-enable --benchmark-only``.
"""

from __future__ import annotations

import pytest

import nnx.backends as nb
from nnx.benchmarks.cases import cases, cnn_available

SPEED_BACKENDS = [name for name in nb.available() if name in ("numpy", "cupy")]


def _params(keep=lambda case: True, variants: tuple[str, ...] = ("",)) -> list:
    """Cases (x variants) as pytest params; the CNN skipped until convolutions exist."""
    params = []
    for case in filter(keep, cases()):
        marks = ()
        if case.spec.conv and not cnn_available():
            marks = pytest.mark.skip(reason="nnx.layers has no Conv2D/MaxPooling2D yet")
        for variant in variants:
            label = f"{case.label}-{variant}" if variant else case.label
            values = (case, variant) if variant else (case,)
            params.append(pytest.param(*values, id=label, marks=marks))
    return params


def _trains(case) -> bool:
    return case.phase.startswith("train")


CASES = _params()
#: torch: every case with the default optimizers, train steps also with foreach and fused
TORCH_CASES = _params(variants=("default",)) + _params(_trains, ("foreach", "fused"))
#: scikit-learn: the MLPs, no forward+backward phase (MLPClassifier has none)
SKLEARN_CASES = _params(
    lambda c: not c.spec.conv and c.phase != "forward_backward", ("partial_fit", "fit")
)


@pytest.fixture(params=SPEED_BACKENDS)
def speed_backend(request: pytest.FixtureRequest) -> str:
    """numpy, and cupy where it works."""
    return request.param
