"""Two MPI ranks against one process: ``mpiexec -n 2`` runs tests/distributed/mpi_scenarios.py.

One launch trains every config of the scenarios under ``DataParallel`` (global batch 15 split
7/8, a last batch of 5 split 2/3) and resumes a checkpoint written by one process; the test
compares with the same models trained here in one process: float64 to 1e-10, float32 to 1e-5.
Two more launches check that a raising rank and disagreeing ranks end the job with the reason.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import nnx

HERE = Path(__file__).parent
SCRIPT = HERE / "mpi_scenarios.py"
_spec = importlib.util.spec_from_file_location("mpi_scenarios", SCRIPT)
assert _spec is not None and _spec.loader is not None
scenarios: Any = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(scenarios)

TOLERANCE = {"float64": 1e-10, "float32": 1e-5}


def mpiexec(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``mpiexec -n 2 python mpi_scenarios.py *args`` with this checkout on the path."""
    launcher = shutil.which("mpiexec") or str(Path(sys.executable).parent / "mpiexec")
    root = str(Path(nnx.__file__).parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    command = [launcher, "-n", "2", sys.executable, str(SCRIPT), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)


def load(path: Path) -> dict[str, Any]:
    with np.load(path) as f:
        weights = [f[f"w{i}"] for i in range(sum(k.startswith("w") for k in f.files))]
        return {"weights": weights, "predict": f["predict"], **json.loads(str(f["meta"]))}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The one-process references, then the two-rank launch on the same data."""
    out = tmp_path_factory.mktemp("mpi")
    references = {}
    for name in scenarios.CONFIGS:
        model = scenarios.build(name)
        callbacks = [nnx.callbacks.ModelCheckpoint(str(out / f"{name}-single-{{epoch}}.nnx"))]
        references[name] = scenarios.train(model, callbacks=callbacks)
    shutil.copy(out / "sgd64-single-2.nnx", out / "resume-from.nnx")
    launch = mpiexec("train", str(out))
    assert launch.returncode == 0, launch.stderr
    return {"out": out, "references": references, "stdout": launch.stdout}


def assert_same(result: dict[str, Any], reference: dict[str, Any], dtype: str) -> None:
    tol = TOLERANCE[dtype]
    for got, want in zip(result["weights"], reference["weights"], strict=True):
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
    assert result["history"].keys() == reference["history"].keys()
    for key, curve in reference["history"].items():
        np.testing.assert_allclose(result["history"][key], curve, rtol=tol, atol=tol, err_msg=key)
    for key, value in reference["evaluate"].items():
        np.testing.assert_allclose(result["evaluate"][key], value, rtol=tol, atol=tol)
    np.testing.assert_allclose(result["predict"], reference["predict"], rtol=tol, atol=tol)


@pytest.mark.parametrize("name", list(scenarios.CONFIGS))
def test_two_ranks_train_as_one_process(run: dict[str, Any], name: str) -> None:
    result = load(run["out"] / f"{name}.npz")
    assert_same(result, run["references"][name], scenarios.CONFIGS[name][0])
    assert len(set(result["digests"])) == 1, "the two ranks hold different weights"


def test_checkpoint_of_two_ranks_resumes_in_one_process(run: dict[str, Any]) -> None:
    model = nnx.load(run["out"] / "sgd64-ckpt-2.nnx")
    assert_same(scenarios.train(model, initial_epoch=2), _tail(run, "sgd64"), "float64")


def test_checkpoint_of_one_process_resumes_on_two_ranks(run: dict[str, Any]) -> None:
    result = load(run["out"] / "resumed.npz")
    assert_same(result, _tail(run, "sgd64"), "float64")
    assert len(set(result["digests"])) == 1


def test_local_ranks_number_the_ranks_of_a_node(run: dict[str, Any]) -> None:
    assert load(run["out"] / "resumed.npz")["local_ranks"] == [0, 1]


def _tail(run: dict[str, Any], name: str) -> dict[str, Any]:
    """The uninterrupted reference with its history cut to the epochs after 2."""
    ref = run["references"][name]
    return {**ref, "history": {k: v[2:] for k, v in ref["history"].items()}}


def test_only_rank_zero_prints_and_writes(run: dict[str, Any]) -> None:
    epochs = [line for line in run["stdout"].splitlines() if line.startswith("Epoch ")]
    assert len(epochs) == len(scenarios.CONFIGS) * scenarios.EPOCHS + 2, run["stdout"]
    files = sorted(p.name for p in run["out"].glob("sgd64-ckpt-*.nnx"))
    assert files == [f"sgd64-ckpt-{e}.nnx" for e in range(1, scenarios.EPOCHS + 1)]
    assert not list(run["out"].glob("*.part"))


def test_a_raising_rank_ends_the_job_with_its_error() -> None:
    start = time.perf_counter()
    launch = mpiexec("raise", timeout=60)
    assert launch.returncode != 0
    assert time.perf_counter() - start < 30
    assert "rank 1 of 2 raised RuntimeError: boom on purpose" in launch.stderr
    assert "MPI.COMM_WORLD.Abort" in launch.stderr


def test_ranks_with_different_models_are_refused() -> None:
    launch = mpiexec("mismatch", timeout=60)
    assert launch.returncode != 0
    assert "rank 1 disagrees with rank 0 on the architecture" in launch.stderr
