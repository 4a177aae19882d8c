"""scikit-learn's base classes, or small stand-ins when scikit-learn is not installed.

With the stand-ins ``get_params`` / ``set_params`` / ``score`` still work (the Perceptron needs
nothing more); the MLP estimators call :func:`require_sklearn` because they validate their
input with scikit-learn.

>>> BaseEstimator is not None
True
"""

from __future__ import annotations

import inspect
from typing import Any

from nnx.backends import get_backend

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.exceptions import ConvergenceWarning

    HAVE_SKLEARN = True
except ImportError:  # pragma: no cover - exercised only without scikit-learn
    HAVE_SKLEARN = False

    class ConvergenceWarning(UserWarning):  # type: ignore[no-redef]
        """Training stopped at ``max_iter`` before the stopping rule was met.

        >>> issubclass(ConvergenceWarning, UserWarning)
        True
        """

    class BaseEstimator:  # type: ignore[no-redef]
        """Minimal ``get_params`` / ``set_params`` (scikit-learn's contract)."""

        def get_params(self, deep: bool = True) -> dict[str, Any]:
            names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
            return {name: getattr(self, name) for name in names}

        def set_params(self, **params: Any) -> Any:
            for key, value in params.items():
                setattr(self, key, value)
            return self

    class ClassifierMixin:  # type: ignore[no-redef]
        """``score`` is the accuracy."""

        def score(self, X: Any, y: Any) -> float:
            xp = get_backend("numpy").xp
            return float(xp.mean(xp.asarray(self.predict(X)) == xp.asarray(y)))  # type: ignore[attr-defined]

    class RegressorMixin:  # type: ignore[no-redef]
        """``score`` is R^2."""

        def score(self, X: Any, y: Any) -> float:
            from nnx.metrics.regression import r2_score

            xp = get_backend("numpy").xp
            return float(r2_score(xp.asarray(y, dtype=xp.float64), xp.asarray(self.predict(X))))  # type: ignore[attr-defined]


__all__ = [
    "HAVE_SKLEARN",
    "BaseEstimator",
    "ClassifierMixin",
    "ConvergenceWarning",
    "RegressorMixin",
    "require_sklearn",
]


def require_sklearn(who: str) -> None:
    """Raise an ImportError naming the extra when scikit-learn is missing.

    Args:
        who: the caller's name, for the message.

    >>> require_sklearn("MLPClassifier") if HAVE_SKLEARN else None
    """
    if not HAVE_SKLEARN:
        raise ImportError(
            f"{who} validates data with scikit-learn, which is not installed: "
            'pip install "nnx-array[sklearn]"'
        )
