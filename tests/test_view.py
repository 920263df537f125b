"""tinygraph.view: what a diagram shows, read as plain data, without Graphviz's dot program."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import weakref
from pathlib import Path

import numpy as np
import pytest

import tinygraph as tg
from tinygraph import view
from tinygraph.nodes import Loss

SCOPE = "LogisticRegression: net input → sigmoid → NLL"


def lecture_graph(backward: bool = True):
    """The lecture's graph x → Linear → z → Sigmoid → a → BCE → L, with w, b, y; returns L, w, b."""
    X = tg.tensor([[0.5, -1.0], [1.5, 0.2], [-0.3, 0.8], [1.0, 1.0]], name="x")
    y = tg.tensor([0.0, 1.0, 1.0, 0.0], name="y")
    w = tg.tensor([0.4, -0.2], requires_grad=True, name="w")
    b = tg.tensor(0.1, requires_grad=True, name="b")
    with tg.name_scope(SCOPE):
        loss = tg.bce(tg.sigmoid(tg.linear(X, w, b)), y)
    if backward:
        loss.backward(retain_grads=True)
    return loss, w, b


def named(shown: view.View) -> dict[str, view.Item]:
    """The items by name (each name drawn once)."""
    items = {item.name: item for item in shown.items.values()}
    assert len(items) == len(shown.items), "a name is drawn twice"
    return items


def edges(shown: view.View) -> dict[tuple[str, str], view.Edge]:
    """The edges by (source name, target name)."""
    name = {item.id: item.name for item in shown.items.values()}
    return {(name[e.source], name[e.target]): e for e in shown.edges}


def clusters(shown: view.View) -> dict[str | None, list[str]]:
    """The clusters with the names of their items."""
    name = {item.id: item.name for item in shown.items.values()}
    return {scope: [name[i] for i in ids] for scope, ids in shown.clusters.items()}


# ----------------------------------------------------------------------------- the lecture's graph
def test_every_item_of_the_lecture_graph_has_its_kind():
    loss, *_ = lecture_graph()
    kinds = {name: item.kind for name, item in named(view.build(loss)).items()}
    assert kinds == {
        "x": "data",
        "y": "data",
        "w": "parameter",
        "b": "parameter",
        "z": "intermediate",
        "a": "intermediate",
        "L": "loss",
        "Linear": "operation",
        "Sigmoid": "operation",
        "BCE": "operation",
    }


def test_labels_hold_shape_and_dtype_values_the_formula_and_the_gradient():
    loss, w, b = lecture_graph()
    items = named(view.build(loss, show_values=True))

    def lines(name):
        return [(line.role, line.text) for line in items[name].lines]

    assert lines("x") == [("shape", "(4, 2) float64"), ("values", "min -1, mean 0.463, max 1.5")]
    assert lines("y") == [("shape", "(4,) float64"), ("values", "[0, 1, 1, 0]")]  # data: no gradient
    assert lines("w") == [
        ("shape", "(2,) float64"),
        ("values", "[0.4, -0.2]"),
        ("gradient", "∂L/∂w ="),  # a long value goes on a line of its own
        ("gradient", view.values_text(w.grad)),
    ]
    assert lines("b") == [("shape", "scalar float64"), ("values", "0.1"), ("gradient", f"∂L/∂b = {b.grad:.3g}")]
    assert lines("Sigmoid") == [("formula", "a = σ(z)")]
    assert lines("BCE") == [("formula", "L = −[y log a + (1 − y) log(1 − a)]")]
    items = named(view.build(loss, show_grads=False))
    assert all(line.role == "shape" for item in items.values() if item.kind != "operation" for line in item.lines)


def test_a_large_gradient_is_shown_as_its_norm():
    X = tg.tensor(np.linspace(-1, 1, 12).reshape(6, 2), requires_grad=True, name="X")
    total = tg.sigmoid(X).sum()
    total.backward()
    gradient = [line.text for line in named(view.build(total))["X"].lines if line.role == "gradient"]
    assert gradient == [f"‖∂s/∂X‖ = {np.linalg.norm(X.grad):.3g}"]


def test_every_edge_has_its_kind_and_its_label():
    loss, *_ = lecture_graph()
    found = {pair: (edge.kind, edge.label) for pair, edge in edges(view.build(loss)).items()}
    assert found == {
        ("Linear", "z"): ("output", ()),
        ("Sigmoid", "a"): ("output", ()),
        ("BCE", "L"): ("output", ()),
        ("x", "Linear"): ("data", ()),
        ("w", "Linear"): ("gradient", ("∂z/∂w = x",)),
        ("b", "Linear"): ("gradient", ("∂z/∂b = 1",)),
        ("z", "Sigmoid"): ("gradient", ("∂a/∂z = a(1 − a)",)),
        ("a", "BCE"): ("gradient", ("∂L/∂a =", "(a − y) / (a(1 − a)) / N")),
        ("y", "BCE"): ("data", ()),
        ("z", "BCE"): ("shortcut", ("∂L/∂z =", "(a − y) / N", "(∂L/∂a · ∂a/∂z cancelled)")),
    }
    unlabelled = view.build(loss, show_grads=False).edges
    assert [e.label for e in unlabelled] == [()] * len(found)
    assert [e.kind for e in unlabelled] == [found[pair][0] for pair in edges(view.build(loss))]


def test_the_scope_is_a_cluster_with_its_parameters_and_the_data_outside():
    loss, *_ = lecture_graph()
    assert clusters(view.build(loss)) == {
        None: ["y", "x"],  # a model is given its data
        SCOPE: ["L", "a", "z", "w", "b", "BCE", "Sigmoid", "Linear"],
    }


def test_highlight_marks_the_paths_from_w_and_writes_the_chain_rule_with_its_cancellation():
    loss, w, _ = lecture_graph()
    shown = view.build(loss, highlight=w)
    assert {name for name, item in named(shown).items() if item.highlighted} == {
        "w", "Linear", "z", "Sigmoid", "a", "BCE", "L"
    }  # fmt: skip
    assert {pair for pair, edge in edges(shown).items() if edge.highlighted} == {
        ("w", "Linear"),
        ("Linear", "z"),
        ("z", "Sigmoid"),
        ("z", "BCE"),  # the shortcut leads from w to the loss too
        ("Sigmoid", "a"),
        ("a", "BCE"),
        ("BCE", "L"),
    }
    assert shown.chain_rule == [
        "∂L/∂w = ∂L/∂a · ∂a/∂z · ∂z/∂w",
        "= [(a − y) / (a(1 − a)) / N] · a(1 − a) · x",
        "= [(a − y) / N] · x   (shortcut: ∂L/∂a · ∂a/∂z = (a − y) / N)",
    ]
    assert "highlight" in shown.legend and "highlight" not in view.build(loss).legend


def test_the_legend_lists_the_entries_in_use_in_order():
    loss, *_ = lecture_graph()
    assert view.build(loss).legend == [
        "parameter", "data", "intermediate", "loss", "node", "gradient label", "data edge", "shortcut"
    ]  # fmt: skip
    w = tg.tensor(2.0, requires_grad=True, name="w")
    assert view.build(tg.sigmoid(w), show_grads=False).legend == ["parameter", "loss", "node"]


def test_notes_say_which_gradients_are_missing():
    loss, *_ = lecture_graph(backward=False)
    assert view.build(loss).notes == [
        "run backward(retain_grads=True) on the loss to see ∂L/∂b, ∂L/∂w, ∂L/∂z, ∂L/∂a"
    ]
    assert view.build(loss, show_grads=False).notes == []
    loss, *_ = lecture_graph()
    assert view.build(loss).notes == []


# ----------------------------------------------------------------------------- the cancellation rule
class ExpThenLog(tg.Node):
    """L = Σ log a for a = eᶻ, given (a, z): the product ∂L/∂a · ∂a/∂z = (1/a) · a = 1 goes to z."""

    cancels = {0: 1}
    formula = "L = Σ log a"
    local_derivatives = ("1/a", "1")

    def forward(self, a, z):
        return np.log(a).sum()

    def backward(self, grad):
        return None, grad * np.ones_like(self.inputs[1].data)


def test_the_cancellation_rule_is_read_from_the_node_class():
    z = tg.tensor([0.5, 1.0], requires_grad=True, name="z")
    a = tg.exp(z)
    loss = ExpThenLog()(a, z)
    shown = view.build(loss, highlight=z)
    found = {pair: (edge.kind, edge.label) for pair, edge in edges(shown).items()}
    assert found[("a", "ExpThenLog")] == ("gradient", ("∂L/∂a = 1/a",))
    assert found[("z", "ExpThenLog")] == ("shortcut", ("∂L/∂z = 1", "(∂L/∂a · ∂a/∂z cancelled)"))
    assert found[("z", "Exp")] == ("gradient", ("∂a/∂z = eˣ",))
    assert shown.chain_rule == [
        "∂L/∂z = ∂L/∂a · ∂a/∂z",  # the lecture's path, not the shortcut
        "= 1/a · eˣ",
        "= 1   (shortcut: ∂L/∂a · ∂a/∂z = 1)",
    ]
    assert "shortcut" in shown.legend


def test_a_node_without_the_rule_has_no_shortcut_even_with_the_same_inputs():
    class Plain(ExpThenLog):
        cancels = {}

    z = tg.tensor([0.5, 1.0], requires_grad=True, name="z")
    shown = view.build(Plain()(tg.exp(z), z), highlight=z)
    assert {edge.kind for edge in shown.edges} == {"output", "gradient"}
    assert shown.chain_rule[-1] == "(one of 2 paths from z: their products add up)"


def test_the_built_in_rules_are_drawn_from_their_declarations():
    loss, *_ = lecture_graph()
    assert type(loss.node).__name__ == "SigmoidBCE" and named(view.build(loss))["BCE"].kind == "operation"
    z = tg.tensor(np.array([[1.0, 2.0, 3.0]]), requires_grad=True, name="z")
    shown = view.build(tg.log(tg.softmax(z)).sum(), highlight=z)  # the log of a softmax's output
    kind, label = next((e.kind, e.label) for pair, e in edges(shown).items() if pair == ("z", "Log"))
    assert kind == "shortcut" and label[-1] == "(∂log a/∂a · ∂a/∂z cancelled)"
    assert shown.chain_rule[-1].endswith("(shortcut: ∂log a/∂a · ∂a/∂z = I − softmax(z))")


# ----------------------------------------------------------------------------- names and titles
class Shout(Loss):
    """A loss whose formula does not start with "L =": its target is still recognised."""

    formula = "ℓ = |p − t|"

    def forward(self, p, t):
        return np.abs(p - t).sum()

    def backward(self, grad):
        return grad * np.sign(self.inputs[0].data - self.inputs[1].data), None


class Labelled(tg.Node):
    """A node with a formula like a loss's, that is not a loss, and a title of its own."""

    title = "Half"
    formula = "L = x / 2"

    def forward(self, x, t):
        return (x / 2 + 0 * t).sum()

    def backward(self, grad):
        return grad * np.full_like(self.inputs[0].data, 0.5), None


def test_a_loss_target_is_recognised_by_the_loss_type_not_by_the_formula():
    p = tg.sigmoid(tg.tensor([0.1, 0.2], requires_grad=True))
    names = {item.name for item in view.build(Shout()(p, tg.tensor([0.0, 1.0]))).items.values()}
    assert "y" in names and "x" not in names
    names = {item.name for item in view.build(Labelled()(p, tg.tensor([0.0, 1.0]))).items.values()}
    assert "x" in names and "y" not in names


def test_a_box_is_named_by_the_node_title_else_its_class():
    x = tg.tensor([1.0, 2.0], requires_grad=True, name="x")
    items = named(view.build(Labelled()(tg.tanh(x), tg.tensor([0.0, 0.0], name="t"))))
    assert items["Half"].kind == "operation" and items["Tanh"].kind == "operation"
    assert "Labelled" not in items


def test_unnamed_tensors_are_named_after_what_they_are_and_numbered_when_repeated():
    h = tg.tensor(np.ones((2, 3)))
    W1, W2 = tg.tensor(np.ones((3, 3)), requires_grad=True), tg.tensor(np.ones(3), requires_grad=True)
    out = tg.linear(tg.relu(tg.linear(h, W1)), W2).sum() * 2.0
    names = {item.name for item in view.build(out).items.values()}
    assert {"x", "z₁", "z₂", "θ₁", "θ₂", "2", "a"} <= names


# ----------------------------------------------------------------------------- large graphs
def powers(steps: int):
    """h = x · w · w ⋯ w with one leaf w used by every step: 2 tensors and operations per step."""
    w = tg.tensor(1.5, requires_grad=True, name="w")
    h = tg.tensor(1.0, name="x")
    for _ in range(steps):
        h = h * w
    return h


def test_a_shared_leaf_is_one_item_per_use_in_its_users_cluster():
    shown = view.build(powers(6))
    copies = [item for item in shown.items.values() if item.name == "w"]
    assert len(copies) == 6 and len({item.id for item in copies}) == 6
    assert all(item.lines[-1] == view.Line("shared: drawn again at each use", "shared") for item in copies)
    uses = [e for e in shown.edges if shown.items[e.source].name == "w"]
    assert sorted(e.source for e in uses) == sorted(item.id for item in copies)
    assert {shown.items[e.target].name for e in uses} == {"Mul"}
    assert clusters(shown)[None].count("w") == 6
    assert [item.name for item in view.build(powers(2)).items.values()].count("w") == 1  # uses nearby


def test_a_cut_graph_has_a_left_out_marker_with_an_edge_to_each_item_that_lost_a_neighbour():
    shown = view.build(powers(50), max_nodes=10)  # 102 tensors and operations
    assert shown.left_out == 92
    marker = shown.items[view.LEFT_OUT]
    assert (marker.kind, marker.name) == ("left out", "⋯ 92 more")
    assert clusters(shown)[None][-1] == "⋯ 92 more"
    cut = [e for e in shown.edges if e.kind == "left out"]
    assert cut and all(e.source == view.LEFT_OUT for e in cut)
    assert shown.notes[-1] == (
        "92 of the graph's 102 tensors and operations left out: only the 10 nearest the root are drawn "
        "(change max_nodes= or max_depth=)"
    )


@pytest.mark.parametrize(
    ("option", "value", "error", "message"),
    [
        ("max_nodes", 0, ValueError, "max_nodes must be at least 1"),
        ("max_nodes", -1, ValueError, "max_nodes must be at least 1"),
        ("max_depth", -1, ValueError, "max_depth must be at least 0"),
        ("max_nodes", 2.5, TypeError, "max_nodes must be an integer or None"),
        ("max_depth", True, TypeError, "max_depth must be an integer or None"),
    ],
)
def test_limits_out_of_range_are_refused_naming_the_parameter(option, value, error, message):
    loss, *_ = lecture_graph()
    with pytest.raises(error, match=message):
        view.build(loss, **{option: value})


def test_limits_given_as_numpy_integers_are_accepted():
    loss, *_ = lecture_graph()
    assert view.build(loss, max_nodes=np.int64(3)).left_out == 7
    assert len(view.build(loss, max_depth=np.int32(0)).items) == 1 + 1  # the root and the marker


def test_the_walk_is_linear_so_a_leaf_shared_by_150000_operations_is_collected_in_seconds():
    """300,002 tensors and operations (x, w and 150,000 products with their outputs), all using w.

    A collection that compares each use of w with the uses before it does 10¹⁰ steps here (minutes
    on any machine); a linear one a few seconds. Run apart, so that the limit is a generous wall
    clock rather than a timing assertion: it fails only by not finishing.
    """
    code = textwrap.dedent(
        """
        import tinygraph as tg
        from tinygraph import view
        w = tg.tensor(1.0, requires_grad=True, name="w")
        h = tg.tensor(1.0, name="x")
        for _ in range(150_000):
            h = h * w
        shown = view.build(h, max_nodes=None)
        print(len(shown.items), shown.left_out)
        """
    )
    package_root = str(Path(tg.__file__).resolve().parent.parent)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=150, cwd=package_root, check=True
    )
    # every tensor and operation, w once per use (150,000 copies instead of 1)
    assert done.stdout.split() == [str(300_002 - 1 + 150_000), "0"]


# ----------------------------------------------------------------------------- whose gradient is shown
def gradients(shown: view.View) -> dict[str, list[str]]:
    """The gradient lines of each tensor, by name."""
    return {item.name: [line.text for line in item.lines if line.role == "gradient"] for item in shown.items.values()}


def test_the_engine_records_which_root_wrote_each_grad_and_over_how_many_calls():
    loss, w, _ = lecture_graph()
    source = tg.engine.grad_source(w)
    assert source.grad is w.grad and source.root() is loss and source.calls == 1
    loss.backward()
    assert tg.engine.grad_source(w).calls == 2 and tg.engine.grad_source(w).root() is loss
    (w * w).sum().backward()
    assert tg.engine.grad_source(w).root is None and tg.engine.grad_source(w).calls == 3
    w.grad = np.zeros(2)  # set by hand: no longer what the engine wrote
    assert tg.engine.grad_source(w) is None


def test_the_record_of_a_grad_does_not_keep_a_cleared_gradient_alive():
    _, w, _ = lecture_graph()
    written = weakref.ref(w.grad)
    w.grad = None
    assert written() is None and tg.engine.grad_source(w) is None


def test_a_gradient_from_another_roots_backward_is_not_shown_and_a_note_says_why():
    """What fit used to leave behind: the last minibatch's gradients, under a fresh loss's diagram."""
    _, w, b = lecture_graph()  # backward of that loss wrote w.grad and b.grad
    X = tg.tensor(np.ones((3, 2)), name="x")
    fresh = tg.bce(tg.sigmoid(tg.linear(X, w, b)), np.array([0.0, 1.0, 1.0]))
    shown = view.build(fresh)
    assert gradients(shown)["w"] == [] and gradients(shown)["b"] == []
    assert "no gradient shown for b, w: .grad is from backward() of another tensor, not of L" in shown.grad_notes[-1]
    fresh.backward()  # now w.grad adds up two roots' backward calls: still not the drawn loss's
    assert gradients(view.build(fresh))["w"] == []
    assert "adds up backward() calls of different tensors" in view.build(fresh).grad_notes[-1]
    w.grad = b.grad = None
    fresh.backward()
    assert gradients(view.build(fresh))["w"] == ["∂L/∂w =", view.values_text(w.grad)]


def test_a_gradient_accumulated_over_several_calls_says_so():
    loss, *_ = lecture_graph()
    loss.backward()
    loss.backward()
    shown = view.build(loss)
    assert gradients(shown)["w"][-1] == "accumulated over 3 calls"
    assert "the gradients of b, w are accumulated over 3 calls of L.backward()" in shown.grad_notes


def test_a_gradient_set_by_hand_is_not_shown():
    loss, w, _ = lecture_graph()
    w.grad = np.array([1.0, 2.0])
    shown = view.build(loss)
    assert gradients(shown)["w"] == [] and "w: .grad was set outside backward()" in " ".join(shown.grad_notes)


# ----------------------------------------------------------------------------- names from the graph
def mlp_loss():
    model = tg.models.MLP((2, 3, 1), l2=0.1, seed=0)
    X, y = np.random.default_rng(0).standard_normal((4, 2)), np.array([0, 1, 1, 0])
    loss = model.loss(X, y)
    loss.backward(retain_grads=True)
    return loss, model


def test_formulas_and_edge_labels_use_the_names_of_the_actual_tensors():
    loss, _ = mlp_loss()
    shown = view.build(loss)
    formulas = {line.text for item in shown.items.values() for line in item.lines if line.role == "formula"}
    assert {"z₁ = x @ W1 + b1", "a₁ = σ(z₁)", "z₂ = a₁ @ W2 + b2", "J = L + R"} <= formulas
    labels = {key: edge.label for key, edge in edges_by_target(shown).items()}
    assert labels[("W2", "z₂")] == ("∂z₂/∂W2 = a₁",)
    assert labels[("a₁", "z₂")] == ("∂z₂/∂a₁ = W2",)
    assert labels[("z₁", "a₁")] == ("∂a₁/∂z₁ = a₁(1 − a₁)",)
    assert labels[("W1", "R")] == ("∂R/∂W1 = λW1",) and labels[("W2", "R")] == ("∂R/∂W2 = λW2",)


def edges_by_target(shown: view.View) -> dict[tuple[str, str], view.Edge]:
    """Input edges by (input name, the name of the tensor the operation produced)."""
    name = {item.id: item.name for item in shown.items.values()}
    produced = {e.source: name[e.target] for e in shown.edges if e.kind == "output"}
    return {(name[e.source], produced[e.target]): e for e in shown.edges if e.target in produced}


def test_a_symbol_inside_a_word_is_left_alone():
    z = tg.tensor([1.0, -1.0], requires_grad=True, name="h")
    shown = view.build(tg.relu(z).sum())
    assert ("a = max(h, 0)" in {line.text for item in shown.items.values() for line in item.lines})
    assert edges_by_target(shown)[("h", "a")].label == ("∂a/∂h =", "1 if h > 0 else 0")


def test_a_weight_in_its_layer_and_in_the_penalty_is_drawn_once_with_an_edge_to_each_user():
    loss, _ = mlp_loss()
    shown = view.build(loss)
    assert [item.name for item in shown.items.values()].count("W1") == 1
    assert {key[1] for key in edges_by_target(shown) if key[0] == "W1"} == {"z₁", "R"}


def test_the_view_counts_the_ranks_of_its_longest_chain():
    loss, *_ = lecture_graph()
    assert view.build(loss).ranks == 7  # x, Linear, z, Sigmoid, a, BCE, L
    assert view.build(mlp_loss()[0]).ranks == 13  # W1 … a₂, BCE, L, Add, J


def test_the_chain_rule_of_a_penalized_weight_goes_through_the_network_not_the_penalty():
    loss, model = mlp_loss()
    chain = view.build(loss, highlight=model.weights[0]).chain_rule
    assert chain[0] == "∂J/∂W1 = ∂J/∂L · ∂L/∂a₂ · ∂a₂/∂z₂ · ∂z₂/∂a₁ · ∂a₁/∂z₁ · ∂z₁/∂W1"
    assert chain[-1] == "(one of 2 paths from W1: their products add up)"
