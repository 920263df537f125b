"""Concatenate, Stack, Squeeze, ExpandDims, Flip, BroadcastTo: gradients move back the way the values moved."""

import numpy as np
import pytest

import tinygraph as tg


def _param(x):
    return tg.tensor(np.asarray(x, dtype=float), requires_grad=True)


def test_concatenate_splits_the_gradient_back():
    a, b = _param(np.zeros((2, 1))), _param(np.zeros((2, 2)))
    y = tg.concatenate([a, b], axis=-1)
    (y * np.arange(6.0).reshape(2, 3)).sum().backward()
    np.testing.assert_array_equal(a.grad, [[0.0], [3.0]])
    np.testing.assert_array_equal(b.grad, [[1.0, 2.0], [4.0, 5.0]])


def test_stack_and_one_tensor_stacked_twice():
    a = _param([1.0, 2.0])
    (tg.stack([a, a], axis=1) * np.array([[1.0, 10.0], [2.0, 20.0]])).sum().backward()
    np.testing.assert_array_equal(a.grad, [11.0, 22.0])


def test_broadcast_to_sums_the_gradient_over_the_copies():
    a = _param([[1.0], [2.0]])
    y = tg.broadcast_to(a, (3, 2, 4))
    assert y.shape == (3, 2, 4)
    y.sum().backward()
    np.testing.assert_array_equal(a.grad, [[12.0], [12.0]])


def test_squeeze_expand_dims_and_flip_round_trip():
    a = _param(np.arange(6.0).reshape(1, 2, 3))
    y = tg.flip(tg.expand_dims(a.squeeze(0), (0, -1)), axis=-2)
    assert y.shape == (1, 2, 3, 1)
    np.testing.assert_array_equal(y.data[0, :, :, 0], a.data[0, :, ::-1])
    (y * np.arange(6.0).reshape(1, 2, 3, 1)).sum().backward()
    np.testing.assert_array_equal(a.grad[0], np.arange(6.0).reshape(2, 3)[:, ::-1])


def test_squeeze_refuses_an_axis_that_is_not_of_length_one():
    with pytest.raises(ValueError, match="Squeeze"):
        tg.squeeze(np.ones((2, 1)), axis=0)
