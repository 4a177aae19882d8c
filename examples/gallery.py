# ruff: noqa: E501  (the gallery lines are shown verbatim, one line each)
"""Draw every nnx.plot figure into examples/gallery/ (100 dpi PNG) and print the Markdown gallery
of examples/README.md: each image under the one line that draws it.

Run: python examples/gallery.py [--out examples/gallery]
"""

from __future__ import annotations

import argparse
import pathlib
import warnings
from typing import Any

import numpy as np

import nnx
from nnx import plot
from nnx.datasets import load_digits, make_blobs, make_moons
from nnx.layers import Dense, RandomRotation
from nnx.schedules import CosineDecay, ExponentialDecay, StepDecay

HERE = pathlib.Path(__file__).parent

#: (file name, what it shows, the one line that draws it)
LINES = [
    (
        "decision_boundary_regression",
        "a linear-output MLP (outputs leave [0, 1])",
        'plot.plot_decision_boundary(regressor, X, y, path=out / "{name}.png")',
    ),
    (
        "decision_boundary_three_classes",
        "three classes, softmax output",
        'plot.plot_decision_boundary(softmax_model, Xb, yb, class_names=["a", "b", "c"], path=out / "{name}.png")',
    ),
    (
        "optimizer_trajectories",
        "each optimizer at a rate that converges, optimum marked",
        'plot.plot_optimizer_trajectories(["sgd", "momentum", "rmsprop", "adam"], path=out / "{name}.png")',
    ),
    (
        "quadratic_steps",
        "each optimizer's steps down a 1-D quadratic",
        'plot.plot_quadratic_steps(["sgd", "momentum", "rmsprop", "adam"], path=out / "{name}.png")',
    ),
    (
        "activations",
        "activations and derivatives, a panel each",
        'plot.plot_activations(path=out / "{name}.png")',
    ),
    (
        "confusion_matrix",
        "readable counts on every cell",
        'plot.plot_confusion_matrix(cm, [str(d) for d in range(10)], path=out / "{name}.png")',
    ),
    (
        "lr_find",
        "the LR range test and its suggestion",
        'plot.plot_lr_find(nnx.lr_find(classifier, X, y.reshape(-1, 1)), path=out / "{name}.png")',
    ),
    (
        "lr_schedules",
        "learning-rate schedules",
        'plot.plot_lr_schedules(schedules, steps=100, path=out / "{name}.png")',
    ),
    (
        "histories",
        "several runs' loss, log scale",
        'plot.plot_histories(histories, path=out / "{name}.png")',
    ),
    (
        "history",
        "one run: loss and accuracy, training and validation",
        'plot.plot_history(history, path=out / "{name}.png")',
    ),
    (
        "loss_functions",
        "MSE against Huber, and their gradients",
        'plot.plot_loss_functions(["mse", "huber"], path=out / "{name}.png")',
    ),
    (
        "depth_study",
        "a depth study on a numeric axis",
        'plot.plot_study(depth_mse, "hidden layers", "test MSE", "test MSE against depth", path=out / "{name}.png")',
    ),
    (
        "lr_study",
        "a learning-rate study on a log axis",
        'plot.plot_study(rate_mse, "learning rate", "final loss", "final loss against learning rate", logx=True, logy=True, path=out / "{name}.png")',
    ),
    (
        "gradient_norms",
        "gradient ratio against depth per activation",
        'plot.plot_gradient_norms(ratios, title="first/last layer gradient ratio", path=out / "{name}.png")',
    ),
    (
        "augmented_images",
        "what an augmentation layer does",
        'plot.plot_augmented_images(digits[:4], RandomRotation(0.08), copies=2, path=out / "{name}.png")',
    ),
    (
        "timing",
        "forward/backward time against parameter count",
        'plot.plot_timing(params, forward, backward, path=out / "{name}.png")',
    ),
    (
        "activation_means",
        "mean |activation| per layer",
        'plot.plot_activation_means(means, path=out / "{name}.png")',
    ),
    (
        "convergence_epochs",
        "epochs to convergence per optimizer",
        'plot.plot_convergence_epochs(histories, path=out / "{name}.png")',
    ),
]


def _context() -> dict[str, Any]:
    from nnx.diagnostics import activation_stats, deep_mlp, depth_gradient_ratio

    X, y = make_moons(300, noise=0.15, seed=0)
    regressor = nnx.Sequential(
        [
            Dense(10, activation="sigmoid", input_shape=(2,)),
            Dense(5, activation="sigmoid"),
            Dense(1),
        ],
        seed=0,
    )
    regressor.compile(nnx.optimizers.Adam(0.02), "mse")
    regressor.fit(X, y.reshape(-1, 1), epochs=150, verbose=0)
    Xb, yb = make_blobs(240, centers=3, cluster_std=1.2, seed=1)
    softmax_model = nnx.Sequential(
        [Dense(16, activation="tanh", input_shape=(2,)), Dense(3, activation="softmax")], seed=0
    )
    softmax_model.compile(nnx.optimizers.Adam(0.02), "sparse_categorical_crossentropy")
    softmax_model.fit(Xb, yb, epochs=60, verbose=0)
    classifier = nnx.Sequential(
        [Dense(16, activation="relu", input_shape=(2,)), Dense(1, activation="sigmoid")], seed=0
    )
    classifier.compile("sgd", "binary_crossentropy", metrics=["accuracy"])
    history = classifier.fit(X, y.reshape(-1, 1), epochs=30, validation_split=0.2, verbose=0)
    histories = {}
    for name, opt in {
        "SGD 0.05": nnx.optimizers.SGD(0.05),
        "SGD momentum 0.9": nnx.optimizers.SGD(0.05, momentum=0.9),
        "RMSprop 0.005": nnx.optimizers.RMSprop(0.005),
        "Adam 0.01": nnx.optimizers.Adam(0.01),
    }.items():
        m = nnx.Sequential(
            [Dense(16, activation="tanh", input_shape=(2,)), Dense(1, activation="sigmoid")], seed=0
        )
        m.compile(opt, "binary_crossentropy")
        histories[name] = m.fit(X, y.reshape(-1, 1), epochs=60, verbose=0)
    rng = np.random.default_rng(0)
    cm = np.diag(rng.integers(30, 40, 10)) + rng.integers(0, 3, (10, 10)) * (
        1 - np.eye(10, dtype=int)
    )
    digits_x, _ = load_digits()
    digits = (digits_x / 16.0).reshape(-1, 8, 8, 1).astype("float32")
    ratios = {act: depth_gradient_ratio(act, (2, 4, 6, 8, 10)) for act in ("sigmoid", "tanh")}
    ratios["relu (He)"] = depth_gradient_ratio(
        "relu", (2, 4, 6, 8, 10), kernel_initializer="he_uniform"
    )
    means = {}
    for act in ("sigmoid", "tanh", "relu"):
        stats = activation_stats(deep_mlp(6, act), rng.normal(size=(256, 10)))
        means[act] = [abs(s["mean"]) for s in stats[:-1]]
    params, forward, backward = _timing()
    classifier_fresh = nnx.Sequential(
        [Dense(16, activation="relu", input_shape=(2,)), Dense(1, activation="sigmoid")], seed=0
    )
    classifier_fresh.compile("sgd", "binary_crossentropy")
    return {
        "nnx": nnx,
        "plot": plot,
        "X": X,
        "y": y,
        "regressor": regressor,
        "Xb": Xb,
        "yb": yb,
        "softmax_model": softmax_model,
        "classifier": classifier_fresh,
        "history": history,
        "histories": histories,
        "cm": cm,
        "digits": digits,
        "RandomRotation": RandomRotation,
        "ratios": ratios,
        "means": means,
        "params": params,
        "forward": forward,
        "backward": backward,
        "schedules": {
            "exponential (0.1, x0.5 / 20 steps)": ExponentialDecay(0.1, 20, 0.5),
            "step (0.1, x0.5 / 30 steps)": StepDecay(0.1, rate=0.5, steps=30),
            "cosine (0.1 -> 0 over 100)": CosineDecay(0.1, 100),
        },
        "depth_mse": {
            "Adam 0.001": {1: 0.059, 2: 0.030, 3: 0.042, 4: 0.049, 5: 0.043},
            "Adam 0.01": {1: 0.0125, 2: 0.0139, 3: 0.0183, 4: 0.0171, 5: 0.0211},
        },
        "rate_mse": {
            "SGD": {1e-3: 0.70, 1e-2: 0.09, 1e-1: 0.016, 0.33: 0.0055},
            "Adam": {1e-3: 0.57, 1e-2: 0.011, 1e-1: 0.0042, 1.0: 0.42},
        },
    }


def _timing() -> tuple[list[int], list[float], list[float]]:
    """Fastest of 20 timings (the least disturbed by other work) of a forward and a backward pass
    of four MLPs on 256 rows, on one BLAS thread (threaded BLAS on a busy machine measures the
    waiting, not the work)."""
    import time

    from threadpoolctl import threadpool_limits  # installed with scikit-learn

    with threadpool_limits(1):
        return _time_passes(time.perf_counter)


def _time_passes(clock: Any) -> tuple[list[int], list[float], list[float]]:
    x = np.random.default_rng(0).normal(size=(256, 10)).astype("float32")
    params, forward, backward = [], [], []
    for widths in ((16,), (64, 32), (256, 128), (512, 512, 256)):
        layers = [
            Dense(w, activation="relu", input_shape=(10,) if i == 0 else None)
            for i, w in enumerate(widths)
        ]
        model = nnx.Sequential([*layers, Dense(1)], seed=0)
        xb = model.backend.asarray(x)
        fw, bw = [], []
        for _ in range(20):
            t0 = clock()
            y, back = model.forward(xb, training=True)
            t1 = clock()
            back(y)
            t2 = clock()
            fw.append(t1 - t0)
            bw.append(t2 - t1)
        params.append(model.count_params())
        forward.append(float(np.min(fw)))
        backward.append(float(np.min(bw)))
    return params, forward, backward


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=HERE / "gallery")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    warnings.filterwarnings("ignore")
    context = {**_context(), "out": args.out}
    for name, what, line in LINES:
        exec(line.format(name=name), context)  # the very line the gallery shows
        print(
            f"### {what}\n\n```python\n{line.format(name=name)}\n```\n\n![{what}](gallery/{name}.png)\n"
        )


if __name__ == "__main__":
    main()
