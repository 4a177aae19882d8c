"""Callbacks: hooks into ``fit``/``evaluate``/``predict`` with Keras's names.

- :mod:`~nnx.callbacks.base`: ``Callback``, ``CallbackList``, ``History``, ``LambdaCallback``,
  ``TerminateOnNaN``;
- :mod:`~nnx.callbacks.monitor`: the one "improved?" rule of the callbacks below;
- :mod:`~nnx.callbacks.early_stopping`: ``EarlyStopping``;
- :mod:`~nnx.callbacks.learning_rate`: ``LearningRateScheduler``, ``ReduceLROnPlateau``;
- :mod:`~nnx.callbacks.checkpoints`: ``ModelCheckpoint``, ``BackupAndRestore``;
- :mod:`~nnx.callbacks.progress`: the progress bar of ``fit(verbose=1|2)``.
"""

from nnx.callbacks.base import (
    Callback,
    CallbackList,
    History,
    LambdaCallback,
    TerminateOnNaN,
)
from nnx.callbacks.checkpoints import BackupAndRestore, ModelCheckpoint
from nnx.callbacks.early_stopping import EarlyStopping
from nnx.callbacks.learning_rate import LearningRateScheduler, ReduceLROnPlateau

__all__ = [
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "ReduceLROnPlateau",
    "TerminateOnNaN",
    "ModelCheckpoint",
    "BackupAndRestore",
]
