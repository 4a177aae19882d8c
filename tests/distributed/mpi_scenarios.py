"""Scenarios run under ``mpiexec -n 2`` by tests/distributed/test_distributed_mpi.py.

``python mpi_scenarios.py train OUT``: trains each model of :data:`CONFIGS` under
``DataParallel``; rank 0 writes ``OUT/<name>.npz`` (weights, logs, evaluate, predict and every
rank's weight digest) and the checkpoint callbacks write ``OUT/<name>-ckpt-<epoch>.nnx``; then
resumes ``OUT/resume-from.nnx`` (written by one process) for the remaining epochs.
``raise``: rank 1 raises in epoch 2. ``mismatch``: rank 1 builds another model.
The same builders make the single-process references in the test.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

import nnx
from nnx.layers import BatchNormalization, Dense, Dropout

SGD = {"class_name": "SGD", "config": {"learning_rate": 0.1, "momentum": 0.9}}
ADAM = {"class_name": "Adam", "config": {"learning_rate": 0.01}}
#: name: (dtype, optimizer config, dropout rate, batch-norm mode or None)
CONFIGS: dict[str, tuple[str, dict[str, Any], float, str | None]] = {
    "sgd64": ("float64", SGD, 0.3, None),
    "adam32": ("float32", ADAM, 0.3, None),
    "adam64_syncbn": ("float64", ADAM, 0.0, "sync"),
}
EPOCHS, BATCH = 4, 15  # 50 rows: shards 7/8 per step, a last batch of 5 (2/3)


def data() -> tuple[np.ndarray, ...]:
    """Training and validation data, the same on every rank."""
    rng = np.random.default_rng(7)
    x = rng.normal(size=(62, 6))
    y = (x[:, 0] + x[:, 1] * x[:, 2] > 0).astype(np.int64) + (x[:, 3] > 1)
    return x[:50], y[:50], x[50:], y[50:]


def build(name: str, hidden: int = 12) -> nnx.Sequential:
    """The model of config ``name``, compiled."""
    dtype, optimizer, rate, bn = CONFIGS[name]
    layers: list[Any] = [Dense(hidden, activation="tanh", input_shape=(6,), name="hidden")]
    if rate:
        layers.append(Dropout(rate, name="drop"))
    if bn:
        layers.append(BatchNormalization(momentum=0.8, name="bn"))
    layers.append(Dense(3, activation="softmax", name="out"))
    model = nnx.Sequential(layers, seed=3, dtype=dtype)
    model.compile(optimizer, "sparse_categorical_crossentropy", metrics=["accuracy", "f1"])
    return model


def train(model: nnx.Sequential, initial_epoch: int = 0, callbacks: Any = None) -> dict:
    """fit + evaluate + predict; the results as plain values."""
    x, y, xv, yv = data()
    history = model.fit(
        x,
        y,
        batch_size=BATCH,
        epochs=EPOCHS,
        verbose=2,
        validation_data=(xv, yv),
        initial_epoch=initial_epoch,
        callbacks=callbacks,
    )
    return {
        "weights": model.get_weights(),
        "history": history.history,
        "evaluate": model.evaluate(xv, yv, batch_size=5, return_dict=True),
        "predict": model.predict(x, batch_size=BATCH),
    }


def _write(path: Path, result: dict, digests: list[str], **more: Any) -> None:
    arrays = {f"w{i}": w for i, w in enumerate(result["weights"])}
    meta = {k: result[k] for k in ("history", "evaluate")} | {"digests": digests, **more}
    np.savez(path, predict=result["predict"], meta=np.array(json.dumps(meta)), **arrays)


def scenario_train(out: Path) -> None:
    from nnx.distributed.replicas import weights_digest

    local = nnx.distributed.DataParallel(batch_norm="local")
    sync = nnx.distributed.DataParallel(batch_norm="sync")
    for name, (_, _, _, bn) in CONFIGS.items():
        strategy = sync if bn == "sync" else local
        with strategy:
            model = build(name)
            ckpt = nnx.callbacks.ModelCheckpoint(str(out / f"{name}-ckpt-{{epoch}}.nnx"))
            result = train(model, callbacks=[ckpt])
        digests = strategy.communicator(model.backend).allgather_object(weights_digest(model))
        if strategy.is_main:
            _write(out / f"{name}.npz", result, digests)
    with local:
        resumed = nnx.load(out / "resume-from.nnx")
        result = train(resumed, initial_epoch=2)
    comm = local.communicator(resumed.backend)
    digests = comm.allgather_object(weights_digest(resumed))
    nodes = comm.allgather_object(nnx.distributed.local_rank())
    if local.is_main:
        _write(out / "resumed.npz", result, digests, local_ranks=nodes)


def scenario_raise() -> None:
    def explode(epoch: int, logs: Any = None) -> None:
        if nnx.distributed.rank() == 1 and epoch == 1:
            raise RuntimeError("boom on purpose")

    with nnx.distributed.DataParallel():
        model = build("sgd64")
        x, y, _, _ = data()
        callback = nnx.callbacks.LambdaCallback(on_epoch_begin=explode)
        model.fit(x, y, batch_size=BATCH, epochs=50, verbose=0, callbacks=[callback])


def scenario_mismatch() -> None:
    with nnx.distributed.DataParallel():
        model = build("sgd64", hidden=12 + nnx.distributed.rank())
        x, y, _, _ = data()
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)


if __name__ == "__main__":
    nnx.distributed.init()
    what = sys.argv[1]
    if what == "train":
        scenario_train(Path(sys.argv[2]))
    elif what == "raise":
        scenario_raise()
    else:
        scenario_mismatch()
