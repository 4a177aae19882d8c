"""Tests of the ``nnx`` command line (``nnx.cli.main`` and ``python -m nnx``)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import nnx.backends as nb
from nnx.cli import main


def test_info_lists_backends_and_versions(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("nnx ")
    for name in nb.names():
        assert name in out
    for name in nb.available():
        assert re.search(rf"{name}\s+available", out)
    assert "array-api-compat" in out and "array-api-extra" in out and "Python 3." in out


def test_version_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.startswith("nnx ")


@pytest.mark.parametrize(
    "argv", [[], ["train"], ["demo", "--epochs", "0"], ["demo", "--seed", "x"]]
)
def test_bad_command_lines_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert "usage: nnx" in capsys.readouterr().err


def test_demo_unknown_backend(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--backend", "no-such-backend"]) == 2
    assert "no-such-backend" in capsys.readouterr().err


def test_python_dash_m() -> None:
    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])),
    }
    result = subprocess.run(
        [sys.executable, "-m", "nnx", "info"], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "numpy" in result.stdout


@pytest.mark.slow
def test_demo_reaches_95_percent(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--epochs", "30", "--verbose", "0"]) == 0
    out = capsys.readouterr().out
    match = re.search(r"test accuracy: ([0-9.]+)", out)
    assert match, out
    assert float(match.group(1)) >= 0.95


def test_bench_quick_prints_one_table_and_writes_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    path = tmp_path / "bench.json"
    args = ["bench", "--quick", "--models", "tiny", "--numba", "off", "--json", str(path)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "| model | batch | phase | numba | nnx samples/s | torch samples/s |" in out
    assert "NNX_NUMBA=0" in out and "cores | BLAS " in out
    assert "bytes/step" in out
    data = json.loads(path.read_text())
    assert [r["phase"] for r in data["rows"]] == [
        "inference",
        "forward_backward",
        "train_sgd",
        "train_adam",
    ]
    assert all(r["nnx"] > 0 for r in data["rows"]) and data["meta"]["numpy"]
    assert {"cpu", "cores", "blas", "numba", "torch", "date"} <= set(data["meta"])
    assert not any(r["numba"] for r in data["rows"]) and data["rows"][0]["first step s"] > 0


def test_bench_times_numba_off_then_on_where_it_is_installed() -> None:
    from nnx.backends.numba_paths import ENV, status
    from nnx.benchmarks.runner import numba_modes, numba_switched

    with numba_switched(False):
        assert os.environ[ENV] == "0" and status().startswith("off")
    installed = "numba not installed" not in status()
    assert numba_modes("both", "numpy") == ([False, True] if installed else [False])
    assert numba_modes("on", "array_api_strict") == [False]


def test_bench_rejects_an_unknown_model() -> None:
    with pytest.raises(SystemExit):
        main(["bench", "--models", "huge"])
