"""The Adam + L2 + dropout network with early stopping, on a 20-feature classification set.

Run: python examples/04_adam_l2_dropout.py
"""

from __future__ import annotations

from typing import Any

from _util import run

import nnx
from nnx.data import StandardScaler, train_test_split
from nnx.datasets import make_classification
from nnx.layers import Dense, Dropout
from nnx.regularizers import l2


def main(quick: bool = False, out: Any = None) -> dict[str, Any]:
    X, y = make_classification(
        seed=0, n_samples=2000, n_features=20, n_informative=10, class_sep=1.0
    )
    X_train, X_test, y_train, y_test = train_test_split(
        X, y.reshape(-1, 1).astype("float32"), 0.25, seed=0
    )
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    model = nnx.Sequential(
        [
            Dense(64, activation="relu", kernel_regularizer=l2(1e-3), input_shape=(20,)),
            Dropout(0.3),
            Dense(32, activation="relu", kernel_regularizer=l2(1e-3)),
            Dropout(0.3),
            Dense(1, activation="sigmoid"),
        ],
        seed=0,
    )
    model.compile(nnx.optimizers.Adam(1e-3), "binary_crossentropy", metrics=["accuracy", "auc"])
    stop = nnx.callbacks.EarlyStopping(monitor="val_loss", patience=10, restore_best_weights=True)
    history = model.fit(
        X_train,
        y_train,
        epochs=20 if quick else 200,
        batch_size=32,
        verbose=0,
        validation_split=0.2,
        callbacks=[stop],
    )
    logs = model.evaluate(X_test, y_test, return_dict=True)
    return {
        "epochs_run": len(history.history["loss"]),
        "test_accuracy": logs["accuracy"],
        "test_auc": logs["auc"],
    }


if __name__ == "__main__":
    run(main, __doc__)
