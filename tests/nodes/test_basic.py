"""The primitive nodes behind the operators, each checked with hypothesis and gradcheck."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygraph as tg
from tinygraph.testing import gradcheck
from tinygraph.testing import strategies as tst


def _param(x):
    return tg.tensor(x, requires_grad=True)


@given(x=tst.arrays(tst.shapes(), min_value=-5, max_value=5))
def test_exp_and_neg(x):
    assert gradcheck(tg.exp, [_param(x)])
    assert gradcheck(lambda t: -t, [_param(x)])


@given(x=tst.arrays(tst.shapes(), min_value=0.1, max_value=10))
def test_log(x):
    assert gradcheck(tg.log, [_param(x)])
    np.testing.assert_allclose(tg.log(x).data, np.log(x))


@given(x=tst.arrays(tst.shapes(min_dims=1)), data=st.data())
def test_reductions_over_any_axes(x, data):
    axes = data.draw(st.lists(st.integers(0, x.ndim - 1), unique=True, max_size=x.ndim))
    axis = tuple(axes) if len(axes) != 1 else axes[0]
    keepdims = data.draw(st.booleans())
    for name in ("sum", "mean"):
        reduce = getattr(tg, name)
        np.testing.assert_allclose(reduce(x, axis, keepdims).data, getattr(np, name)(x, axis=axis, keepdims=keepdims))
        assert gradcheck(lambda t: reduce(t, axis, keepdims), [_param(x)])


def _well_separated(a):
    return a.size < 2 or np.diff(np.sort(a, axis=None)).min() > 1e-3  # no tie within a finite-difference step


@given(x=tst.arrays(tst.shapes(min_dims=1), min_value=-5, max_value=5).filter(_well_separated))
def test_max_gradient_with_distinct_values(x):
    assert gradcheck(lambda t: tg.max(t, axis=-1), [_param(x)])


@given(x=tst.arrays(tst.shapes(min_dims=1)), data=st.data())
def test_transpose_and_reshape(x, data):
    axes = data.draw(st.permutations(range(x.ndim)))
    assert gradcheck(lambda t: tg.transpose(t, tuple(axes)), [_param(x)])
    assert gradcheck(lambda t: tg.reshape(t, (-1,)), [_param(x)])


@given(x=tst.arrays(tst.shapes(min_dims=1, max_dims=2)), data=st.data())
def test_integer_array_indexing_with_repeats(x, data):
    index = data.draw(st.lists(st.integers(0, x.shape[0] - 1), min_size=1, max_size=6))
    assert gradcheck(lambda t: t[index], [_param(x)])
    t = _param(x)
    t[index].sum().backward()
    counts = np.bincount(index, minlength=x.shape[0]).reshape((-1,) + (1,) * (x.ndim - 1))
    np.testing.assert_array_equal(t.grad, np.broadcast_to(counts, x.shape))


def test_matmul_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"^MatMul: x has shape \(2, 3\) but y has shape \(2,\)"):
        tg.tensor(np.ones((2, 3))) @ np.ones(2)
    with pytest.raises(ValueError, match=r"^MatMul: x has shape \(\) but y has shape \(2,\)"):
        tg.matmul(1.0, np.ones(2))


# ----------------------------------------------------------------------------- defects found by a reference
@pytest.mark.parametrize("shape", [(3, 3), (2, 3)])
def test_transpose_with_negative_axes_means_what_numpy_means(shape):
    x = _param(np.arange(6.0 if shape == (2, 3) else 9.0).reshape(shape))
    weights = np.arange(float(x.size)).reshape(shape[::-1])
    (x.transpose(-1, 0) * weights).sum().backward()
    np.testing.assert_array_equal(x.grad, weights.T)  # d/dx Σ xᵀ ⊙ W = Wᵀ
    np.testing.assert_array_equal(tg.transpose(x, (-1, -2)).data, x.data.T)


def test_transpose_refuses_axes_that_are_not_a_permutation():
    with pytest.raises(ValueError, match="axes"):
        tg.transpose(np.ones((2, 3)), (0, -2))


def test_power_zero_has_derivative_zero_even_at_zero():
    x = _param(np.array([0.0, 2.0, -3.0]))
    (x**0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0])
    X = _param(np.array([[0.0, 0.0, 0.0], [2.0, 0.5, 0.0]]))  # polynomial features 1, x, x²
    (X ** np.array([0.0, 1.0, 2.0])).sum().backward()
    np.testing.assert_array_equal(X.grad, [[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]])
    _, tangent = tg.jvp(lambda t: t**0, [np.array([0.0, 2.0])], [np.array([1.0, 1.0])])  # forward mode too
    np.testing.assert_array_equal(tangent, [0.0, 0.0])


@pytest.mark.parametrize("reduce", ["sum", "mean", "max"])
def test_a_numpy_integer_is_an_axis(reduce):
    x = np.arange(6.0).reshape(2, 3)
    for axis in (np.int64(1), np.int32(-1), (np.intp(0), np.int8(1))):
        t = _param(x)
        out = getattr(t, reduce)(axis=axis)
        np.testing.assert_array_equal(out.data, getattr(np, reduce)(x, axis=axis))
        out.sum().backward()
        assert t.grad.shape == x.shape
