"""scikit-learn's training rules in nnx terms: the optimizer for a ``solver`` and the
``tol`` / ``n_iter_no_change`` stopping rule as a callback of ``Sequential.fit``.

>>> from nnx.estimators import MLPClassifier
>>> optimizer_for(MLPClassifier(solver="sgd", momentum=0.5)).momentum
0.5
"""

from __future__ import annotations

import math
from typing import Any

from nnx import optimizers
from nnx.callbacks import Callback

__all__ = ["ACTIVATIONS", "SOLVERS", "SklearnStopping", "optimizer_for"]

SOLVERS = ("sgd", "adam", "rmsprop", "adagrad", "adamw", "nadam")
ACTIVATIONS = {"identity": "linear", "logistic": "sigmoid"}


def optimizer_for(est: Any) -> optimizers.Optimizer:
    """The nnx optimizer for an estimator's ``solver`` and scikit-learn-named arguments.

    Args:
        est: an estimator with ``solver``, ``learning_rate_init``, ``momentum``, ...

    Returns:
        The optimizer.

    >>> from nnx.estimators import MLPRegressor
    >>> type(optimizer_for(MLPRegressor(solver="rmsprop"))).__name__
    'RMSprop'
    """
    lr = est.learning_rate_init
    if est.solver == "sgd":
        return optimizers.SGD(lr, momentum=est.momentum, nesterov=bool(est.nesterovs_momentum))
    if est.solver in ("adam", "adamw", "nadam"):
        cls = {"adam": optimizers.Adam, "adamw": optimizers.AdamW, "nadam": optimizers.Nadam}
        return cls[est.solver](lr, beta_1=est.beta_1, beta_2=est.beta_2, epsilon=est.epsilon)
    if est.solver == "rmsprop":
        return optimizers.RMSprop(lr, epsilon=est.epsilon)
    return optimizers.Adagrad(lr, epsilon=est.epsilon)


class SklearnStopping(Callback):
    """scikit-learn's rule: stop after ``n_iter_no_change`` epochs without a ``tol`` gain of
    the training loss (``monitor=None``) or of a validation score (e.g. ``"val_accuracy"``);
    with a score it keeps the best weights in ``est._best_weights``.

    Args:
        est: the estimator whose ``tol``, ``n_iter_no_change`` and ``best_*_`` it uses.
        monitor: None, or the epoch-log key of the validation score.

    >>> from nnx.estimators import MLPRegressor
    >>> SklearnStopping(MLPRegressor(), None).monitor is None
    True
    """

    def __init__(self, est: Any, monitor: str | None) -> None:
        super().__init__()
        self.est, self.monitor = est, monitor

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs, est = logs or {}, self.est
        if self.monitor is None:
            value = -logs["loss"]
        else:
            value = logs[self.monitor]
            est.validation_scores_.append(value)
        if not math.isfinite(value):
            return
        best = est.best_validation_score_ if self.monitor else -est.best_loss_
        if value > best + est.tol:
            est._no_improvement_count = 0
        else:
            est._no_improvement_count += 1
        if value > best:
            if self.monitor:
                est.best_validation_score_ = value
                assert self.model is not None
                est._best_weights = self.model.get_weights(copy=True, host=False)
            else:
                est.best_loss_ = -value
        if est._no_improvement_count >= est.n_iter_no_change:
            assert self.model is not None
            self.model.stop_training = True
