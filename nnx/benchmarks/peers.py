"""The peers timed in the same run: PyTorch eager and scikit-learn's ``MLPClassifier``.

Each peer builds the same shapes, dtype (float32) and batch as the nnx case and returns a
zero-argument step, or raises :class:`PeerUnavailableError` (not installed, phase not offered).
"""

from __future__ import annotations

import importlib.util
import warnings
from collections.abc import Callable
from typing import Any

from nnx.benchmarks.cases import ADAM_LR, SGD_LR, SGD_MOMENTUM, Case, host_data

__all__ = ["TORCH_VARIANTS", "PeerUnavailableError", "installed", "sklearn_step", "torch_step"]

#: torch.optim implementations: the default for-loop, multi-tensor ``foreach`` and ``fused``
TORCH_VARIANTS = ("default", "foreach", "fused")
#: samples (at least 4 batches) in the epoch that ``MLPClassifier.fit`` is timed on
EPOCH_SAMPLES = 2048


class PeerUnavailableError(RuntimeError):
    """This peer cannot run this case here (reason in the message)."""


def installed(module: str) -> bool:
    """Whether ``module`` can be imported (without importing it)."""
    return importlib.util.find_spec(module) is not None


def torch_step(case: Case, variant: str = "default", device: str = "cpu") -> Callable[[], Any]:
    """The PyTorch eager step of ``case``: ``nn.Sequential`` + ``torch.optim``.

    ``variant`` picks the optimizer implementation (``"default"``, ``"foreach"``, ``"fused"``);
    inference runs under ``torch.inference_mode``. CUDA steps synchronize before returning.
    """
    if not installed("torch"):
        raise PeerUnavailableError("torch is not installed (pip install 'nnx-array[bench]')")
    import torch
    from torch import nn

    if device.startswith("cuda") and not torch.cuda.is_available():
        raise PeerUnavailableError("torch has no CUDA device here")
    spec = case.spec
    x_host, labels = host_data(spec, case.batch)
    torch.manual_seed(0)
    mods: list[nn.Module] = []
    width = spec.features
    if spec.conv:
        mods += [nn.Conv2d(spec.input_shape[-1], 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten()]
        side = (spec.input_shape[0] - 2) // 2
        width = 32 * side * side
        x_host = x_host.transpose(0, 3, 1, 2).copy()  # channels-first for torch
    for h in spec.hidden:
        mods += [nn.Linear(width, h), nn.ReLU()]
        width = h
    mods.append(nn.Linear(width, spec.classes))
    model = nn.Sequential(*mods).to(device)
    x = torch.from_numpy(x_host).to(device)
    if spec.classes == 1:
        y = torch.from_numpy(labels.reshape(-1, 1).astype("float32")).to(device)
        loss_fn: nn.Module = nn.BCEWithLogitsLoss()
    else:
        y = torch.from_numpy(labels).to(device)
        loss_fn = nn.CrossEntropyLoss()
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)

    if case.phase == "inference":
        model.eval()

        def infer() -> Any:
            with torch.inference_mode():
                out = model(x)
            sync()
            return out

        return infer

    def gradients() -> Any:
        model.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        return loss.detach()

    if case.phase == "forward_backward":

        def forward_backward() -> Any:
            loss = gradients()
            sync()
            return loss

        return forward_backward
    kwargs: dict[str, Any] = {} if variant == "default" else {variant: True}
    if case.phase == "train_sgd":
        opt: Any = torch.optim.SGD(model.parameters(), lr=SGD_LR, momentum=SGD_MOMENTUM, **kwargs)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=ADAM_LR, **kwargs)

    def train() -> Any:
        loss = gradients()
        opt.step()
        sync()
        return loss

    return train


def sklearn_step(case: Case, mode: str = "fit") -> tuple[Callable[[], Any], int]:
    """scikit-learn's ``MLPClassifier`` on the case's shapes: ``(step, samples per call)``.

    ``mode="partial_fit"`` times one ``partial_fit`` on one batch; ``mode="fit"`` times ``fit``
    (``max_iter=1``) over an epoch of ``EPOCH_SAMPLES`` samples, at least 4 batches.
    Inference times ``predict_proba``.
    Only the MLPs are offered, and no forward+backward phase (sklearn does not expose it).
    """
    if not installed("sklearn"):
        raise PeerUnavailableError("scikit-learn is not installed (pip install 'nnx-array[bench]')")
    spec = case.spec
    if spec.conv or case.phase == "forward_backward":
        raise PeerUnavailableError(f"scikit-learn has no {case.model} {case.phase}")
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    epoch = max(4 * case.batch, EPOCH_SAMPLES)
    n = epoch if mode == "fit" and case.phase != "inference" else case.batch
    x, labels = host_data(spec, n)
    x = x.reshape(n, -1)
    classes = sorted(set(labels.tolist()) | set(range(max(spec.classes, 2))))
    solver = {"train_adam": "adam"}.get(case.phase, "sgd")
    clf = MLPClassifier(
        hidden_layer_sizes=spec.hidden,
        solver=solver,
        batch_size=case.batch,
        learning_rate_init=ADAM_LR if solver == "adam" else SGD_LR,
        momentum=SGD_MOMENTUM,
        nesterovs_momentum=False,
        max_iter=1,
        shuffle=False,
        random_state=0,
    )
    clf.partial_fit(x[: case.batch], labels[: case.batch], classes=classes)
    if case.phase == "inference":
        return (lambda: clf.predict_proba(x)), n
    if mode == "partial_fit":
        xb, yb = x[: case.batch], labels[: case.batch]
        return (lambda: clf.partial_fit(xb, yb)), case.batch

    def fit_epoch() -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return clf.fit(x, labels)

    return fit_epoch, n
