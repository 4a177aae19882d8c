"""The CPU backends' thread pools, with every worker started up front."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

__all__ = ["started_pool"]


def started_pool(workers: int, prefix: str) -> ThreadPoolExecutor:
    """A ``ThreadPoolExecutor`` of ``workers`` threads, all running when it is returned.

    The executor starts its threads one at a time, each when a call finds none idle: on a busy
    host the second may start hundreds of steps into a training loop, and its ~1.7 KB of
    interpreter state would then read as memory that step kept (``growth_per_step``). Each
    worker here waits at one barrier until all have started."""
    pool = ThreadPoolExecutor(workers, thread_name_prefix=prefix)
    barrier = threading.Barrier(workers)
    for future in [pool.submit(barrier.wait) for _ in range(workers)]:
        future.result()
    return pool
