"""Do two busy threads slow each other on this host? A compute-only numba loop (vectorized
multiply-adds on 8 KiB that stay in L1) alone, then on two threads at once; each thread's CPU
time is printed. On two real cores the pair takes what one takes alone; on two hyperthreads of
one core (or a host whose cores are shared) each takes longer, and no split of work over the
two threads can gain twice::

    python -m bench.core_contention
"""

from __future__ import annotations

import argparse
import threading
import time

import numpy as np


def main(argv: list[str] | None = None) -> None:
    """Print the loop's CPU time alone and on two threads at once, ``--trials`` times."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=3, help="rounds of solo and pair")
    parser.add_argument("--reps", type=int, default=400_000, help="passes over the array")
    args = parser.parse_args(argv)

    import numba

    @numba.njit(nogil=True, fastmath=True)
    def burn(a, reps):  # type: ignore[no-untyped-def]
        for _ in range(reps):
            for i in range(a.shape[0]):
                a[i] = a[i] * np.float32(1.0000001) + np.float32(1e-7)
        return a[0]

    arrays = [np.ones(2048, np.float32) for _ in range(2)]
    burn(arrays[0], 10)

    def timed(a: np.ndarray, out: list[float]) -> None:
        start = time.thread_time()
        burn(a, args.reps)
        out.append((time.thread_time() - start) * 1e3)

    for _ in range(args.trials):
        solo: list[float] = []
        timed(arrays[0], solo)
        pair: list[float] = []
        threads = [threading.Thread(target=timed, args=(a, pair)) for a in arrays]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        slower = max(pair) / solo[0]
        print(
            f"alone {solo[0]:6.1f} ms | two at once {pair[0]:6.1f}, {pair[1]:6.1f} ms "
            f"(the slower x{slower:.2f})"
        )


if __name__ == "__main__":
    main()
