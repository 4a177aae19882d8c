"""Saving and loading: the ``.npz`` container, a model's training state, model files."""

from nnx.saving.container import FileFormatError
from nnx.saving.files import (
    FORMAT_VERSION,
    capture_state,
    copy_state,
    load,
    load_weights,
    read,
    restore_state,
    save,
    save_weights,
)

__all__ = [
    "FORMAT_VERSION",
    "FileFormatError",
    "capture_state",
    "copy_state",
    "load",
    "load_weights",
    "read",
    "restore_state",
    "save",
    "save_weights",
]
