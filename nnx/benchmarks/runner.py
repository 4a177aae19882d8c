"""``python -m nnx bench``: time every case against its peers in one run and print one table.

Timings are interleaved (nnx, torch, sklearn, nnx, ...) and each is the median over rounds, so
a noisy shared machine moves all columns together; compare the ratios, not the absolute rates.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from nnx.backends import get_backend
from nnx.backends.numba_paths import ENV as NUMBA_ENV
from nnx.backends.numba_paths import status as numba_status
from nnx.benchmarks.cases import SPECS, Case, NnxRunner, cases, cnn_available
from nnx.benchmarks.host import describe, host, notes
from nnx.benchmarks.peers import PeerUnavailableError, sklearn_step, torch_step
from nnx.environment import versions

__all__ = ["matmul_share", "measure", "run", "table"]

Step = Callable[[], Any]
#: seconds between timed blocks, longer than OpenBLAS's spin before its threads sleep
REST_S = 0.15


def measure(
    steps: dict[str, Step], budget_s: float = 1.0, rounds: int = 9, warmup_s: float = 0.2
) -> dict[str, list[float]]:
    """Seconds per call of each step in each of ``rounds`` rounds (each step in turn per round,
    after a warm-up); callers compare the best rounds.

    Before each block the thread pools get a rest of ``REST_S``: OpenBLAS worker threads spin
    for about 0.1 s after their last call (OpenMP's for a while too), and on a 2-core machine
    a spinning pool of one library stalls the next library's calls (we saw 100 ms steps of
    torch right after NumPy blocks). Each block also starts with two untimed calls.
    """
    reps: dict[str, int] = {}
    for name, step in steps.items():
        start, calls = time.perf_counter(), 0
        while calls < 3 or time.perf_counter() - start < warmup_s:  # caches, allocator
            step()
            calls += 1
        once = max((time.perf_counter() - start) / calls, 1e-6)
        reps[name] = max(1, int(budget_s / len(steps) / rounds / once))
    samples: dict[str, list[float]] = {name: [] for name in steps}
    deadline = time.perf_counter() + 3 * budget_s
    for r in range(rounds):
        if r >= 3 and time.perf_counter() > deadline:  # a slow peer (or a loaded machine)
            break
        for name, step in steps.items():
            time.sleep(REST_S)
            step()
            step()
            t0 = time.perf_counter()
            for _ in range(reps[name]):
                step()
            samples[name].append((time.perf_counter() - t0) / reps[name])
    return samples


def matmul_share(runner: NnxRunner, calls: int = 5) -> float:
    """The fraction of a step's time spent in the backend's ``matmul`` (timed by wrapping it)."""
    backend = runner.backend
    inner = backend.matmul
    spent = [0.0]

    def timed(a: Any, b: Any, out: Any = None) -> Any:
        t0 = time.perf_counter()
        result = inner(a, b, out=out)
        backend.synchronize()
        spent[0] += time.perf_counter() - t0
        return result

    runner()
    backend.matmul = timed  # type: ignore[method-assign]
    try:
        t0 = time.perf_counter()
        for _ in range(calls):
            runner()
        total = time.perf_counter() - t0
    finally:
        del backend.matmul
    return spent[0] / total


def growth_per_step(step: Step, steps: int = 50, warmup: int = 10) -> float:
    """Bytes of memory the ``step`` holds on to per call after a warm-up: the growth of what
    tracemalloc sees held (NumPy's buffers; not other backends' device memory) over ``steps``
    calls that follow ``steps`` other traced calls.

    Memory held once, not per step, does not count: NumPy's small cache of freed buffers and
    CPython's free lists fill with traced blocks during the warm-up and the first ``steps``
    calls (a few hundred bytes), and so would a lazily built cache of the step itself; only
    what still grows after them is a leak. What the measurement itself holds is measured
    around a step that does nothing, and taken off.
    """
    for _ in range(warmup):
        step()
    return (_held(step, steps, warmup) - _held(_nothing, steps, warmup)) / steps


def _nothing() -> None:
    pass


def _held(step: Step, steps: int, warmup: int) -> int:
    """Traced bytes that ``steps`` calls of ``step`` add to what is held, after ``warmup`` and
    then ``steps`` more traced calls."""
    import gc
    import tracemalloc

    tracemalloc.start()
    try:
        for _ in range(warmup + steps):
            step()
        # NOTE: collect first: cyclic garbage waiting for the collector is not memory held.
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(steps):
            step()
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return after - before


class _Discard(list):  # type: ignore[type-arg]
    """A list that keeps nothing (a runner's loss log while memory is measured)."""

    def append(self, item: Any) -> None:
        pass


def _peer(make: Callable[[], Any]) -> Any:
    try:
        return make()
    except PeerUnavailableError:
        return None


def bench_case(case: Case, backend: str, budget_s: float) -> dict[str, Any]:
    """Time one case: nnx, torch (default optimizers) and sklearn ``fit``; ratios and share."""
    runner = NnxRunner(case, backend)
    t0 = time.perf_counter()
    runner()  # the first step: numba's compilation (or cache load) shows here
    first_s = time.perf_counter() - t0
    torch_device = "cuda" if runner.backend.name == "cupy" else "cpu"
    steps: dict[str, Step] = {"nnx": runner}
    samples = {"nnx": case.batch}
    torch = _peer(lambda: torch_step(case, "default", torch_device))
    if torch is not None:
        steps["torch"], samples["torch"] = torch, case.batch
    sk = _peer(lambda: sklearn_step(case, "fit")) if runner.backend.name != "cupy" else None
    if sk is not None:
        steps["sklearn"], samples["sklearn"] = sk
    seconds = measure(steps, budget_s)
    # NOTE: best round of each: on a shared machine other processes only ever add time, and
    # torch's OpenMP barriers suffer most from a descheduled thread (timeit's reasoning).
    rate = {k: samples[k] / min(s) for k, s in seconds.items()}
    return {
        "model": case.model,
        "batch": case.batch,
        "phase": case.phase,
        "backend": runner.backend.name,
        "device": runner.backend.device_name(),
        "numba": numba_status().startswith("on") if runner.backend.name == "numpy" else None,
        "first step s": first_s,
        "nnx": rate["nnx"],
        "torch": rate.get("torch"),
        "sklearn": rate.get("sklearn"),
        "nnx/torch": rate["nnx"] / rate["torch"] if "torch" in rate else None,
        "nnx/sklearn": rate["nnx"] / rate["sklearn"] if "sklearn" in rate else None,
        "matmul share": matmul_share(runner) if case.phase != "inference" else None,
    }


def _fmt(v: Any, kind: str) -> str:
    if v is None:
        return "-"
    if kind == "rate":
        return f"{v:,.0f}"
    if kind == "ratio":
        return f"{v:.2f}x"
    if kind == "flag":
        return "on" if v else "off"
    if kind == "seconds":
        return f"{v:.3f}"
    return f"{100 * v:.0f}%"


def table(rows: Sequence[dict[str, Any]]) -> str:
    """The rows as one Markdown table."""
    head = [
        "model",
        "batch",
        "phase",
        "numba",
        "nnx samples/s",
        "torch samples/s",
        "nnx/torch",
        "nnx/sklearn",
        "matmul share",
        "first step s",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [
            r["model"],
            str(r["batch"]),
            r["phase"],
            _fmt(r.get("numba"), "flag"),
            _fmt(r["nnx"], "rate"),
            _fmt(r["torch"], "rate"),
            _fmt(r["nnx/torch"], "ratio"),
            _fmt(r["nnx/sklearn"], "ratio"),
            _fmt(r["matmul share"], "share"),
            _fmt(r.get("first step s"), "seconds"),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


@contextlib.contextmanager
def numba_switched(on: bool) -> Iterator[None]:
    """``NNX_NUMBA`` set to ``1`` / ``0`` inside the block, restored after it."""
    old = os.environ.get(NUMBA_ENV)
    os.environ[NUMBA_ENV] = "1" if on else "0"
    try:
        yield
    finally:
        if old is None:
            del os.environ[NUMBA_ENV]
        else:
            os.environ[NUMBA_ENV] = old


def numba_modes(numba: str, backend: str) -> list[bool]:
    """The numba settings to time: ``"both"`` (off, then on), ``"on"``, ``"off"``; numba is
    NumPy-only and optional, so other backends and machines without it get ``[False]``."""
    with numba_switched(True):
        installed = numba_status().startswith("on")
    if backend != "numpy" or not installed:
        return [False]
    return {"both": [False, True], "on": [True], "off": [False]}[numba]


def run(
    backend: str = "numpy",
    models: Sequence[str] | None = None,
    quick: bool = False,
    json_path: str | None = None,
    print_fn: Callable[[str], Any] = print,
    numba: str = "both",
) -> list[dict[str, Any]]:
    """Run the benchmark table (with numba off and on, see :func:`numba_modes`); print it with
    the host it ran on; optionally write rows and metadata to JSON."""
    chosen = list(models or SPECS)
    if "cnn" in chosen and not cnn_available():
        print_fn("skipping cnn: nnx.layers has no Conv2D/MaxPooling2D yet")
        chosen.remove("cnn")
    b = get_backend(backend)
    info = host()
    print_fn(f"nnx bench on {b.name} ({b.device_name()}): {describe(info)}")
    for line in notes():
        print_fn(line)
    rows = []
    memory = {}
    for on in numba_modes(numba, b.name):
        with numba_switched(on):
            print_fn(f"{NUMBA_ENV}={int(on)}: numba {numba_status()}")
            for case in cases(chosen, quick):
                rows.append(bench_case(case, backend, budget_s=0.25 if quick else 2.0))
                print_fn(table(rows[-1:]).splitlines()[-1])
            if b.name == "numpy":
                for case in cases(chosen, quick=True):
                    if case.phase.startswith("train"):
                        runner = NnxRunner(case, backend)
                        runner.losses = _Discard()
                        steps = 30 if quick else 100
                        memory[f"{case.label} numba {'on' if on else 'off'}"] = growth_per_step(
                            runner, steps=steps
                        )
    print_fn("")
    print_fn(f"{describe(info)}")
    for line in notes():
        print_fn(line)
    print_fn(table(rows))
    if memory:
        print_fn("")
        print_fn(
            "memory held per step after warm-up (tracemalloc, bytes/step): "
            + ", ".join(f"{k} {v:.1f}" for k, v in memory.items())
        )
    if json_path:
        meta = {**info, **versions()}
        with open(json_path, "w") as f:
            json.dump({"meta": meta, "rows": rows, "bytes_per_step": memory}, f, indent=1)
    return rows


def _main(args: Any) -> int:
    if getattr(args, "distributed", False):
        from nnx.benchmarks.distributed import run_distributed

        try:
            return run_distributed()
        except (FileNotFoundError, RuntimeError) as exc:
            print(f"error: {exc}")
            return 2
    try:
        run(args.backend, args.models, args.quick, args.json, numba=args.numba)
    except (ValueError, ImportError) as exc:
        print(f"error: {exc}")
        return 2
    return 0


def add_parser(commands: Any) -> None:
    """Add the ``bench`` subcommand to the ``nnx`` command's subparsers."""
    bench = commands.add_parser("bench", help="time nnx against PyTorch and scikit-learn")
    bench.add_argument("--backend", default="numpy", help="default: numpy")
    bench.add_argument(
        "--models",
        nargs="+",
        default=None,
        choices=list(SPECS),
        help="default: all (cnn only once nnx.layers has Conv2D)",
    )
    bench.add_argument("--quick", action="store_true", help="one batch size, short timings")
    bench.add_argument(
        "--distributed",
        action="store_true",
        help="data-parallel samples/s at 1 and 2 MPI ranks (needs nnx-array[mpi])",
    )
    bench.add_argument(
        "--numba",
        default="both",
        choices=["both", "on", "off"],
        help="time with the numba kernels off and on (default), or one of them",
    )
    bench.add_argument("--json", default=None, metavar="FILE", help="also write rows as JSON")
    bench.set_defaults(func=_main)
