"""The CPU backends' thread pools start every worker up front (nnx/backends/thread_pool.py)."""

from __future__ import annotations

import threading

from nnx.backends.thread_pool import started_pool


def _named(prefix: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(prefix)]


def test_every_worker_is_running_when_the_pool_is_returned():
    pool = started_pool(3, "nnx-test-started")
    try:
        assert len(_named("nnx-test-started")) == 3  # not one thread per call that found none idle
        assert pool.submit(lambda: 7).result() == 7
        assert len(_named("nnx-test-started")) == 3
    finally:
        pool.shutdown()
    assert not [t for t in _named("nnx-test-started") if t.is_alive()]
