"""The activation codes the numba kernels branch on (here, apart from them: a caller may look
one up without importing numba)."""

from __future__ import annotations

__all__ = ["CODES"]

#: activation name -> the code the kernels branch on
CODES = {
    name: i
    for i, name in enumerate(
        (
            "linear",
            "step",
            "sigmoid",
            "hard_sigmoid",
            "tanh",
            "relu",
            "relu6",
            "leaky_relu",
            "elu",
            "selu",
            "gelu",
            "gelu_exact",
            "swish",
            "silu",
            "softplus",
            "softsign",
            "softmax",
            "log_softmax",
        )
    )
}
