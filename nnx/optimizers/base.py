"""The optimizer contract: ``Optimizer.step(parameters)`` updates weights in place from grads.

State (the slot arrays: momentum, ``m``, ``v``, ...) is kept per parameter and keyed by the
parameter's *position* in the list handed to :meth:`Optimizer.step`, so pass the same list in
the same order at every step (a model's trainable parameters are). Nothing in ``step`` reads a
value back from the device: learning rates and bias corrections are python floats and gradient
clipping stays on the device. Clipping works on a copy: ``p.grad`` is never modified.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Generic, TypedDict, TypeVar

import nnx.schedules as schedules
from nnx.backends.base import Array, Backend, array_namespace
from nnx.backends.coefficients import NO_PRELUDE, Prelude
from nnx.layers.parameter import FlatParameters, Parameter
from nnx.optimizers.clipping import clip_by_norm, clip_by_value, global_clip_scale
from nnx.optimizers.slots import Slots, SlotState
from nnx.registry import serialize
from nnx.validation import check_float

__all__ = ["ClipOptions", "Coefficients", "LearningRate", "Optimizer", "Options", "Slots"]

#: a float, or a schedule: a callable of the step (updates done so far) returning a float
LearningRate = float | Callable[[int], float]
#: the per-step python-float coefficients of an optimizer's update (a named tuple)
Coefficients = TypeVar("Coefficients", bound=tuple[float, ...])


class ClipOptions(TypedDict, total=False):
    """Keyword arguments every optimizer takes, for ``**kwargs: Unpack[ClipOptions]``."""

    clipnorm: float | None
    clipvalue: float | None
    global_clipnorm: float | None
    name: str | None


class Options(ClipOptions, total=False):
    """:class:`ClipOptions` plus ``weight_decay``."""

    weight_decay: float | None


class Optimizer(SlotState, Generic[Coefficients]):
    """Base class: turns each trainable parameter's ``.grad`` into an in-place update of ``.value``.

    Subclasses name their slots, give the per-step python-float coefficients as a named tuple
    (:meth:`coefficients`), the portable in-place update of one parameter (:meth:`update`) and,
    where a backend has a fused kernel for it, :meth:`fused_update`.

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
    >>> from nnx.layers import Parameter
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
        super().__init__()
        who = self._who
        self.learning_rate = learning_rate
        self.clipnorm, self.clipvalue, self.global_clipnorm = (
            None
            if value is None
            else check_float(value, arg, who=who, minimum=0.0, minimum_open=True)
            for arg, value in (
                ("clipnorm", clipnorm),
                ("clipvalue", clipvalue),
                ("global_clipnorm", global_clipnorm),
            )
        )
        clips = [f"{k}={getattr(self, k)}" for k in ("clipnorm", "clipvalue", "global_clipnorm")]
        clips = [c for c in clips if not c.endswith("=None")]
        if len(clips) > 1:
            raise ValueError(
                f"{who}: only one of clipnorm, clipvalue and global_clipnorm can be set, "
                f"received {', '.join(clips)}."
            )
        self.weight_decay = (
            None
            if weight_decay is None
            else check_float(weight_decay, "weight_decay", who=who, minimum=0.0)
        )
        if name is not None and not isinstance(name, str):
            raise ValueError(f"{who}: name must be a str, received name={name!r}.")
        self.name = name or type(self).__name__.lower()
        self.iterations = 0

    # --- the learning rate ------------------------------------------------------------------
    @property
    def learning_rate(self) -> float:
        """The learning rate of the next update (a schedule is evaluated at ``iterations``)."""
        lr = self._learning_rate
        return lr(self.iterations) if callable(lr) else lr

    @learning_rate.setter
    def learning_rate(self, value: LearningRate) -> None:
        if not callable(value):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(
                    f"{self._who}: learning_rate must be a float or a schedule f(step), "
                    f"received learning_rate={value!r}."
                )
            value = check_float(value, "learning_rate", who=self._who, minimum=0.0)
        self._learning_rate: LearningRate = value

    @property
    def learning_rate_schedule(self) -> LearningRate:
        """The learning rate as it was set: a float, or the schedule ``f(step)`` that
        :attr:`learning_rate` evaluates (assign it back to :attr:`learning_rate` to restore)."""
        return self._learning_rate

    # --- the update -------------------------------------------------------------------------
    def coefficients(self, lr: float, t: int) -> Coefficients:
        """Python floats shared by all parameters at step ``t`` (0-based), computed once."""
        return (lr,)  # type: ignore[return-value]

    def update(self, xp: Any, w: Array, g: Array, s: Slots, c: Coefficients) -> None:
        """Update weights ``w`` and slots ``s`` in place from gradient ``g`` (portable)."""
        raise NotImplementedError

    def fused_update(self, backend: Backend, w: Array, g: Array, s: Slots, c: Coefficients) -> bool:
        """:meth:`update` as one of ``backend``'s fused kernels (e.g.
        :meth:`nnx.backends.Backend.adam_update`); False, doing nothing, where none applies."""
        return False

    def fused_step(
        self, backend: Backend, w: Array, g: Array, s: Slots, c: Coefficients, pre: Prelude
    ) -> bool:
        """:meth:`update` with the gradient prelude (clipping, weight decay) folded into one of
        ``backend``'s fused kernels over the whole flat buffer (e.g.
        :meth:`nnx.backends.Backend.adam_step`); False, doing nothing, where none applies."""
        return False

    def step(self, parameters: Sequence[Parameter]) -> None:
        """Update every trainable parameter that has a gradient, in place; ``iterations += 1``.

        Parameters with ``grad is None`` or ``trainable=False`` are skipped (their position
        keeps its state). Pass the same list, in the same order, at every step. Then, as
        Keras's ``optimizer.apply``, each updated parameter with a ``constraint`` is projected
        in place: ``w[...] = C(w)``.
        """
        if isinstance(parameters, FlatParameters) and not self.clipnorm:
            self._step_flat(parameters)
        else:
            self._step_each(parameters)
        for p in self._constrained(parameters):
            if p.grad is not None:
                p.apply_constraint()

    def _constrained(self, parameters: Sequence[Parameter]) -> list[Parameter]:
        """The trainable parameters of ``parameters`` with a constraint, cached until a
        parameter changes (:attr:`Parameter.changes`) or another list is passed: no per-step
        cost without constraints."""
        cached = self.__dict__.get("_constrained_cache")
        if (
            cached is None
            or cached[0] is not parameters
            or cached[1] != (Parameter.changes, len(parameters))
        ):
            found = [p for p in parameters if p.trainable and p.constraint is not None]
            cached = self._constrained_cache = (
                parameters,
                (Parameter.changes, len(parameters)),
                found,
            )
        return cached[2]

    def _step_each(self, parameters: Sequence[Parameter]) -> None:
        """:meth:`step` one parameter at a time (no flat buffers, or ``clipnorm``)."""
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
        clipnorm, clipvalue = self.clipnorm, self.clipvalue
        scale = (
            global_clip_scale(parameters, self.global_clipnorm) if self.global_clipnorm else None
        )
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
            elif clipnorm:
                g = clip_by_norm(xp, g, clipnorm)
            elif clipvalue:
                g = clip_by_value(xp, g, clipvalue)
            if decay is not None:
                w *= decay  # == w -= lr * weight_decay * w, without a temporary
            self.update(xp, w, g, s, c)
        self.iterations = t + 1

    def _step_flat(self, parameters: FlatParameters) -> None:
        """:meth:`step` on flat buffers: one elementwise update of all weights at once.

        First the backend's fused kernel of the whole step (:meth:`fused_step`: clipping and
        weight decay folded in, on all cores); else the same update on slices of the buffer
        (split over threads by the backend): the backend's fused update where
        :meth:`fused_update` finds one, else :meth:`update`. The slots are flat buffers too,
        and ``_slots[i]`` holds views of them, so :meth:`state_dict` and
        :meth:`load_state_dict` see per-parameter arrays as before. ``global_clipnorm`` scales
        by the norm of the whole buffer (the joint norm of all gradients).
        """
        parameters.sync()
        if self._unchecked:
            self._adopt(parameters)
        t = self.iterations
        lr = self._learning_rate
        lr = lr(t) if callable(lr) else lr
        c = self.coefficients(lr, t)
        w, g = parameters.value, parameters.grad
        backend = parameters.backend
        xp = backend.xp
        flat = self._flat_slots(parameters, xp)
        weight_decay, global_clipnorm, clipvalue = (
            self.weight_decay,
            self.global_clipnorm,
            self.clipvalue,
        )
        if weight_decay or global_clipnorm or clipvalue:
            decay = 1.0 - lr * weight_decay if weight_decay else 1.0
            scale: Any = 1.0
            if global_clipnorm:
                scale = global_clipnorm / xp.clip(xp.sum(g * g) ** 0.5, min=global_clipnorm)
            clipvalue = clipvalue or math.inf
            pre = Prelude(decay, scale, clipvalue)
        else:  # the common case: no prelude object to build
            decay, scale, clipvalue, pre = 1.0, 1.0, math.inf, NO_PRELUDE
        if self.fused_step(backend, w, g, flat, c, pre):
            self.iterations = t + 1
            return
        fused, update = self.fused_update, self.update
        n = w.shape[0]

        def chunk(s: slice) -> None:
            if s.start == 0 and s.stop == n:  # the whole buffer: no views to make
                ws, gs, ss = w, g, flat
            else:
                ws, gs, ss = w[s], g[s], {k: v[s] for k, v in flat.items()}
            if decay != 1.0:
                ws *= decay
            if scale != 1.0:
                gs = gs * scale
            if clipvalue != math.inf:
                gs = xp.clip(gs, -clipvalue, clipvalue)
            if not fused(backend, ws, gs, ss, c):
                update(xp, ws, gs, ss, c)

        backend.map_chunks(chunk, n)
        self.iterations = t + 1

    # --- config -----------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """Constructor arguments (JSON-serialisable). A schedule is stored in the serialised
        form ``{"class_name", "config"}``; a plain callable only as its ``repr`` (not
        rebuildable)."""
        lr: Any = self._learning_rate
        if callable(lr):
            lr = serialize(lr) if hasattr(lr, "get_config") else repr(lr)
        names = ("weight_decay", "clipnorm", "clipvalue", "global_clipnorm")
        return {"name": self.name, "learning_rate": lr, **{k: getattr(self, k) for k in names}}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Optimizer[Any]:
        """Rebuild an optimizer from :meth:`get_config` (schedules through
        :func:`nnx.schedules.get`)."""
        config = dict(config)
        lr = config.get("learning_rate")
        if isinstance(lr, str):
            raise ValueError(
                f"{cls.__name__}: learning_rate={lr} is a plain callable and cannot be rebuilt "
                "from a config; pass it to the constructor."
            )
        if isinstance(lr, dict):
            config["learning_rate"] = schedules.get(lr)
        return cls(**config)

    def __repr__(self) -> str:
        return f"{self._who}(learning_rate={self._learning_rate!r}, name={self.name!r})"
