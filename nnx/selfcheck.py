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
import math
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import nnx.backends as nb
from nnx.backends.coefficients import AdamCoefficients, SGDCoefficients
from nnx.backends.cuda_kernels import SPECS, bernoulli_threshold
from nnx.environment import versions
from nnx.functional import activations as F

__all__ = ["CHECKS", "LAYER_CASES", "run"]

Result = dict[str, Any]

#: one case per registered layer: (class name, constructor arguments, input shape, training)
LAYER_CASES: list[tuple[str, dict[str, Any], tuple[int, ...], bool]] = [
    ("Dense", {"units": 3, "activation": "tanh"}, (4,), False),
    ("Activation", {"activation": "sigmoid"}, (5,), False),
    ("Dropout", {"rate": 0.3}, (6,), True),
    ("GaussianNoise", {"stddev": 0.3}, (3,), True),
    ("BatchNormalization", {}, (4,), True),
    ("LayerNormalization", {}, (5,), False),
    ("Conv1D", {"filters": 2, "kernel_size": 3, "padding": "same"}, (6, 2), False),
    ("Conv2D", {"filters": 2, "kernel_size": 2, "strides": 2}, (5, 5, 2), False),
    ("MaxPooling1D", {"pool_size": 2}, (6, 2), False),
    ("MaxPooling2D", {"pool_size": 2}, (4, 4, 2), False),
    ("AveragePooling1D", {"pool_size": 3, "padding": "same"}, (5, 2), False),
    ("AveragePooling2D", {"pool_size": 2, "strides": 1}, (3, 4, 2), False),
    ("GlobalMaxPooling1D", {}, (4, 2), False),
    ("GlobalMaxPooling2D", {}, (3, 3, 2), False),
    ("GlobalAveragePooling1D", {}, (4, 2), False),
    ("GlobalAveragePooling2D", {}, (3, 3, 2), False),
    ("Flatten", {}, (2, 3), False),
    ("Reshape", {"target_shape": (3, 2)}, (6,), False),
    ("ZeroPadding2D", {"padding": 1}, (3, 3, 1), False),
    ("UpSampling2D", {"size": 2}, (2, 3, 1), False),
    ("SpatialDropout2D", {"rate": 0.5}, (3, 3, 4), True),
    ("RandomFlip", {}, (3, 4, 2), True),
    ("RandomRotation", {"factor": 0.1}, (5, 4, 2), True),
    ("RandomTranslation", {"height_factor": 0.2, "width_factor": 0.2}, (4, 5, 1), True),
]


def _close(backend: nb.Backend, got: Any, want: Any, dtype: str) -> float:
    """The largest relative difference (0 when equal)."""
    a, b = backend.to_numpy(got), backend.to_numpy(want)
    scale = max(float(abs(b).max()), 1e-30) if b.size else 1.0
    return float(abs(a - b).max()) / scale if a.size else 0.0


def check_kernels(backend: nb.Backend) -> Result:
    """Each fast path against its Array-API reference, float32 and float64."""
    from nnx.backends import get_backend

    host = get_backend("numpy")
    worst: dict[str, float] = {}
    declined = []
    for dtype in ("float32", "float64"):
        rng = host.rng(1)
        dy, x = rng.normal((257, 33), dtype=dtype), rng.normal((257, 33), dtype=dtype)
        dyb, xb = backend.asarray(dy), backend.asarray(x)
        yb = backend.xp.tanh(xb)
        for name, fast, portable in [
            ("relu_backward", backend.relu_backward, F.relu_backward),
            ("sigmoid_backward", backend.sigmoid_backward, F.sigmoid_backward),
            ("tanh_backward", backend.tanh_backward, F.tanh_backward),
        ]:
            got = fast(dyb, xb, yb)
            if got is None:
                declined.append(name)
                continue
            worst[f"{name}/{dtype}"] = _close(backend, got, portable(dyb, xb, yb), dtype)
        worst.update(_check_updates(backend, host, dtype, declined))
        worst.update(_check_bernoulli(backend, dtype))
    tolerance = {"float32": 1e-5, "float64": 1e-12}
    bad = {k: v for k, v in worst.items() if v > tolerance[k.rsplit("/", 1)[1]]}
    return {
        "status": "fail" if bad else "pass",
        "max_relative_error": worst,
        "declined (portable code runs)": sorted(set(declined)),
        "failed": bad,
    }


def _check_updates(
    backend: nb.Backend, host: nb.Backend, dtype: str, declined: list[str]
) -> dict[str, float]:
    rng, xp, out = host.rng(2), backend.xp, {}
    w, g, m = (rng.normal((4097,), dtype=dtype) for _ in range(3))
    v = host.xp.abs(rng.normal((4097,), dtype=dtype))
    c = AdamCoefficients(0.9, 0.999, 1e-2, 1e-7)

    def fresh(*arrays: Any) -> list[Any]:  # copies: NumPy's asarray would share the memory
        return [backend.asarray(a.copy()) for a in arrays]

    fast = fresh(w, g, m, v)
    if backend.adam_update(fast[0], fast[1], fast[2], fast[3], c):
        cast = [getattr(fast[0].dtype, "type", float)(k) for k in c]
        want = SPECS["nnx_adam"].reference(xp, fast[1], *cast, *fresh(w, m, v))
        for name, got, ref in zip(("w", "m", "v"), (fast[0], fast[2], fast[3]), want, strict=True):
            out[f"adam_update.{name}/{dtype}"] = _close(backend, got, ref, dtype)
    else:
        declined.append("adam_update")
    fast = fresh(w, g, m)
    if backend.sgd_momentum_update(fast[0], fast[1], fast[2], SGDCoefficients(0.1, 0.9)):
        want = SPECS["nnx_sgd_momentum"].reference(xp, *fresh(g), 0.1, 0.9, *fresh(w, m))
        for name, got, ref in zip(("w", "velocity"), (fast[0], fast[2]), want, strict=True):
            out[f"sgd_momentum_update.{name}/{dtype}"] = _close(backend, got, ref, dtype)
    else:
        declined.append("sgd_momentum_update")
    return out


def _check_bernoulli(backend: nb.Backend, dtype: str) -> dict[str, float]:
    mask_of = getattr(backend, "bernoulli_mask", None)
    if mask_of is None:
        return {}
    got = mask_of((129, 65), 2**63 + 12345, 77, 0.3, dtype)
    zeros = backend.xp.zeros((129, 65), dtype=backend.dtype(dtype), device=backend.device)
    (want,) = SPECS["nnx_bernoulli"].reference(
        backend.xp, 2**63 + 12345, 77, bernoulli_threshold(0.3), zeros
    )
    return {f"bernoulli_mask/{dtype}": _close(backend, got, want, dtype)}


def check_gradients(backend: nb.Backend) -> Result:
    """Every case of :data:`LAYER_CASES` through :func:`nnx.gradcheck`, float64."""
    from nnx.gradcheck import gradcheck
    from nnx.layers import layer_class

    rng = nb.get_backend("numpy").rng(0)
    errors = {}
    for name, kwargs, shape, training in LAYER_CASES:
        layer = layer_class(name)(**kwargs)
        x = rng.normal((3, *shape), dtype="float64")
        found = gradcheck(layer, x, backend=backend, training=training, tolerance=math.inf)
        errors[name] = max(found.values())
    bad = {k: v for k, v in errors.items() if not v < 1e-6}
    return {"status": "fail" if bad else "pass", "max_relative_error": errors, "failed": bad}


def _model(backend: nb.Backend | str, dropout: bool, seed: int = 0) -> Any:
    from nnx.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D
    from nnx.models import Sequential

    layers = [
        Conv2D(4, 3, activation="relu", input_shape=(8, 8, 1)),
        MaxPooling2D(2),
        Flatten(),
        Dense(16, activation="tanh"),
        *([Dropout(0.3)] if dropout else []),
        Dense(3, activation="softmax"),
    ]
    return Sequential(layers, backend=backend, seed=seed)


def _data() -> tuple[Any, Any]:
    host = nb.get_backend("numpy")
    rng = host.rng(3)
    x = host.to_numpy(rng.normal((96, 8, 8, 1), dtype="float32"))
    y = host.to_numpy(rng.integers(0, 3, (96,)))
    return x, y


def check_seeds(backend: nb.Backend) -> Result:
    """Initial weights and host draws equal NumPy's, bit for bit."""
    host = nb.get_backend("numpy")
    ours, theirs = _model(backend, True), _model(host, True)
    differing = [
        p.name
        for p, q in zip(ours.parameters(), theirs.parameters(), strict=True)
        if not (backend.to_numpy(p.value) == q.value).all()
    ]
    a, b = backend.rng(11), host.rng(11)
    draws_equal = bool((backend.to_numpy(a.normal((50,))) == b.normal((50,))).all())
    ok = not differing and draws_equal
    return {"status": "pass" if ok else "fail", "differing": differing, "draws_equal": draws_equal}


def check_resume(backend: nb.Backend) -> Result:
    """Stop, save, restore, go on: bit-identical to a straight run; close to NumPy's run."""
    import tempfile

    from nnx.models.loading import load

    x, y = _data()

    def fit(model: Any, epochs: int) -> Any:
        if model.optimizer is None:
            model.compile("adam", "sparse_categorical_crossentropy")
        model.fit(x, y, epochs=epochs, batch_size=16, verbose=0)
        return model

    straight = fit(_model(backend, True), 4)
    half = fit(_model(backend, True), 2)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "half.nnx")
        half.save(path)
        resumed = fit(load(path, backend=backend), 2)
    exact = all(
        (backend.to_numpy(p.value) == backend.to_numpy(q.value)).all()
        for p, q in zip(straight.parameters(), resumed.parameters(), strict=True)
    )
    ours, theirs = fit(_model(backend, False), 2), fit(_model("numpy", False), 2)
    drift = max(
        float(abs(backend.to_numpy(p.value) - q.value).max())
        for p, q in zip(ours.parameters(), theirs.parameters(), strict=True)
    )
    ok = exact and drift < 1e-3
    return {
        "status": "pass" if ok else "fail",
        "bit_exact_resume": exact,
        "max_drift_vs_numpy": drift,
    }


def check_tests(backend: nb.Backend, timeout_s: float = 420.0) -> Result:
    """The test suite on this backend only, in a subprocess."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if not os.path.isdir(os.path.join(root, "tests")):
        return {"status": "skip", "reason": "no tests/ folder beside the nnx package"}
    env = {**os.environ, "NNX_TEST_BACKENDS": backend.name}
    command = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "tests"]
    try:
        done = subprocess.run(
            command, cwd=root, env=env, capture_output=True, text=True, timeout=timeout_s
        )
    except subprocess.TimeoutExpired:
        return {"status": "fail", "reason": f"the suite ran past {timeout_s:.0f} s"}
    tail = (done.stdout + done.stderr).strip().splitlines()[-15:]
    return {"status": "pass" if done.returncode == 0 else "fail", "summary": tail}


def check_bench(backend: nb.Backend) -> Result:
    """``nnx bench --quick`` rows (samples/s of nnx, and of torch on the same device)."""
    from nnx.benchmarks.runner import run as bench

    rows = bench(backend.name, quick=True, print_fn=lambda line: None)
    return {"status": "pass", "rows": rows}


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


def verdict(report: dict[str, Any]) -> str:
    """``selfcheck PASS on cupy (NVIDIA H200, CuPy 14.2.0, CUDA 12.8, driver 12.8): ...``."""
    env, checks = report["environment"], report["checks"]
    count = {
        s: sorted(k for k, v in checks.items() if v["status"] == s)
        for s in ("pass", "fail", "skip")
    }
    word = "FAIL" if count["fail"] else "PASS"
    where = ", ".join(
        str(env[k]) for k in ("device", "library", "cuda_runtime", "cuda_driver") if k in env
    )
    parts = [f"{len(count['pass'])} passed"]
    if count["fail"]:
        parts.append(f"failed: {', '.join(count['fail'])}")
    if count["skip"]:
        parts.append(f"skipped: {', '.join(count['skip'])}")
    head = f"selfcheck {word} on {env['backend']} ({where}) in {report['seconds']} s"
    return f"{head}: {'; '.join(parts)}"


def markdown(report: dict[str, Any]) -> str:
    """The report as Markdown: environment table, one section per check, the verdict."""
    lines = ["# nnx selfcheck", "", f"**{report['verdict']}**", "", "| | |", "|---|---|"]
    for key, value in report["environment"].items():
        if key != "packages":
            lines.append(f"| {key} | {value} |")
    packages = ", ".join(f"{k} {v}" for k, v in report["environment"]["packages"].items())
    lines += [f"| packages | {packages} |", ""]
    for name, result in report["checks"].items():
        lines += [f"## {name}: {result['status']}", ""]
        if name == "bench" and result.get("rows"):
            from nnx.benchmarks.runner import table

            lines += [table(result["rows"]), ""]
            continue
        for key, value in result.items():
            if key != "status":
                lines.append(f"- {key}: `{json.dumps(value, default=str)[:2000]}`")
        lines.append("")
    return "\n".join(lines)


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
