"""The base of the preprocessing layers whose tables live on the host (strings, vocabularies)."""

from __future__ import annotations

from collections.abc import Sequence

from nnx.backends import Backend, get_backend
from nnx.backends.base import Generator
from nnx.layers.base import Layer

__all__ = ["HostLayer"]


class HostLayer(Layer):
    """A layer without weights that computes on the host (``TextVectorization``, the lookups)
    and hands its numbers to the model's backend: building it records that backend, the dtype
    and the shapes."""

    def build(
        self,
        input_shape: Sequence[int | None],
        backend: Backend | str | None = None,
        rng: Generator | None = None,
        dtype: str = "float32",
    ) -> None:
        """No weights; records the backend and dtype its numbers go to."""
        self.backend, self.dtype = get_backend(backend), dtype
        self.input_shape = tuple(input_shape)
        self.output_shape = self.compute_output_shape(self.input_shape)
        self.built = True
