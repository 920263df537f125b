"""Hypothesis strategies for testing nodes: bounded float arrays, broadcastable shapes, labels.

Examples
--------
A property test of a user-defined node::

    from hypothesis import given
    from tinygraph.testing import gradcheck, strategies as tst

    @given(tst.arrays(tst.shapes()))
    def test_cube_gradient(x):
        assert gradcheck(lambda t: Cube()(t), [tg.tensor(x, requires_grad=True)])
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4) -> st.SearchStrategy:
    """Array shapes, small enough for an element-by-element gradient check."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def floats(min_value: float = -10.0, max_value: float = 10.0, width: int = 64) -> st.SearchStrategy[float]:
    """Finite floats in [min_value, max_value]: the elements of ``arrays(..., elements=...)``."""
    return st.floats(min_value, max_value, allow_nan=False, allow_infinity=False, width=width)


def arrays(
    shape: Any,
    dtype: Any = np.float64,
    min_value: float = -10.0,
    max_value: float = 10.0,
    avoid_zero: float = 0.0,
    elements: st.SearchStrategy[float] | None = None,
) -> st.SearchStrategy[np.ndarray]:
    """Float arrays of ``shape`` (a tuple or a strategy of them) with finite elements in a range.

    ``avoid_zero`` keeps every element at least that far from 0 (for 1/x, log, division).
    ``elements`` replaces the range: ``arrays((3,), elements=floats(-5, 5))``.
    """
    if elements is None:
        elements = floats(min_value, max_value, width=np.dtype(dtype).itemsize * 8)
    if avoid_zero > 0:
        elements = elements.filter(lambda v: abs(v) >= avoid_zero)
    return hnp.arrays(dtype, shape, elements=elements)


def probabilities(shape: Any, margin: float = 0.0) -> st.SearchStrategy[np.ndarray]:
    """Arrays of probabilities in [margin, 1 − margin]."""
    return hnp.arrays(np.float64, shape, elements=st.floats(margin, 1.0 - margin))


def broadcastable_shapes(max_dims: int = 3, max_side: int = 4) -> st.SearchStrategy[tuple[tuple[int, ...], tuple[int, ...]]]:
    """Pairs of shapes that NumPy broadcasts together, such as ((3, 1), (4,))."""
    return hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=max_dims, max_side=max_side).map(
        lambda result: result.input_shapes
    )


def class_labels(n: int, n_classes: int) -> st.SearchStrategy[np.ndarray]:
    """Integer class indices of shape (n,) in [0, n_classes)."""
    return hnp.arrays(np.int64, (n,), elements=st.integers(0, n_classes - 1))


def binary_labels(n: int) -> st.SearchStrategy[np.ndarray]:
    """0/1 labels of shape (n,), as floats."""
    return hnp.arrays(np.float64, (n,), elements=st.sampled_from([0.0, 1.0]))
