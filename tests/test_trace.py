"""tg.trace: the recorded steps are the engine's backward, and each one's numbers are right."""

from __future__ import annotations

import copy
import html

import numpy as np
import pytest
from graphs import GRAPHS, lecture, mlp_with_penalty, three_consumers

import tinygraph as tg
from tinygraph import _local
from tinygraph.draw import HIGHLIGHT, GraphvizNotFoundError


# ----------------------------------------------------------------------------- the same gradients
@pytest.mark.parametrize("build", GRAPHS.values(), ids=GRAPHS.keys())
def test_trace_leaves_exactly_the_gradients_of_backward(build):
    traced_loss, traced = build()
    plain_loss, plain = build()
    tg.trace(traced_loss)
    plain_loss.backward(retain_grads=True)
    for t, p in zip(traced, plain):
        assert t.grad is not None
        assert t.grad.dtype == p.grad.dtype and t.grad.shape == p.grad.shape
        assert np.array_equal(t.grad, p.grad), t.name  # bit for bit, not approximately


@pytest.mark.parametrize("build", GRAPHS.values(), ids=GRAPHS.keys())
def test_each_tensor_last_total_is_its_grad(build):
    loss, _ = build()
    steps = tg.trace(loss)
    last = {}
    for step in steps:
        for arrival in step.arrivals:
            last[id(arrival.tensor)] = arrival
    for arrival in last.values():
        assert arrival.number == arrival.of
        assert np.array_equal(arrival.total, arrival.tensor.grad)


def test_steps_follow_the_engine_order_one_per_node_that_sends():
    loss, (w, b, z, a, _) = lecture()
    order = [t.node for t in reversed(tg.engine.topological_order(loss)) if t.node is not None]
    steps = tg.trace(loss)
    assert [type(s.node).__name__ for s in steps] == ["SigmoidBCE", "Sigmoid", "Linear"]
    assert [s.node for s in steps] == order  # the sigmoid's place is the cancellation's
    assert [s.index for s in steps] == [0, 1, 2]
    bce, sigmoid, linear = steps
    assert bce.output is loss and np.array_equal(bce.grad_output, np.ones(()))
    assert np.array_equal(bce.grad_inputs[0], a.grad) and bce.grad_inputs[1:] == (None, None)
    assert sigmoid.cancelled and sigmoid.via is bce.node and not bce.cancelled
    assert np.array_equal(sigmoid.grad_output, a.grad) and np.array_equal(sigmoid.grad_inputs[0], z.grad)
    assert np.array_equal(linear.grad_output, z.grad)
    assert np.array_equal(linear.grad_inputs[1], w.grad) and np.array_equal(linear.grad_inputs[2], b.grad)


def test_local_derivatives_are_the_lecture_values():
    loss, (w, _, z, a, _) = lecture()
    steps = tg.trace(loss)
    x, y = z.node.inputs[0].data, loss.node.inputs[1].data
    n = len(y)
    np.testing.assert_allclose(steps[0].local[0], (a.data - y) / (a.data * (1 - a.data)) / n)
    np.testing.assert_allclose(steps[1].local[0], a.data * (1 - a.data))
    assert steps[2].local[1] is x and steps[2].local[0] is w.data and steps[2].local[2] == 1
    # the product that cancels: (a − y)/N reaches z, and Xᵀ(a − y)/N reaches w
    np.testing.assert_allclose(steps[1].grad_inputs[0], (a.data - y) / n, rtol=1e-12)
    np.testing.assert_allclose(w.grad, x.T @ (a.data - y) / n, rtol=1e-12)


# ----------------------------------------------------------------------------- finite differences
def _numerical_vjp(node, arrays, index, grad_output, eps=1e-6):
    """d/dx ⟨grad_output, forward(...)⟩ for input ``index``, by central differences on a copy."""
    out = np.zeros_like(arrays[index], dtype=np.float64)
    for position in np.ndindex(arrays[index].shape):
        values = []
        for sign in (1, -1):
            moved = [np.array(a, dtype=np.float64, copy=True) for a in arrays]
            moved[index][position] += sign * eps
            values.append(np.sum(grad_output * copy.copy(node).forward(*moved)))
        out[position] = (values[0] - values[1]) / (2 * eps)
    return out


@pytest.mark.parametrize("build", GRAPHS.values(), ids=GRAPHS.keys())
def test_every_step_sends_what_finite_differences_of_its_forward_give(build):
    loss, _ = build()
    checked = 0
    for step in tg.trace(loss):
        arrays = [t.data for t in step.node.inputs]
        shown = set(_local.cancels(step.node))
        for index, sent in enumerate(step.grad_inputs):
            if sent is None or index in shown:  # a shown gradient: checked in closed form below
                continue
            expected = _numerical_vjp(step.node, arrays, index, step.grad_output)
            np.testing.assert_allclose(sent, expected, rtol=1e-5, atol=1e-8, err_msg=f"step {step.index}")
            checked += 1
    assert checked >= 2


def test_the_shown_gradient_is_the_derivative_of_the_lecture_loss():
    """dL/da, which BCE only shows, against finite differences of mean −[y log a + (1 − y) log(1 − a)]."""
    loss, (*_, a, _) = lecture()
    steps = tg.trace(loss)
    y = loss.node.inputs[1].data

    def nll(p):
        return np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p)))

    eps = 1e-7
    numerical = [(nll(a.data + eps * e) - nll(a.data - eps * e)) / (2 * eps) for e in np.eye(len(y))]
    np.testing.assert_allclose(steps[0].grad_inputs[0], numerical, rtol=1e-6)


# ----------------------------------------------------------------------------- several consumers
def test_each_contribution_arriving_and_their_sum_are_shown():
    loss, (_, h, _) = three_consumers()
    steps = tg.trace(loss)
    arrivals = [a for s in steps for a in s.arrivals if a.tensor is h]
    assert [(a.number, a.of) for a in arrivals] == [(1, 3), (2, 3), (3, 3)]
    running = arrivals[0].grad
    for arrival in arrivals[1:]:
        running = running + arrival.grad
        assert np.array_equal(arrival.total, running)
    (linear,) = [s for s in steps if s.output is h]
    assert np.array_equal(linear.grad_output, h.grad)
    assert "the sum of its 3 contributions" in linear.words[1]
    words = "\n".join(line for s in steps for line in s.words)
    assert "contribution 1 of 3" in words and "contribution 3 of 3" in words


def test_a_weight_in_its_layer_and_in_the_penalty_gets_each_contribution():
    loss, (w1, *_) = mlp_with_penalty()
    steps = tg.trace(loss)
    arrivals = [a for s in steps for a in s.arrivals if a.tensor is w1]
    assert [(a.number, a.of) for a in arrivals] == [(1, 3), (2, 3), (3, 3)]
    assert np.array_equal(arrivals[-1].total, w1.grad)


# ----------------------------------------------------------------------------- words
def test_the_cancellation_uses_the_words_of_the_diagram():
    loss, (w, *_) = lecture()
    steps = tg.trace(loss)
    diagram = html.unescape(tg.draw(loss, highlight=w).source)
    words = "\n".join(steps[1].words)
    for phrase in ("(∂L/∂a · ∂a/∂z cancelled)", "shortcut: ∂L/∂a · ∂a/∂z = (a − y) / N"):
        assert phrase in diagram and phrase in words
    assert steps[1].words[0] == "Step 2 of 3: Sigmoid: a = σ(z), cancelled"


def test_the_lecture_reads_step_by_step():
    loss, _ = lecture()
    steps = tg.trace(loss)
    assert repr(steps).splitlines() == [
        "3 steps of backward from L:",
        "  0. BCE: L = −[y log a + (1 − y) log(1 − a)]",
        "  1. Sigmoid: a = σ(z), cancelled",
        "  2. Linear: z = x @ w + b",
    ]
    assert steps[0].words[1] == "∂L/∂L = 1: the seed, backward starts here"
    assert "   ∂a/∂z = a(1 − a) = " not in steps[1].words  # the cancelled step says it once
    assert any(line.startswith("∂a/∂z = a(1 − a) = [") for line in steps[1].words)
    assert steps[2].words[2].startswith("   ∂z/∂w = x = shape (4, 3), norm ")
    assert steps[2].words[3].startswith("→ w: ∂L/∂w = ∂L/∂z · ∂z/∂w = [")


def test_large_values_are_summarised_by_shape_and_norm():
    rng = np.random.default_rng(0)
    x = tg.tensor(rng.normal(size=(200, 30)), name="x")
    w1 = tg.tensor(rng.normal(size=(30, 16)), requires_grad=True, name="W1")
    w2 = tg.tensor(rng.normal(size=(16, 3)), requires_grad=True, name="W2")
    loss = tg.softmax_cross_entropy(tg.linear(tg.relu(tg.linear(x, w1)), w2), rng.integers(0, 3, 200))
    steps = tg.trace(loss)
    words = [line for s in steps for line in s.words]
    norm = float(np.linalg.norm(w1.grad))
    assert any(f"∂L/∂W1 = ∂L/∂z₁ · ∂z₁/∂W1 = shape (30, 16), norm {norm:.3g}" in line for line in words)
    assert max(len(line) for line in words) < 200


# ----------------------------------------------------------------------------- the diagram of a step
def _node_line(source: str, label: str) -> str:
    return next(line for line in source.splitlines() if f"<B>{label}</B>" in line)


def test_draw_shows_the_state_after_the_step():
    loss, _ = lecture()
    steps = tg.trace(loss)
    start = steps.draw(-1).source
    assert "∂L/∂w: pending" in start and "∂L/∂L = 1" in start
    first = steps.draw(0).source
    assert HIGHLIGHT["color"] in _node_line(first, "BCE")
    assert HIGHLIGHT["color"] not in _node_line(first, "Linear")
    assert "sent: ∂L/∂a = [" in first and "∂L/∂w: pending" in first and "∂L/∂z: pending" in first
    cancel = steps.draw(1).source
    assert HIGHLIGHT["color"] in _node_line(cancel, "Sigmoid") and "sent: ∂L/∂z = [" in cancel
    last = steps.draw(2).source
    assert "pending" not in last and "sent: ∂L/∂w = [" in last and "sent: ∂L/∂b = " in last
    big = tg.trace(mlp_with_penalty()[0])
    w1_step = next(s for s in big if any(a.tensor.name == "W1" for a in s.arrivals))
    norm = float(np.linalg.norm(w1_step.arrivals[0].grad))
    root = big.names[id(big.root)]
    assert f"sent: ‖∂{root}/∂W1‖ = {norm:.3g}" in html.unescape(big.draw(w1_step.index).source)
    with pytest.raises(IndexError, match="step 3 of a trace with 3 steps"):
        steps.draw(3)


def test_a_trace_of_a_tensor_that_needs_no_grad_says_why():
    with pytest.raises(RuntimeError, match="does not require grad"):
        tg.trace(tg.tensor(1.0))


# ----------------------------------------------------------------------------- without Graphviz
def test_without_dot_jupyter_shows_the_steps_in_words_and_saving_says_how_to_install(monkeypatch, tmp_path):
    loss, _ = lecture()
    steps = tg.trace(loss)
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot on it
    page = steps._repr_html_()
    assert "<svg" not in page and "Step 2 of 3: Sigmoid: a = σ(z), cancelled" in page
    assert "apt-get install graphviz" in page
    with pytest.raises(GraphvizNotFoundError, match="apt-get install graphviz"):
        steps.save_html(tmp_path / "backprop.html")
    assert "pending" in steps.draw(0).source  # the diagram itself needs no dot
