"""``python -m nnx selfcheck --backend cupy``: certify that nnx computes correctly on a device.

One command, meant to run first whenever a GPU is at hand, and in CI on the CPU backends (so its
logic is tested where no GPU is). Each check returns ``pass``, ``fail`` or ``skip`` with
details; the report is written as JSON and Markdown with the device, driver, CUDA and library
versions, and the last line printed is a one-line verdict.

Checks:
    kernels: every fast path (fused kernels on CuPy) against its reference on the device.
    gradients: a float64 central-difference check of every registered layer, on the device.
    seeds: a seed gives the initial weights and host draws of NumPy, bit for bit.
    resume: training stopped, saved and resumed ends bit-identical to a straight run (with
        Dropout's device stream), and close to the same training on NumPy.
    bench: ``nnx bench --quick`` on the backend (against torch CUDA when it is installed).
    tests: the test suite with ``NNX_TEST_BACKENDS=<backend>`` (a subprocess), in the time
        left of the budget (8 minutes by default).

>>> report = run("numpy", skip=("tests", "bench", "gradients"), out=None, echo=lambda s: None)
>>> report["verdict"].split()[:3]
['selfcheck', 'PASS', 'on']
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import nnx.backends as nb
from nnx.environment import versions
from nnx.selfcheck.checks import (
    LAYER_CASES,
    check_bench,
    check_gradients,
    check_resume,
    check_seeds,
    check_tests,
)
from nnx.selfcheck.kernels import check_kernels
from nnx.selfcheck.report import markdown, verdict

__all__ = [
    "CHECKS",
    "LAYER_CASES",
    "check_bench",
    "check_gradients",
    "check_kernels",
    "check_resume",
    "check_seeds",
    "check_tests",
    "markdown",
    "run",
    "verdict",
]

Result = dict[str, Any]

CHECKS: dict[str, Callable[[nb.Backend], Result]] = {
    "kernels": check_kernels,
    "gradients": check_gradients,
    "seeds": check_seeds,
    "resume": check_resume,
    "bench": check_bench,
    "tests": check_tests,  # last: it gets the time left in the budget
}


def run(
    backend: str | nb.Backend,
    skip: Sequence[str] = (),
    out: str | None = "selfcheck-report",
    echo: Callable[[str], Any] = print,
    budget_s: float = 480.0,
) -> dict[str, Any]:
    """Run every check not in ``skip``; write ``selfcheck-<backend>.json``/``.md`` into ``out``.

    The test suite runs last, with what is left of ``budget_s`` as its timeout, so the report
    is always written within the budget.

    Returns:
        The report: ``{"environment", "checks", "verdict", "seconds"}``.

    Raises:
        nnx.backends.BackendUnavailableError: the backend cannot run here.
    """
    be = nb.get_backend(backend)
    started = time.perf_counter()
    environment = {
        **be.device_info(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": versions(),
    }
    echo(f"nnx selfcheck on {be.name}: {be.device_name()}")
    checks: dict[str, Result] = {}
    for name, check in CHECKS.items():
        if name in skip:
            checks[name] = {"status": "skip", "reason": "skipped on request"}
            continue
        t = time.perf_counter()
        try:
            if name == "tests":
                left = budget_s - (time.perf_counter() - started) - 5.0
                checks[name] = check_tests(be, timeout_s=max(left, 30.0))
            else:
                with be.device_scope():  # layers and kernels run outside a model here
                    checks[name] = check(be)
        except Exception as exc:  # a crash is a failed check, reported, not a traceback
            checks[name] = {"status": "fail", "error": f"{type(exc).__name__}: {exc}"}
        checks[name]["seconds"] = round(time.perf_counter() - t, 2)
        echo(f"  {name:<10} {checks[name]['status']:<5} {checks[name]['seconds']:7.1f} s")
    report: dict[str, Any] = {
        "environment": environment,
        "checks": checks,
        "seconds": round(time.perf_counter() - started, 1),
    }
    report["verdict"] = verdict(report)
    if out:
        os.makedirs(out, exist_ok=True)
        stem = os.path.join(out, f"selfcheck-{be.name.replace(':', '-')}")
        with open(stem + ".json", "w") as f:
            json.dump(report, f, indent=1, default=str)
        with open(stem + ".md", "w") as f:
            f.write(markdown(report))
        echo(f"report: {stem}.json, {stem}.md")
    echo(report["verdict"])
    return report


def add_parser(commands: Any) -> None:
    """The ``selfcheck`` subcommand of ``python -m nnx``."""
    parser = commands.add_parser("selfcheck", help="certify nnx on a backend/device (GPU)")
    parser.add_argument("--backend", default="cupy", help=f"one of {', '.join(nb.names())}")
    parser.add_argument(
        "--skip", default="", help=f"comma-separated checks to skip: {', '.join(CHECKS)}"
    )
    parser.add_argument("--out", default="selfcheck-report", help="report folder")
    parser.add_argument(
        "--budget", type=float, default=480.0, help="seconds for everything (default: 480)"
    )
    parser.set_defaults(func=_main)


def _main(args: Any) -> int:
    skip = [s.strip() for s in args.skip.split(",") if s.strip()]
    unknown = sorted(set(skip) - set(CHECKS))
    if unknown:
        print(f"error: unknown check(s) {unknown}; valid: {', '.join(CHECKS)}", file=sys.stderr)
        return 2
    try:
        report = run(args.backend, skip, args.out, budget_s=args.budget)
    except (ValueError, ImportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 1 if report["verdict"].startswith("selfcheck FAIL") else 0
