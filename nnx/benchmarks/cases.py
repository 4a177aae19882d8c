"""The benchmark cases: models, batch sizes, phases, and the nnx side of each timed step.

A *case* is (model, batch, phase). The same cases drive ``bench/`` (pytest-benchmark) and
``python -m nnx bench``; the peers (PyTorch, scikit-learn) live in :mod:`nnx.benchmarks.peers`.

>>> [c.label for c in cases(["tiny"], quick=True)][:2]
['tiny/32/inference', 'tiny/32/forward_backward']
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import nnx.layers as layers
from nnx import optimizers
from nnx.backends import Backend, get_backend
from nnx.backends.base import Array
from nnx.benchmarks.host import host
from nnx.models import Sequential

__all__ = [
    "PHASES",
    "SPECS",
    "Case",
    "ModelSpec",
    "NnxRunner",
    "cases",
    "cnn_available",
    "host_data",
]

PHASES = ("inference", "forward_backward", "train_sgd", "train_adam")
#: learning rates of the timed optimizers (the same for nnx and the peers)
SGD_LR, SGD_MOMENTUM, ADAM_LR = 0.01, 0.9, 0.001


@dataclass(frozen=True)
class ModelSpec:
    """An MLP or the tutorial CNN: input shape, hidden sizes, classes, batch sizes."""

    name: str
    input_shape: tuple[int, ...]
    hidden: tuple[int, ...]
    classes: int  # 1: sigmoid + binary cross-entropy; > 1: softmax + cross-entropy
    batches: tuple[int, ...]
    conv: bool = False

    @property
    def features(self) -> int:
        n = 1
        for d in self.input_shape:
            n *= d
        return n


SPECS: dict[str, ModelSpec] = {
    "tiny": ModelSpec("tiny", (2,), (16, 8), 1, (32,)),
    "small": ModelSpec("small", (30,), (16, 8), 1, (32,)),
    "large": ModelSpec("large", (784,), (1024, 1024), 10, (64, 256, 1024)),
    "cnn": ModelSpec("cnn", (28, 28, 1), (64,), 10, (64, 256), conv=True),
}


@dataclass(frozen=True)
class Case:
    """One timed configuration."""

    model: str
    batch: int
    phase: str

    @property
    def spec(self) -> ModelSpec:
        return SPECS[self.model]

    @property
    def label(self) -> str:
        return f"{self.model}/{self.batch}/{self.phase}"


def cnn_available() -> bool:
    """Whether ``nnx.layers`` has the convolution layers the ``cnn`` model needs."""
    return hasattr(layers, "Conv2D") and hasattr(layers, "MaxPooling2D")


def cases(models: Sequence[str] | None = None, quick: bool = False) -> list[Case]:
    """Every case of ``models`` (default: all); ``quick`` keeps one batch size per model."""
    chosen = list(models or SPECS)
    unknown = [m for m in chosen if m not in SPECS]
    if unknown:
        raise ValueError(f"Unknown benchmark model(s) {unknown}; valid: {', '.join(SPECS)}.")
    out = []
    for name in chosen:
        spec = SPECS[name]
        batches = spec.batches[1:2] or spec.batches[:1] if quick else spec.batches
        out += [Case(name, b, phase) for b in batches for phase in PHASES]
    return out


def host_data(spec: ModelSpec, n: int, seed: int = 0) -> tuple[Any, Any]:
    """``n`` learnable samples on the host: float32 inputs and integer labels."""
    rng = get_backend("numpy").rng(seed)
    x = rng.normal((n, *spec.input_shape), dtype="float32")
    w = rng.normal((spec.features, max(spec.classes, 2)), dtype="float32")
    logits = x.reshape(n, -1) @ w
    labels = logits.argmax(axis=1) if spec.classes > 1 else (logits[:, 0] > logits[:, 1])
    return x, labels.astype("int64")


def build_model(spec: ModelSpec, backend: Backend | str, seed: int = 0) -> Sequential:
    """The nnx model of ``spec`` (built, not compiled)."""
    if spec.conv:
        net: list[layers.Layer] = [
            layers.Conv2D(32, 3, activation="relu", input_shape=spec.input_shape),  # type: ignore[attr-defined]
            layers.MaxPooling2D(2),  # type: ignore[attr-defined]
            layers.Flatten(),
        ]
    else:
        net = [layers.Input(spec.input_shape)]
    net += [layers.Dense(h, activation="relu") for h in spec.hidden]
    net.append(layers.Dense(spec.classes, activation="sigmoid" if spec.classes == 1 else "softmax"))
    return Sequential(net, backend=backend, seed=seed)


def _compile(model: Sequential, spec: ModelSpec, phase: str) -> None:
    opt = (
        optimizers.Adam(learning_rate=ADAM_LR)
        if phase == "train_adam"
        else optimizers.SGD(learning_rate=SGD_LR, momentum=SGD_MOMENTUM)
    )
    loss = "binary_crossentropy" if spec.classes == 1 else "categorical_crossentropy"
    # NOTE: the compiled step from the first call (the default "auto" waits 15,000 steps, more
    # than a bench runs); it takes the tiny and small MLPs, the others run their layers
    model.compile(optimizer=opt, loss=loss, jit_compile=True)


def targets(spec: ModelSpec, labels: Any) -> Any:
    """Host targets in the form nnx's loss takes: ``(n, 1)`` 0/1 or one-hot ``(n, classes)``."""
    if spec.classes == 1:
        return labels.reshape(-1, 1).astype("float32")
    eye = get_backend("numpy").xp.eye(spec.classes, dtype="float32")
    return eye[labels]


class NnxRunner:
    """One nnx step of a case, ready to time: ``runner()`` runs it and waits for the device.

    ``losses`` collects the batch loss of every ``train_*``/``forward_backward`` call (kept on
    the device; read them with :meth:`loss_values`).
    """

    def __init__(self, case: Case, backend: Backend | str = "numpy", seed: int = 0) -> None:
        self.case, spec = case, case.spec
        self.model = build_model(spec, backend, seed)
        self.backend = self.model.backend
        _compile(self.model, spec, case.phase)
        x, labels = host_data(spec, case.batch, seed)
        self.x_host = x
        self.x: Array = self.backend.asarray(x)
        self.y: Array = self.backend.asarray(targets(spec, labels))
        self.losses: list[Array] = []
        self.step: Callable[[], Any] = {
            "inference": self._inference,
            "forward_backward": self._forward_backward,
            "train_sgd": self._train,
            "train_adam": self._train,
        }[case.phase]

    def _inference(self) -> Any:
        return self.model.predict(self.x, batch_size=self.case.batch)

    def _forward_backward(self) -> Any:
        loss = self.model.compute_gradients(self.x, self.y)[0]
        self.losses.append(loss)
        return loss

    def _train(self) -> Any:
        loss = self.model.train_step(self.x, self.y)
        self.losses.append(loss)
        return loss

    def __call__(self) -> Any:
        out = self.step()
        self.backend.synchronize()
        return out

    def loss_values(self) -> list[float]:
        return [float(v) for v in self.losses]

    def info(self) -> dict[str, Any]:
        """What pytest-benchmark records in ``extra_info`` (with the host: CPU, cores, BLAS,
        numba on/off, torch threads, date; see :mod:`nnx.benchmarks.host`)."""
        return {
            **host(),
            "backend": self.backend.name,
            "device": self.backend.device_name(),
            "library": f"{self.backend.name} {self.backend.library_version()}",
        }
