"""nnx.estimators: Perceptron on logic gates, MLPs inside scikit-learn's tooling."""

from __future__ import annotations

import pathlib
import pickle
import sys

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import nnx
from nnx.datasets import logic_gate, make_blobs, make_moons, make_regression
from nnx.estimators import MLPClassifier, MLPRegressor, Perceptron

FAST = {"tol": 1e-3, "random_state": 0}


@pytest.mark.parametrize("gate", ["and", "or", "nand", "nor"])
def test_perceptron_learns_linearly_separable_gates(gate, backend):
    X, y = logic_gate(gate)
    p = Perceptron(learning_rate=0.1, max_iter=100, random_state=0, backend=backend.name)
    p.fit(X, y.ravel())
    assert p.errors_[-1] == 0 and p.n_iter_ < 100
    assert (p.predict(X) == y.ravel()).all()
    assert p.score(X, y.ravel()) == 1.0


def test_perceptron_cannot_learn_xor():
    X, y = logic_gate("xor")
    for seed in range(5):
        p = Perceptron(learning_rate=0.1, max_iter=200, random_state=seed).fit(X, y.ravel())
        assert p.n_iter_ == 200 and min(p.errors_) >= 1
        assert p.score(X, y.ravel()) <= 0.75


def test_perceptron_rule_by_hand_and_string_labels():
    X = [[1.0, 0.0], [0.0, 1.0]]
    p = Perceptron(learning_rate=0.5, max_iter=1, shuffle=False).fit(X, ["no", "yes"])
    # sample 1: step(0) = 1 but y = 0 -> w -= 0.5 x, b -= 0.5; sample 2: step(-0.5) = 0, y = 1
    # -> w += 0.5 x, b += 0.5
    assert p.coef_.tolist() == [-0.5, 0.5] and p.intercept_ == 0.0
    assert p.predict([[0.0, 2.0]]).tolist() == ["yes"]
    assert clone(p).get_params() == p.get_params()
    with pytest.raises(ValueError, match="two classes"):
        Perceptron().fit(X, [1, 1])


def test_classifier_multiclass_string_labels_proba_and_score():
    X, y = make_blobs(150, centers=3, seed=0)
    labels = np.array(["cat", "dog", "eel"])[y]
    clf = MLPClassifier((16,), learning_rate_init=0.02, max_iter=100, **FAST).fit(X, labels)
    assert clf.classes_.tolist() == ["cat", "dog", "eel"]
    proba = clf.predict_proba(X)
    assert proba.shape == (150, 3) and np.allclose(proba.sum(1), 1, atol=1e-5)
    assert clf.score(X, labels) > 0.95
    assert 1 <= clf.n_iter_ == len(clf.loss_curve_) <= 100
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_classifier_binary_and_multilabel():
    X, y = make_moons(200, noise=0.1, seed=0)
    clf = MLPClassifier(
        (16,), activation="tanh", learning_rate_init=0.02, max_iter=500, tol=0.0, random_state=0
    )
    clf.fit(X, y)
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        MLPClassifier((4,), max_iter=2).fit(X, y)
    assert clf.predict_proba(X).shape == (200, 2) and clf.score(X, y) > 0.95
    Y = np.stack([y, (X[:, 0] > 0.5).astype(int)], axis=1)
    multi = MLPClassifier((16,), learning_rate_init=0.02, **FAST).fit(X, Y)
    assert multi.predict(X).shape == (200, 2)
    assert (multi.predict(X) == Y).mean() > 0.9


def test_partial_fit_continues_training():
    X, y = make_blobs(120, centers=3, seed=1)
    clf = MLPClassifier((8,), learning_rate_init=0.02, random_state=0)
    with pytest.raises(ValueError, match="classes"):
        clf.partial_fit(X, y)
    for _ in range(30):
        clf.partial_fit(X, y, classes=[0, 1, 2])
    assert clf.n_iter_ == 30 and clf.score(X, y) > 0.9
    reg = MLPRegressor((8,), learning_rate_init=0.01, random_state=0)
    Xr, yr = make_regression(100, n_features=3, seed=0)
    for _ in range(5):
        reg.partial_fit(Xr, yr.ravel())
    assert reg.n_iter_ == 5 and reg.loss_curve_[-1] < reg.loss_curve_[0]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_pipeline_gridsearch_clone_and_pickle():
    X, y = make_moons(160, noise=0.2, seed=0)
    pipe = make_pipeline(StandardScaler(), MLPClassifier((8,), max_iter=40, random_state=0))
    search = GridSearchCV(pipe, {"mlpclassifier__learning_rate_init": [0.001, 0.03]}, cv=2)
    search.fit(X, y)
    assert search.best_params_["mlpclassifier__learning_rate_init"] == 0.03
    est = clone(search.best_estimator_[-1])
    assert est.get_params()["hidden_layer_sizes"] == (8,) and not hasattr(est, "model_")
    fitted = search.best_estimator_
    again = pickle.loads(pickle.dumps(fitted))
    assert np.array_equal(again.predict_proba(X), fitted.predict_proba(X))


def test_regressor_multi_output_early_stopping_and_backend():
    X, y = make_regression(300, n_features=4, noise=0.05, seed=0)
    Y = np.concatenate([y, -2 * y], axis=1)
    reg = MLPRegressor(
        (32,), learning_rate_init=0.01, early_stopping=True, n_iter_no_change=5, **FAST
    )
    reg.fit(X, Y)
    assert reg.predict(X).shape == (300, 2) and reg.score(X, Y) > 0.9
    assert len(reg.validation_scores_) == reg.n_iter_
    assert reg.best_validation_score_ == max(reg.validation_scores_)
    strict = MLPRegressor((8,), learning_rate_init=0.01, backend="array_api_strict", **FAST)
    assert strict.fit(X, y.ravel()).predict(X).shape == (300,)
    assert strict.model_.backend.name == "array_api_strict"


@pytest.mark.parametrize("solver", ["sgd", "adam", "rmsprop", "adagrad", "adamw", "nadam"])
def test_every_solver_trains(solver):
    X, y = make_moons(120, noise=0.1, seed=0)
    lr = {"sgd": 0.1, "adagrad": 0.3}.get(solver, 0.01)
    clf = MLPClassifier((16,), solver=solver, learning_rate_init=lr, max_iter=150, **FAST)
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf.fit(X, y)
    assert clf.score(X, y) > 0.85


def test_bad_parameters_are_reported_at_fit():
    X, y = make_moons(20, seed=0)
    with pytest.raises(ValueError, match="solver"):
        MLPClassifier(solver="lbfgs").fit(X, y)
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        MLPClassifier(hidden_layer_sizes=(0,)).fit(X, y)
    assert nnx.MLPClassifier is MLPClassifier and nnx.Perceptron is Perceptron


def test_without_scikit_learn_the_perceptron_works_and_mlps_name_the_extra():
    import subprocess
    import textwrap

    code = textwrap.dedent(
        """
        import sys
        for name in ("sklearn", "sklearn.base", "sklearn.exceptions", "sklearn.datasets"):
            sys.modules[name] = None
        import nnx
        from nnx.datasets import logic_gate
        X, y = logic_gate("or")
        p = nnx.Perceptron(random_state=0).fit(X, y.ravel())
        assert p.score(X, y.ravel()) == 1.0 and p.get_params()["max_iter"] == 100
        reg = nnx.MLPRegressor().set_params(max_iter=3)
        assert reg.get_params()["max_iter"] == 3
        try:
            nnx.MLPClassifier().fit(X, y.ravel())
        except ImportError as exc:
            assert "nnx-array[sklearn]" in str(exc)
        else:
            raise AssertionError("no ImportError")
        print("ok")
        """
    )
    root = pathlib.Path(__file__).parents[2]
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=False
    )
    assert done.stdout.strip() == "ok", done.stderr
