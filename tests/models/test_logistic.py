"""LogisticRegression: the lecture's graph, its learning rule, and agreement with scikit-learn."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression as SklearnLogisticRegression

import tinygraph as tg
from tinygraph.models import L2Penalty, LogisticRegression
from tinygraph.nodes import BCE, Add, Linear, Sigmoid, SigmoidBCE

SCOPE = "LogisticRegression: net input → sigmoid → NLL"

# Plain full-batch gradient descent at lr = 1 reaches the penalized optimum of standardized breast
# cancer (C = 1) to a relative gap below 1e-3 within this many epochs (680 from the seed-0 start).
GD_EPOCHS, GD_LR = 700, 1.0


def nodes_of(root: tg.Tensor) -> list:
    """Every node of the graph that produced ``root``, root first."""
    found, stack = [], [root]
    while stack:
        t = stack.pop()
        if t.node is not None and t.node not in found:
            found.append(t.node)
            stack.extend(t.node.inputs)
    return found


def small_problem(seed: int = 0, n: int = 12, d: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), (rng.random(n) < 0.5).astype(float)


def sklearn_optimum(X: np.ndarray, y: np.ndarray, C: float = 1.0) -> SklearnLogisticRegression:
    """scikit-learn's minimizer of ½‖w‖² + C Σ logloss, solved far past its default tolerance."""
    return SklearnLogisticRegression(C=C, tol=1e-12, max_iter=10_000).fit(X, y)


def objective(X: np.ndarray, y: np.ndarray, w: np.ndarray, b: float, lam: float) -> float:
    """mean logloss + (λ/2)‖w‖², in plain NumPy: the reference the graph is compared with."""
    z = X @ w + b
    return float(np.mean(np.logaddexp(0, z) - y * z) + lam / 2 * w @ w)


def test_the_graph_is_exactly_linear_sigmoid_bce_in_the_model_scope():
    X, y = small_problem()
    loss = LogisticRegression(3, seed=0).loss(X, y)
    nodes = nodes_of(loss)
    assert sorted(type(n).__name__ for n in nodes) == ["Linear", "Sigmoid", "SigmoidBCE"]
    assert all(n.scope == SCOPE for n in nodes)
    bce = loss.node
    sigmoid = bce.inputs[0].node
    linear = sigmoid.inputs[0].node
    assert (type(bce), type(sigmoid), type(linear)) == (SigmoidBCE, Sigmoid, Linear)
    assert [t.name for t in linear.inputs] == ["x", "w", "b"]
    assert bce.inputs[1].name == "y"


def test_the_l2_penalty_is_its_own_node_on_w_only():
    X, y = small_problem()
    model = LogisticRegression(3, l2=0.5, seed=0)
    loss = model.loss(X, y)
    assert isinstance(loss.node, Add)
    data_loss, penalty = loss.node.inputs
    assert isinstance(data_loss.node, BCE) and isinstance(penalty.node, L2Penalty)
    assert penalty.node.inputs == (model.w,)  # the bias is not penalized
    np.testing.assert_allclose(penalty.item(), 0.25 * model.w.data @ model.w.data, rtol=1e-15)


def test_forward_is_the_sigmoid_of_the_net_input():
    X, y = small_problem()
    model = LogisticRegression(3, seed=1)
    z = X @ model.w.data + model.b.data
    np.testing.assert_allclose(model.net_input(X).data, z, rtol=1e-15)
    np.testing.assert_allclose(model.forward(X).data, 1 / (1 + np.exp(-z)), rtol=1e-14)
    np.testing.assert_allclose(model.predict_proba(X), 1 / (1 + np.exp(-z)), rtol=1e-14)
    np.testing.assert_allclose(model.loss(X, y).item(), objective(X, y, model.w.data, model.b.item(), 0.0), rtol=1e-13)


def test_predict_thresholds_the_net_input_at_zero_without_the_sigmoid():
    model = LogisticRegression(2)
    model.w.data, model.b.data = np.array([1.0, -1.0]), np.array(0.0)
    X = np.array([[2.0, 1.0], [1.0, 2.0], [1.0, 1.0], [40.0, 0.0], [0.0, 40.0]])
    prediction = model.predict(X)
    np.testing.assert_array_equal(prediction, [1, 0, 0, 1, 0])  # z = 0 (third row) is class 0
    assert prediction.dtype.kind == "i"
    np.testing.assert_array_equal(prediction[[0, 1, 3, 4]], (model.predict_proba(X) > 0.5)[[0, 1, 3, 4]])


@pytest.mark.parametrize("lam", [0.0, 0.3])
def test_one_plain_sgd_step_is_the_lectures_rule(lam):
    X, y = small_problem(seed=2, n=20, d=4)
    model = LogisticRegression(4, l2=lam, seed=3)
    w, b, lr = model.w.data, model.b.item(), 0.7
    a = 1 / (1 + np.exp(-(X @ w + b)))
    model.fit(X, y, epochs=1, lr=lr, batch_size=None, optimizer="sgd", progress=False)
    np.testing.assert_allclose(model.w.data - w, -lr * (X.T @ (a - y) / len(y) + lam * w), rtol=1e-12, atol=1e-16)
    np.testing.assert_allclose(model.b.item() - b, -lr * np.mean(a - y), rtol=1e-12, atol=1e-16)


def test_backprop_gradient_matches_central_differences(numeric_gradient, analytic_gradient):
    X, y = small_problem(seed=4)
    model = LogisticRegression(3, l2=0.2, seed=5)
    model.w.data = np.array([0.5, -1.0, 2.0])
    analytic, numeric = analytic_gradient(model, X, y), numeric_gradient(model, X, y)
    for name in ("w", "b"):
        np.testing.assert_allclose(analytic[name], numeric[name], rtol=1e-6, atol=1e-9)


def test_lbfgs_matches_sklearn_objective_and_coefficients(breast_cancer):
    X, y = breast_cancer
    C, n = 1.0, len(y)
    lam = 1 / (C * n)  # ½‖w‖² + C Σ logloss = C·N · (mean logloss + (λ/2)‖w‖²)
    reference = sklearn_optimum(X, y, C)
    w_ref, b_ref = reference.coef_[0], reference.intercept_[0]
    model = LogisticRegression(X.shape[1], l2=lam, seed=0)
    history = model.fit(X, y, epochs=1000, optimizer="lbfgs", progress=False)
    best = objective(X, y, w_ref, b_ref, lam)
    ours = objective(X, y, model.w.data, model.b.item(), lam)
    assert abs(ours - best) / best < 1e-6
    np.testing.assert_allclose(history.loss[-1], model.loss(X, y).item(), rtol=1e-12)
    np.testing.assert_allclose(model.w.data, w_ref, rtol=1e-3, atol=1e-3 * np.abs(w_ref).max())
    np.testing.assert_allclose(model.b.item(), b_ref, rtol=1e-3)
    np.testing.assert_array_equal(model.predict(X), reference.predict(X))


def test_full_batch_gradient_descent_gets_within_1e_3_of_the_sklearn_objective(breast_cancer):
    X, y = breast_cancer
    lam = 1 / len(y)
    reference = sklearn_optimum(X, y)
    best = objective(X, y, reference.coef_[0], reference.intercept_[0], lam)
    model = LogisticRegression(X.shape[1], l2=lam, seed=0)
    history = model.fit(X, y, epochs=GD_EPOCHS, lr=GD_LR, batch_size=None, progress=False)
    gaps = (np.array(history.loss) - best) / best
    assert gaps[-1] < 1e-3
    assert gaps[GD_EPOCHS // 2] > 1e-3  # the documented epoch count is not far from what is needed
    assert np.all(np.diff(history.loss) <= 1e-15)  # gradient descent with a small enough lr never goes up
