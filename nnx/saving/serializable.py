"""Custom layers in model files: Keras's ``register_keras_serializable`` and the check that
every subclassed layer of a model can be written and read back.

A file names each layer by its class name and holds its ``get_config()``; loading rebuilds it
through the layer registry (never by importing or unpickling code). A subclassed layer (one
defining ``call``) is savable when its class is registered and defines ``get_config``
returning its constructor arguments, as Keras asks.

>>> from nnx.layers import Layer, layer_class
>>> @register_keras_serializable(package="demo")
... class Tripled(Layer):
...     def call(self, inputs):
...         return inputs * 3
>>> layer_class("Tripled") is Tripled
True
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from nnx.layers.base import Layer, layer_class, register_layer

__all__ = ["check_savable", "register_keras_serializable"]

T = TypeVar("T", bound=type)


def register_keras_serializable(
    package: str = "Custom", name: str | None = None
) -> Callable[[T], T]:
    """Class decorator: make a custom layer loadable from model files (Keras's
    ``keras.saving.register_keras_serializable``; nnx names a layer by its class name, so
    ``name`` must be that name or None; ``package`` is accepted for Keras code).

    Raises:
        TypeError: the decorated object is not an nnx layer class.
        ValueError: ``name`` differs from the class name.
    """

    def decorate(cls: T) -> T:
        if not (isinstance(cls, type) and issubclass(cls, Layer)):
            raise TypeError(
                f"register_keras_serializable registers nnx layer classes, received {cls!r}."
            )
        if name is not None and name != cls.__name__:
            raise ValueError(
                f"register_keras_serializable(name={name!r}): nnx files name a layer by its "
                f"class name, {cls.__name__!r}; leave name out."
            )
        return register_layer(cls)

    return decorate


def check_savable(layers: Iterable[Any]) -> None:
    """Raise a clear error for a subclassed layer a model file could not rebuild.

    Raises:
        TypeError: its class is not registered, or does not define ``get_config``.
    """
    for layer in layers:
        cls = type(layer)
        if getattr(cls, "call", None) is None or cls.__name__ == "Lambda":
            continue  # built-in layers; Lambda refuses in its own get_config
        try:
            registered = layer_class(cls.__name__) is cls
        except ValueError:
            registered = False
        how = (
            f"decorate {cls.__name__} with @nnx.saving.register_keras_serializable() and "
            "give it get_config() returning its constructor arguments (plus "
            "super().get_config()), or save the weights only (model.save_weights)"
        )
        if not registered:
            raise TypeError(
                f"Layer {layer.name!r} is a subclassed layer of unregistered class "
                f"{cls.__module__}.{cls.__qualname__}, which a model file cannot rebuild: {how}."
            )
        if cls.get_config is Layer.get_config:
            raise TypeError(
                f"Layer {layer.name!r} ({cls.__name__}) does not define get_config(), so a "
                f"model file cannot rebuild it with its arguments: {how}."
            )
