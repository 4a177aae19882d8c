"""Pure Array-API math: forward functions and their vector-Jacobian products."""

from nnx.functional import activations, losses

__all__ = ["activations", "losses"]
