"""Breast cancer (569 x 30) with the lesson's 30-16-8-1 network, Adam (Keras defaults), batch
32 and 50 epochs, on the lesson's split (scikit-learn's ``train_test_split``, 20 % test,
``random_state=42``, standardized): test accuracy >= 0.95, as the lesson expects ("~95%+").

Run: python examples/11_breast_cancer.py
"""

from __future__ import annotations

from typing import Any

from _util import run

import nnx
from nnx.data import StandardScaler
from nnx.datasets import load_breast_cancer
from nnx.layers import Dense


def main(quick: bool = False, out: Any = None) -> dict[str, Any]:
    from sklearn.model_selection import train_test_split

    X, y = load_breast_cancer()
    X_train, X_test, y_train, y_test = train_test_split(
        X, y.reshape(-1, 1).astype("float32"), test_size=0.2, random_state=42
    )
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    model = nnx.Sequential(
        [
            Dense(16, activation="relu", input_shape=(30,)),
            Dense(8, activation="relu"),
            Dense(1, activation="sigmoid"),
        ],
        seed=0,
    )
    model.compile(
        nnx.optimizers.Adam(1e-3), "binary_crossentropy", metrics=["accuracy", "f1", "auc"]
    )
    history = model.fit(
        X_train,
        y_train,
        epochs=20 if quick else 50,
        batch_size=32,
        verbose=0,
        validation_data=(X_test, y_test),
    )
    logs = model.evaluate(X_test, y_test, return_dict=True)
    if out is not None:
        from nnx.metrics import confusion_matrix
        from nnx.plot import plot_confusion_matrix, plot_history

        plot_history(history, path=out / "breast_cancer_history.png")
        labels = (model.predict(X_test) > 0.5).astype("int64").ravel()
        cm = confusion_matrix(y_test.ravel().astype("int64"), labels, num_classes=2)
        plot_confusion_matrix(cm, ["malignant", "benign"], path=out / "breast_cancer_confusion.png")
    return {"test_accuracy": logs["accuracy"], "test_f1": logs["f1"], "test_auc": logs["auc"]}


if __name__ == "__main__":
    run(main, __doc__)
