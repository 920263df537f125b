"""Sigmoid, Logit, Tanh, ReLU, Softmax, LogSoftmax, SoftmaxLog: values, gradients, exact numerics."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygraph as tg
from tinygraph.nodes import Log, SoftmaxLog
from tinygraph.testing import gradcheck
from tinygraph.testing import strategies as tst

EXTREMES = np.array([-1e4, -1000.0, -745.0, -40.0, -1.0, 0.0, 1.0, 40.0, 745.0, 1000.0, 1e4])


@given(z=tst.arrays(tst.shapes(), min_value=-30, max_value=30))
def test_sigmoid_gradient(z):
    assert gradcheck(tg.sigmoid, [tg.tensor(z, requires_grad=True)])


@given(z=tst.arrays(tst.shapes(min_dims=1), min_value=-20, max_value=20))
def test_tanh_gradient(z):
    assert gradcheck(tg.tanh, [tg.tensor(z, requires_grad=True)])


@given(z=tst.arrays(tst.shapes(min_dims=1), avoid_zero=1e-3))
def test_relu_gradient_away_from_the_kink(z):
    assert gradcheck(tg.relu, [tg.tensor(z, requires_grad=True)])


@given(p=tst.probabilities(tst.shapes(min_dims=1), margin=0.01))
def test_logit_gradient(p):
    assert gradcheck(tg.logit, [tg.tensor(p, requires_grad=True)])


@given(z=tst.arrays(tst.shapes(min_dims=1), min_value=-20, max_value=20), data=st.data())
def test_softmax_and_log_softmax_gradients_on_any_axis(z, data):
    axis = data.draw(st.integers(-z.ndim, z.ndim - 1))
    t = tg.tensor(z, requires_grad=True)
    assert gradcheck(lambda v: tg.softmax(v, axis=axis), [t])
    assert gradcheck(lambda v: tg.log_softmax(v, axis=axis), [t])


def test_sigmoid_is_exact_and_finite_at_the_extremes():
    a = tg.sigmoid(EXTREMES).data
    one_minus_a = tg.sigmoid(-EXTREMES).data
    assert np.all(np.isfinite(a)) and np.all((a >= 0) & (a <= 1))
    np.testing.assert_allclose(a[EXTREMES >= 40], 1.0)
    # exact where it is representable: σ(−40) = e^(−40) / (1 + e^(−40))
    np.testing.assert_allclose(a[3], np.exp(-40.0) / (1 + np.exp(-40.0)), rtol=1e-15)
    np.testing.assert_allclose(a + one_minus_a, 1.0)


def test_sigmoid_derivative_stays_exact_where_one_minus_a_rounds_to_zero():
    z = tg.tensor(np.array([40.0, -40.0, 700.0]), requires_grad=True)
    tg.sigmoid(z).sum().backward()
    expected = np.exp(-np.abs(z.data)) / (1 + np.exp(-np.abs(z.data))) ** 2
    np.testing.assert_allclose(z.grad, expected, rtol=1e-12)
    assert z.grad[0] > 0  # naive a(1 − a) would give exactly 0 here


@given(z=tst.arrays(st.integers(1, 40), min_value=-1e4, max_value=1e4))
def test_sigmoid_derivative_from_its_saved_exponential_is_exact_over_net_inputs_to_1e4(z):
    z = np.concatenate([z, EXTREMES, [-709.5, -37.0, 37.0, 709.5]])  # both sides of e^(−z)'s overflow
    for part in (z[np.abs(z) < 700], z):  # e^(−z) finite and kept; or overflowing somewhere: σ(−z)
        leaf = tg.tensor(part, requires_grad=True)
        tg.sigmoid(leaf).sum().backward()
        e = np.exp(-np.abs(part.astype(np.longdouble)))  # extended precision: x86's 64-bit mantissa
        expected = (e / (1 + e) ** 2).astype(np.float64)
        np.testing.assert_allclose(leaf.grad, expected, rtol=8 * np.finfo(float).eps, atol=1e-320)


def test_softmax_and_log_softmax_are_finite_and_exact_at_the_extremes():
    z = np.stack([EXTREMES, EXTREMES[::-1], np.full_like(EXTREMES, 1e4)])
    a = tg.softmax(z).data
    log_a = tg.log_softmax(z).data
    assert np.all(np.isfinite(a)) and np.all(np.isfinite(log_a))
    np.testing.assert_allclose(a.sum(axis=1), 1.0)
    np.testing.assert_allclose(log_a[0], EXTREMES - 1e4)  # the maximum dominates: log a = z − max
    np.testing.assert_allclose(log_a[2], -np.log(len(EXTREMES)))


def test_softmax_gradients_are_finite_at_the_extremes():
    z = tg.tensor(np.stack([EXTREMES, EXTREMES[::-1]]), requires_grad=True)
    (tg.softmax(z)[:, 0].sum() + tg.log_softmax(z)[:, -1].sum()).backward()
    assert np.all(np.isfinite(z.grad))


def test_logit_is_the_inverse_of_sigmoid():
    z = np.linspace(-30, 10, 41)  # beyond, σ(z) rounds so close to 1 that z is lost in float64
    np.testing.assert_allclose(tg.logit(tg.sigmoid(z)).data, z, atol=1e-9)
    p = np.linspace(0.01, 0.99, 50)
    np.testing.assert_allclose(tg.sigmoid(tg.logit(p)).data, p, rtol=1e-12)


def test_logit_at_zero_and_one_is_infinite_and_outside_is_an_error():
    np.testing.assert_array_equal(tg.logit(np.array([0.0, 1.0])).data, [-np.inf, np.inf])
    with pytest.raises(ValueError, match=r"Logit: probabilities must lie in \[0, 1\]; found 1.5"):
        tg.logit(np.array([0.5, 1.5]))
    with pytest.raises(ValueError, match=r"Logit: probabilities must lie in \[0, 1\]; found nan"):
        tg.logit(np.array([0.5, np.nan]))


def test_relu_and_tanh_at_infinity_stay_finite():
    x = np.array([-np.inf, np.inf])
    np.testing.assert_array_equal(tg.relu(x).data, [0.0, np.inf])
    np.testing.assert_array_equal(tg.tanh(x).data, [-1.0, 1.0])


def test_sigmoid_where_the_textbook_formula_overflows_is_the_exact_subnormal():
    a = tg.sigmoid(np.array([-720.0, -1e4, 3.0])).data
    assert a[0] == pytest.approx(np.exp(-720.0), rel=1e-12) and a[0] > 0  # 2.03e-313, not 0
    assert a[1] == 0.0 and a[2] == pytest.approx(1 / (1 + np.exp(-3.0)), rel=1e-15)


# ------------------------------------------------------------------ log of a softmax's output
@given(z=tst.arrays(tst.shapes(min_dims=1), min_value=-20, max_value=20), data=st.data())
def test_log_of_a_softmax_output_gradient_on_any_axis(z, data):
    axis = data.draw(st.integers(-z.ndim, z.ndim - 1))
    assert gradcheck(lambda v: tg.log(tg.softmax(v, axis=axis)), [tg.tensor(z, requires_grad=True)])


def test_log_of_a_softmax_output_is_log_softmax_of_its_input_exactly():
    z = np.stack([EXTREMES, EXTREMES[::-1]])
    for log_of in (tg.log, lambda t: t.log()):
        zt = tg.tensor(z, requires_grad=True)
        a = tg.softmax(zt, axis=1)
        log_a = log_of(a)
        assert type(log_a.node) is SoftmaxLog and SoftmaxLog.cancels == {0: 1}
        assert repr(log_a).endswith("node=Log)")
        np.testing.assert_array_equal(log_a.data, tg.log_softmax(z, axis=1).data)  # finite: log a is not −∞
        log_a[:, 3].sum().backward()
        expected = tg.tensor(z, requires_grad=True)
        tg.log_softmax(expected, axis=1)[:, 3].sum().backward()
        np.testing.assert_allclose(zt.grad, expected.grad)
        assert a.grad is None and log_a.node.needs_grad == (False, True)  # 1/a not even computed


def test_log_of_a_softmax_output_shows_dlog_a_da_when_a_keeps_it():
    z = tg.tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    a = tg.softmax(z)
    a.retain_grad()
    tg.log(a)[0].backward()
    np.testing.assert_allclose(a.grad, [1 / a.data[0], 0.0, 0.0])  # shown, not propagated twice
    np.testing.assert_allclose(z.grad, np.eye(3)[0] - a.data)


def test_log_of_other_values_is_the_plain_log_node():
    assert type(tg.log(tg.tensor([1.0, 2.0])).node) is Log
    assert type(tg.log(tg.log_softmax(np.zeros(2)).exp()).node) is Log


@pytest.mark.parametrize("shape, axis", [((0,), -1), ((2, 0), 1), ((0, 3), 0), ((0, 3), -1)])
def test_softmax_and_log_softmax_of_an_empty_axis_are_empty(shape, axis):
    for fn in (tg.softmax, tg.log_softmax):
        z = tg.tensor(np.zeros(shape), requires_grad=True)
        a = fn(z, axis=axis)
        assert a.shape == shape and a.dtype == np.float64
        a.sum().backward()
        assert z.grad.shape == shape
