"""``python -m nnx selfcheck``: its checks, report and verdict, proven on the CPU backends (the
CuPy stand-in run is in tests/backends/test_backends_cupy_standin.py)."""

from __future__ import annotations

import json
import subprocess

import pytest

import nnx.backends as nb
from nnx import selfcheck
from nnx.backends.numpy_backend import NumpyBackend
from nnx.cli import main
from nnx.layers import layer_class, layer_names

QUICK = "tests,bench"


# NOTE: the layer tests already gradient-check every layer on device1; here it would cost 10 s.
@pytest.mark.parametrize(
    ("backend", "skip"),
    [("numpy", QUICK), ("array_api_strict:device1", QUICK + ",gradients")],
)
def test_selfcheck_passes_and_writes_the_report(backend, skip, tmp_path, capsys):
    assert main(["selfcheck", "--backend", backend, "--skip", skip, "--out", str(tmp_path)]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith(f"selfcheck PASS on {backend} (")
    skipped = sorted(skip.split(","))
    assert f"{6 - len(skipped)} passed; skipped: {', '.join(skipped)}" in last
    stem = tmp_path / f"selfcheck-{backend.replace(':', '-')}"
    report = json.loads(stem.with_suffix(".json").read_text())
    assert report["verdict"] == last
    assert report["environment"]["backend"] == backend
    assert {"device", "library", "date", "packages"} <= set(report["environment"])
    if "gradients" not in skip:
        gradients = report["checks"]["gradients"]["max_relative_error"]
        assert set(gradients) == {name for name, *_ in selfcheck.LAYER_CASES}
    assert report["checks"]["resume"]["bit_exact_resume"] is True
    markdown = stem.with_suffix(".md").read_text()
    assert markdown.startswith("# nnx selfcheck") and f"**{last}**" in markdown


def test_every_registered_layer_is_gradient_checked():
    # (other tests register layers of their own: only nnx's count)
    builtin = {n for n in layer_names() if layer_class(n).__module__.startswith("nnx.")}
    # TextVectorization and StringLookup map strings to numbers, IntegerLookup ids to indices,
    # Discretization and CategoryEncoding values to bins and ids; Input and Constant pass no
    # gradient
    untested = {"Input", "Constant", "TextVectorization", "Discretization", "CategoryEncoding"}
    untested |= {"StringLookup", "IntegerLookup"}
    assert {name for name, *_ in selfcheck.LAYER_CASES} == builtin - untested


def test_a_wrong_fast_path_fails_the_verdict(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(NumpyBackend, "relu_backward", lambda self, dy, x, y: 2 * dy)
    skip = QUICK + ",gradients,resume"
    code = main(["selfcheck", "--backend", "numpy", "--skip", skip, "--out", str(tmp_path)])
    assert code == 1
    assert "selfcheck FAIL on numpy" in capsys.readouterr().out
    failed = json.loads((tmp_path / "selfcheck-numpy.json").read_text())["checks"]["kernels"]
    assert set(failed["failed"]) == {"relu_backward/float32", "relu_backward/float64"}


def test_a_crashing_check_is_reported_not_raised(monkeypatch):
    def broken(backend):
        raise RuntimeError("device lost")

    monkeypatch.setitem(selfcheck.CHECKS, "seeds", broken)
    report = selfcheck.run("numpy", skip=(*QUICK.split(","), "gradients"), out=None, echo=print)
    seeds = report["checks"]["seeds"]
    assert (seeds["status"], seeds["error"]) == ("fail", "RuntimeError: device lost")
    assert report["verdict"].startswith("selfcheck FAIL") and "failed: seeds" in report["verdict"]


def test_tests_check_runs_the_suite_on_that_backend(monkeypatch):
    seen = {}

    def fake_run(command, cwd, env, capture_output, text, timeout):
        seen.update(command=command, backends=env["NNX_TEST_BACKENDS"], timeout=timeout)
        return subprocess.CompletedProcess(command, 1, "1 failed, 9 passed", "")

    monkeypatch.setattr(subprocess, "run", fake_run)
    result = selfcheck.check_tests(nb.get_backend("array_api_strict:device1"), timeout_s=5)
    assert result == {"status": "fail", "summary": ["1 failed, 9 passed"]}
    assert seen["backends"] == "array_api_strict:device1" and seen["command"][-1] == "tests"


def test_bench_rows_become_a_markdown_table(monkeypatch):
    row = {
        "model": "mlp",
        "batch": 64,
        "phase": "train",
        "numba": "on",
        "nnx": 1000.0,
        "torch": 2000.0,
        "nnx/torch": 0.5,
        "nnx/sklearn": None,
        "matmul share": 0.5,
    }
    monkeypatch.setattr("nnx.benchmarks.runner.run", lambda *a, **k: [row])
    result = selfcheck.check_bench(nb.get_backend("numpy"))
    report = {
        "environment": {"backend": "numpy", "device": "cpu", "packages": {}},
        "checks": {"bench": result},
        "seconds": 1.0,
    }
    report["verdict"] = selfcheck.verdict(report)
    assert "| mlp | 64 | train | on | 1,000 | 2,000 | 0.50x |" in selfcheck.markdown(report)


@pytest.mark.skipif("cupy" in nb.available(), reason="cupy works here")
def test_cupy_without_cupy_is_a_clear_error(capsys):
    assert main(["selfcheck", "--backend", "cupy", "--out", "unused"]) == 2
    assert 'pip install "nnx-array[cupy]"' in capsys.readouterr().err


def test_unknown_check_name(capsys):
    assert main(["selfcheck", "--backend", "numpy", "--skip", "speed"]) == 2
    assert "unknown check(s) ['speed']" in capsys.readouterr().err


def test_the_suite_gets_what_is_left_of_the_budget(monkeypatch):
    seen = []

    def tests(backend, timeout_s):
        seen.append(timeout_s)
        return {"status": "pass"}

    monkeypatch.setattr(selfcheck, "check_tests", tests)
    skip = [name for name in selfcheck.CHECKS if name not in ("tests", "seeds")]
    report = selfcheck.run("numpy", skip=skip, out=None, echo=lambda s: None, budget_s=100.0)
    assert list(report["checks"])[-1] == "tests" and report["checks"]["tests"]["status"] == "pass"
    assert len(seen) == 1 and 30.0 <= seen[0] <= 95.0
