"""The recurrent kernels built on MKL's products (the ``mkl`` extra): the inference kernels of
:mod:`nnx.backends.numba_recurrent_infer` and the training loops of
:mod:`nnx.backends.numba_recurrent_loops`, compiled a second time with
:mod:`nnx.backends.numba_mkl`'s ``gemm``, ``pack``, ``gemm_packed`` ... in place of
:mod:`nnx.backends.numba_blas_products`'s (each step's ``h U`` against ``U`` packed once per
call), and cached on disk like the first build.

Measured on the LSTM bench's shapes (50 steps, 32 features, 128 units, float32, one core,
thread CPU time, fastest of 30; ``OPENBLAS_NUM_THREADS=1 taskset -c 1``, Intel Xeon family 6
model 167): a 32-row inference block 4.67 ms with SciPy's OpenBLAS against 2.99-3.16 ms with
MKL, a 64-row block 7.77 against 6.0-6.1 ms.
"""

from __future__ import annotations

import functools
from types import SimpleNamespace

__all__ = ["kernels"]


@functools.cache
def kernels() -> SimpleNamespace | None:
    """``lstm_infer``, ``gru_infer``, ``rnn_infer`` and ``lstm_forward``, ``lstm_backward``,
    ``gru_forward`` ... (:mod:`nnx.backends.numba_recurrent_loops`) on MKL's products, or None
    where MKL is not installed or ``NNX_MKL=0`` (:mod:`nnx.backends.mkl_library`)."""
    from nnx.backends import mkl_library

    if not mkl_library.load():
        return None
    from nnx.backends import numba_blas_products, numba_mkl
    from nnx.backends import numba_recurrent_infer as infer
    from nnx.backends.numba_jit import twin
    from nnx.backends.numba_recurrent_loops import LOOPS

    names = {name: getattr(numba_mkl, name) for name in numba_blas_products.API}
    names["_project_chunk"] = twin(infer._project_chunk, "_mkl", names, **infer.OPTIONS)
    built = {
        fn.__name__: twin(fn, "_mkl", names)
        for fn in (infer.lstm_infer, infer.gru_infer, infer.rnn_infer)
    }
    built.update({fn.__name__: twin(fn, "_mkl", names, **infer.OPTIONS) for fn in LOOPS})
    return SimpleNamespace(**built)
