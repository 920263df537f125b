"""The backward pass: seeding, accumulation, graph shapes (deep chains, diamonds), modes."""

import gc
import weakref

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygraph as tg
from tinygraph import engine


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
    assert tg.is_grad_enabled()


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


# ----------------------------------------------------------------------------- every .grad an array of its own
def test_leaf_gradients_share_no_memory_with_each_other():
    a = tg.tensor(np.ones(3), requires_grad=True)
    b = tg.tensor(np.ones(3), requires_grad=True)
    ((a + b) * 2.0).sum().backward()
    a.grad *= 0.5  # clipping or scaling each parameter's gradient in place
    np.testing.assert_array_equal(a.grad, [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(b.grad, [2.0, 2.0, 2.0])


def test_leaf_gradients_share_no_memory_with_the_seed():
    a = tg.tensor(np.ones(3), requires_grad=True)
    b = tg.tensor(np.ones(3), requires_grad=True)
    g = np.array([1.0, 2.0, 3.0])
    (a + b).backward(g)
    assert a.grad is not g and b.grad is not g and a.grad is not b.grad
    assert not np.shares_memory(a.grad, g) and not np.shares_memory(a.grad, b.grad)
    a.backward(g)  # a leaf as its own root
    a.grad[0] = 0.0
    np.testing.assert_array_equal(g, [1.0, 2.0, 3.0])


def test_a_retained_gradient_shares_no_memory_with_a_leaf_gradient():
    x = tg.tensor(np.ones(3), requires_grad=True)
    h = x + 0.0
    h.retain_grad()
    (h.reshape(3) + 0.0).sum().backward()
    assert not np.shares_memory(x.grad, h.grad)


@pytest.mark.parametrize(
    "make",
    [
        lambda x: x.sum(),  # a broadcast view of the seed
        lambda x: x.mean(axis=0).sum(),
        lambda x: x.reshape(-1).sum(),  # a reshaped view
        lambda x: x.T.sum(),
        lambda x: x[0].sum() + x[1].sum(),
        lambda x: x.max(),
    ],
)
def test_every_gradient_is_writable(make):
    x = tg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    make(x).backward()
    assert x.grad.flags.writeable
    x.grad *= 0.5


# A random graph on scalars: leaves, then nodes each combining two earlier tensors, so that
# tensors are shared, reached by paths of different lengths, or not needed at all.
OPS = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b}
leaf_values = st.lists(st.floats(-1.5, 1.5), min_size=1, max_size=4)
steps = st.lists(st.tuples(st.sampled_from(sorted(OPS)), st.integers(0, 99), st.integers(0, 99)), min_size=1, max_size=6)


def build(values, requires, program, lib):
    """The graph's tensors in creation order: leaves, then one per step of ``program``."""
    made = [lib(v, r) for v, r in zip(values, requires)]
    for op, i, j in program:
        made.append(OPS[op](made[i % len(made)], made[j % len(made)]))
    return made


@given(leaf_values, st.data(), steps)
def test_random_graphs_order_every_consumer_first_and_match_finite_differences(values, data, program):
    requires = data.draw(st.lists(st.booleans(), min_size=len(values), max_size=len(values)))
    requires[0] = True
    made = build(values, requires, program, lambda v, r: tg.tensor(v, requires_grad=r))
    root = made[-1]
    if not root.requires_grad:
        return
    order = engine.topological_order(root)
    place = {id(t): k for k, t in enumerate(order)}
    assert len(place) == len(order) and order[-1] is root
    reached, stack = set(), [root]  # the tensors that require grad and that root depends on
    while stack:
        t = stack.pop()
        if id(t) not in reached:
            reached.add(id(t))
            stack += [p for p in (t.node.inputs if t.node is not None else ()) if p.requires_grad]
    assert set(place) == reached
    for t in order:
        for parent in t.node.inputs if t.node is not None else ():
            if parent.requires_grad:
                assert place[id(parent)] < place[id(t)]
    root.backward()
    h = 1e-6
    for k, leaf in enumerate(made[: len(values)]):
        if not leaf.requires_grad:
            continue

        def at(shift, k=k):
            shifted = [v + shift if m == k else v for m, v in enumerate(values)]
            return build(shifted, requires, program, lambda v, r: v)[-1]

        expected = (at(h) - at(-h)) / (2 * h)
        got = 0.0 if leaf.grad is None else float(leaf.grad)
        assert got == pytest.approx(expected, rel=1e-5, abs=1e-6)


def test_backward_keeps_no_reference_to_the_graph():
    # With the cyclic collector paused, the graph is freed by reference counts alone as soon as
    # the caller drops it: neither backward nor the recorded graph holds it in a cycle.
    x = tg.tensor(np.array([0.5, -1.0]), requires_grad=True)
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        h = x * 2.0
        middle = weakref.ref(h)
        loss = (h.exp() * h).sum()
        node = weakref.ref(loss.node)
        loss.backward()
        del h, loss
        assert middle() is None and node() is None
    finally:
        if was_enabled:
            gc.enable()
    np.testing.assert_allclose(x.grad, (2 + 4 * x.data) * np.exp(2 * x.data))


def test_a_recorded_node_adds_at_most_two_objects_for_the_collector():
    # The output tensor and the node, which keeps one or two inputs without a tuple; needs_grad
    # is a shared constant, so a deep graph gives the cyclic collector as little as possible to walk.
    x = tg.tensor(np.full(1, 0.5), requires_grad=True)
    gc.collect()
    before = len(gc.get_objects())
    h = x
    for _ in range(1000):
        h = h.relu() * x  # one input, then two
    gc.collect()
    assert len(gc.get_objects()) - before <= 2 * 2000 + 50
    assert h.node.needs_grad is h.node.inputs[0].node.inputs[0].node.needs_grad
