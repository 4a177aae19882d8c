"""Saving: the ``.npz`` container, a model's training state, and model files.

- :mod:`nnx.saving.container`: the file format (checksummed ``.npz``, atomic writes, no pickle,
  bounded reading);
- :mod:`nnx.saving.signing`: optional Ed25519 signatures (``verify=`` of :func:`nnx.load`);
- :mod:`nnx.saving.state`: capture, copy and restore a model's training state in memory;
- :mod:`nnx.saving.files`: :func:`save`, :func:`save_weights`, :func:`read`, :func:`load_weights`.

Rebuilding a whole model from a file builds a ``Sequential``, a floor above saving: that is
:func:`nnx.load` (:mod:`nnx.models.loading`). nnx 0.1's ``nnx.io`` names resolve to these (and
``nnx.io.load`` to :func:`nnx.load`).
"""

from nnx.saving.container import DEFAULT_MAX_BYTES, FileFormatError
from nnx.saving.files import (
    FORMAT_VERSION,
    NonFiniteWeightsError,
    load_weights,
    read,
    save,
    save_weights,
    skip_writes,
    writes_files,
)
from nnx.saving.serializable import check_savable, register_keras_serializable
from nnx.saving.signing import generate_key_pair, sign_file
from nnx.saving.state import capture_state, copy_state, restore_state

__all__ = [
    "DEFAULT_MAX_BYTES",
    "FORMAT_VERSION",
    "FileFormatError",
    "NonFiniteWeightsError",
    "capture_state",
    "check_savable",
    "copy_state",
    "generate_key_pair",
    "load_weights",
    "read",
    "register_keras_serializable",
    "restore_state",
    "save",
    "save_weights",
    "sign_file",
    "skip_writes",
    "writes_files",
]
