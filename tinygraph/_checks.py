"""Checks on single numbers, written once: the optimizers, the models and the command line share them.

Each check returns the value in its plain Python type or raises a ValueError that names the argument
and says what it should be, e.g. ``lr must be a finite number > 0, got -1``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

BOUNDS: dict[str, Callable[[float], bool]] = {
    "> 0": lambda value: value > 0,
    ">= 0": lambda value: value >= 0,
}
"""The bounds ``number`` checks, by how its message writes them."""


def is_number(value: object) -> bool:
    """Whether ``value`` is a finite real number (a bool is not one)."""
    real = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    return real and bool(np.isfinite(value))


def number(value: Any, what: str, bound: str) -> float:
    """``value`` as a float if it is a finite real number within ``bound`` ("> 0" or ">= 0").

    Raises
    ------
    ValueError
        Naming ``what``: ``l2 must be a finite number >= 0, got -1``.
    """
    if not (is_number(value) and BOUNDS[bound](value)):
        raise ValueError(f"{what} must be a finite number {bound}, got {value!r}")
    return float(value)


def random_seed(value: Any, what: str = "seed") -> int | None:
    """``value`` as a seed for NumPy's generator: None, or an int >= 0, else a ValueError naming ``what``."""
    return None if value is None else count(value, what, minimum=0)


def count(value: Any, what: str, minimum: int = 1) -> int:
    """``value`` as an int >= ``minimum`` (a bool or a float is not one), or a ValueError naming ``what``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{what} must be an integer >= {minimum}, got {value!r}")
    return int(value)
