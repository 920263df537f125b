"""tg.explain: the paths from a tensor to the root, and their products adding up to .grad."""

from __future__ import annotations

import numpy as np
import pytest
from graphs import GRAPHS, lecture, mlp_with_penalty

import tinygraph as tg


@pytest.mark.parametrize("build", GRAPHS.values(), ids=GRAPHS.keys())
def test_the_paths_add_up_to_grad(build):
    loss, tensors = build()
    loss.backward(retain_grads=True)
    for tensor in tensors[:-1]:
        explanation = tg.explain(tensor, loss)
        assert explanation.count >= 1 and explanation.total is not None
        scale = max(1.0, float(np.max(np.abs(tensor.grad))))
        assert np.max(np.abs(explanation.total - tensor.grad)) <= 1e-12 * scale, tensor.name
        assert explanation.matches
        assert "(equal to the sum, to 1e-12)" in str(explanation)


def test_the_lecture_path_lists_the_factors_that_cancel():
    loss, (w, *_) = lecture()
    loss.backward()
    text = str(tg.explain(w, loss)).splitlines()
    assert text[0] == "∂L/∂w: 1 path from w to L"
    assert text[1] == "path 1: w → Linear → z → Sigmoid → a → BCE → L"
    assert text[2].startswith("    ∂L/∂a = (a − y) / (a(1 − a)) / N = [")
    assert text[3].startswith("    ∂a/∂z = a(1 − a) = [")
    assert text[4].startswith("    ∂L/∂a · ∂a/∂z = (a − y) / N = [")
    assert text[4].endswith("(they cancel: BCE sends this product)")
    assert text[5] == "    ∂z/∂w = x = shape (4, 3), norm 2.44"
    assert text[6].startswith("  product ∂L/∂a · ∂a/∂z · ∂z/∂w = shape (3,)") or text[6].startswith(
        "  product ∂L/∂a · ∂a/∂z · ∂z/∂w = ["
    )


def test_the_factors_call_tensors_by_their_names_in_the_graph():
    """As the diagram does: an MLP's second layer is z₂ = a @ W2 + b2, so ∂z₂/∂a = W2, not w."""
    model = tg.models.MLP([2, 3, 2], seed=0)
    X = np.random.default_rng(0).standard_normal((4, 2))
    loss = model.loss(X, np.array([0, 1, 1, 0]))
    loss.backward()
    text = str(tg.explain(model.parameters()[0], loss)).splitlines()
    assert text[1] == "path 1: W1 → Linear → z₁ → Sigmoid → a → Linear → z₂ → SoftmaxCrossEntropy → L"
    assert text[2].startswith("    ∂L/∂z₂ = (softmax(z₂) − y) / N = ")
    assert text[3].startswith("    ∂z₂/∂a = W2 = shape (3, 2)")


def test_a_tensor_used_twice_has_both_paths():
    x = tg.tensor(3.0, requires_grad=True, name="x")
    y = x * x
    y.backward()
    explanation = tg.explain(x, y)
    assert explanation.count == 2
    assert [float(p.product) for p in explanation.paths] == [3.0, 3.0]
    text = str(explanation)
    assert "path 1: x → Mul (input 1) → z" in text and "path 2: x → Mul (input 2) → z" in text
    assert "sum of the 2 paths: 6" in text


def test_a_weight_in_its_layer_and_in_the_penalty():
    loss, (w1, *_) = mlp_with_penalty()
    loss.backward()
    explanation = tg.explain(w1, loss)
    assert explanation.count == 3
    routes = [[type(n).__name__ for n in p.nodes] for p in explanation.paths]
    assert routes.count(["Mul", "Sum", "Add", "Mul", "Add"]) == 2  # W1 · W1: one path per input
    assert ["Linear", "Tanh", "Linear", "SoftmaxCrossEntropy", "Add"] in routes
    penalty = [p.product for p in explanation.paths if type(p.nodes[0]).__name__ == "Mul"]
    np.testing.assert_allclose(penalty[0] + penalty[1], 0.1 * w1.data, rtol=1e-12)
    assert "Mul (input 1)" in str(explanation) and "Mul (input 2)" in str(explanation)


def _doublings(levels: int) -> tuple[tg.Tensor, tg.Tensor]:
    """h ← h + h, ``levels`` times: 2^levels paths, each with product 1."""
    x = tg.tensor(1.0, requires_grad=True, name="x")
    h = x
    for _ in range(levels):
        h = h + h
    h.backward()
    return x, h


def test_many_paths_are_all_added_up():
    x, h = _doublings(10)
    explanation = tg.explain(x, h)
    assert explanation.count == 1024 and float(explanation.total) == 1024.0 == float(x.grad)
    assert len(explanation.paths) == 6
    assert "(too many to show: the 6 with the largest products)" in str(explanation)


def test_too_many_paths_are_counted_and_the_largest_few_shown():
    x, h = _doublings(12)
    explanation = tg.explain(x, h, max_paths=3)
    assert explanation.count == 4096 and explanation.total is None and len(explanation.paths) == 3
    text = str(explanation)
    assert text.startswith("∂z₁₂/∂x: 4,096 paths from x to z₁₂")
    assert "(too many to show: the 3 with the largest products of the first 2,000 found)" in text
    assert "sum of the 4,096 paths: what backward adds up without listing them" in text


def test_a_grad_accumulated_over_calls_of_the_root_is_compared_with_that_many_sums():
    loss, (w, *_) = lecture()
    loss.backward()
    loss.backward()
    explanation = tg.explain(w, loss)
    assert explanation.calls == 2 and explanation.matches
    assert "accumulated over 2 calls of L.backward() (equal to 2 × the sum, to 1e-12)" in str(explanation)


def test_a_grad_from_another_roots_backward_is_not_shown_and_explain_says_why():
    loss, (w, *_) = lecture()
    (w * w).sum().backward()
    explanation = tg.explain(w, loss)
    assert explanation.grad is None and explanation.total is not None
    assert str(explanation).endswith(
        "w.grad not shown: it is from backward() of another tensor, not of L (set .grad = None, then run L.backward())"
    )
    loss.backward()  # now it adds up two roots' gradients: still not L's
    assert "adds up backward() calls of different tensors" in str(tg.explain(w, loss))


def test_explain_without_backward_says_how_to_compare():
    loss, (w, *_) = lecture()
    explanation = tg.explain(w, loss)
    assert explanation.grad is None and explanation.total is not None
    assert str(explanation).endswith("w.grad is None: run L.backward() to compare")


def test_explain_rejects_what_no_gradient_reaches():
    loss, _ = lecture()
    with pytest.raises(ValueError, match="does not require grad"):
        tg.explain(loss.node.inputs[1], loss)
    with pytest.raises(ValueError, match="not part of the graph"):
        tg.explain(tg.tensor(1.0, requires_grad=True), loss)


def test_explain_with_its_arguments_swapped_says_so():
    loss, (w, *_) = lecture()
    with pytest.raises(ValueError, match=r"arguments look swapped: call tg.explain\(tensor, root\)"):
        tg.explain(loss, w)
