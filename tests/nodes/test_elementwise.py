"""Abs, Sqrt, Log1p, Expm1, Softplus, Sin, Cos, Clip, Maximum, Minimum, Where: closed forms and numerics.

Values and gradients on drawn inputs are checked against NumPy in tests/reference; here are the
cases a reference cannot draw: kinks, ties and extreme inputs.
"""

import numpy as np
import pytest

import tinygraph as tg


def _param(x):
    return tg.tensor(np.asarray(x, dtype=float), requires_grad=True)


@pytest.mark.parametrize("fn", [tg.maximum, tg.minimum])
def test_a_tie_splits_the_gradient_evenly_as_torch_does(fn):
    x, y = _param([1.0, 2.0, 3.0]), _param([1.0, 0.0, 5.0])
    fn(x, y).sum().backward()
    first = [0.5, 1.0, 0.0] if fn is tg.maximum else [0.5, 0.0, 1.0]
    np.testing.assert_array_equal(x.grad, first)
    np.testing.assert_array_equal(y.grad, 1 - np.array(first))


def test_abs_has_gradient_zero_at_zero():
    x = _param([-2.0, 0.0, 3.0])
    tg.abs(x).sum().backward()
    np.testing.assert_array_equal(x.grad, [-1.0, 0.0, 1.0])


def test_clip_passes_the_gradient_at_its_bounds_included():
    x = _param([-2.0, -1.0, 0.0, 1.0, 2.0])
    y = tg.clip(x, -1.0, 1.0)
    y.sum().backward()
    np.testing.assert_array_equal(y.data, [-1.0, -1.0, 0.0, 1.0, 1.0])
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 1.0, 1.0, 0.0])
    with pytest.raises(ValueError, match="low, high or both"):
        tg.clip(x)


def test_softplus_is_exact_for_any_finite_input():
    x = np.array([-1000.0, -700.0, -40.0, 0.0, 40.0, 1000.0])
    a = tg.softplus(x).data
    np.testing.assert_allclose(a, [0.0, np.exp(-700.0), np.exp(-40.0), np.log(2.0), 40.0, 1000.0], rtol=1e-15)
    t = _param(x)
    tg.softplus(t).sum().backward()  # dσ: no overflow, no NaN
    np.testing.assert_allclose(t.grad, [0.0, np.exp(-700.0), 1 / (1 + np.exp(40.0)), 0.5, 1 / (1 + np.exp(-40.0)), 1.0])


def test_log1p_and_expm1_keep_tiny_values():
    assert tg.log1p(1e-20).item() == 1e-20
    assert tg.expm1(1e-20).item() == 1e-20


def test_sqrt_at_zero_has_an_infinite_derivative_without_a_warning():
    x = _param([0.0, 4.0])
    tg.sqrt(x).sum().backward()
    np.testing.assert_array_equal(x.grad, [np.inf, 0.25])


def test_where_sends_no_gradient_to_the_branch_not_taken():
    x, y = _param([1.0, 2.0]), _param(3.0)
    tg.where(np.array([True, False]), x, y).sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 0.0])
    assert y.grad == 1.0  # broadcast, then summed back


def test_sin_and_cos_derivatives_are_each_other():
    x = _param([0.0, np.pi / 2])
    (tg.sin(x) + tg.cos(x)).sum().backward()
    np.testing.assert_allclose(x.grad, np.cos(x.data) - np.sin(x.data))
