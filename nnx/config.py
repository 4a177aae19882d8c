"""``Configurable``: the name-keyed config round trip shared by initializers and regularizers.

>>> class Scale(Configurable):
...     name = "scale"
...     def __init__(self, factor=1.0):
...         self.factor = factor
...     def get_config(self):
...         return {**super().get_config(), "factor": self.factor}
>>> Scale.from_config(Scale(2.0).get_config())
Scale(factor=2.0)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

__all__ = ["Configurable", "from_named_config"]

C = TypeVar("C", bound="Configurable")


class Configurable:
    """An object rebuilt from ``{"name": ..., **constructor_arguments}``."""

    name: ClassVar[str] = "configurable"

    def get_config(self) -> dict[str, Any]:
        """``{"name": ..., **constructor_arguments}`` (JSON-serialisable)."""
        return {"name": self.name}

    @classmethod
    def from_config(cls: type[C], config: dict[str, Any]) -> C:
        """Rebuild from :meth:`get_config` (the ``name`` key is ignored)."""
        return cls(**{k: v for k, v in config.items() if k != "name"})

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({args})"


def from_named_config(
    spec: dict[str, Any], lookup: Callable[[str], type[C]], kind: str, valid: list[str]
) -> C:
    """Rebuild ``{"name": ..., **arguments}`` through the registry ``lookup`` of one ``kind``.

    Raises:
        ValueError: no ``name`` key, an unknown name (from ``lookup``) or invalid arguments.
    """
    if "name" not in spec:
        raise ValueError(
            f"A{'n' if kind[0] in 'aeiou' else ''} {kind} config needs a 'name' key "
            f"(one of {', '.join(valid)}), received {spec!r}."
        )
    cls = lookup(spec["name"])
    try:
        return cls.from_config(spec)
    except TypeError as exc:
        raise ValueError(f"Invalid config for {kind} {spec['name']!r}: {exc}.") from None
