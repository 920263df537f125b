"""Einsum and Tensordot: the gradient of a sum of products is the sum of products of the others."""

import numpy as np
import pytest

import tinygraph as tg


def _param(x):
    return tg.tensor(np.asarray(x, dtype=float), requires_grad=True)


def test_einsum_matrix_product_has_matmuls_gradients():
    rng = np.random.default_rng(0)
    x, w, g = rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal((4, 2))
    a, b = _param(x), _param(w)
    tg.einsum("ij,jk->ik", a, b).backward(g)
    np.testing.assert_allclose(a.grad, g @ w.T)  # dL/dx = dL/dz · wᵀ
    np.testing.assert_allclose(b.grad, x.T @ g)  # dL/dw = xᵀ · dL/dz


def test_einsum_trace_puts_the_gradient_on_the_diagonal():
    a = _param(np.arange(9.0).reshape(3, 3))
    y = tg.einsum("ii", a)
    assert y.item() == 12.0
    y.backward()
    np.testing.assert_array_equal(a.grad, np.eye(3))


def test_einsum_index_summed_in_one_operand_only():
    a, b = _param(np.ones((2, 3))), _param([1.0, 2.0])
    tg.einsum("ij,i->", a, b).backward()  # Σ_ij a_ij b_i
    np.testing.assert_array_equal(a.grad, [[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]])
    np.testing.assert_array_equal(b.grad, [3.0, 3.0])


def test_tensordot_equals_numpys_and_checks_its_axes():
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 3, 5))
    np.testing.assert_allclose(tg.tensordot(x, y, axes=([1, -1], [1, 0])).data, np.tensordot(x, y, ([1, -1], [1, 0])))
    with pytest.raises(ValueError, match="Tensordot"):
        tg.tensordot(x, y, axes=([0], [1, 2]))
    with pytest.raises(ValueError, match="name an axis of a twice"):
        tg.tensordot(x, y, axes=([1, -2], [1, 0]))  # axis 1 of a, twice


def test_tensordot_gradients_are_the_matrix_products_for_matrices():
    rng = np.random.default_rng(2)
    x, w, g = rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal((4, 2))
    a, b = _param(x), _param(w)
    tg.tensordot(a, b, axes=1).backward(g)
    np.testing.assert_allclose(a.grad, g @ w.T)  # dL/da = dL/dy · bᵀ
    np.testing.assert_allclose(b.grad, x.T @ g)  # dL/db = aᵀ · dL/dy


def test_tensordot_refuses_an_axis_past_the_last_instead_of_wrapping_it():
    a, b = np.ones((2, 3)), np.ones((3, 3))
    with pytest.raises(ValueError, match="axis 3 of a, which has 2 axes"):
        tg.tensordot(a, b, axes=([3], [0]))  # 3 % 2 would contract axis 1
    with pytest.raises(ValueError, match="axis -3 of b"):
        tg.tensordot(a, b, axes=([1], [-3]))
