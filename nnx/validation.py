"""Argument checks shared by every public constructor and function.

Each check returns the value as the type it promises, or raises a ``ValueError`` that names
the caller, the argument and the value received (Keras's "... Received: units=-3"):

>>> check_int(3, "units", who="Dense", minimum=1)
3
>>> check_int(-3, "units", who="Dense", minimum=1)
Traceback (most recent call last):
...
ValueError: Dense: units must be a positive int, received units=-3.
>>> check_float(0.5, "rate", who="Dropout", minimum=0.0, maximum=1.0, maximum_open=True)
0.5
>>> check_choice("avg", "mode", ("min", "max", "auto"), who="EarlyStopping")
Traceback (most recent call last):
...
ValueError: EarlyStopping: mode must be one of 'min', 'max', 'auto', received mode='avg'.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

__all__ = ["check_bool", "check_choice", "check_float", "check_int", "is_int"]


def is_int(value: Any) -> bool:
    """Whether ``value`` is an integer (Python or NumPy) and not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _fail(who: str, argument: str, expected: str, value: Any) -> ValueError:
    prefix = f"{who}: " if who else ""
    return ValueError(f"{prefix}{argument} must be {expected}, received {argument}={value!r}.")


def check_int(
    value: Any,
    argument: str,
    *,
    who: str = "",
    minimum: int | None = None,
    maximum: int | None = None,
) -> int:
    """``value`` as an int in ``[minimum, maximum]`` (either bound optional)."""
    if minimum == 1 and maximum is None:
        expected = "a positive int"
    elif minimum == 0 and maximum is None:
        expected = "a non-negative int"
    else:
        low = "" if minimum is None else f"{minimum} <= "
        high = "" if maximum is None else f" <= {maximum}"
        expected = f"an int{' ' if low or high else ''}{low}{'n' if low or high else ''}{high}"
    if not is_int(value):
        raise _fail(who, argument, expected, value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise _fail(who, argument, expected, value)
    return int(value)


def check_float(
    value: Any,
    argument: str,
    *,
    who: str = "",
    minimum: float | None = None,
    maximum: float | None = None,
    minimum_open: bool = False,
    maximum_open: bool = False,
) -> float:
    """``value`` (an int or float, not a bool, finite) as a float within the bounds.

    ``minimum_open`` / ``maximum_open`` exclude the bound itself: ``(0, 1)`` is
    ``minimum=0, maximum=1, minimum_open=True, maximum_open=True``.
    """
    if minimum is not None and maximum is not None:
        expected = (
            f"a float in {'(' if minimum_open else '['}{minimum:g}, "
            f"{maximum:g}{')' if maximum_open else ']'}"
        )
    elif minimum is not None:
        expected = f"a float {'>' if minimum_open else '>='} {minimum:g}"
    elif maximum is not None:
        expected = f"a float {'<' if maximum_open else '<='} {maximum:g}"
    else:
        expected = "a finite float"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise _fail(who, argument, expected, value)
    number = float(value)
    too_low = minimum is not None and (number <= minimum if minimum_open else number < minimum)
    too_high = maximum is not None and (number >= maximum if maximum_open else number > maximum)
    if not math.isfinite(number) or too_low or too_high:
        raise _fail(who, argument, expected, value)
    return number


def check_bool(value: Any, argument: str, *, who: str = "") -> bool:
    """``value`` if it is a bool (``1`` and ``"yes"`` are refused: they hide mistakes)."""
    if not isinstance(value, bool):
        raise _fail(who, argument, "True or False", value)
    return value


def check_choice(value: Any, argument: str, choices: Iterable[Any], *, who: str = "") -> Any:
    """``value`` if it is one of ``choices``."""
    options = tuple(choices)
    if value not in options:
        raise _fail(who, argument, f"one of {', '.join(map(repr, options))}", value)
    return value
