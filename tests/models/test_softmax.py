"""SoftmaxRegression: Linear → softmax cross-entropy, its (a − y) gradient, and scikit-learn's multinomial model."""

import numpy as np
import pytest
from scipy.special import logsumexp
from sklearn.linear_model import LogisticRegression as SklearnLogisticRegression

from tinygraph.models import L2Penalty, SoftmaxRegression
from tinygraph.nodes import Add, Linear, SoftmaxCrossEntropy


def objective(X: np.ndarray, y: np.ndarray, W: np.ndarray, b: np.ndarray, lam: float) -> float:
    """mean cross-entropy + (λ/2)‖W‖², in plain NumPy."""
    z = X @ W + b
    return float(np.mean(logsumexp(z, axis=1) - z[np.arange(len(y)), y]) + lam / 2 * np.sum(W * W))


def small_problem(seed: int = 0, n: int = 15, d: int = 3, k: int = 4) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.integers(0, k, n)


def test_the_graph_is_linear_then_softmax_cross_entropy():
    X, y = small_problem()
    model = SoftmaxRegression(3, 4, seed=0)
    loss = model.loss(X, y)
    assert isinstance(loss.node, SoftmaxCrossEntropy)
    linear = loss.node.inputs[0].node
    assert isinstance(linear, Linear) and linear.inputs[1:] == (model.W, model.b)
    assert loss.node.scope == linear.scope == SoftmaxRegression.scope


def test_shapes_probabilities_and_argmax_prediction():
    X, y = small_problem()
    model = SoftmaxRegression(3, 4, seed=1)
    model.W.data = np.random.default_rng(2).standard_normal((3, 4))
    z = X @ model.W.data + model.b.data
    assert model.W.shape == (3, 4) and model.b.shape == (4,)
    p = model.predict_proba(X)
    np.testing.assert_allclose(p, np.exp(z - logsumexp(z, axis=1, keepdims=True)), rtol=1e-13)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-14)
    np.testing.assert_array_equal(model.predict(X), np.argmax(z, axis=1))
    np.testing.assert_allclose(model.loss(X, y).item(), objective(X, y, model.W.data, model.b.data, 0.0), rtol=1e-13)


@pytest.mark.parametrize("lam", [0.0, 0.1])
def test_gradient_is_a_minus_onehot_plus_lambda_w(lam, numeric_gradient, analytic_gradient):
    X, y = small_problem(seed=3)
    model = SoftmaxRegression(3, 4, l2=lam, seed=4)
    a = model.predict_proba(X)
    onehot = np.eye(4)[y]
    grads = analytic_gradient(model, X, y)
    np.testing.assert_allclose(grads["W"], X.T @ (a - onehot) / len(y) + lam * model.W.data, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(grads["b"], (a - onehot).mean(axis=0), rtol=1e-12, atol=1e-15)
    numeric = numeric_gradient(model, X, y)
    for name in ("W", "b"):
        np.testing.assert_allclose(grads[name], numeric[name], rtol=1e-6, atol=1e-9)
    if lam:
        assert isinstance(model.loss(X, y).node, Add)
        assert any(isinstance(t.node, L2Penalty) for t in model.loss(X, y).node.inputs)


def test_lbfgs_matches_sklearns_multinomial_model_on_iris(iris):
    X, y = iris
    C, n = 1.0, len(y)
    lam = 1 / (C * n)
    reference = SklearnLogisticRegression(C=C, tol=1e-12, max_iter=10_000).fit(X, y)
    W_ref, b_ref = reference.coef_.T, reference.intercept_
    model = SoftmaxRegression(4, 3, l2=lam, seed=0)
    model.fit(X, y, epochs=1000, optimizer="lbfgs", progress=False)
    best = objective(X, y, W_ref, b_ref, lam)
    assert abs(objective(X, y, model.W.data, model.b.data, lam) - best) / best < 1e-6
    np.testing.assert_allclose(model.W.data, W_ref, rtol=1e-3, atol=1e-3 * np.abs(W_ref).max())
    # Adding a constant to every bias changes no probability, so compare the biases up to a shift.
    b = model.b.data
    np.testing.assert_allclose(b - b.mean(), b_ref - b_ref.mean(), atol=1e-3 * np.abs(b_ref).max())
    np.testing.assert_allclose(model.predict_proba(X), reference.predict_proba(X), atol=1e-5)
    np.testing.assert_array_equal(model.predict(X), reference.predict(X))


def test_two_class_softmax_regression_learns_what_logistic_regression_learns(breast_cancer):
    X, y = breast_cancer
    model = SoftmaxRegression(X.shape[1], 2, l2=1 / len(y), seed=0)
    model.fit(X, y, epochs=1000, optimizer="lbfgs", progress=False)
    reference = SklearnLogisticRegression(C=2.0, tol=1e-12, max_iter=10_000).fit(X, y)
    # Only the logit difference d = w₁ − w₀ matters; the penalty is least at w₀ = −d/2, w₁ = d/2,
    # where (λ/2)(‖w₀‖² + ‖w₁‖²) = (λ/4)‖d‖²: logistic regression with λ halved, i.e. C = 2.
    np.testing.assert_allclose(model.W.data[:, 1] - model.W.data[:, 0], reference.coef_[0], rtol=1e-3, atol=1e-3)
