"""Models: :class:`Model`, :class:`Sequential`, the summary table, and :func:`load` (``nnx.load``).

- :mod:`~nnx.models.model`: ``Model``, the training surface every model shares;
- :mod:`~nnx.models.sequential`: ``Sequential``, a stack of layers;
- :mod:`~nnx.models.functional`: ``Input`` and ``Functional`` (``Model(inputs, outputs)``), a
  graph of layers (:mod:`~nnx.models.graph`), its per-output compile settings
  (:mod:`~nnx.models.heads`) and data (:mod:`~nnx.models.graph_data`);
- :mod:`~nnx.models.nested`: ``NestedModel``, a functional model called as a layer;
- :mod:`~nnx.models.summary`: the text table of ``Sequential.summary()``;
- :mod:`~nnx.models.loading`: ``load`` (and Keras's name for it, ``load_model``), which rebuilds
  a model from a model file.
"""

from nnx.models.cell_steps import TracedCellSteps
from nnx.models.functional import Functional, Input
from nnx.models.loading import load, load_model
from nnx.models.model import Model
from nnx.models.nested import NestedModel
from nnx.models.sequential import Sequential
from nnx.models.subclassed import CallRunner
from nnx.models.subclassed_model import ModelCall

__all__ = [
    "CallRunner",
    "TracedCellSteps",
    "Functional",
    "Input",
    "Model",
    "Sequential",
    "load",
    "load_model",
    "ModelCall",
    "NestedModel",
]
