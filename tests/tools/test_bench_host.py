"""The host line above every bench table (nnx/benchmarks/host.py)."""

from __future__ import annotations

import os

import pytest

from nnx.benchmarks.host import blas, cpu_model, describe, host, notes


@pytest.mark.skipif(not os.path.exists("/proc/cpuinfo"), reason="Linux's /proc/cpuinfo")
def test_the_cpu_is_named_with_its_family_model_and_simd_width():
    with open("/proc/cpuinfo") as f:
        text = f.read()
    name = cpu_model()
    assert "family " in name and ", model " in name
    assert ("AVX-512" if " avx512f" in text else "no AVX-512") in name


def test_a_blas_kernel_forced_from_the_environment_is_said(monkeypatch):
    monkeypatch.delenv("OPENBLAS_CORETYPE", raising=False)
    plain = blas()
    assert "forced" not in plain
    if not plain.startswith("openblas"):
        pytest.skip(f"NumPy's BLAS here is {plain}")
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    assert "forced by OPENBLAS_CORETYPE=Haswell" in blas()


def test_the_line_says_what_was_done_to_malloc():
    info = host()
    assert info["malloc"].startswith(("glibc thresholds", "left"))
    assert f"malloc {info['malloc']} |" in describe(info)


def test_a_forced_blas_kernel_comes_with_advice(monkeypatch):
    monkeypatch.delenv("OPENBLAS_CORETYPE", raising=False)
    assert notes() == []
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    (line,) = notes()
    assert "OPENBLAS_CORETYPE=Haswell" in line and "env -u OPENBLAS_CORETYPE" in line
