"""glibc's malloc thresholds, set when the NumPy backend is created (nnx/backends/host_memory.py).

The behaviour test runs in fresh processes: a "step" that allocates and frees a dozen ~1 MB
arrays of different sizes, counting the minor page faults of later steps. By default glibc
hands such blocks out as fresh pages (thousands of faults per step); with the thresholds set,
the step reuses its heap (none).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from nnx.backends.host_memory import ENV, decide

GLIBC = (os.confstr("CS_GNU_LIBC_VERSION") or "") if hasattr(os, "confstr") else ""

STEP_FAULTS = """
import resource, sys
import numpy as np
from nnx.backends import get_backend
from nnx.backends.host_memory import tune
get_backend("numpy")  # sets the thresholds; tune() then returns what it did
print(tune())
def step():
    held = [np.ones((256, 1024 + 16 * i), dtype=np.float32) for i in range(12)]
    return sum(float(a[0, 0]) for a in held)
for _ in range(5):
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    step()
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 20)
"""


def _faults_per_step(**env: str) -> tuple[str, float]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    out = subprocess.run(
        [sys.executable, "-c", STEP_FAULTS],
        env={**environ, **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout.split("\n")
    return out[0], float(out[1])


@pytest.mark.skipif(not GLIBC.startswith("glibc"), reason="glibc's malloc only")
def test_a_step_of_fresh_arrays_reuses_the_heap_once_the_backend_exists():
    status, tuned = _faults_per_step()
    assert status.startswith("glibc thresholds: mmap 32 MiB, trim 64 MiB")
    assert tuned < 5  # ~1 MB blocks come back from the heap, already mapped
    status, untuned = _faults_per_step(**{ENV: "0"})
    assert status == f"left alone ({ENV}=0)"
    assert untuned > 100 * (tuned + 1)  # glibc's default maps fresh pages for every block


@pytest.mark.parametrize(
    ("environ", "libc", "expected"),
    [
        ({}, "glibc 2.36", None),
        ({ENV: "1"}, "glibc 2.36", None),
        ({ENV: "0"}, "glibc 2.36", f"left alone ({ENV}=0)"),
        ({}, None, "left alone (the C library is not glibc)"),
        ({}, "musl", "left alone (the C library is not glibc)"),
        (
            {"MALLOC_TRIM_THRESHOLD_": "0"},
            "glibc 2.36",
            "left to the environment's MALLOC_TRIM_THRESHOLD_",
        ),
        (
            {"GLIBC_TUNABLES": "glibc.malloc.mmap_threshold=65536"},
            "glibc 2.36",
            "left to the environment's GLIBC_TUNABLES",
        ),
        ({"GLIBC_TUNABLES": "glibc.cpu.hwcaps=-AVX2"}, "glibc 2.36", None),
    ],
)
def test_the_user_s_own_settings_and_other_c_libraries_are_left_alone(environ, libc, expected):
    assert decide(environ, libc) == expected
