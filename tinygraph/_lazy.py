"""Arrays computed later (Dask): telling them apart, and computing several of them in one pass.

A Dask array is a recipe for its chunks; computing it runs the recipe, reading (or generating)
the data chunk by chunk. Computing the loss and every gradient of a step together lets them share
that reading: one pass over the data per step, and only small results (d numbers) kept in memory.
Nothing here imports Dask unless it is handed one of Dask's own arrays.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tinygraph._array import is_dask


def is_lazy(array: Any) -> bool:
    """Whether ``array`` is a Dask collection (computed only when asked), told from its type's module."""
    return is_dask(array)


def compute(*values: Any) -> list[Any]:
    """The values with every lazy one computed, all of them in one ``dask.compute``; the others as given.

    A lazy result comes back as a NumPy array (a 0-d one for a scalar), so that it can go where an
    eager array would.
    """
    lazy = [i for i, value in enumerate(values) if is_lazy(value)]
    out = list(values)
    if lazy:
        import dask  # only reached with a Dask array in hand, so Dask is installed

        for i, result in zip(lazy, dask.compute(*(values[i] for i in lazy))):
            out[i] = np.asarray(result)
    return out


@dataclass(frozen=True)
class Pending:
    """A check of a lazy array's values, not computed yet.

    Attributes
    ----------
    ok : lazy 0-d bool
        True when the check passes.
    message : callable
        Returns the ValueError's message; called only when the check failed (it computes again to
        find where).
    """

    ok: Any
    message: Callable[[], str]


def settle(pending: Sequence[Pending], *values: Any) -> list[Any]:
    """Compute the pending checks together with ``values``, in one pass; the values, once every check passed.

    Raises
    ------
    ValueError
        With the message of the first check that failed.
    """
    try:
        results = compute(*(check.ok for check in pending), *values)
    except ValueError:  # a node's own check of the values failed inside the pass: report the data's first
        results = compute(*(check.ok for check in pending))
        _raise_failed(pending, results)
        raise
    _raise_failed(pending, results)
    return results[len(pending) :]


def _raise_failed(pending: Sequence[Pending], results: Sequence[Any]) -> None:
    """ValueError with the message of the first pending check whose result is false, if any."""
    for check, ok in zip(pending, results):
        if not bool(ok):
            raise ValueError(check.message())
