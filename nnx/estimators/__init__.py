"""scikit-learn-style estimators built on :class:`nnx.Sequential`.

``MLPClassifier`` / ``MLPRegressor`` take scikit-learn's parameter names (plus ``backend=``)
and need scikit-learn for input validation (``pip install "nnx-array[sklearn]"``);
``Perceptron`` needs nothing beyond nnx.

>>> from nnx.estimators import MLPClassifier
>>> MLPClassifier(hidden_layer_sizes=(8, 4)).get_params()["solver"]
'adam'
"""

from nnx.estimators.mlp import MLPClassifier, MLPRegressor
from nnx.estimators.perceptron import Perceptron

__all__ = ["MLPClassifier", "MLPRegressor", "Perceptron"]
