"""gradcheck_nodes names the one wrong node of a graph, by scope, and says when a node cannot be re-run."""

import numpy as np
import pytest

import tinygraph as tg
from tinygraph.models import MLP, mlp
from tinygraph.testing import GradcheckError, NodeReplayError, gradcheck, gradcheck_nodes


class Sigmoid(tg.nodes.Sigmoid):
    """The planted bug: a(1 − a) with one factor squared, a(1 − a)², a plausible slip."""

    def backward(self, grad):
        return (grad * self.a * (1 - self.a) ** 2,)


def _data(n=8, d=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), (rng.random(n) > 0.5).astype(float)


def test_a_right_graph_passes_every_node():
    X, y = _data()
    loss = MLP((3, 4, 1), l2=0.1, seed=0).loss(X, y)
    # Linear, Sigmoid, Linear, Sigmoid, BCE (dL/da shown beside dL/dz), L2Penalty, Add
    assert gradcheck_nodes(loss) == 7


def test_the_planted_sigmoid_of_a_two_layer_mlp_is_named_by_scope(monkeypatch):
    monkeypatch.setitem(mlp.ACTIVATIONS, "sigmoid", lambda z: Sigmoid()(z))
    model = MLP((3, 4, 1), seed=0)
    X, y = _data()
    # a plain gradcheck can only say that a parameter's gradient is off
    with pytest.raises(GradcheckError, match=r"input 0 \(W1\)"):
        gradcheck(lambda w: _loss_with(model, w, X, y), [model.weights[0]])
    with pytest.raises(GradcheckError) as caught:
        gradcheck_nodes(model.loss(X, y))
    message = str(caught.value)
    assert message.startswith("Sigmoid (scope 'MLP layer 1: net input → sigmoid'), input 0, element (0, 0): backward ")
    assert "finite differences" in message and "random incoming gradient" in message


def _loss_with(model, w, X, y):
    model.weights[0] = w
    return model.loss(X, y)


def test_the_shown_gradient_is_checked_as_the_loss_as_a_function_of_a_alone():
    z = tg.tensor(np.array([-1.0, 0.5, 2.0]), requires_grad=True)
    loss = tg.bce(tg.sigmoid(z), np.array([1.0, 0.0, 1.0]))
    assert gradcheck_nodes(loss) == 2

    class WrongShownBCE(tg.nodes.SigmoidBCE):
        def backward(self, grad):
            ga, gy, gz = super().backward(grad)
            return (None if ga is None else 2 * ga), gy, gz

    a = tg.sigmoid(z)
    wrong = WrongShownBCE()(a, np.array([1.0, 0.0, 1.0]), z)
    with pytest.raises(GradcheckError, match=r"input 0 \(shown: dL/da, checked as the loss as a function of a alone"):
        gradcheck_nodes(wrong)


def test_a_node_that_cannot_be_re_run_is_reported_with_the_reason():
    w = tg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    loss = (w * w).sum()
    w.data *= 3  # changed in place after the graph was recorded
    with pytest.raises(NodeReplayError, match=r"cannot re-run Mul: on the inputs it saw, forward no longer gives the recorded output"):
        gradcheck_nodes(loss)
    with pytest.warns(UserWarning, match="cannot re-run Mul"):
        assert gradcheck_nodes(loss, unreplayable="warn") == 1  # Sum, whose input did not change

    p = tg.tensor(np.array([1e-7, 0.5]), requires_grad=True)  # p − eps < 0 is outside the logit's domain
    with pytest.raises(NodeReplayError, match=r"cannot re-run Logit: its forward raised ValueError on its inputs moved by ±eps"):
        gradcheck_nodes(tg.logit(p).sum())
    with pytest.raises(NodeReplayError, match=r"cannot check Log: its output has -inf at index \(0,\)"):
        with np.errstate(divide="ignore"):
            log_zero = tg.log(tg.tensor(np.array([0.0, 1.0]), requires_grad=True))
        gradcheck_nodes(log_zero)


def test_float32_graphs_are_checked_in_float64():
    z = tg.tensor(np.array([0.3, -0.7], dtype=np.float32), requires_grad=True)
    assert gradcheck_nodes((tg.tanh(z) * tg.sigmoid(z)).sum()) == 4
