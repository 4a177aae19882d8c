"""``python -m nnx bench --distributed``: data-parallel throughput at 1 and 2 ranks.

The command launches ``mpiexec -n 1`` and ``mpiexec -n 2`` workers (this module with
``--worker``). Each trains the benchmark MLP 784-1024-1024-10 (1,863,690 float32 parameters, a
7.5 MB gradient buffer) on a global batch of 256 under ``DataParallel`` and reports samples/s
and the share of the step spent in the all-reduces; rank 0 also times the bare all-reduce of the
gradient buffer and of 2 numbers (the link's bandwidth and latency), from which the cost model
(:mod:`nnx.distributed.cost`) projects 8, 64 and 512 ranks.
Each rank uses one BLAS thread unless ``OMP_NUM_THREADS`` is set (ranks share the cores).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["launch", "run_distributed", "worker"]

GLOBAL_BATCH, STEPS = 256, 24


def _model() -> Any:
    import nnx
    from nnx.layers import Dense

    model = nnx.Sequential(
        [
            Dense(1024, activation="relu", input_shape=(784,)),
            Dense(1024, activation="relu"),
            Dense(10, activation="softmax"),
        ],
        seed=0,
    )
    model.compile(nnx.optimizers.SGD(0.01), "sparse_categorical_crossentropy")
    return model


def _time_allreduce(strategy: Any, model: Any, values: int, repeats: int) -> float:
    """The median seconds of one all-reduce of ``values`` float32 numbers (the median, so that a
    rank descheduled by a busy machine does not set the figure)."""
    backend = model.backend
    comm = strategy.communicator(backend)
    buf = backend.xp.zeros((values,), dtype=backend.dtype("float32"))
    comm.allreduce(buf, backend)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        comm.allreduce(buf, backend)
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def worker(steps: int = STEPS) -> dict[str, Any]:
    """Train ``steps`` steps under DataParallel; rank 0's measurements."""
    import nnx

    strategy = nnx.distributed.DataParallel()
    model = _model()
    rng = nnx.backends.get_backend("numpy").rng(0)
    n = GLOBAL_BATCH * steps
    x = rng.normal((n, 784), dtype="float32")
    y = rng.integers(0, 10, (n,))
    with strategy:
        model.fit(x[: GLOBAL_BATCH * 2], y[: GLOBAL_BATCH * 2], batch_size=GLOBAL_BATCH, verbose=0)
        strategy.allreduce_seconds = 0.0
        start = time.perf_counter()
        model.fit(x, y, batch_size=GLOBAL_BATCH, verbose=0, shuffle=False)
        seconds = time.perf_counter() - start
    params = sum(p.size for p in model.trainable_parameters())
    grad_s = _time_allreduce(strategy, model, params, 21) if strategy.world_size > 1 else 0.0
    small_s = _time_allreduce(strategy, model, 2, 201) if strategy.world_size > 1 else 0.0
    return {
        "ranks": strategy.world_size,
        "params": params,
        "samples_per_s": n / seconds,
        "step_ms": 1e3 * seconds / steps,
        "allreduce_share": strategy.allreduce_seconds / seconds,
        "grad_allreduce_ms": 1e3 * grad_s,
        "small_allreduce_us": 1e6 * small_s,
        "threads": os.environ.get("OMP_NUM_THREADS", ""),
    }


def launch(ranks: int, steps: int = STEPS, timeout: float = 300) -> dict[str, Any]:
    """Run :func:`worker` under ``mpiexec -n ranks``; rank 0's result."""
    mpiexec = shutil.which("mpiexec") or str(Path(sys.executable).parent / "mpiexec")
    if not Path(mpiexec).exists() and shutil.which(mpiexec) is None:
        raise FileNotFoundError('mpiexec not found: pip install "nnx-array[mpi]"')
    env = {**os.environ}
    env.setdefault("OMP_NUM_THREADS", "1")
    env.setdefault("OPENBLAS_NUM_THREADS", env["OMP_NUM_THREADS"])
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join([root, env.get("PYTHONPATH", "")])
    module = "nnx.benchmarks.distributed"
    command = [mpiexec, "-n", str(ranks), sys.executable, "-m", module, "--worker"]
    command += ["--steps", str(steps)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    line = next(x for x in done.stdout.splitlines() if x.startswith("{"))
    return dict(json.loads(line))


def report(rows: list[dict[str, Any]]) -> list[str]:
    """The table of samples/s, all-reduce share and the projection to more ranks."""
    from nnx.distributed.cost import TYPICAL_LINKS, ring_allreduce_seconds, ring_bytes_per_rank

    lines = ["ranks  samples/s  step ms  all-reduce share  grad all-reduce ms"]
    for r in rows:
        lines.append(
            f"{r['ranks']:>5}  {r['samples_per_s']:>9,.0f}  {r['step_ms']:>7.1f}  "
            f"{r['allreduce_share']:>16.1%}  {r['grad_allreduce_ms']:>18.2f}"
        )
    two = next((r for r in rows if r["ranks"] == 2), None)
    if two is None:
        return lines
    params = two["params"]
    latency = two["small_allreduce_us"] * 1e-6 / 2
    bandwidth = ring_bytes_per_rank(params, 2) / max(
        two["grad_allreduce_ms"] * 1e-3 - latency, 1e-9
    )
    lines.append(
        f"measured link: {bandwidth / 1e9:.2f} GB/s, latency {latency * 1e6:.1f} us "
        f"(2 ranks, {ring_bytes_per_rank(params, 2) / 1e6:.2f} MB per rank per all-reduce)"
    )
    links = {"measured link": (bandwidth, latency), **TYPICAL_LINKS}
    lines.append("PROJECTION (ring all-reduce cost model, not measured): ms per all-reduce")
    lines.append(f"{'link':<28}" + "".join(f"{n:>10}" for n in (8, 64, 512)))
    for name, (bw, lat) in links.items():
        cells = "".join(
            f"{1e3 * ring_allreduce_seconds(params, n, bw, lat):>10.2f}" for n in (8, 64, 512)
        )
        lines.append(f"{name:<28}{cells}")
    return lines


def run_distributed(ranks: tuple[int, ...] = (1, 2), steps: int = STEPS) -> int:
    """Launch the workers, print the table; the exit code."""
    rows = [launch(n, steps) for n in ranks]
    for line in report(rows):
        print(line)
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", action="store_true")
    parser.add_argument("--steps", type=int, default=STEPS)
    options = parser.parse_args()
    if options.worker:
        result = worker(options.steps)
        import nnx

        if nnx.distributed.is_main():
            print(json.dumps(result), flush=True)
    else:
        sys.exit(run_distributed(steps=options.steps))
