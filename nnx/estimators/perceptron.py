"""Rosenblatt's perceptron: a step unit trained by the perceptron learning rule.

>>> from nnx.datasets import logic_gate
>>> X, y = logic_gate("and")
>>> Perceptron(learning_rate=0.1, random_state=0).fit(X, y.ravel()).predict(X).tolist()
[0.0, 0.0, 0.0, 1.0]
"""

from __future__ import annotations

from typing import Any

from nnx.backends import get_backend
from nnx.estimators.compat import BaseEstimator, ClassifierMixin
from nnx.layers import Dense
from nnx.models import Sequential
from nnx.training.inputs import to_backend

__all__ = ["Perceptron"]


class Perceptron(ClassifierMixin, BaseEstimator):
    """A single step unit ``y_hat = step(x . w + b)`` (1 if ``>= 0``) for two classes.

    Training visits the samples one at a time (in a new random order each epoch when
    ``shuffle``) and applies the perceptron rule::

        w += learning_rate * (y - y_hat) * x        b += learning_rate * (y - y_hat)

    which changes the weights only on mistakes. It stops after an epoch without mistakes or
    after ``max_iter`` epochs. The perceptron convergence theorem guarantees a mistake-free
    epoch in finitely many steps when the two classes are *linearly separable* (AND, OR).
    XOR is not: a line ``w1 x1 + w2 x2 + b = 0`` would need ``b < 0`` (00 -> 0),
    ``w1 + b >= 0`` and ``w2 + b >= 0`` (01, 10 -> 1), hence ``w1 + w2 + 2b >= 0``, while
    11 -> 0 needs ``w1 + w2 + b < 0``, so ``b > 0``: a contradiction. On XOR the rule cycles
    forever and at most 3 of the 4 points are ever right (a hidden layer is needed).

    The unit is an nnx ``Dense(1, activation="step")`` inside a :class:`nnx.Sequential`
    (``model_``), so ``predict`` runs on any backend; the update runs on the device and the
    mistake count is read once per epoch.

    Args:
        learning_rate: step size of the rule (> 0).
        max_iter: maximum number of epochs.
        shuffle: visit samples in a random order each epoch.
        random_state: seed of the shuffling.
        backend: nnx backend name.

    Attributes:
        classes_: the two labels (the second is the positive class).
        coef_: weights ``(n_features,)``; intercept_: the bias (floats, on the host).
        errors_: number of mistakes in each epoch.
        n_iter_: epochs run.
        model_: the underlying Sequential.

    >>> from nnx.datasets import make_xor
    >>> X, y = make_xor()
    >>> p = Perceptron(max_iter=50, random_state=0).fit(X, y.ravel())
    >>> min(p.errors_) > 0, p.score(X, y.ravel()) <= 0.75
    (True, True)
    """

    def __init__(
        self,
        learning_rate: float = 0.1,
        max_iter: int = 100,
        shuffle: bool = True,
        random_state: int | None = None,
        backend: str | None = None,
    ) -> None:
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.backend = backend

    def fit(self, X: Any, y: Any) -> Perceptron:
        """Learn ``w`` and ``b`` with the perceptron rule; returns ``self``.

        Args:
            X: ``(n, n_features)`` numbers.
            y: ``(n,)`` labels with exactly two distinct values.
        """
        if not self.learning_rate > 0:
            raise ValueError(f"Perceptron: learning_rate must be > 0, got {self.learning_rate!r}.")
        if (
            isinstance(self.max_iter, bool)
            or not isinstance(self.max_iter, int)
            or self.max_iter < 1
        ):
            raise ValueError(f"Perceptron: max_iter must be an int >= 1, got {self.max_iter!r}.")
        model = Sequential(
            [Dense(1, activation="step", kernel_initializer="zeros", input_shape=(len(X[0]),))],
            backend=self.backend,
            seed=self.random_state,
            dtype="float64",
        )
        b, xp = model.backend, model.backend.xp
        Xb = to_backend(b, X, "X", "float64")
        host = get_backend("numpy").xp
        labels = host.reshape(host.asarray(y), (-1,))
        classes = host.unique_values(labels)
        if classes.shape[0] != 2 or labels.shape[0] != Xb.shape[0]:
            raise ValueError(
                f"Perceptron needs one label per row of X with exactly two classes, received "
                f"{labels.shape[0]} labels of classes {classes.tolist()!r}."
            )
        self.classes_ = classes
        yb = b.asarray(host.reshape(host.astype(labels == classes[1], host.float64), (-1, 1)))
        layer = model.layers[0]
        assert isinstance(layer, Dense) and layer.kernel is not None and layer.bias is not None
        w, bias = layer.kernel.value, layer.bias.value
        self.errors_: list[int] = []
        for _ in range(self.max_iter):
            order = model.rng.host_permutation(Xb.shape[0]) if self.shuffle else range(Xb.shape[0])
            mistakes = xp.zeros((), dtype=xp.float64, device=b.device)
            for i in order:
                x = Xb[int(i) : int(i) + 1, :]
                delta = yb[int(i), 0] - layer(x)[0, 0]
                w += self.learning_rate * delta * xp.reshape(x, (-1, 1))
                bias += self.learning_rate * delta
                mistakes = mistakes + xp.abs(delta)
            self.errors_.append(int(mistakes))
            if self.errors_[-1] == 0:
                break
        self.n_iter_ = len(self.errors_)
        self.model_ = model
        self.coef_ = b.to_numpy(w).ravel().copy()
        self.intercept_ = float(b.to_numpy(bias)[0])
        self.n_features_in_ = Xb.shape[1]
        return self

    def decision_function(self, X: Any) -> Any:
        """``x . w + b`` for each row (host array ``(n,)``)."""
        self._check_fitted()
        layer = self.model_.layers[0]
        assert isinstance(layer, Dense)
        z = layer.forward_logits(self._inputs(X))[0][:, 0]
        return self.model_.backend.to_numpy(z)

    def predict(self, X: Any) -> Any:
        """The predicted labels (values of ``classes_``)."""
        self._check_fitted()
        step = self.model_.predict(self._inputs(X)).ravel()
        return self.classes_[(step > 0.5).astype("int64")]

    def _inputs(self, X: Any) -> Any:
        Xb = to_backend(self.model_.backend, X, "X", "float64")
        if Xb.ndim != 2 or Xb.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has shape {tuple(Xb.shape)}, the perceptron expects (n, {self.n_features_in_})."
            )
        return Xb

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise RuntimeError("This Perceptron is not fitted yet: call fit(X, y) first.")
