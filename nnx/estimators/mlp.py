"""``MLPClassifier`` and ``MLPRegressor``: scikit-learn's interface over :class:`nnx.Sequential`.

>>> from nnx.datasets import make_moons
>>> X, y = make_moons(200, noise=0.1, seed=0)
>>> clf = MLPClassifier((16,), learning_rate_init=0.01, tol=1e-3, random_state=0).fit(X, y)
>>> clf.score(X, y) > 0.95
True
"""

from __future__ import annotations

from typing import Any

from nnx.backends import get_backend
from nnx.estimators.base import BaseMLP
from nnx.estimators.compat import ClassifierMixin, RegressorMixin, require_sklearn

__all__ = ["MLPClassifier", "MLPRegressor"]

_FLOATS = ("float64", "float32")


def _validate(est: Any, X: Any, y: Any = "no_validation", reset: bool = True, **kwargs: Any) -> Any:
    from sklearn.utils.validation import validate_data

    return validate_data(est, X, y, reset=reset, dtype=_FLOATS, **kwargs)


class MLPClassifier(ClassifierMixin, BaseMLP):
    """Multi-layer perceptron classifier with scikit-learn's parameters, trained by nnx.

    Binary targets get one sigmoid output, multi-class targets a softmax, multi-label
    indicator matrices one sigmoid per label (all with cross-entropy). Labels may be any
    sortable values (strings too). Fitting is ``Sequential.fit`` with scikit-learn's stopping
    rule; ``partial_fit`` runs one more epoch on the same network and optimizer state.

    Args:
        hidden_layer_sizes: units of each hidden layer.
        activation: ``"identity"``, ``"logistic"``, ``"tanh"``, ``"relu"`` or any nnx
            activation name (``"leaky_relu"``, ``"elu"``, ...).
        solver: ``"sgd"``, ``"adam"``, ``"rmsprop"``, ``"adagrad"``, ``"adamw"``, ``"nadam"``.
        alpha: L2 penalty (scikit-learn's scaling: ``alpha / 2 ||W||^2 / batch``).
        batch_size: ``"auto"`` (``min(200, n)``) or an int.
        learning_rate_init: the optimizer's learning rate.
        max_iter: maximum number of epochs.
        shuffle: reshuffle each epoch.
        random_state: seed of initial weights, shuffling and the validation split.
        tol, n_iter_no_change: stop when the loss (or validation score) has not improved by
            ``tol`` for ``n_iter_no_change`` epochs.
        verbose: print one line per epoch.
        momentum, nesterovs_momentum: for ``"sgd"``.
        early_stopping, validation_fraction: monitor accuracy on a held-out fraction and keep
            the best weights.
        beta_1, beta_2, epsilon: for the Adam family (``epsilon`` also RMSprop / Adagrad).
        backend: nnx backend name (``"numpy"``, ``"cupy"``, ``"array_api_strict"``).

    Attributes:
        classes_, loss_, loss_curve_, best_loss_, n_iter_, t_, n_features_in_, model_,
        validation_scores_ and best_validation_score_ (with early stopping).

    Shape:
        X: ``(n, n_features)``; y: ``(n,)`` labels or ``(n, n_labels)`` 0/1 indicators.

    >>> from nnx.datasets import make_blobs
    >>> X, y = make_blobs(90, centers=3, seed=0)
    >>> clf = MLPClassifier((8,), learning_rate_init=0.05, tol=1e-3, random_state=0)
    >>> labels = ["abc"[i] for i in y]
    >>> clf.fit(X, labels).score(X, labels), clf.classes_.tolist()
    (1.0, ['a', 'b', 'c'])
    """

    _metric = "accuracy"

    def _targets(self, y: Any, classes: Any = None) -> Any:
        from sklearn.preprocessing import LabelBinarizer

        if not hasattr(self, "_label_binarizer"):
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y if classes is None else classes)
            self.classes_ = self._label_binarizer.classes_
            if self._label_binarizer.y_type_ != "multilabel-indicator" and len(self.classes_) < 2:
                raise ValueError(
                    "MLPClassifier can't train when only one class is present: "
                    f"received classes {self.classes_.tolist()}."
                )
        kind = self._label_binarizer.y_type_
        self._loss = "categorical_crossentropy" if kind == "multiclass" else "binary_crossentropy"
        self._out = "softmax" if kind == "multiclass" else "sigmoid"
        return self._label_binarizer.transform(y)

    def _fit(self, X: Any, y: Any, incremental: bool, classes: Any = None) -> MLPClassifier:
        require_sklearn(type(self).__name__)
        from sklearn.utils.multiclass import check_classification_targets

        self._check_params()
        first = not (incremental and hasattr(self, "model_"))
        X, y = _validate(self, X, y, reset=first, multi_output=True)
        if y.ndim == 2 and y.shape[1] == 1:
            from sklearn.utils.validation import column_or_1d

            y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        if first:
            self.__dict__.pop("_label_binarizer", None)
        elif classes is None and not set(get_backend("numpy").xp.unique_values(y).tolist()) <= set(
            self.classes_.tolist()
        ):
            raise ValueError(f"partial_fit: y has labels not in classes_ {self.classes_.tolist()}.")
        Y = self._targets(y, classes).astype(X.dtype)
        if first:
            self._build(X.shape[1], Y.shape[1], self._out, str(X.dtype), X.shape[0])
        self._train(X, Y, 1 if incremental else self.max_iter, incremental)
        return self

    def fit(self, X: Any, y: Any) -> MLPClassifier:
        """Train a fresh network on ``(X, y)``; returns ``self``."""
        return self._fit(X, y, incremental=False)

    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> MLPClassifier:
        """One epoch on ``(X, y)``; the first call needs ``classes`` (all labels).

        Returns:
            ``self``.
        """
        if not hasattr(self, "model_") and classes is None:
            raise ValueError("MLPClassifier.partial_fit: the first call needs classes=.")
        return self._fit(X, y, incremental=True, classes=classes)

    def predict_proba(self, X: Any) -> Any:
        """Class probabilities ``(n, n_classes)`` (per-label probabilities for multi-label)."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "model_")
        p = self._forward(_validate(self, X, reset=False))
        if self._label_binarizer.y_type_ == "binary":
            xp = get_backend("numpy").xp
            return xp.concat([1.0 - p, p], axis=1)
        return p

    def predict_log_proba(self, X: Any) -> Any:
        """``log(predict_proba(X))``."""
        xp = get_backend("numpy").xp
        return xp.log(self.predict_proba(X))

    def predict(self, X: Any) -> Any:
        """Predicted labels (indicator rows for multi-label)."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "model_")
        p = self._forward(_validate(self, X, reset=False))
        return self._label_binarizer.inverse_transform(p)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class MLPRegressor(RegressorMixin, BaseMLP):
    """Multi-layer perceptron regressor (linear output, mean squared error) on nnx.

    Args: as :class:`MLPClassifier` (early stopping monitors the validation R^2).

    Attributes:
        loss_, loss_curve_, best_loss_, n_iter_, t_, n_features_in_, model_.

    Shape:
        X: ``(n, n_features)``; y: ``(n,)`` or ``(n, n_outputs)``; ``predict`` returns the
        same number of dimensions as the ``y`` it was fitted on.

    >>> from nnx.datasets import make_regression
    >>> X, y = make_regression(200, n_features=3, noise=0.0, seed=0)
    >>> reg = MLPRegressor((16,), learning_rate_init=0.01, tol=1e-3, random_state=0)
    >>> reg.fit(X, y.ravel()).score(X, y.ravel()) > 0.95
    True
    """

    _metric = "r2"
    _loss = "mse"

    def _fit(self, X: Any, y: Any, incremental: bool) -> MLPRegressor:
        require_sklearn(type(self).__name__)
        self._check_params()
        first = not (incremental and hasattr(self, "model_"))
        X, y = _validate(self, X, y, reset=first, multi_output=True, y_numeric=True)
        Y = (y.reshape(-1, 1) if y.ndim == 1 else y).astype(X.dtype)
        if first:
            self._y_1d = y.ndim == 1
            self._build(X.shape[1], Y.shape[1], "linear", str(X.dtype), X.shape[0])
        elif Y.shape[1] != self.model_.layers[-1].get_config()["units"]:
            raise ValueError(f"partial_fit: y has {Y.shape[1]} outputs, the model has others.")
        self._train(X, Y, 1 if incremental else self.max_iter, incremental)
        return self

    def fit(self, X: Any, y: Any) -> MLPRegressor:
        """Train a fresh network on ``(X, y)``; returns ``self``."""
        return self._fit(X, y, incremental=False)

    def partial_fit(self, X: Any, y: Any) -> MLPRegressor:
        """One epoch on ``(X, y)`` (builds the network on the first call); returns ``self``."""
        return self._fit(X, y, incremental=True)

    def predict(self, X: Any) -> Any:
        """Predictions ``(n,)`` or ``(n, n_outputs)``."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "model_")
        p = self._forward(_validate(self, X, reset=False))
        return p.ravel() if self._y_1d else p

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags
