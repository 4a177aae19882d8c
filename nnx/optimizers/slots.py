"""The per-parameter slot arrays of an optimizer (momentum, ``m``, ``v``, ...) and their
checkpoint: ``SlotState``, the base that :class:`~nnx.optimizers.Optimizer` builds on.

Slots are kept by parameter *position*. On flat parameter buffers
(:class:`~nnx.layers.parameter.FlatParameters`) each slot is one flat buffer too, and the
per-position entries are views of it, so :meth:`SlotState.state_dict` looks the same either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from array_api_compat import device

from nnx.backends.base import Array, array_namespace
from nnx.layers.parameter import FlatParameters, Parameter
from nnx.registry import serialize
from nnx.validation import check_float, check_int

__all__ = ["SlotState", "Slots"]

#: one parameter's slot arrays, by slot name
Slots = dict[str, Array]
#: the largest ``iterations`` a state may hold (2**53: exact as a float, in any schedule)
MAX_ITERATIONS = 2**53


class SlotState:
    """Slot arrays by parameter position, created lazily, saved and restored with copies.

    Subclasses name their slots (:meth:`slot_names`) and may give them a starting value
    (:meth:`create_slots`); they keep ``iterations`` and the python floats named in
    ``scalar_state`` (as ``_<name>`` attributes), which :meth:`state_dict` saves too.

    >>> from nnx.backends import get_backend
    >>> from nnx.layers import Parameter
    >>> from nnx.optimizers import SGD
    >>> b = get_backend("numpy")
    >>> p = Parameter(b.asarray([1.0, 2.0]), "w")
    >>> p.grad = b.asarray([1.0, 1.0])
    >>> opt = SGD(0.1, momentum=0.9)
    >>> opt.step([p])
    >>> state = opt.state_dict()
    >>> state["iterations"], state["slots"][0]["momentum"].tolist()
    (1, [-0.1, -0.1])
    """

    scalar_state: ClassVar[tuple[str, ...]] = ()
    iterations: int

    def __init__(self) -> None:
        self._slots: list[Slots | None] = []
        self._xps: list[Any] = []
        self._unchecked = False  # loaded slots not yet checked against the parameters
        self._flat: tuple[Array, Slots] | None = None  # (weights buffer, flat slots)

    @property
    def _who(self) -> str:
        return type(self).__name__

    def slot_names(self) -> tuple[str, ...]:
        """The names of the per-parameter slot arrays this optimizer keeps."""
        return ()

    def create_slots(self, xp: Any, w: Array) -> Slots:
        """Fresh slot arrays for weights ``w`` (zeros unless a subclass says otherwise)."""
        return {name: xp.zeros_like(w) for name in self.slot_names()}

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments (saved in :meth:`state_dict`)."""
        return {}

    def state_dict(self) -> dict[str, Any]:
        """``iterations``, the config, python-float state and copies of the slot arrays (a list
        over parameter positions of ``{slot name: array}``, None where never updated)."""
        slots = [None if s is None else {k: _copy(v) for k, v in s.items()} for s in self._slots]
        scalars = {k: getattr(self, f"_{k}") for k in self.scalar_state}
        return {**serialize(self), "iterations": self.iterations, **scalars, "slots": slots}

    def load_state_dict(
        self, state: dict[str, Any], parameters: Sequence[Parameter] | None = None
    ) -> None:
        """Restore :meth:`state_dict`, copying the arrays.

        The state is checked before anything changes: ``iterations`` a non-negative int, the
        scalar state finite floats, every entry of ``slots`` None or exactly this optimizer's
        slot names. Given ``parameters``, there is one entry per parameter (or none: a state
        saved before the first step) and every slot has its parameter's shape and dtype;
        without them, the shapes are checked against the current slots and the rest at the
        next step.

        Raises:
            ValueError: naming the field: another optimizer's state, a negative or huge
                ``iterations``, missing or extra slots, a slot of another shape or dtype.
        """
        who = self._who
        if state.get("class_name", who) != who:
            raise ValueError(f"{who}: cannot load the state of a {state['class_name']}.")
        iterations = check_int(
            state.get("iterations"), "iterations", who=who, minimum=0, maximum=MAX_ITERATIONS
        )
        scalars = {k: check_float(state.get(k), k, who=who) for k in self.scalar_state}
        entries = state.get("slots")
        if not isinstance(entries, (list, tuple)):
            raise ValueError(f"{who}: slots must be a list, received {type(entries).__name__}.")
        if parameters is not None and len(entries) not in (0, len(parameters)):
            raise ValueError(
                f"{who}: the state holds slots for {len(entries)} parameters but there are "
                f"{len(parameters)} (a truncated or foreign state)."
            )
        names, slots = sorted(self.slot_names()), []
        for i, entry in enumerate(entries):
            if entry is not None and (not isinstance(entry, dict) or sorted(entry) != names):
                found = sorted(entry) if isinstance(entry, dict) else type(entry).__name__
                raise ValueError(f"{who}: parameter {i} has slots {found}, not {names}.")
            old = self._slots[i] if i < len(self._slots) else None
            for k, v in (entry or {}).items():
                if old:
                    self._check_shape(k, i, v, old[k].shape)
                    self._check_dtype(k, i, v, old[k])
            if entry is not None and parameters is not None:
                p = parameters[i]
                for k, v in entry.items():
                    self._check_shape(k, i, v, p.value.shape, f" ({p.name!r})")
                    self._check_dtype(k, i, v, p.value, f" ({p.name!r})")
            slots.append(None if entry is None else {k: _copy(v) for k, v in entry.items()})
        self._slots, self._flat = slots, None
        self._xps = [array_namespace(*s.values()) if s else None for s in slots]
        self.iterations = iterations
        for k, value in scalars.items():
            setattr(self, f"_{k}", value)
        self._unchecked = True
        if parameters is not None:
            self._adopt(parameters)

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

    def _check_shape(self, k: str, i: int, v: Array, shape: Any, name: str = "") -> None:
        if tuple(v.shape) != tuple(shape):
            raise ValueError(
                f"{self._who}: slot {k!r} of parameter {i}{name} has shape {tuple(v.shape)}, "
                f"expected {tuple(shape)}."
            )

    def _check_dtype(self, k: str, i: int, v: Array, like: Array, name: str = "") -> None:
        if _dtype_name(v) != _dtype_name(like):
            raise ValueError(
                f"{self._who}: slot {k!r} of parameter {i}{name} is {_dtype_name(v)}, "
                f"expected {_dtype_name(like)} (the parameter's dtype)."
            )

    def _adopt(self, parameters: Sequence[Parameter]) -> None:
        """Check loaded slots against ``parameters`` and move them to their backend/dtype."""
        for i, (s, p) in enumerate(zip(self._slots, parameters, strict=False)):
            if s is None:
                continue
            w = p.value
            xp = self._xps[i] = array_namespace(w)
            for k, v in s.items():
                self._check_shape(k, i, v, w.shape, f" ({p.name!r})")
                self._check_dtype(k, i, v, w, f" ({p.name!r})")
                if array_namespace(v) is not xp:
                    s[k] = xp.asarray(v, dtype=w.dtype, device=device(w))
        self._unchecked = False


def _dtype_name(x: Array) -> str:
    """``"float32"`` for a float32 array of any library (``array_api_strict.float32`` too)."""
    return str(x.dtype).rsplit(".", 1)[-1]


def _copy(x: Array) -> Array:
    return array_namespace(x).asarray(x, copy=True)
