"""The identities of the lecture (../LECTURE.md in the project's notes), checked on tinygraph's nodes."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygraph as tg
from tinygraph.testing import strategies as tst


def test_sigmoid_derivative_is_sigma_times_one_minus_sigma_with_maximum_quarter_at_zero():
    z = tg.tensor(np.linspace(-10, 10, 2001), requires_grad=True)
    a = tg.sigmoid(z)
    a.sum().backward()
    np.testing.assert_allclose(z.grad, a.data * (1 - a.data), rtol=1e-9)
    e = np.exp(-np.abs(z.data))
    np.testing.assert_allclose(z.grad, e / (1 + e) ** 2, rtol=1e-14)  # exact, no 1 − a cancellation
    assert z.grad.max() == 0.25 and z.data[np.argmax(z.grad)] == 0.0
    assert z.grad[0] < 1e-4 and z.grad[-1] < 1e-4  # vanishing at both ends


@given(z=tst.arrays((20,), min_value=-30, max_value=10))
def test_logit_is_the_inverse_of_sigmoid(z):
    np.testing.assert_allclose(tg.logit(tg.sigmoid(z)).data, z, atol=1e-8)


@given(n=st.integers(1, 20), d=st.integers(1, 5), data=st.data())
def test_logistic_regression_gradient_is_a_minus_y_times_x(n, d, data):
    X = data.draw(tst.arrays((n, d), min_value=-3, max_value=3))
    y = data.draw(tst.binary_labels(n))
    w = tg.tensor(data.draw(tst.arrays((d,), min_value=-2, max_value=2)), requires_grad=True)
    b = tg.tensor(data.draw(st.floats(-2, 2)), requires_grad=True)
    a = tg.sigmoid(tg.linear(X, w, b))
    tg.bce(a, y).backward()
    np.testing.assert_allclose(w.grad, X.T @ (a.data - y) / n, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(b.grad, np.mean(a.data - y), rtol=1e-10, atol=1e-14)


@given(p=tst.probabilities((12,), margin=1e-6), y=tst.binary_labels(12))
def test_bce_is_the_negative_log_likelihood(p, y):
    likelihood = np.prod(p**y * (1 - p) ** (1 - y))
    np.testing.assert_allclose(tg.bce(p, y, "sum").data, -np.log(likelihood), rtol=1e-9)
    np.testing.assert_allclose(tg.bce(p, y, "none").data[y == 1], -np.log(p[y == 1]))  # only −log a remains
    np.testing.assert_allclose(tg.bce(p, y, "none").data[y == 0], -np.log(1 - p[y == 0]))


def test_a_confident_wrong_prediction_is_punished_without_bound_but_finitely():
    z = np.array([-5.0, -50.0, -500.0])
    losses = tg.bce(tg.sigmoid(z), np.ones(3), "none").data
    np.testing.assert_allclose(losses, -z + np.log1p(np.exp(z)), rtol=1e-12)  # ≈ |z|, growing without bound


@given(logits=tst.arrays((6, 2), min_value=-50, max_value=50), y=tst.class_labels(6, 2))
def test_two_class_softmax_cross_entropy_is_bce_on_the_logit_difference(logits, y):
    ce = tg.softmax_cross_entropy(logits, y, "none").data
    bce = tg.bce_with_logits(logits[:, 1] - logits[:, 0], y.astype(float), "none").data
    np.testing.assert_allclose(ce, bce, rtol=1e-9, atol=1e-300)


@given(logits=tst.arrays((5, 4), min_value=-10, max_value=10), y=tst.class_labels(5, 4))
def test_softmax_cross_entropy_gradient_is_a_minus_y(logits, y):
    z = tg.tensor(logits, requires_grad=True)
    tg.softmax_cross_entropy(z, y).backward()
    a = tg.softmax(logits).data
    np.testing.assert_allclose(z.grad, (a - np.eye(4)[y]) / 5, atol=1e-15)


def test_kl_divergence_is_cross_entropy_minus_entropy():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(5), size=3)  # true distributions
    logits = rng.standard_normal((3, 5))
    q = tg.softmax(logits).data
    kl = (p * np.log(p / q)).sum(axis=1)
    cross_entropy = tg.softmax_cross_entropy(logits, p, "none").data
    entropy = -(p * np.log(p)).sum(axis=1)
    np.testing.assert_allclose(cross_entropy - entropy, kl, rtol=1e-12)


def test_prediction_can_skip_the_sigmoid():
    z = np.linspace(-3, 3, 13)
    a = tg.sigmoid(z).data
    np.testing.assert_array_equal(a > 0.5, z > 0)
    assert tg.sigmoid(0.0).item() == 0.5


def test_one_sgd_step_is_adalines_rule():
    X = np.array([[1.0, 2.0], [0.5, -1.0], [-1.5, 0.3], [2.0, 0.0]])
    y = np.array([1.0, 0.0, 0.0, 1.0])
    w = tg.tensor(np.array([0.1, -0.2]), requires_grad=True)
    b = tg.tensor(0.05, requires_grad=True)
    lr = 0.5
    a = tg.sigmoid(tg.linear(X, w, b))
    tg.bce(a, y).backward()
    new_w, new_b = w.data - lr * w.grad, b.data - lr * b.grad
    np.testing.assert_allclose(new_w, w.data - lr * X.T @ (a.data - y) / 4)
    assert new_b == pytest.approx(b.data - lr * np.mean(a.data - y))
