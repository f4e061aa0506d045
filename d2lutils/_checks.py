"""Argument checks shared by every public function, so each error reads the same way:
what argument, which rule, what value, and how to fix it."""

from __future__ import annotations

import numbers
from collections.abc import Sized
from typing import NoReturn


def fail(exc_type: type[Exception], name: str, rule: str, value: object, fix: str) -> NoReturn:
    """Raise exc_type with the course's one error shape."""
    raise exc_type(f"{name} should be {rule}, but got {name}={value!r}. {fix}")


def positive_int(name: str, value: object, fix: str = "") -> int:
    """Return value if it is a positive int (bools and floats are refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        fail(TypeError, name, "a positive integer", value,
             fix or f"Pass a whole number such as {name}=256.")
    if value <= 0:
        fail(ValueError, name, "a positive integer", value,
             fix or f"Pass a whole number greater than 0, such as {name}=256.")
    return int(value)


def positive_number(name: str, value: object, fix: str = "") -> float:
    """Return value as a float if it is a real number greater than 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        fail(TypeError, name, "a positive number", value, fix or f"Pass e.g. {name}=1.0.")
    if not float(value) > 0:
        fail(ValueError, name, "a positive number", value, fix or f"Pass e.g. {name}=1.0.")
    return float(value)


def same_length(names: tuple[str, str], first: Sized, second: Sized) -> None:
    """Check that two tensors (or sequences) describe the same number of examples."""
    n1, n2 = len(first), len(second)
    if n1 != n2:
        raise ValueError(
            f"{names[0]} and {names[1]} should have the same number of examples (first "
            f"dimension), but got len({names[0]})={n1} and len({names[1]})={n2}. Pass "
            f"one label per example, e.g. features of shape (n, d) with labels of shape (n,)."
        )


def one_of(name: str, value: object, choices: tuple[object, ...]) -> None:
    """Check that value is one of the allowed choices."""
    if value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        fail(ValueError, name, f"one of {allowed}", value, f"Pass one of {allowed}.")
