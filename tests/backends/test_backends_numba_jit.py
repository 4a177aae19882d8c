"""The thread split of the numba kernels (:mod:`nnx.backends.numba_jit`): a part the pool has not
started when the caller is done with its own runs on the caller, so a busy host (no core free
for the pool) cannot stall a kernel."""

from __future__ import annotations

import threading

import numpy as np
import pytest

pytest.importorskip("numba")

from nnx.backends import numba_jit


def test_the_caller_runs_the_parts_a_blocked_pool_never_started() -> None:
    pool = numba_jit._pool()
    release = threading.Event()
    blockers = [pool.submit(release.wait, 30) for _ in range(numba_jit.threads())]
    try:
        seen: list[tuple[int, str]] = []
        calls = [(i,) for i in range(3)]

        def part(i: int) -> None:
            seen.append((i, threading.current_thread().name))

        done = threading.Event()

        def split() -> None:
            numba_jit.run_split(part, calls)
            done.set()

        runner = threading.Thread(target=split, name="caller")
        runner.start()
        assert done.wait(10), "the split waited for a pool that had no free thread"
        assert sorted(i for i, _ in seen) == [0, 1, 2]
        assert {name for _, name in seen} == {"caller"}
    finally:
        release.set()
        for blocker in blockers:
            blocker.result()


def test_a_free_pool_still_takes_its_parts_and_errors_reach_the_caller() -> None:
    names: list[str] = []
    gate = threading.Barrier(2, timeout=10)

    def part(i: int) -> None:
        gate.wait()  # both parts run at once: one on the pool, one on the caller
        names.append(threading.current_thread().name)

    numba_jit.run_split(part, [(0,), (1,)])
    assert sum(name.startswith("nnx-numba") for name in names) == 1

    def failing(i: int) -> None:
        if i == 1:
            raise ValueError("part 1")

    with pytest.raises(ValueError, match="part 1"):
        numba_jit.run_split(failing, [(0,), (1,)])


@numba_jit.kernel(0, 1)
def _double(x, y):  # type: ignore[no-untyped-def]
    for i in range(x.shape[0]):
        y[i] = 2.0 * x[i]


def _doubled_above_the_fast_wake_size(size: int | None = None) -> None:
    """Run :func:`_double` on twice :data:`PARALLEL_MIN_SIZE` elements (``size``: the work the
    call states, by default their number) and check its result."""
    x = np.arange(numba_jit.PARALLEL_MIN_SIZE * 2, dtype="float64")
    y = np.empty_like(x)
    _double(x.size if size is None else size, x, y)
    np.testing.assert_array_equal(y, 2.0 * x)


def test_a_split_kernel_gives_the_serial_result() -> None:
    _doubled_above_the_fast_wake_size()


@pytest.fixture
def measured_wake(monkeypatch):
    """Let ``min_size`` measure (no ``NNX_THREAD_WAKE``), with ``wake_us`` set by the test."""
    monkeypatch.delenv(numba_jit.WAKE_ENV, raising=False)
    numba_jit._wakes_fast.cache_clear()

    def wakes_in(us: float) -> None:
        monkeypatch.setattr(numba_jit, "wake_us", lambda: us)
        numba_jit._wakes_fast.cache_clear()

    yield wakes_in
    numba_jit._wakes_fast.cache_clear()


def test_a_slow_waking_pool_raises_the_split_size(measured_wake, monkeypatch) -> None:
    measured_wake(numba_jit.SLOW_WAKE_US * 10)
    assert numba_jit.min_size() == numba_jit.SLOW_WAKE_MIN_SIZE > numba_jit.PARALLEL_MIN_SIZE
    split: list[int] = []
    run_split = numba_jit.run_split

    def counted(fn, calls):  # type: ignore[no-untyped-def]
        split.append(len(calls))
        run_split(fn, calls)

    monkeypatch.setattr(numba_jit, "run_split", counted)
    monkeypatch.setattr(numba_jit, "threads", lambda: 2)
    _doubled_above_the_fast_wake_size()  # below the slow-wake size: the caller alone
    assert split == []
    _doubled_above_the_fast_wake_size(numba_jit.SLOW_WAKE_MIN_SIZE)  # the stated work decides
    assert split == [2]

    measured_wake(numba_jit.SLOW_WAKE_US / 2)
    assert numba_jit.min_size() == numba_jit.PARALLEL_MIN_SIZE


def test_the_wake_time_is_a_measured_round_trip(measured_wake) -> None:
    us = numba_jit.wake_us(trials=3)
    assert 0.0 < us < 1e6


def test_an_unknown_thread_wake_setting_is_refused(monkeypatch) -> None:
    monkeypatch.setenv(numba_jit.WAKE_ENV, "quick")
    numba_jit._wakes_fast.cache_clear()
    try:
        with pytest.raises(ValueError, match="NNX_THREAD_WAKE must be 'fast' or 'slow'.*'quick'"):
            numba_jit.min_size()
    finally:
        numba_jit._wakes_fast.cache_clear()
