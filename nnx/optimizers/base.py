"""The optimizer contract: ``Optimizer.step(parameters)`` updates weights in place from grads.

State (the slot arrays: momentum, ``m``, ``v``, ...) is kept per parameter and keyed by the
parameter's *position* in the list handed to :meth:`Optimizer.step`, so pass the same list in
the same order at every step (a model's trainable parameters are). Nothing in ``step`` reads a
value back from the device: learning rates and bias corrections are python floats and gradient
clipping stays on the device. Clipping works on a copy: ``p.grad`` is never modified.
"""

from __future__ import annotations

import importlib
import numbers
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypedDict

from array_api_compat import device

from nnx.backends.base import Array, array_namespace
from nnx.flat import FlatParameters

if TYPE_CHECKING:
    from nnx.layers.base import Parameter

__all__ = ["ClipOptions", "LearningRate", "Optimizer", "Options"]

#: a float, or a schedule: a callable of the step (updates done so far) returning a float
LearningRate = float | Callable[[int], float]
Slots = dict[str, Array]
_RULES = {
    ">= 0": lambda x: x >= 0,
    "> 0": lambda x: x > 0,
    "in [0, 1]": lambda x: 0 <= x <= 1,
    "in [0, 1)": lambda x: 0 <= x < 1,
}


class ClipOptions(TypedDict, total=False):
    """Keyword arguments every optimizer takes, for ``**kwargs: Unpack[ClipOptions]``."""

    clipnorm: float | None
    clipvalue: float | None
    global_clipnorm: float | None
    name: str | None


class Options(ClipOptions, total=False):
    """:class:`ClipOptions` plus ``weight_decay``."""

    weight_decay: float | None


class Optimizer:
    """Base class: turns each trainable parameter's ``.grad`` into an in-place update of ``.value``.

    Subclasses name their slots, give the per-step python-float coefficients
    (:meth:`coefficients`) and the in-place update of one parameter (:meth:`update`).

    Args:
        learning_rate: a float ``>= 0`` or a schedule ``f(step) -> float``.
        clipnorm: clip each gradient to this L2 norm: ``g * clipnorm / max(||g||, clipnorm)``.
        clipvalue: clip each gradient element to ``[-clipvalue, clipvalue]``.
        global_clipnorm: clip all gradients together so their joint L2 norm is at most this.
        weight_decay: decoupled decay applied before the update, ``w -= lr * weight_decay * w``.
        name: the optimizer's name (default: the lower-case class name).

    At most one of ``clipnorm``, ``clipvalue`` and ``global_clipnorm`` may be set. Each step,
    for every trainable parameter with a gradient::

        g = clip(g)                      (on a copy, on the device)
        w -= lr * weight_decay * w       (if weight_decay is set)
        the subclass's update of w and its slots from g, in place

    >>> from nnx.backends import get_backend
    >>> from nnx.layers.base import Parameter
    >>> from nnx.optimizers import SGD
    >>> b = get_backend("numpy")
    >>> p = Parameter(b.asarray([3.0, 4.0], dtype="float64"), "w")
    >>> p.grad = b.asarray([3.0, 4.0], dtype="float64")
    >>> SGD(learning_rate=1.0, clipnorm=1.0).step([p])
    >>> b.to_numpy(p.value).tolist()
    [2.4, 3.2]
    """

    #: python-float state (beyond ``iterations``) saved by :meth:`state_dict`, as attribute names
    scalar_state: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        learning_rate: LearningRate = 0.001,
        *,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        weight_decay: float | None = None,
        name: str | None = None,
    ) -> None:
        self.learning_rate = learning_rate
        self.clipnorm = self._check("clipnorm", clipnorm, "> 0", optional=True)
        self.clipvalue = self._check("clipvalue", clipvalue, "> 0", optional=True)
        self.global_clipnorm = self._check("global_clipnorm", global_clipnorm, "> 0", True)
        clips = [f"{k}={getattr(self, k)}" for k in ("clipnorm", "clipvalue", "global_clipnorm")]
        clips = [c for c in clips if not c.endswith("=None")]
        if len(clips) > 1:
            raise ValueError(
                f"{self._who}: only one of clipnorm, clipvalue and global_clipnorm can be set, "
                f"received {', '.join(clips)}"
            )
        self.weight_decay = self._check("weight_decay", weight_decay, optional=True)
        if name is not None and not isinstance(name, str):
            raise ValueError(f"{self._who}: name must be a str, received name={name!r}")
        self.name = name or type(self).__name__.lower()
        self.iterations = 0
        self._slots: list[Slots | None] = []
        self._xps: list[Any] = []
        self._unchecked = False  # loaded slots not yet checked against the parameters
        self._flat: tuple[Array, Slots] | None = None  # (weights buffer, flat slots)

    # --- arguments --------------------------------------------------------------------------
    @property
    def _who(self) -> str:
        return type(self).__name__

    def _check(self, arg: str, value: Any, rule: str = ">= 0", optional: bool = False) -> Any:
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            kind = "a float or a schedule f(step)" if arg == "learning_rate" else "a float"
            raise ValueError(f"{self._who}: {arg} must be {kind}, received {arg}={value!r}")
        if not _RULES[rule](value):
            raise ValueError(f"{self._who}: {arg} must be {rule}, received {arg}={value!r}")
        return float(value)

    def _check_bool(self, arg: str, value: Any) -> bool:
        if not isinstance(value, bool):
            raise ValueError(f"{self._who}: {arg} must be True or False, received {arg}={value!r}")
        return value

    @property
    def learning_rate(self) -> float:
        """The learning rate of the next update (a schedule is evaluated at ``iterations``)."""
        lr = self._learning_rate
        return lr(self.iterations) if callable(lr) else lr

    @learning_rate.setter
    def learning_rate(self, value: LearningRate) -> None:
        lr = value if callable(value) else self._check("learning_rate", value)
        self._learning_rate: LearningRate = lr

    # --- the update -------------------------------------------------------------------------
    @property
    def fast_rule(self) -> str | None:
        """The name of a backend's fused kernel computing :meth:`update` for this optimizer's
        settings (see :meth:`nnx.backends.Backend.fast_update`), or None."""
        return None

    def slot_names(self) -> tuple[str, ...]:
        """The names of the per-parameter slot arrays this optimizer keeps."""
        return ()

    def create_slots(self, xp: Any, w: Array) -> Slots:
        """Fresh slot arrays for weights ``w`` (zeros unless a subclass says otherwise)."""
        return {name: xp.zeros_like(w) for name in self.slot_names()}

    def coefficients(self, lr: float, t: int) -> tuple[float, ...]:
        """Python floats shared by all parameters at step ``t`` (0-based), computed once."""
        return (lr,)

    def update(self, xp: Any, w: Array, g: Array, s: Slots, c: tuple[float, ...]) -> None:
        """Update weights ``w`` and slots ``s`` in place from gradient ``g``."""
        raise NotImplementedError

    def step(self, parameters: Sequence[Parameter]) -> None:
        """Update every trainable parameter that has a gradient, in place; ``iterations += 1``.

        Parameters with ``grad is None`` or ``trainable=False`` are skipped (their position
        keeps its state). Pass the same list, in the same order, at every step.
        """
        if isinstance(parameters, FlatParameters) and not (
            self.clipnorm or self.clipvalue or self.global_clipnorm
        ):
            self._step_flat(parameters)
            return
        t = self.iterations
        lr = self._learning_rate
        lr = lr(t) if callable(lr) else lr
        c = self.coefficients(lr, t)
        decay = 1.0 - lr * self.weight_decay if self.weight_decay else None
        slots, xps = self._slots, self._xps
        if len(slots) < len(parameters):
            slots.extend([None] * (len(parameters) - len(slots)))
            xps.extend([None] * (len(parameters) - len(xps)))
        if self._unchecked:
            self._adopt(parameters)
        clip = self.clipnorm or self.clipvalue
        scale = self._global_scale(parameters) if self.global_clipnorm else None
        for i, p in enumerate(parameters):
            g = p.grad
            if g is None or not p.trainable:
                continue
            w = p.value
            s = slots[i]
            if s is None:
                xp = xps[i] = array_namespace(w)
                s = slots[i] = self.create_slots(xp, w)
            else:
                xp = xps[i]
            if scale is not None:
                g = g * scale
            elif clip:
                g = self._clip(xp, g)
            if decay is not None:
                w *= decay  # == w -= lr * weight_decay * w, without a temporary
            self.update(xp, w, g, s, c)
        self.iterations = t + 1

    def _step_flat(self, parameters: FlatParameters) -> None:
        """:meth:`step` on flat buffers: one elementwise update of all weights at once.

        The same :meth:`update` runs on the whole buffer (split over threads by the backend);
        the slots are flat buffers too, and ``_slots[i]`` holds views of them, so
        :meth:`state_dict` and :meth:`load_state_dict` see per-parameter arrays as before.
        """
        parameters.sync()
        if self._unchecked:
            self._adopt(parameters)
        t = self.iterations
        lr = self._learning_rate
        lr = lr(t) if callable(lr) else lr
        c = self.coefficients(lr, t)
        w, g = parameters.value, parameters.grad
        xp = array_namespace(w)
        flat = self._flat_slots(parameters, xp)
        decay = 1.0 - lr * self.weight_decay if self.weight_decay else None
        rule = self.fast_rule
        update = (rule and parameters.backend.fast_update(rule)) or self.update

        def chunk(s: slice) -> None:
            ws = w[s]
            if decay is not None:
                ws *= decay
            update(xp, ws, g[s], {k: v[s] for k, v in flat.items()}, c)

        parameters.backend.map_chunks(chunk, w.shape[0])
        self.iterations = t + 1

    def _flat_slots(self, parameters: FlatParameters, xp: Any) -> Slots:
        """The flat slot buffers for ``parameters``, made (from any existing slots) when new."""
        cached = self._flat
        if cached is not None and cached[0] is parameters.value:
            return cached[1]
        n = len(parameters)
        self._slots = (self._slots + [None] * n)[: max(n, len(self._slots))]
        self._xps = (self._xps + [None] * n)[: len(self._slots)]
        flat: Slots = {name: parameters.empty_like() for name in self.slot_names()}
        views = {name: parameters.views(buffer) for name, buffer in flat.items()}
        for i, p in enumerate(parameters):
            old = self._slots[i] or self.create_slots(xp, p.value)
            for name in flat:
                views[name][i][...] = old[name]
            self._slots[i] = {name: views[name][i] for name in flat}
            self._xps[i] = xp
        self._flat = (parameters.value, flat)
        return flat

    def _clip(self, xp: Any, g: Array) -> Array:
        if self.clipnorm:
            c = self.clipnorm
            return g * (c / xp.clip(xp.sum(g * g) ** 0.5, min=c))
        return xp.clip(g, -self.clipvalue, self.clipvalue)

    def _global_scale(self, parameters: Sequence[Parameter]) -> Array | None:
        grads = [p.grad for p in parameters if p.grad is not None and p.trainable]
        if not grads:
            return None
        xp = array_namespace(grads[0])
        c = self.global_clipnorm
        return c / xp.clip(sum(xp.sum(g * g) for g in grads) ** 0.5, min=c)

    # --- config and checkpoints -------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """Constructor arguments (JSON-serialisable). A schedule with ``get_config`` is stored as
        ``{"class_name", "config"}``; a plain callable only as its ``repr`` (not rebuildable)."""
        lr: Any = self._learning_rate
        if callable(lr):
            config = getattr(lr, "get_config", None)
            lr = (
                repr(lr)
                if config is None
                else {"class_name": type(lr).__name__, "config": config()}
            )
        names = ("weight_decay", "clipnorm", "clipvalue", "global_clipnorm")
        return {"name": self.name, "learning_rate": lr, **{k: getattr(self, k) for k in names}}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Optimizer:
        """Rebuild an optimizer from :meth:`get_config` (schedules from ``nnx.schedules``)."""
        config = dict(config)
        lr = config.get("learning_rate")
        if isinstance(lr, str):
            raise ValueError(
                f"{cls.__name__}: learning_rate={lr} is a plain callable and cannot be rebuilt "
                "from a config; pass it to the constructor"
            )
        if isinstance(lr, dict):
            schedule = getattr(importlib.import_module("nnx.schedules"), lr["class_name"], None)
            if schedule is None:
                raise ValueError(
                    f"{cls.__name__}: no schedule {lr['class_name']!r} in nnx.schedules"
                )
            config["learning_rate"] = schedule.from_config(lr["config"])
        return cls(**config)

    def state_dict(self) -> dict[str, Any]:
        """``iterations``, the config, python-float state and copies of the slot arrays (a list
        over parameter positions of ``{slot name: array}``, None where never updated)."""
        slots = [None if s is None else {k: _copy(v) for k, v in s.items()} for s in self._slots]
        scalars = {k: getattr(self, f"_{k}") for k in self.scalar_state}
        config = {"class_name": self._who, "config": self.get_config()}
        return {**config, "iterations": self.iterations, **scalars, "slots": slots}

    def load_state_dict(
        self, state: dict[str, Any], parameters: Sequence[Parameter] | None = None
    ) -> None:
        """Restore :meth:`state_dict`, copying the arrays. Shapes are checked against
        ``parameters`` when given, else against the current slots and at the next step."""
        if state.get("class_name", self._who) != self._who:
            raise ValueError(f"{self._who}: cannot load the state of a {state['class_name']}")
        names, slots = sorted(self.slot_names()), []
        for i, entry in enumerate(state["slots"]):
            if entry is not None and sorted(entry) != names:
                raise ValueError(
                    f"{self._who}: parameter {i} has slots {sorted(entry)}, not {names}"
                )
            old = self._slots[i] if i < len(self._slots) else None
            for k, v in (entry or {}).items():
                if old:
                    self._check_shape(k, i, v, old[k].shape)
            slots.append(None if entry is None else {k: _copy(v) for k, v in entry.items()})
        self._slots, self._flat = slots, None
        self._xps = [array_namespace(*s.values()) if s else None for s in slots]
        self.iterations = int(state["iterations"])
        for k in self.scalar_state:
            setattr(self, f"_{k}", float(state[k]))
        self._unchecked = True
        if parameters is not None:
            self._adopt(parameters)

    def _check_shape(self, k: str, i: int, v: Array, shape: Any, name: str = "") -> None:
        if tuple(v.shape) != tuple(shape):
            raise ValueError(
                f"{self._who}: slot {k!r} of parameter {i}{name} has shape {tuple(v.shape)}, "
                f"expected {tuple(shape)}"
            )

    def _adopt(self, parameters: Sequence[Parameter]) -> None:
        for i, (s, p) in enumerate(zip(self._slots, parameters, strict=False)):
            if s is None:
                continue
            w = p.value
            xp = self._xps[i] = array_namespace(w)
            for k, v in s.items():
                self._check_shape(k, i, v, w.shape, f" ({p.name!r})")
                if array_namespace(v) is not xp or v.dtype != w.dtype:
                    s[k] = xp.asarray(v, dtype=w.dtype, device=device(w))
        self._unchecked = False

    def __repr__(self) -> str:
        return f"{self._who}(learning_rate={self._learning_rate!r}, name={self.name!r})"


def _copy(x: Array) -> Array:
    return array_namespace(x).asarray(x, copy=True)
