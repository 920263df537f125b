"""Min, Prod, Var, Std, LogSumExp, argmax and argmin: closed forms and the numerics a reference cannot draw."""

import numpy as np
import pytest

import tinygraph as tg


def _param(x):
    return tg.tensor(np.asarray(x, dtype=float), requires_grad=True)


def test_prod_gradient_with_one_zero_and_with_two():
    x = _param([2.0, 0.0, 3.0])
    tg.prod(x).backward()
    np.testing.assert_array_equal(x.grad, [0.0, 6.0, 0.0])  # the product of the others
    x = _param([[0.0, 0.0, 3.0], [1.0, 2.0, 4.0]])
    tg.prod(x, axis=-1).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0.0, 0.0, 0.0], [8.0, 4.0, 2.0]])


def test_logsumexp_is_exact_for_any_finite_input():
    x = np.array([[1000.0, 1000.0], [-1000.0, -1000.0], [0.0, -80.0], [1e308, -1e308]])
    expected = [1000.0 + np.log(2.0), -1000.0 + np.log(2.0), np.exp(-80.0), 1e308]
    np.testing.assert_allclose(tg.logsumexp(x, axis=1).data, expected, rtol=1e-15)
    t = _param(x)
    tg.logsumexp(t, axis=1).sum().backward()
    np.testing.assert_allclose(t.grad, [[0.5, 0.5], [0.5, 0.5], [1.0, np.exp(-80.0)], [1.0, 0.0]])


def test_logsumexp_gradient_is_the_softmax_where_the_log_2_is_lost_in_l():
    # l = 1e308 + log 2 rounds to 1e308, so e^(x − l) would give each element 1, not 1/2
    for row in ([1e308, 1e308, -1e308], [-1e308, -1e308, -np.inf], [1e17, 1e17, 0.0]):
        t = _param(row)
        tg.logsumexp(t).backward()
        np.testing.assert_allclose(t.grad, [0.5, 0.5, 0.0])
        np.testing.assert_allclose(tg.jvp(tg.logsumexp, (np.array(row),), (np.ones(3),))[1], 1.0)


def test_logsumexp_of_infinite_elements_is_infinite_not_nan():
    x = np.array([[-np.inf, -np.inf], [np.inf, np.inf], [np.inf, 1.0], [-np.inf, 0.0]])
    np.testing.assert_array_equal(tg.logsumexp(x, axis=1).data, [-np.inf, np.inf, np.inf, 0.0])
    t = _param([-np.inf, 0.0])
    tg.logsumexp(t).backward()
    np.testing.assert_array_equal(t.grad, [0.0, 1.0])

def test_var_and_std_divide_by_n_minus_ddof():
    x = np.array([1.0, 2.0, 4.0])
    for ddof in (0, 1):
        t = _param(x)
        tg.var(t, ddof=ddof).backward()
        np.testing.assert_allclose(t.grad, 2 * (x - x.mean()) / (3 - ddof))
        assert tg.std(x, ddof=ddof).item() == pytest.approx(np.std(x, ddof=ddof))


def test_std_of_equal_elements_has_gradient_zero_as_in_torch():
    t = _param([2.0, 2.0, 2.0])
    tg.std(t).backward()
    np.testing.assert_array_equal(t.grad, [0.0, 0.0, 0.0])


def test_min_splits_the_gradient_between_ties():
    t = _param([[1.0, 1.0, 3.0]])
    tg.min(t).backward()
    np.testing.assert_array_equal(t.grad, [[0.5, 0.5, 0.0]])


def test_argmax_and_argmin_are_integer_tensors_outside_the_graph():
    t = _param([[1.0, 5.0, 3.0], [7.0, 0.0, 2.0]])
    index = tg.argmax(t, axis=1)
    assert index.dtype.kind == "i" and not index.requires_grad and index.node is None
    np.testing.assert_array_equal(index.data, [1, 0])
    np.testing.assert_array_equal(t.argmin(axis=np.int64(0), keepdims=True).data, [[0, 1, 1]])
