"""The hypothesis strategies users import to test their own nodes generate what they promise."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from tinygraph.testing import strategies as tst


@given(x=tst.arrays(tst.shapes(), min_value=-3, max_value=2))
def test_arrays_are_finite_and_bounded(x):
    assert x.dtype == np.float64 and x.ndim <= 3
    assert np.all(np.isfinite(x)) and np.all((x >= -3) & (x <= 2))


@given(x=tst.arrays((5,), dtype=np.float32, avoid_zero=0.5))
def test_arrays_of_a_dtype_away_from_zero(x):
    assert x.dtype == np.float32 and x.shape == (5,)
    assert np.all(np.abs(x) >= 0.5)


@given(shapes=tst.broadcastable_shapes())
def test_broadcastable_shapes_broadcast(shapes):
    a, b = shapes
    np.broadcast_shapes(a, b)  # raises if they do not


@given(n=st.integers(1, 10), k=st.integers(2, 5), data=st.data())
def test_labels(n, k, data):
    labels = data.draw(tst.class_labels(n, k))
    assert labels.shape == (n,) and labels.dtype.kind == "i"
    assert labels.min() >= 0 and labels.max() < k
    binary = data.draw(tst.binary_labels(n))
    assert set(np.unique(binary)) <= {0.0, 1.0}


@given(p=tst.probabilities((4, 3), margin=0.1))
def test_probabilities_within_the_margin(p):
    assert np.all((p >= 0.1) & (p <= 0.9))
