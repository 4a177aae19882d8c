"""The bench's memory measurement: a step that keeps something is seen, one that keeps
nothing reads 0, and memory held once (not per step) does not count per step."""

from __future__ import annotations

from nnx.benchmarks.runner import growth_per_step


class _Keeper:
    def __init__(self) -> None:
        self.kept: list[bytes] = []

    def __call__(self) -> None:
        self.kept.append(bytes(1000))


def test_a_step_that_keeps_a_kilobyte_is_seen() -> None:
    assert 1000 <= growth_per_step(_Keeper(), steps=20) < 1200


def test_a_step_that_keeps_nothing_reads_zero() -> None:
    def step() -> None:
        bytes(1000)

    # NOTE: 0 when run alone; inside the whole suite other tests' threads and the
    # interpreter's own bookkeeping may move a few dozen bytes while tracing is on.
    held = growth_per_step(step, steps=50)
    assert abs(held) < 100, held


def test_what_the_warm_up_fills_is_not_held_per_step() -> None:
    cache: dict[int, bytes] = {}

    def step() -> None:
        cache.setdefault(0, bytes(5000))  # held once, on the first call

    held = growth_per_step(step, steps=50, warmup=1)
    assert abs(held) < 100, held  # the 5000 bytes are held once, not 100 per step


def test_a_cache_the_step_fills_over_its_first_calls_is_not_held_per_step() -> None:
    cache: dict[int, bytes] = {}
    calls = [0]

    def step() -> None:
        calls[0] += 1
        if calls[0] <= 15:  # a lazily built cache: grows for 15 calls, then never again
            cache[calls[0]] = bytes(3000)

    held = growth_per_step(step, steps=20, warmup=1)
    assert abs(held) < 100, held
