"""examples/distributed_training.py in one process (a world of one) and under mpiexec -n 2."""

from __future__ import annotations

import importlib.util
import os
import pathlib
import shutil
import subprocess
import sys

import nnx

EXAMPLE = pathlib.Path(__file__).parents[2] / "examples" / "distributed_training.py"


def test_example_trains_and_rank_zero_writes(tmp_path: pathlib.Path) -> None:
    spec = importlib.util.spec_from_file_location("example_distributed", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    scores = module.main(quick=True, out=tmp_path)
    assert scores["accuracy"] > 0.45  # 3 classes; 0.587 after the 5 quick epochs
    assert len(list(tmp_path.glob("ckpt-*.nnx"))) == 5
    assert nnx.load(tmp_path / "spirals.nnx").count_params() == 4547


def test_demo_under_two_ranks_prints_once() -> None:
    launcher = shutil.which("mpiexec") or str(pathlib.Path(sys.executable).parent / "mpiexec")
    root = str(pathlib.Path(nnx.__file__).parents[1])
    env = {**os.environ, "PYTHONPATH": root}
    command = [launcher, "-n", "2", sys.executable, "-m", "nnx", "demo", "--distributed"]
    command += ["--epochs", "3", "--verbose", "0"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    assert "data-parallel over 2 MPI rank(s)" in done.stdout, done.stderr
    assert done.stdout.count("test accuracy") == 1
