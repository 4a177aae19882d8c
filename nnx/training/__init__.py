"""Training: the fit/evaluate/predict loops, batching, input conversion, the non-finite guard.

- :mod:`~nnx.training.loop`: ``fit``, ``evaluate`` and ``predict`` for a model;
- :mod:`~nnx.training.batching`: datasets on the backend, batch slices, shuffling, the
  validation split, class weights;
- :mod:`~nnx.training.inputs`: conversion and checks of user data for a model (public
  functions: ``model_inputs``, ``model_targets``, ``model_sample_weights``,
  ``require_compiled``);
- :mod:`~nnx.training.nonfinite`: stopping at the first NaN/Inf batch
  (``NonFiniteWarning``);
- :mod:`~nnx.training.strategy`: the points a distribution strategy hooks (``Strategy``,
  ``current_strategy``; :mod:`nnx.distributed` has the data-parallel one).

Training cannot import :mod:`nnx.models` (a floor above): its functions take the model as
their first argument and use its public API.
"""

from nnx.training.loop import evaluate, fit, predict
from nnx.training.nonfinite import NonFiniteWarning
from nnx.training.strategy import Strategy, current_strategy

__all__ = ["NonFiniteWarning", "Strategy", "current_strategy", "evaluate", "fit", "predict"]
