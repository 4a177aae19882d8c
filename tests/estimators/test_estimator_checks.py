"""scikit-learn's own estimator checks on the nnx estimators (small max_iter keeps them fast)."""

from __future__ import annotations

import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from nnx.estimators import MLPClassifier, MLPRegressor

ESTIMATORS = [
    MLPClassifier((16,), max_iter=60, learning_rate_init=0.01, random_state=0),
    MLPRegressor((16,), max_iter=60, learning_rate_init=0.01, random_state=0),
]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def test_convergence_warning_class_is_sklearns():
    assert issubclass(ConvergenceWarning, UserWarning)
