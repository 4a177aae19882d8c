"""Models: ``Sequential``."""

from nnx.models.sequential import Sequential

__all__ = ["Sequential"]
