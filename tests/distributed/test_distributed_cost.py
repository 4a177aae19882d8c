"""The ring all-reduce cost model and the bench's projection table built on it."""

from __future__ import annotations

import pytest

from nnx.benchmarks.distributed import report
from nnx.distributed.cost import ring_allreduce_seconds, ring_bytes_per_rank


@pytest.mark.parametrize("ranks", [2, 8, 64, 512])
def test_ring_sends_two_buffers_times_n_minus_one_over_n(ranks: int) -> None:
    values = 1_863_690
    assert ring_bytes_per_rank(values, ranks) == pytest.approx(8 * values * (ranks - 1) / ranks)
    bandwidth_only = ring_allreduce_seconds(values, ranks, bandwidth=1e9, latency=0.0)
    assert bandwidth_only == pytest.approx(ring_bytes_per_rank(values, ranks) / 1e9)
    latency_only = ring_allreduce_seconds(values, ranks, bandwidth=float("inf"), latency=1e-6)
    assert latency_only == pytest.approx(2 * (ranks - 1) * 1e-6)


def test_one_rank_costs_nothing() -> None:
    assert ring_allreduce_seconds(10**6, 1, bandwidth=1e9, latency=1e-6) == 0.0


def test_report_projects_from_the_measured_link() -> None:
    rows = [
        {"ranks": 1, "samples_per_s": 1000.0, "step_ms": 256.0, "allreduce_share": 0.0,
         "grad_allreduce_ms": 0.0, "small_allreduce_us": 0.0, "params": 1_000_000},
        {"ranks": 2, "samples_per_s": 1800.0, "step_ms": 142.0, "allreduce_share": 0.05,
         "grad_allreduce_ms": 4.0, "small_allreduce_us": 0.0, "params": 1_000_000},
    ]  # fmt: skip
    lines = report(rows)
    assert "1.00 GB/s" in lines[3]  # 4 MB per rank in 4 ms
    assert any(line.startswith("PROJECTION") for line in lines)
    measured = next(line for line in lines if line.startswith("measured link "))
    expected = [1e3 * ring_allreduce_seconds(10**6, n, 1e9, 0.0) for n in (8, 64, 512)]
    assert [float(v) for v in measured.split()[2:]] == pytest.approx(expected, abs=0.01)
