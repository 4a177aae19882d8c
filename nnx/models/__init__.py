"""Models: :class:`Sequential`, its summary table, and :func:`load` (``nnx.load``).

- :mod:`~nnx.models.sequential`: ``Sequential``;
- :mod:`~nnx.models.summary`: the text table of ``Sequential.summary()``;
- :mod:`~nnx.models.loading`: ``load``, which rebuilds a ``Sequential`` from a model file.
"""

from nnx.models.loading import load
from nnx.models.sequential import Sequential

__all__ = ["Sequential", "load"]
