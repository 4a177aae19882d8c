"""Device-to-host reads during ``fit``, counted on the simulated accelerator.

Every read of an ``array_api_strict`` array on ``device1`` (``float``/``bool``/``int``/index,
DLPack export, which ``to_numpy`` uses) is counted: with the default callbacks, a progress
bar, validation, sample weights, metrics, ``TerminateOnNaN`` and ``ModelCheckpoint``, no batch
reads anything, and each epoch reads once per reporter.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

import nnx
import nnx.backends as nb
from nnx.callbacks import BackupAndRestore, Callback, ModelCheckpoint, TerminateOnNaN, progress
from nnx.layers import Dense, Dropout

READS = ("__float__", "__bool__", "__int__", "__index__", "__dlpack__", "__complex__")


@pytest.fixture
def device_reads(monkeypatch):
    """The simulated-GPU backend and a list that grows by one name per device read."""
    backend = nb.get_backend("array_api_strict:device1")
    reads: list[str] = []
    array_type = type(backend.asarray([0.0]))
    for name in READS:
        original = getattr(array_type, name)

        def counted(self, *args, _original=original, _name=name, **kwargs):
            if self.device == backend.device:
                reads.append(_name)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(array_type, name, counted)
    monkeypatch.setattr(progress, "REFRESH_SECONDS", float("inf"))  # time-based refresh off
    return backend, reads


class Probe(Callback):
    """Notes the read count at every hook (first in the list, so it sees the others' reads)."""

    def __init__(self, reads: list[str]) -> None:
        super().__init__()
        self.reads, self.marks = reads, []

    def on_epoch_begin(self, epoch, logs=None):
        self.marks.append(("epoch", epoch, len(self.reads)))

    def on_train_batch_begin(self, batch, logs=None):
        self.marks.append(("batch", batch, len(self.reads)))

    def on_train_end(self, logs=None):
        self.marks.append(("end", None, len(self.reads)))


def test_fit_reads_nothing_per_batch_and_once_per_epoch_per_reporter(device_reads, tmp_path):
    backend, reads = device_reads
    rng = np.random.default_rng(0)
    X = rng.normal(size=(96, 3)).astype("float32")
    y = (X[:, :1] > 0).astype("float32")
    model = nnx.Sequential(
        [Dense(8, "relu", input_shape=(3,)), Dropout(0.2), Dense(1, "sigmoid")],
        backend=backend,
        seed=0,
    )
    model.compile("adam", "binary_crossentropy", metrics=["accuracy", "auc"])
    probe = Probe(reads)
    epochs, steps = 3, -(-72 // 16)  # 72 training rows after the validation split
    model.fit(
        X,
        y,
        epochs=epochs,
        batch_size=16,
        validation_split=0.25,
        sample_weight=rng.uniform(0.5, 1.5, size=96).astype("float32"),
        verbose=1,
        callbacks=[
            probe,
            TerminateOnNaN(),
            ModelCheckpoint(str(tmp_path / "ckpt" / "model-{epoch}.nnx")),
            BackupAndRestore(tmp_path / "backup", delete_checkpoint=False),
        ],
    )
    assert len(list((tmp_path / "ckpt").iterdir())) == epochs
    marks = probe.marks
    # once per fit, before the first epoch: the input checks (finite x, y, sample weights;
    # targets in [0, 1]; weights >= 0), one flag each
    assert marks[0][:2] == ("epoch", 0) and marks[0][2] == 5 == reads[:5].count("__bool__")
    per_batch = [b[2] - a[2] for a, b in pairwise(marks) if a[0] == b[0] == "batch"]
    assert len(per_batch) == epochs * (steps - 1) and set(per_batch) == {0}
    epoch_starts = [m[2] for m in marks if m[0] in ("epoch", "end")]
    per_epoch = [b - a for a, b in pairwise(epoch_starts)]
    # the epoch's logs (loss + metrics, one stacked read), validation (one), and each
    # checkpoint callback one transfer of every array (finiteness checked on the host copy)
    assert per_epoch == [4] * epochs, reads
    assert set(reads[5:]) == {"__dlpack__"}, reads  # no flag read (bool) after the input checks
