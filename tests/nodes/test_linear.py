"""Linear: z = x @ w + b, its gradients, and shape errors that name both shapes."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygraph as tg
from tinygraph.testing import gradcheck
from tinygraph.testing import strategies as tst


@given(n=st.integers(1, 5), d=st.integers(1, 4), k=st.sampled_from([None, 1, 3]), data=st.data())
def test_linear_gradients_for_vector_and_matrix_weights(n, d, k, data):
    w_shape = (d,) if k is None else (d, k)
    x = tg.tensor(data.draw(tst.arrays((n, d))), requires_grad=True)
    w = tg.tensor(data.draw(tst.arrays(w_shape)), requires_grad=True)
    b = tg.tensor(data.draw(tst.arrays(w_shape[1:])), requires_grad=True)
    assert gradcheck(tg.linear, [x, w, b])
    assert gradcheck(tg.linear, [x, w])


def test_linear_values_and_closed_form_gradients():
    rng = np.random.default_rng(0)
    X, W, b = rng.standard_normal((5, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2)
    w, bt = tg.tensor(W, requires_grad=True), tg.tensor(b, requires_grad=True)
    z = tg.linear(X, w, bt)
    np.testing.assert_allclose(z.data, X @ W + b)
    g = rng.standard_normal((5, 2))
    z.backward(g)
    np.testing.assert_allclose(w.grad, X.T @ g)  # dz/dw = x
    np.testing.assert_allclose(bt.grad, g.sum(axis=0))  # dz/db = 1, summed over the batch


def test_vector_weights_give_one_net_input_per_example():
    z = tg.linear(np.ones((4, 3)), np.array([1.0, 2.0, 3.0]), 0.5)
    assert z.shape == (4,)
    np.testing.assert_allclose(z.data, 6.5)


def test_a_single_example_as_a_vector():
    x = tg.tensor(np.array([1.0, -2.0]), requires_grad=True)
    w = tg.tensor(np.array([[0.5, 1.0, 0.0], [2.0, -1.0, 1.0]]), requires_grad=True)
    assert tg.linear(x, w).shape == (3,)
    assert gradcheck(tg.linear, [x, w])


def test_shape_mismatch_names_the_node_and_both_shapes():
    with pytest.raises(ValueError, match=r"^Linear: x has shape \(5, 3\) but w has shape \(4,\)"):
        tg.linear(np.ones((5, 3)), np.ones(4))


def test_bias_of_the_wrong_shape_is_named():
    with pytest.raises(ValueError, match=r"Linear: b has shape \(3,\) but w has shape \(2, 2\)"):
        tg.linear(np.ones((5, 2)), np.ones((2, 2)), np.ones(3))


def test_data_input_gets_no_gradient():
    x = tg.tensor(np.ones((3, 2)))
    w = tg.tensor(np.ones(2), requires_grad=True)
    tg.linear(x, w).sum().backward()
    assert x.grad is None and w.grad is not None


def _ordered(array, order):
    return np.asfortranarray(array) if order == "F" else np.ascontiguousarray(array)


@given(
    n=st.integers(0, 40), d=st.integers(0, 6), k=st.sampled_from([None, 0, 1, 2, 10]),
    x_order=st.sampled_from("CF"), g_order=st.sampled_from("CF"), data=st.data(),
)
def test_weight_gradient_equals_numpys_product_in_every_form(n, d, k, x_order, g_order, data):
    # (gᵀ x)ᵀ is the same sums as xᵀ g in another order: equal to rounding, of the same shape
    x = _ordered(data.draw(tst.arrays((n, d))), x_order)
    grad = _ordered(data.draw(tst.arrays((n,) if k is None else (n, k))), g_order)
    w = tg.tensor(np.zeros((d,) if k is None else (d, k)), requires_grad=True)
    b = tg.tensor(np.zeros(() if k is None else (k,)), requires_grad=True)
    tg.linear(x, w, b).backward(grad)
    expected = x.T @ grad
    assert w.grad.shape == expected.shape and w.grad.dtype == expected.dtype
    np.testing.assert_allclose(w.grad, expected, rtol=1e-12, atol=1e-12 * max(1, n) * 100)
    np.testing.assert_allclose(b.grad, grad.sum(axis=0), rtol=1e-12, atol=1e-9)


@given(n=st.integers(0, 30), d=st.integers(0, 5), k=st.integers(0, 12), x_order=st.sampled_from("CF"), data=st.data())
def test_matmul_gradient_of_the_right_factor_equals_numpys(n, d, k, x_order, data):
    x = _ordered(data.draw(tst.arrays((n, d))), x_order)
    grad = data.draw(tst.arrays((n, k)))
    y = tg.tensor(np.ones((d, k)), requires_grad=True)
    tg.matmul(x, y).backward(grad)
    np.testing.assert_allclose(y.grad, x.T @ grad, rtol=1e-12, atol=1e-9)


def test_the_weight_gradient_is_an_array_of_its_own():
    # the faster form is a transposed view: the engine gives .grad an array of its own
    x, grad = np.ones((4, 3)), np.ones((4, 2))
    w = tg.tensor(np.zeros((3, 2)), requires_grad=True)
    tg.linear(x, w).backward(grad)
    assert w.grad.base is None and w.grad.flags.writeable
    w.grad += 1  # the user's own array to change
    np.testing.assert_allclose(w.grad, 5.0)
