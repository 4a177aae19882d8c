"""Pure Array-API math: forward functions and their vector-Jacobian products."""

from nnx.functional import activations, conv, image, losses, pooling

__all__ = ["activations", "conv", "image", "losses", "pooling"]
