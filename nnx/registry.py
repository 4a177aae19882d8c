"""One registry for every "name -> class or function" table, and one serialised form.

Layers, activations, losses, optimizers, initializers, regularizers, metrics and schedules each
keep a :class:`Registry`. A name resolves whatever its spelling: case, dashes and underscores are
ignored, so ``"glorot_uniform"``, ``"GlorotUniform"`` and ``"glorot-uniform"`` find the same entry;
an unknown name is a ``ValueError`` that lists the valid ones.

An object is written as ``{"class_name": ..., "config": {...}}`` (:func:`serialize`) and rebuilt
by :func:`deserialize`, which also reads the two forms nnx 0.1 wrote: ``{"name": ..., **config}``
(initializers, regularizers, optimizer dicts) and ``{"class_name": ..., **config}`` (losses).

>>> shapes = Registry("shape")
>>> @shapes.register(aliases=("box",))
... class Square(Configurable):
...     def __init__(self, side=1.0):
...         self.side = side
...     def get_config(self):
...         return {"side": self.side}
>>> shapes.lookup("square") is shapes.lookup("BOX") is Square
True
>>> serialize(Square(2.0))
{'class_name': 'Square', 'config': {'side': 2.0}}
>>> deserialize({"class_name": "Square", "config": {"side": 2.0}}, shapes)
Square(side=2.0)
>>> deserialize({"name": "square", "side": 3.0}, shapes)  # the 0.1 form
Square(side=3.0)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar, Generic, TypeVar

__all__ = ["Configurable", "Registry", "deserialize", "serialize"]

T = TypeVar("T")
C = TypeVar("C", bound="Configurable")


def _compact(name: str) -> str:
    return name.strip().lower().replace("-", "").replace("_", "")


class Registry(Generic[T]):
    """A name -> entry table of one kind (``"loss"``, ``"layer"``...).

    Args:
        kind: what the entries are, for error messages (``"Unknown loss 'x'"``).
        plural: the plural of ``kind`` (default ``kind + "s"``).
    """

    def __init__(self, kind: str, plural: str | None = None) -> None:
        self.kind = kind
        self.plural = plural or f"{kind}s"
        self._entries: dict[str, T] = {}
        self._keys: dict[str, str] = {}  # compact spelling -> canonical name

    def add(self, name: str, entry: T, aliases: Iterable[str] = ()) -> T:
        """Register ``entry`` under ``name`` (and ``aliases``); returns ``entry``."""
        self._entries[name] = entry
        for key in (name, *aliases):
            self._keys[_compact(key)] = name
        return entry

    def register(self, name: str | None = None, aliases: Iterable[str] = ()) -> Callable[[T], T]:
        """Class (or function) decorator: register under ``name`` (default ``__name__``)."""

        def decorate(entry: T) -> T:
            return self.add(name or entry.__name__, entry, aliases)  # type: ignore[attr-defined]

        return decorate

    def alias(self, alias: str, name: str) -> None:
        """Let ``alias`` resolve to the registered ``name``."""
        self._keys[_compact(alias)] = self.canonical(name)

    def names(self) -> list[str]:
        """The registered names (aliases excluded), sorted."""
        return sorted(self._entries)

    def aliases(self) -> list[str]:
        """Every accepted spelling that is not a registered name, sorted."""
        names = {_compact(n) for n in self._entries}
        return sorted(k for k in self._keys if k not in names)

    def canonical(self, name: Any) -> str:
        """The registered name that ``name`` spells; ValueError listing the valid names."""
        key = self._keys.get(_compact(name)) if isinstance(name, str) else None
        if key is None:
            raise ValueError(
                f"Unknown {self.kind} {name!r}. Valid {self.plural}: {', '.join(self.names())}."
            )
        return key

    def lookup(self, name: Any) -> T:
        """The entry registered as ``name`` (any spelling)."""
        return self._entries[self.canonical(name)]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and _compact(name) in self._keys

    def __iter__(self) -> Any:
        return iter(self.names())


class Configurable:
    """An object rebuilt from its constructor arguments: ``cls(**obj.get_config())``."""

    #: the registered name (set by subclasses that have one)
    name: ClassVar[str] = "configurable"

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments (JSON-serialisable)."""
        return {}

    @classmethod
    def from_config(cls: type[C], config: dict[str, Any]) -> C:
        """Rebuild from :meth:`get_config`."""
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def serialize(obj: Any) -> dict[str, Any]:
    """``{"class_name": <class name>, "config": obj.get_config()}``."""
    return {"class_name": type(obj).__name__, "config": obj.get_config()}


def deserialize(spec: Mapping[str, Any], registry: Registry[Any]) -> Any:
    """Rebuild an object from :func:`serialize`'s form or nnx 0.1's ``{"name": ...}`` forms.

    Raises:
        ValueError: no ``class_name``/``name`` key, an unknown name, or arguments the class
            does not take.
    """
    config = dict(spec)
    if "class_name" in config:
        name = config.pop("class_name")
        config = dict(config.get("config", config)) if "config" in config else config
    elif "name" in config:
        name = config.pop("name")
    else:
        raise ValueError(
            f"{'An' if registry.kind[0] in 'aeiou' else 'A'} {registry.kind} config needs a "
            "'class_name' key (one of "
            f"{', '.join(registry.names())}), received {dict(spec)!r}."
        )
    cls = registry.lookup(name)
    try:
        return cls.from_config(config) if hasattr(cls, "from_config") else cls(**config)
    except TypeError as error:
        raise ValueError(f"Invalid config for {registry.kind} {name!r}: {error}.") from None
