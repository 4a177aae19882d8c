"""Data-parallel training with MPI: the same script on every rank, one global batch per step.

    mpiexec -n 2 python examples/distributed_training.py        # 2 ranks on this machine
    srun -n 8 python examples/distributed_training.py           # 8 ranks on a SLURM cluster
    python examples/distributed_training.py                     # 1 process, the same numbers

Every rank loads the same data and builds the same model; inside ``DataParallel`` each step's
global batch of 64 rows is split across the ranks, the gradients are all-reduced, and the
weights, losses and metrics equal a one-process run with batch 64. Only rank 0 prints and writes
the checkpoints and the final model. Needs ``pip install "nnx-array[mpi]"``.
"""

from __future__ import annotations

import argparse
import pathlib
import tempfile

import nnx
from nnx.layers import Dense, Dropout


def main(quick: bool = False, out: pathlib.Path | None = None) -> dict[str, float]:
    """Train a spiral classifier data-parallel; rank 0's test scores."""
    out = pathlib.Path(out or tempfile.mkdtemp(prefix="nnx-distributed-"))
    x, y = nnx.datasets.make_spirals(2000, n_classes=3, noise=0.05, seed=0)
    x_train, x_test, y_train, y_test = nnx.data.train_test_split(x, y, test_size=0.2, seed=0)
    model = nnx.Sequential(
        [
            Dense(64, activation="relu", input_shape=(2,)),
            Dropout(0.1),
            Dense(64, activation="relu"),
            Dense(3, activation="softmax"),
        ],
        seed=0,
        dtype="float64",  # float32 agrees to ~1e-6 per step; over many steps it drifts apart
    )
    model.compile(
        nnx.optimizers.Adam(learning_rate=0.01), "sparse_categorical_crossentropy", ["accuracy"]
    )
    with nnx.distributed.DataParallel() as strategy:
        if strategy.is_main:
            print(f"data-parallel over {strategy.world_size} rank(s); files in {out}")
        checkpoint = nnx.callbacks.ModelCheckpoint(str(out / "ckpt-{epoch:03d}.nnx"))
        model.fit(
            x_train,
            y_train,
            batch_size=64,
            epochs=5 if quick else 60,
            validation_data=(x_test, y_test),
            callbacks=[checkpoint],
            verbose=0 if quick else 2,
        )
        scores = model.evaluate(x_test, y_test, return_dict=True)
        model.save(out / "spirals.nnx")
    if strategy.is_main:
        print(f"test accuracy {scores['accuracy']:.3f}, loss {scores['loss']:.3f}")
    return {k: float(v) for k, v in scores.items()}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=pathlib.Path, default=None)
    options = parser.parse_args()
    main(options.quick, options.out)
