"""What the MLP estimators share: scikit-learn's constructor, the network builder and the
``fit`` driver.

The driver builds an :class:`nnx.Sequential`, compiles it and calls ``Sequential.fit`` with a
callback that applies scikit-learn's stopping rules (``tol`` / ``n_iter_no_change`` on the
training loss, or on the validation score with ``early_stopping``): there is no second
training loop.

>>> BaseMLP(solver="sgd", momentum=0.5).get_params()["momentum"]
0.5
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from nnx.estimators.compat import BaseEstimator, ConvergenceWarning
from nnx.estimators.rules import ACTIVATIONS, SOLVERS, SklearnStopping, optimizer_for
from nnx.layers import Dense
from nnx.models import Sequential
from nnx.regularizers import l2

__all__ = ["BaseMLP"]


class BaseMLP(BaseEstimator):
    """Shared constructor (scikit-learn's names plus ``backend``) and training driver.

    Args: see :class:`nnx.estimators.MLPClassifier`.

    >>> BaseMLP(hidden_layer_sizes=(8,)).get_params()["hidden_layer_sizes"]
    (8,)
    """

    def __init__(
        self,
        hidden_layer_sizes: tuple[int, ...] = (100,),
        activation: str = "relu",
        *,
        solver: str = "adam",
        alpha: float = 0.0001,
        batch_size: int | str = "auto",
        learning_rate_init: float = 0.001,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state: int | None = None,
        tol: float = 1e-4,
        verbose: bool = False,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: int = 10,
        backend: str | None = None,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.backend = backend

    # --- checks and construction ---------------------------------------------------------------
    def _check_params(self) -> None:
        name = type(self).__name__
        sizes = self.hidden_layer_sizes
        sizes = (sizes,) if isinstance(sizes, int) else tuple(sizes)
        if any(isinstance(s, bool) or not isinstance(s, int) or s <= 0 for s in sizes):
            raise ValueError(f"{name}: hidden_layer_sizes must be positive ints, got {sizes!r}.")
        if self.solver not in SOLVERS:
            raise ValueError(
                f"{name}: solver must be one of {SOLVERS}, got solver={self.solver!r}."
            )
        for arg in ("max_iter", "n_iter_no_change"):
            value = getattr(self, arg)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: {arg} must be an int >= 1, got {arg}={value!r}.")
        if not 0.0 < self.validation_fraction < 1.0:
            raise ValueError(f"{name}: validation_fraction must be in (0, 1).")
        if self.alpha < 0 or self.learning_rate_init <= 0:
            raise ValueError(f"{name}: alpha must be >= 0 and learning_rate_init > 0.")
        bs = self.batch_size
        if bs != "auto" and (isinstance(bs, bool) or not isinstance(bs, int) or bs < 1):
            raise ValueError(f"{name}: batch_size must be 'auto' or an int >= 1, got {bs!r}.")

    def _batch(self, n: int) -> int:
        return min(200, n) if self.batch_size == "auto" else min(int(self.batch_size), n)

    def _build(
        self, n_features: int, n_outputs: int, out_activation: str, dtype: str, n: int
    ) -> None:
        from nnx import activations

        sizes = self.hidden_layer_sizes
        sizes = (sizes,) if isinstance(sizes, int) else tuple(sizes)
        act = activations.get(ACTIVATIONS.get(self.activation, self.activation)).name
        # NOTE: scikit-learn adds alpha/2 ||W||^2 / batch to each batch's mean loss.
        reg = l2(self.alpha / (2 * self._batch(n))) if self.alpha else None
        units = [*sizes, n_outputs]
        layers = [
            Dense(
                u,
                activation=act if i < len(sizes) else out_activation,
                kernel_regularizer=reg,
                input_shape=(n_features,) if i == 0 else None,
                name=f"dense_{i}",
            )
            for i, u in enumerate(units)
        ]
        self.model_ = Sequential(layers, backend=self.backend, seed=self.random_state, dtype=dtype)
        self._compile()

    def _compile(self) -> None:
        self.model_.compile(optimizer_for(self), loss=self._loss, metrics=[self._metric])

    # --- the driver ------------------------------------------------------------------------------
    def _train(self, X: Any, Y: Any, epochs: int, incremental: bool) -> None:
        n = X.shape[0]
        if not incremental or not hasattr(self, "loss_curve_"):
            self.loss_curve_: list[float] = []
            self.n_iter_ = 0
            self.t_ = 0
            self.best_loss_ = math.inf
            self._no_improvement_count = 0
            if self.early_stopping:
                self.validation_scores_: list[float] = []
                self.best_validation_score_ = -math.inf
        validation = None
        monitor = None
        if self.early_stopping and not incremental:
            from nnx.datasets import train_test_split

            X, Xv, Y, Yv = train_test_split(X, Y, self.validation_fraction, self.random_state)
            validation, monitor = (Xv, Yv), f"val_{self._metric}"
            self._best_weights: list[Any] | None = None
        stopper = [] if incremental else [SklearnStopping(self, monitor)]
        history = self.model_.fit(
            X,
            Y,
            batch_size=self._batch(X.shape[0]),
            epochs=epochs,
            verbose=2 if self.verbose else 0,
            callbacks=stopper,
            validation_data=validation,
            shuffle=bool(self.shuffle),
        )
        losses = history.history.get("loss", [])
        self.loss_curve_ += losses
        self.loss_ = losses[-1] if losses else math.nan
        self.n_iter_ += len(losses)
        self.t_ += len(losses) * n
        if incremental:
            self.best_loss_ = min(self.best_loss_, *losses)
        if monitor and self._best_weights is not None:
            self.model_.set_weights(self._best_weights)
        self._best_weights = None
        if not incremental and len(losses) == epochs and not self.model_.stop_training:
            warnings.warn(
                f"{type(self).__name__}: max_iter={self.max_iter} reached and the optimization "
                "has not converged yet.",
                ConvergenceWarning,
                stacklevel=3,
            )

    def _forward(self, X: Any) -> Any:
        return self.model_.predict(X, batch_size=max(1, min(4096, X.shape[0])))

    @property
    def _dtype(self) -> str:
        return "float32"

    # --- pickling: the model holds a backend (a module), so ship its config and weights --------
    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__() if hasattr(super(), "__getstate__") else self.__dict__)
        model = state.get("model_")
        if isinstance(model, Sequential):
            state["model_"] = {
                "config": model.get_config(),
                "weights": model.get_weights(),
                "backend": model.backend.name,
            }
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        saved = state.get("model_")
        if hasattr(super(), "__setstate__"):
            super().__setstate__(state)
        else:  # pragma: no cover
            self.__dict__.update(state)
        if isinstance(saved, dict):
            from nnx.layers import layer_class

            config = saved["config"]
            layers = [
                layer_class(c["class_name"]).from_config(c["config"]) for c in config["layers"]
            ]
            self.model_ = Sequential(
                layers, backend=saved["backend"], seed=config["seed"], dtype=config["dtype"]
            )
            self.model_.set_weights(saved["weights"])
            self._compile()
