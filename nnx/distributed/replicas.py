"""Keeping the replicas identical: refuse ranks that disagree, share rank 0's state, verify.

At the start of ``fit`` every rank describes its model (architecture, weight shapes and dtypes,
optimizer, loss, metrics, backend) and its data (sample count); the descriptions are exchanged
and any difference is refused on every rank with the same message, so no rank is left waiting.
Then rank 0's training state (weights, optimizer state, random generators) is sent to all, so a
model built without a seed, or loaded from a checkpoint on rank 0 only, starts the same
everywhere. In debug mode a SHA-256 of the weights is compared after that and after each epoch.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from nnx.distributed.communicator import Communicator
from nnx.registry import serialize
from nnx.saving.state import capture_state, restore_state

__all__ = ["broadcast_state", "check_agreement", "describe", "verify_weights", "weights_digest"]


def _without_names(config: Any) -> Any:
    """``config`` without its ``"name"`` and ``"seed"`` entries: names do not change the
    computation (an automatic name counts the layers a process made before), and rank 0's
    weights and random states replace every rank's at the start."""
    if isinstance(config, dict):
        return {k: _without_names(v) for k, v in config.items() if k not in ("name", "seed")}
    if isinstance(config, list):
        return [_without_names(v) for v in config]
    return config


def _plain(obj: Any) -> str:
    """A JSON stand-in for a value JSON cannot hold: its type's name (never an address)."""
    return f"<{type(obj).__name__}>"


def describe(model: Any, what: str, samples: int) -> dict[str, str]:
    """What must agree across ranks, as JSON texts by topic (names and seeds aside)."""
    backend = model.backend
    parts: dict[str, Any] = {
        "call": what,
        "samples": samples,
        "backend": backend.name,
        "architecture": _without_names(model.get_config()),
        "weights": [[list(p.shape), backend.dtype_name(p.value)] for p in model.parameters()],
        "optimizer": None if model.optimizer is None else serialize(model.optimizer),
        "loss": None if model.loss is None else serialize(model.loss),
        "metrics": [m.name for m in model.metrics],
    }
    return {k: json.dumps(v, sort_keys=True, default=_plain) for k, v in parts.items()}


def _difference(a: str, b: str, context: int = 60) -> tuple[str, str]:
    """The two texts around their first difference."""
    i = next((k for k, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    lo = max(0, i - context)

    def cut(text: str) -> str:
        piece = text[lo : i + context]
        return ("..." if lo else "") + piece + ("..." if i + context < len(text) else "")

    return cut(a), cut(b)


def check_agreement(comm: Communicator, description: dict[str, str]) -> None:
    """Raise the same ``ValueError`` on every rank unless all ranks gave equal descriptions.

    Raises:
        ValueError: names the first rank and topic that differ from rank 0, with both values.
    """
    every = comm.allgather_object(description)
    reference = every[0]
    for r, other in enumerate(every[1:], start=1):
        for topic, value in reference.items():
            if other.get(topic) != value:
                ours, theirs = _difference(value, str(other.get(topic)))
                raise ValueError(
                    f"nnx.distributed: rank {r} disagrees with rank 0 on the {topic} of the "
                    f"{reference['call']} call: rank 0 has {ours}, rank {r} has {theirs}. "
                    "Every rank must build the same model and pass the same data (each rank "
                    "takes its shard of every global batch)."
                )


def broadcast_state(comm: Communicator, model: Any, root: int = 0) -> None:
    """Give every rank ``root``'s weights, optimizer state and random generators' states."""
    payload = None
    if comm.rank == root:
        arrays, info = capture_state(model)
        payload = ({k: model.backend.to_numpy(v) for k, v in arrays.items()}, info)
    arrays, info = comm.broadcast_object(payload, root=root)
    if comm.rank != root:
        restore_state(model, arrays, info)


def weights_digest(model: Any) -> str:
    """SHA-256 over every weight's bytes, in order (equal on two ranks iff bit-identical)."""
    digest = hashlib.sha256()
    for p in model.parameters():
        digest.update(model.backend.to_numpy(p.value).tobytes())
    return digest.hexdigest()


def verify_weights(comm: Communicator, model: Any, when: str) -> None:
    """Raise ``RuntimeError`` on every rank unless all ranks hold bit-identical weights."""
    digests = comm.allgather_object(weights_digest(model))
    differ = [r for r, d in enumerate(digests) if d != digests[0]]
    if differ:
        raise RuntimeError(
            f"nnx.distributed (debug): the weights of rank(s) {differ} differ from rank 0's "
            f"{when} (SHA-256 {digests[0][:12]} on rank 0, "
            f"{', '.join(digests[r][:12] for r in differ)})."
        )
