"""The backward pass: seeding, accumulation, graph shapes (deep chains, diamonds), modes."""

import numpy as np
import pytest

import tinygraph as tg
from tinygraph import engine, modes


def test_backward_on_scalar_seeds_one():
    x = tg.tensor(3.0, requires_grad=True)
    (x * x).backward()
    assert x.grad == pytest.approx(6.0)


def test_backward_on_non_scalar_without_grad_says_so():
    x = tg.tensor(np.ones(3), requires_grad=True)
    with pytest.raises(ValueError, match=r"needs a scalar.*shape \(3,\)"):
        (x * 2).backward()


def test_backward_with_explicit_grad_is_a_vector_jacobian_product():
    x = tg.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    (x * x).backward(grad=np.array([1.0, 0.0, 2.0]))
    np.testing.assert_allclose(x.grad, [2.0, 0.0, 12.0])


def test_backward_grad_of_wrong_shape_is_rejected():
    x = tg.tensor(np.ones(3), requires_grad=True)
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        (x * 2).backward(grad=np.ones(2))


def test_backward_on_a_graph_without_parameters_says_so():
    with pytest.raises(RuntimeError, match="does not require grad"):
        (tg.tensor([1.0]) * 2).sum().backward()


def test_gradients_accumulate_across_backward_calls():
    w = tg.tensor(np.array([1.0, -1.0]), requires_grad=True)
    (w * 3).sum().backward()
    (w * w).sum().backward()
    np.testing.assert_allclose(w.grad, [3 + 2, 3 - 2])


def test_backward_twice_on_the_same_graph_accumulates_the_same_gradient():
    w = tg.tensor(np.array([0.5, 2.0]), requires_grad=True)
    loss = (w.exp() * w).sum()
    loss.backward()
    first = w.grad.copy()
    loss.backward()
    np.testing.assert_allclose(w.grad, 2 * first)
    np.testing.assert_allclose(first, np.exp(w.data) * (1 + w.data))


def test_diamond_sums_both_paths():
    # x feeds two nodes whose results meet again: dL/dx = d(x² + eˣ)/dx.
    x = tg.tensor(np.array([0.3, -1.2]), requires_grad=True)
    a = x * x
    b = x.exp()
    (a + b).sum().backward()
    np.testing.assert_allclose(x.grad, 2 * x.data + np.exp(x.data))


def test_tensor_used_twice_in_one_node():
    x = tg.tensor(np.array([1.5, -2.0]), requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad, 2 * x.data)


def test_topological_order_puts_every_consumer_before_its_input():
    # r = f(a, b) with b = g(a): a must come after both b and r in backward order.
    a = tg.tensor(1.0, requires_grad=True)
    b = a * 2
    r = a + b
    order = engine.topological_order(r)
    assert order.index(a) < order.index(b) < order.index(r)


def test_chain_of_100000_nodes_runs_backward_without_recursion_error():
    x = tg.tensor(0.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y + 1.0
    y.backward()
    assert y.item() == 100_000
    assert x.grad == 1.0


def test_backward_calls_each_node_once(monkeypatch):
    # Work linear in the number of nodes: a graph of 200 diamonds calls backward once per node.
    calls = []
    original = tg.nodes.Add.backward

    def counting(self, grad):
        calls.append(self)
        return original(self, grad)

    monkeypatch.setattr(tg.nodes.Add, "backward", counting)
    x = tg.tensor(1.5, requires_grad=True)
    y = x
    for _ in range(200):
        y = (y + y) * 0.5  # each step uses the previous tensor twice
    y.backward()
    assert len(calls) == 200
    assert x.grad == pytest.approx(1.0)


def test_retain_grads_keeps_the_lecture_factors():
    X = np.array([[1.0, 2.0], [-1.0, 0.5], [0.3, -0.7]])
    y = np.array([1.0, 0.0, 1.0])
    w = tg.tensor(np.array([0.2, -0.4]), requires_grad=True)
    b = tg.tensor(0.1, requires_grad=True)
    z = tg.linear(X, w, b)
    a = tg.sigmoid(z)
    loss = tg.bce(a, y)
    loss.backward(retain_grads=True)
    n = len(y)
    av = a.data
    np.testing.assert_allclose(a.grad, (av - y) / (av * (1 - av)) / n)  # dL/da
    np.testing.assert_allclose(z.grad, (av - y) / n)  # dL/dz = dL/da · a(1 − a)
    np.testing.assert_allclose(w.grad, X.T @ (av - y) / n)  # dL/dw = dL/dz · x
    assert loss.grad == 1.0


def test_intermediate_grads_are_not_kept_unless_asked():
    w = tg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    h = w * 2
    k = w * 3
    k.retain_grad()
    (h * k).sum().backward()
    assert h.grad is None
    np.testing.assert_allclose(k.grad, h.data)


def test_no_grad_records_nothing_for_backward():
    w = tg.tensor(np.ones(2), requires_grad=True)
    with tg.no_grad():
        y = (w * 2).sum()
    assert not y.requires_grad
    with pytest.raises(RuntimeError):
        y.backward()
    assert (w * 2).requires_grad  # the mode is restored on exit


def test_no_grad_is_restored_after_an_exception():
    with pytest.raises(KeyError):
        with tg.no_grad():
            raise KeyError
    assert modes.mode.grad_enabled


def test_detect_anomaly_names_the_first_non_finite_node_in_forward():
    x = tg.tensor(np.array([1.0, -1.0]), requires_grad=True)
    with tg.detect_anomaly():
        with pytest.raises(FloatingPointError, match=r"^Log produced nan at index \(1,\) of shape \(2,\) in forward"):
            x.log()


def test_detect_anomaly_names_the_node_whose_gradient_is_not_finite():
    x = tg.tensor(np.array([0.0, 4.0]), requires_grad=True)
    root = x**0.5  # finite value, infinite derivative at 0
    with tg.detect_anomaly():
        with pytest.raises(FloatingPointError, match=r"^Pow.backward produced inf at index \(0,\) of shape \(2,\) in the gradient for input 0"):
            root.sum().backward()


def test_without_detect_anomaly_values_pass_through():
    x = tg.tensor(np.array([0.0, 4.0]))
    with np.errstate(divide="ignore"):
        assert np.isneginf(x.log().data[0])


def test_name_scope_tags_nodes_and_nests():
    x = tg.tensor(np.ones(2), requires_grad=True)
    with tg.name_scope("outer"):
        a = x * 2
        with tg.name_scope("inner"):
            b = a + 1
        c = b.sum()
    d = c * 1
    assert (a.node.scope, b.node.scope, c.node.scope, d.node.scope) == ("outer", "inner", "outer", None)


def test_retain_grad_on_a_sigmoid_output_shows_dl_da_through_the_bce_shortcut():
    z = tg.tensor(np.array([0.5, -2.0]), requires_grad=True)
    y = np.array([1.0, 0.0])
    a = tg.sigmoid(z)
    a.retain_grad()
    tg.bce(a, y).backward()
    np.testing.assert_allclose(a.grad, (a.data - y) / (a.data * (1 - a.data)) / 2)  # shown, not propagated twice
    np.testing.assert_allclose(z.grad, (a.data - y) / 2)


class LogOfExp(tg.Node):
    """log a for a = eˣ, computed as x: d log a/da = 1/a is only shown, the product 1 goes to x."""

    cancels = {0: 1}

    def forward(self, a, x):
        self.a = a
        return x

    def backward(self, grad):
        return (grad / self.a if self.needs_grad[0] else None), grad


def test_a_declared_cancellation_rule_shows_one_gradient_and_sends_the_product_on():
    x = tg.tensor(np.array([1.0, -2.0]), requires_grad=True)
    a = tg.exp(x)
    out = LogOfExp()(a, x).sum()
    out.backward()
    np.testing.assert_allclose(x.grad, [1.0, 1.0])  # through x only: the path through a is not added
    assert a.grad is None
    x.grad = None
    a.retain_grad()
    out.backward()
    np.testing.assert_allclose(a.grad, 1 / a.data)  # shown
    np.testing.assert_allclose(x.grad, [1.0, 1.0])  # still not counted twice
