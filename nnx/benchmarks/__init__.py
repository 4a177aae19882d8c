"""Benchmarks of nnx against PyTorch and scikit-learn (``python -m nnx bench`` and ``bench/``).

:mod:`~nnx.benchmarks.cases` defines the models and the timed nnx steps,
:mod:`~nnx.benchmarks.peers` the same steps in PyTorch and scikit-learn, and
:mod:`~nnx.benchmarks.runner` times them together and prints the table.
"""
