"""tg.jvp: forward mode through the recorded graph, column by column the Jacobian reverse mode gives."""

import numpy as np
import pytest

import tinygraph as tg


def _lecture_graph(x, w, b, y):
    return tg.bce(tg.sigmoid(tg.linear(x, w, b)), y)


def test_jacobian_columns_by_jvp_are_its_rows_by_backward():
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(4, 3)), rng.normal(size=(3, 2))

    def fn(t):  # output (4, 2), input w (3, 2)
        return tg.tanh(tg.linear(x, t))

    columns = []
    for k in np.ndindex(w.shape):
        unit = np.zeros(w.shape)
        unit[k] = 1.0
        columns.append(tg.jvp(fn, [w], [unit])[1].ravel())
    rows = []
    for j in np.ndindex(4, 2):
        t = tg.tensor(w, requires_grad=True)
        seed = np.zeros((4, 2))
        seed[j] = 1.0
        fn(t).backward(seed)
        rows.append(t.grad.ravel())
    np.testing.assert_allclose(np.array(columns).T, np.array(rows), rtol=1e-12, atol=1e-15)


def test_the_lecture_graph_counts_the_path_through_a_once():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(5, 3)), (rng.random(5) > 0.5).astype(float)
    w, b = rng.normal(size=3), np.array(0.1)
    dw = rng.normal(size=3)
    loss, dloss = tg.jvp(lambda t: _lecture_graph(x, t, b, y), [w], [dw])
    assert type(loss.node).__name__ == "SigmoidBCE"
    a = 1 / (1 + np.exp(-(x @ w + b)))
    np.testing.assert_allclose(dloss, (x.T @ (a - y) / 5) @ dw, rtol=1e-12)  # ∂L/∂w = Xᵀ(a − y)/N, once


def test_inputs_without_a_tangent_and_nodes_no_tangent_reaches_cost_nothing():
    calls = []

    class Counted(tg.nodes.Exp):
        def jvp(self, dx):
            calls.append(dx)
            return super().jvp(dx)

    x, c = np.array([0.5, 1.0]), np.array([2.0, 3.0])
    _, t = tg.jvp(lambda a, k: Counted()(a) + Counted()(k), [x, c], [np.ones(2), None])
    np.testing.assert_allclose(t, np.exp(x))
    assert len(calls) == 1  # exp(k) has no tangent: never asked
    with tg.no_grad():  # forward mode records the graph it walks, even here
        _, t = tg.jvp(tg.exp, [x], [np.ones(2)])
    np.testing.assert_allclose(t, np.exp(x))
    _, t = tg.jvp(lambda a, k: tg.exp(k), [x, c], [np.ones(2), None])
    np.testing.assert_array_equal(t, np.zeros(2))


class NoJvp(tg.Node):
    def forward(self, x):
        return 2 * x

    def backward(self, grad):
        return (2 * grad,)


def test_a_node_without_jvp_is_named_with_its_scope_and_how_to_add_one():
    def fn(t):
        with tg.name_scope("layer 1"):
            return NoJvp()(t).sum()

    with pytest.raises(NotImplementedError, match=r"NoJvp \(scope 'layer 1'\): NoJvp has no jvp.*define jvp\(self, \*tangents\)"):
        tg.jvp(fn, [np.ones(2)], [np.ones(2)])


def test_tangents_must_fit_their_inputs():
    with pytest.raises(ValueError, match="one per input"):
        tg.jvp(tg.exp, [np.ones(2)], [])
    with pytest.raises(ValueError, match=r"tangent 0 has shape \(3,\) but input 0 has shape \(2,\)"):
        tg.jvp(tg.exp, [np.ones(2)], [np.ones(3)])
