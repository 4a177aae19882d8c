"""Callbacks: hooks into ``fit``/``evaluate``/``predict`` with Keras's names."""

from nnx.callbacks.base import (
    Callback,
    CallbackList,
    History,
    LambdaCallback,
    Logs,
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
    "Logs",
]
