"""The cost model of a data-parallel step: what a ring all-reduce sends, and how long it takes.

A ring all-reduce of ``S`` bytes over ``N`` ranks is a reduce-scatter then an all-gather, each of
``N - 1`` steps moving ``S / N`` bytes per rank: every rank sends (and receives)
``2 S (N - 1) / N`` bytes per step, whatever ``N``. With a link of bandwidth ``beta`` (bytes/s)
and a per-message latency ``alpha``:

    t(N) = 2 (N - 1) alpha + 2 S (N - 1) / (N beta)

so the bandwidth term approaches ``2 S / beta`` as ``N`` grows and the latency term grows
linearly (tree and hierarchical algorithms, which NCCL and MPI pick for small messages or many
ranks, cut it to ``log N``).

>>> ring_bytes_per_rank(1_000_000, 2, bytes_per_value=4)
4000000.0
>>> round(ring_allreduce_seconds(1_000_000, 8, bandwidth=25e9, latency=2e-6) * 1e3, 3)
0.308
"""

from __future__ import annotations

__all__ = ["TYPICAL_LINKS", "ring_allreduce_seconds", "ring_bytes_per_rank"]

#: name: (bandwidth in bytes/s per direction, latency in s), typical published figures
TYPICAL_LINKS: dict[str, tuple[float, float]] = {
    "InfiniBand HDR (200 Gb/s)": (25e9, 2e-6),
    "NVLink 4 (H100, ~450 GB/s)": (450e9, 3e-6),
}


def ring_bytes_per_rank(values: int, ranks: int, bytes_per_value: int = 4) -> float:
    """Bytes each rank sends in one ring all-reduce of ``values`` numbers: ``2 S (N - 1) / N``."""
    size = values * bytes_per_value
    return 2.0 * size * (ranks - 1) / ranks


def ring_allreduce_seconds(
    values: int, ranks: int, bandwidth: float, latency: float, bytes_per_value: int = 4
) -> float:
    """``2 (N - 1) alpha + 2 S (N - 1) / (N beta)``: a ring all-reduce's time (see the module)."""
    if ranks <= 1:
        return 0.0
    steps = 2 * (ranks - 1)
    return steps * latency + ring_bytes_per_rank(values, ranks, bytes_per_value) / bandwidth
