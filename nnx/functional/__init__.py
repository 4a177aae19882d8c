"""Pure Array-API maths: forward functions and their vector-Jacobian products.

One module per family: :mod:`~nnx.functional.activations`, :mod:`~nnx.functional.losses`,
:mod:`~nnx.functional.conv`, :mod:`~nnx.functional.conv_transpose`,
:mod:`~nnx.functional.pooling`, :mod:`~nnx.functional.image`,
:mod:`~nnx.functional.one_hot`, :mod:`~nnx.functional.sequence` and
:mod:`~nnx.functional.attention_scores`. Nothing here holds state or imports above
:mod:`nnx.backends`.
"""

from nnx.functional import (
    activations,
    attention_scores,
    conv,
    conv_transpose,
    image,
    losses,
    one_hot,
    pooling,
    sequence,
)

__all__ = [
    "activations",
    "attention_scores",
    "conv",
    "conv_transpose",
    "image",
    "losses",
    "one_hot",
    "pooling",
    "sequence",
]
