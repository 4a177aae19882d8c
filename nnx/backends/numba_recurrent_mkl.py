"""The recurrent kernels built on MKL's products (the ``mkl`` extra): the inference kernels of
:mod:`nnx.backends.numba_recurrent_infer` and the training loops of
:mod:`nnx.backends.numba_recurrent_loops`, compiled a second time with
:mod:`nnx.backends.numba_mkl`'s ``gemm``, ``pack``, ``gemm_packed`` ... in place of
:mod:`nnx.backends.numba_blas_products`'s (each step's ``h U`` against ``U`` packed once per
call), and cached on disk like the first build.

Measured on the LSTM bench's shapes (``OPENBLAS_NUM_THREADS=1 taskset -c 1 python -m
bench.lstm_inference_profile``, thread CPU time, fastest of 40, Intel Xeon family 6 model
167): the 64-row inference pass 8.53 ms with SciPy's OpenBLAS against 6.82 ms with MKL
(torch's ``nn.LSTM``: 6.08), a 32-row block 4.89 against 3.41 ms.
"""

from __future__ import annotations

import functools
from types import SimpleNamespace

__all__ = ["kernels"]


@functools.cache
def kernels() -> SimpleNamespace | None:
    """``lstm_infer``, ``gru_infer``, ``rnn_infer`` and the training loops ``lstm_forward``,
    ``lstm_backward``, ``gru_forward`` ... (:mod:`nnx.backends.numba_recurrent_loops`, one per
    cell and direction) on MKL's products, or None
    where MKL is not installed or ``NNX_MKL=0`` (:mod:`nnx.backends.mkl_library`)."""
    from nnx.backends import mkl_library

    names = mkl_library.kernel_products()
    if names is None:
        return None
    from nnx.backends import numba_recurrent as rnn
    from nnx.backends import numba_recurrent_infer as infer
    from nnx.backends.numba_jit import twin
    from nnx.backends.numba_recurrent_loops import backward, forward

    names["_project_chunk"] = twin(infer._project_chunk, "_mkl", names, **infer.OPTIONS)
    built = {
        fn.__name__: twin(fn, "_mkl", names)
        for fn in (infer.lstm_infer, infer.gru_infer, infer.rnn_infer)
    }
    for cell in ("lstm", "gru", "rnn"):
        for loop, kernel in ((forward, f"{cell}_step"), (backward, f"{cell}_step_backward")):
            bound = {**names, "step": getattr(rnn, kernel)}
            built[f"{cell}_{loop.__name__}"] = twin(loop, f"_{cell}_mkl", bound, **infer.OPTIONS)
    return SimpleNamespace(**built)
