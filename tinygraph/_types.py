"""Type aliases shared across the package, defined once."""

from __future__ import annotations

from typing import Union

from tinygraph._array import ndarray

Grads = tuple[Union[ndarray, None], ...]
"""What ``Node.backward`` returns: one gradient per input, in input order, None where none is needed."""

Axis = Union[int, tuple[int, ...], None]
"""An axis argument of a reduction: one axis, several, or None for all of them."""
