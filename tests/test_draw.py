"""tg.draw: diagrams rendered to real SVG files by Graphviz, and what can be read in them."""

from __future__ import annotations

import html
import itertools
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import graphviz
import numpy as np
import pytest

import tinygraph as tg
from tinygraph.draw import EDGE_STYLES, HIGHLIGHT, LEGEND, NODE_STYLE, TENSOR_STYLES, GraphvizNotFoundError

SVG = "{http://www.w3.org/2000/svg}"
SCOPE = "LogisticRegression: net input → sigmoid → NLL"
RED = HIGHLIGHT["color"]


# ----------------------------------------------------------------------------- reading an SVG
@dataclass
class Drawing:
    """A rendered SVG: node shapes by their first line of text, edges by (from, to), all text."""

    nodes: dict[str, ET.Element]
    names: list[str]  # of every node drawn, with repeats
    edges: dict[tuple[str, str], list[ET.Element]]
    text: str
    clusters: dict[str, tuple[float, float, float, float]]  # label → box (x0, y0, x1, y1)

    def shape(self, name: str) -> ET.Element:
        """The ellipse, polygon or path that outlines a node (a rounded box is a path)."""
        group = self.nodes[name]
        return next(e for e in group if e.tag in (SVG + "ellipse", SVG + "polygon", SVG + "path"))

    def inside(self, name: str, cluster: str) -> bool:
        """Whether the node's first line of text lies in the cluster's box."""
        first = self.nodes[name].find(SVG + "text")
        x, y = float(first.get("x")), float(first.get("y"))
        x0, y0, x1, y1 = self.clusters[cluster]
        return x0 <= x <= x1 and y0 <= y <= y1

    def edge(self, source: str, target: str) -> ET.Element:
        (group,) = self.edges[(source, target)]
        return group

    def edge_stroke(self, source: str, target: str) -> str:
        return self.edge(source, target).find(SVG + "path").get("stroke")

    def edge_text(self, source: str, target: str) -> str:
        return " ".join(t.text or "" for t in self.edge(source, target).iter(SVG + "text"))


def render(diagram: graphviz.Digraph, path: Path) -> Drawing:
    """Render ``diagram`` with dot to ``path``.svg and parse what it shows."""
    svg = Path(diagram.render(path, format="svg"))
    root = ET.parse(svg).getroot()
    groups = list(root.iter(SVG + "g"))
    names, nodes = {}, {}
    for group in groups:
        if group.get("class") == "node":
            first = group.find(SVG + "text")
            name = first.text if first is not None else ""
            names[group.find(SVG + "title").text] = name
            nodes[name] = group
    edges: dict[tuple[str, str], list[ET.Element]] = {}
    for group in groups:
        if group.get("class") == "edge":
            source, target = group.find(SVG + "title").text.split("->")
            edges.setdefault((names[source], names[target]), []).append(group)
    clusters = {}
    for group in groups:
        if group.get("class") == "cluster":
            numbers = [float(n) for n in re.findall(r"-?[\d.]+", group.find(SVG + "path").get("d"))]
            xs, ys = numbers[0::2], numbers[1::2]
            clusters[group.find(SVG + "text").text] = (min(xs), min(ys), max(xs), max(ys))
    text = " ".join(" ".join(t.text or "" for t in root.iter(SVG + "text")).split())  # runs of spaces as one
    return Drawing(nodes, list(names.values()), edges, text, clusters)


# ----------------------------------------------------------------------------- graphs
def lecture_graph(retain_grads: bool = True, backward: bool = True, names: bool = True):
    """The lecture's graph, built by hand: x → Linear → z → Sigmoid → a → BCE → L, with w, b, y."""
    X = tg.tensor([[0.5, -1.0], [1.5, 0.2], [-0.3, 0.8], [1.0, 1.0]], name="x" if names else None)
    y = tg.tensor([0.0, 1.0, 1.0, 0.0], name="y" if names else None)
    w = tg.tensor([0.4, -0.2], requires_grad=True, name="w")
    b = tg.tensor(0.1, requires_grad=True, name="b")
    with tg.name_scope(SCOPE):
        loss = tg.bce(tg.sigmoid(tg.linear(X, w, b)), y)
    if backward:
        loss.backward(retain_grads=retain_grads)
    return loss, w, b


class Cube(tg.Node):
    """A user-defined node with neither formula nor local derivatives."""

    def forward(self, x):
        self.x = x
        return x**3

    def backward(self, grad):
        return (grad * 3 * self.x**2,)


def unrolled(steps: int):
    """An MLP layer applied ``steps`` times with shared W and b: 4 tensors and nodes per step."""
    rng = np.random.default_rng(0)
    W = tg.tensor(rng.standard_normal((3, 3)) * 0.3, requires_grad=True, name="W")
    b = tg.tensor(np.zeros(3), requires_grad=True, name="b")
    h = tg.tensor(rng.standard_normal((2, 3)), name="x")
    for _ in range(steps):
        h = tg.tanh(tg.linear(h, W, b))
    return tg.mse(h, np.zeros((2, 3))), W


# ----------------------------------------------------------------------------- the lecture's diagram
@pytest.mark.needs_dot
def test_lecture_diagram_shows_names_shapes_formulas_and_the_local_derivative_on_each_edge(tmp_path):
    loss, *_ = lecture_graph()
    d = render(tg.draw(loss), tmp_path / "logreg")
    assert {"x", "y", "w", "b", "z", "a", "L", "Linear", "Sigmoid", "BCE"} <= set(d.nodes)
    assert "(4, 2) float64" in d.text and "scalar float64" in d.text
    assert "z = x @ w + b" in d.text and "a = σ(z)" in d.text
    assert d.edge_text("w", "Linear") == "∂z/∂w = x"
    assert d.edge_text("b", "Linear") == "∂z/∂b = 1"
    assert d.edge_text("z", "Sigmoid") == "∂a/∂z = a(1 − a)"
    assert d.edge_text("a", "BCE") == "∂L/∂a = (a − y) / (a(1 − a)) / N"
    assert d.edge_text("x", "Linear") == "" and d.edge_text("y", "BCE") == ""  # no gradient flows to data
    assert d.edge_stroke("x", "Linear") == EDGE_STYLES["data"]["color"]


@pytest.mark.needs_dot
def test_the_bce_shortcut_to_z_is_dashed_and_labelled_with_the_cancellation(tmp_path):
    loss, *_ = lecture_graph()
    d = render(tg.draw(loss), tmp_path / "logreg")
    shortcut = d.edge("z", "BCE").find(SVG + "path")
    assert shortcut.get("stroke-dasharray") and shortcut.get("stroke") == EDGE_STYLES["shortcut"]["color"]
    assert d.edge_text("z", "BCE") == "∂L/∂z = (a − y) / N (∂L/∂a · ∂a/∂z cancelled)"
    assert d.edge("z", "Sigmoid").find(SVG + "path").get("stroke-dasharray") is None


@pytest.mark.needs_dot
def test_gradients_show_as_values_when_small_and_as_a_norm_when_large(tmp_path):
    loss, w, b = lecture_graph()
    d = render(tg.draw(loss), tmp_path / "logreg")
    assert (
        f"∂L/∂w = {np.array2string(w.grad, separator=', ', formatter={'float_kind': '{:.3g}'.format})}"
        in d.text
    )
    assert f"∂L/∂b = {b.grad:.3g}" in d.text
    X = tg.tensor(np.linspace(-1, 1, 12).reshape(6, 2), requires_grad=True, name="X")
    big = tg.sigmoid(X).sum()
    big.backward()
    d = render(tg.draw(big), tmp_path / "big")
    assert f"‖∂s/∂X‖ = {np.linalg.norm(X.grad):.3g}" in d.text


@pytest.mark.needs_dot
def test_colours_tell_parameters_data_intermediates_and_the_loss_apart(tmp_path):
    loss, *_ = lecture_graph()
    d = render(tg.draw(loss), tmp_path / "logreg")
    for name, kind in [
        ("w", "parameter"),
        ("b", "parameter"),
        ("x", "data"),
        ("y", "data"),
        ("z", "intermediate"),
        ("a", "intermediate"),
        ("L", "loss"),
    ]:
        assert d.shape(name).tag == SVG + "ellipse"
        assert d.shape(name).get("fill") == TENSOR_STYLES[kind]["fillcolor"], name
        assert d.shape(name).get("stroke") == TENSOR_STYLES[kind]["color"], name
    assert d.shape("Sigmoid").tag == SVG + "path"  # a rounded box
    assert d.shape("Sigmoid").get("fill") == NODE_STYLE["fillcolor"]


@pytest.mark.needs_dot
def test_the_legend_explains_the_colours_and_can_be_turned_off(tmp_path):
    loss, *_ = lecture_graph()
    d = render(tg.draw(loss), tmp_path / "with")
    for kind in ["parameter", "data", "intermediate", "loss", "node", "gradient label", "shortcut"]:
        assert LEGEND[kind] in d.text
    assert LEGEND["highlight"] not in d.text  # nothing is highlighted
    svg = ET.parse(tmp_path / "with.svg").getroot()
    fills = {e.get("fill") for e in [*svg.iter(SVG + "polygon"), *svg.iter(SVG + "path")]}
    assert {style["fillcolor"] for style in TENSOR_STYLES.values()} <= fills  # the swatches
    d = render(tg.draw(loss, legend=False), tmp_path / "without")
    assert not any(text in d.text for text in LEGEND.values())


@pytest.mark.needs_dot
def test_highlight_draws_the_path_from_w_to_the_loss_in_red_and_prints_the_chain_rule(tmp_path):
    loss, w, _ = lecture_graph()
    d = render(tg.draw(loss, highlight=w), tmp_path / "highlight")
    path = ["w", "Linear", "z", "Sigmoid", "a", "BCE", "L"]
    for source, target in itertools.pairwise(path):
        assert d.edge_stroke(source, target) == RED, (source, target)
    assert d.edge_stroke("z", "BCE") == RED  # the shortcut is on a path from w too
    for source, target in [("b", "Linear"), ("x", "Linear"), ("y", "BCE")]:
        assert d.edge_stroke(source, target) != RED, (source, target)
    assert all(d.shape(name).get("stroke") == RED for name in path)
    assert d.shape("b").get("stroke") == TENSOR_STYLES["parameter"]["color"]
    assert "∂L/∂w = ∂L/∂a · ∂a/∂z · ∂z/∂w" in d.text
    assert "= [(a − y) / (a(1 − a)) / N] · a(1 − a) · x" in d.text
    assert "= [(a − y) / N] · x (shortcut: ∂L/∂a · ∂a/∂z = (a − y) / N)" in d.text  # (a − y) x, averaged
    assert LEGEND["highlight"] in d.text


def test_highlight_of_a_tensor_used_on_two_paths_says_their_products_add_up():
    w = tg.tensor(2.0, requires_grad=True, name="w")
    loss = tg.sigmoid(w) * tg.tanh(w)
    source = html.unescape(tg.draw(loss, highlight=w).source)
    assert "one of 2 paths from w: their products add up" in source
    loss, W = unrolled(3)  # W feeds each of the 3 steps
    assert "one of 3 paths from W: their products add up" in html.unescape(tg.draw(loss, highlight=W).source)
    with pytest.raises(ValueError, match="not part of this graph"):
        tg.draw(loss, highlight=tg.tensor(1.0, name="v"))


@pytest.mark.needs_dot
def test_the_nodes_of_a_name_scope_are_drawn_in_a_labelled_cluster_and_the_data_outside(tmp_path):
    loss, *_ = lecture_graph()
    d = render(tg.draw(loss), tmp_path / "logreg")
    assert list(d.clusters) == [SCOPE]
    for name in ["w", "b", "Linear", "z", "Sigmoid", "a", "BCE", "L"]:
        assert d.inside(name, SCOPE), name
    assert not d.inside("x", SCOPE) and not d.inside("y", SCOPE)  # a model is given its data


@pytest.mark.needs_dot
def test_missing_intermediate_gradients_are_explained_once(tmp_path):
    loss, *_ = lecture_graph(retain_grads=False)
    d = render(tg.draw(loss), tmp_path / "no-retain")
    assert d.text.count("run backward(retain_grads=True) on the loss to see ∂L/∂z, ∂L/∂a") == 1
    assert "∂L/∂w = " in d.text  # leaves always have their gradient
    loss, *_ = lecture_graph(backward=False)
    d = render(tg.draw(loss), tmp_path / "no-backward")
    assert "run backward(retain_grads=True) on the loss to see ∂L/∂b, ∂L/∂w, ∂L/∂z, ∂L/∂a" in d.text
    assert "retain_grads" not in tg.draw(loss, show_grads=False).source


@pytest.mark.needs_dot
def test_show_values_gives_small_tensors_in_full_and_large_ones_as_min_mean_max(tmp_path):
    loss, *_ = lecture_graph()
    d = render(tg.draw(loss, show_values=True), tmp_path / "values")
    assert "[0, 1, 1, 0]" in d.text  # y
    assert "[0.4, -0.2]" in d.text  # w
    assert "min -1, mean 0.463, max 1.5" in d.text  # x, 8 values
    assert "[0, 1, 1, 0]" not in render(tg.draw(loss), tmp_path / "no-values").text


def test_unnamed_tensors_are_named_after_what_they_are():
    loss, *_ = lecture_graph(names=False)
    source = tg.draw(loss).source
    for name in ["<B>x</B>", "<B>y</B>", "<B>z</B>", "<B>a</B>", "<B>L</B>"]:
        assert name in source
    h = tg.tensor(np.ones((2, 3)))
    W1, W2 = tg.tensor(np.ones((3, 3)), requires_grad=True), tg.tensor(np.ones(3), requires_grad=True)
    out = tg.linear(tg.relu(tg.linear(h, W1)), W2).sum() * 2.0
    source = tg.draw(out).source
    for name in ["<B>z₁</B>", "<B>z₂</B>", "<B>θ₁</B>", "<B>θ₂</B>", "<B>2</B>", "∂z₂/∂a = θ₂"]:
        assert name in source


@pytest.mark.needs_dot
def test_a_user_defined_node_is_drawn_under_its_class_name_without_a_derivative_label(tmp_path):
    x = tg.tensor([1.0, 2.0], requires_grad=True, name="x")
    loss = tg.sigmoid(Cube()(x)).sum()
    loss.backward(retain_grads=True)
    d = render(tg.draw(loss, highlight=x), tmp_path / "cube")
    assert d.shape("Cube").get("fill") == NODE_STYLE["fillcolor"]
    assert "cube" in d.nodes  # its output, named after it
    assert d.edge_text("x", "Cube") == ""
    assert d.edge_text("cube", "Sigmoid") == "∂a/∂cube = a(1 − a)"
    assert d.edge_stroke("x", "Cube") == RED
    assert "∂s/∂x = ∂s/∂a · ∂a/∂cube · ∂cube/∂x" in d.text
    assert "= 1 · a(1 − a)" not in d.text  # Cube's factor is unknown, so the product is not written out


@pytest.mark.needs_dot
def test_labels_are_escaped_for_graphviz(tmp_path):
    x = tg.tensor([1.0, 2.0], requires_grad=True, name='x<1> & "q" \\l')
    with tg.name_scope("scope <b>&amp;</b>"):
        loss = (x * x).sum()
    loss.backward()
    d = render(tg.draw(loss, highlight=x), tmp_path / "escaped")
    assert 'x<1> & "q" \\l' in d.nodes
    assert list(d.clusters) == ["scope <b>&amp;</b>"]


# ----------------------------------------------------------------------------- large graphs
@pytest.mark.needs_dot
def test_a_10000_node_graph_is_cut_near_the_loss_with_a_note_saying_what_was_left_out(tmp_path):
    loss, _ = unrolled(2500)  # 10,006 tensors and operations: 4 a step, and x, W, b, the target, MSE, L
    diagram = tg.draw(loss, max_nodes=120)
    d = render(diagram, tmp_path / "big")
    assert (
        "9,886 of the graph's 10,006 tensors and operations left out: only the 120 nearest the root" in d.text
    )
    assert "⋯ 9,886 more" in d.nodes
    assert {"MSE", "L", "Tanh", "Linear"} <= set(d.nodes)
    # W and b feed every step: drawn again beside each use, not once with edges across the drawing
    steps = d.names.count("Linear")
    assert steps > 20 and d.names.count("W") == d.names.count("b") == steps
    assert d.text.count("shared: drawn again at each use") == 2 * steps


def test_max_depth_cuts_the_drawing_a_number_of_operations_back_from_the_root():
    loss, _ = unrolled(50)
    source = html.unescape(tg.draw(loss, max_depth=2, max_nodes=None).source)
    assert source.count("<B>Tanh</B>") == 1 and "<B>MSE</B>" in source and "<B>Linear</B>" not in source
    assert "200 of the graph's 206 tensors and operations left out: only the 6 nearest the root" in source


def test_the_walk_is_iterative_so_a_100000_deep_graph_draws_without_recursion():
    x = tg.tensor(1.0, requires_grad=True, name="x")
    h = x
    for _ in range(100_000):
        h = -h
    source = html.unescape(tg.draw(h, max_nodes=30).source)
    assert "199,971 of the graph's 200,001 tensors and operations left out" in source


# ----------------------------------------------------------------------------- without Graphviz
def test_without_dot_draw_still_returns_the_diagram_and_rendering_says_how_to_install_it(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH without Graphviz's dot
    loss, w, _ = lecture_graph()
    diagram = tg.draw(loss, highlight=w)
    assert isinstance(diagram, graphviz.Digraph) and "Sigmoid" in diagram.source
    for attempt in (
        lambda: diagram.render(tmp_path / "logreg", format="svg"),
        lambda: diagram.pipe(format="png"),
    ):
        with pytest.raises(graphviz.ExecutableNotFound) as error:
            attempt()
        assert isinstance(error.value, GraphvizNotFoundError)
        for command in ["apt-get install graphviz", "brew install graphviz", "conda install graphviz"]:
            assert command in str(error.value)
    assert not (tmp_path / "logreg.svg").exists()
    # Jupyter displays it as its DOT text under one line saying how to install Graphviz
    bundle = diagram._repr_mimebundle_()
    assert list(bundle) == ["text/plain"]
    first, rest = bundle["text/plain"].split("\n", 1)
    assert "apt-get install graphviz" in first and diagram.source in rest


@pytest.mark.needs_dot
def test_jupyter_displays_the_diagram_as_svg():
    loss, *_ = lecture_graph()
    bundle = tg.draw(loss)._repr_mimebundle_()
    assert "<svg" in bundle["image/svg+xml"] and "Sigmoid" in bundle["image/svg+xml"]


def test_rankdir_must_be_a_graphviz_direction():
    loss, *_ = lecture_graph()
    assert "rankdir=TB" in tg.draw(loss, rankdir="TB").source
    with pytest.raises(ValueError, match="rankdir"):
        tg.draw(loss, rankdir="sideways")


# ----------------------------------------------------------------------------- the models
@pytest.mark.needs_dot
def test_the_logistic_regression_model_is_drawn_as_the_lecture_draws_it(tmp_path):
    from tinygraph.models import LogisticRegression

    model = LogisticRegression(2, seed=0)
    X = np.array([[0.5, -1.0], [1.5, 0.2], [-0.3, 0.8], [1.0, 1.0]])
    loss = model.loss(X, np.array([0, 1, 1, 0]))
    loss.backward(retain_grads=True)
    d = render(tg.draw(loss, highlight=model.w), tmp_path / "model")
    assert list(d.clusters) == [SCOPE] and d.inside("w", SCOPE) and not d.inside("x", SCOPE)
    assert d.edge_stroke("w", "Linear") == RED and d.edge_text("w", "Linear") == "∂z/∂w = x"
    assert "= [(a − y) / N] · x" in d.text


# ----------------------------------------------------------------------------- any size, any names
@pytest.mark.parametrize(("option", "value"), [("max_nodes", 0), ("max_nodes", -1), ("max_depth", -1)])
def test_a_limit_that_would_draw_nothing_or_drop_an_item_silently_is_refused(option, value):
    loss, *_ = lecture_graph()
    with pytest.raises(ValueError, match=f"{option} must be at least"):
        tg.draw(loss, **{option: value})


def test_the_smallest_limits_draw_the_root_and_say_what_was_left_out():
    loss, *_ = lecture_graph()
    for source in (tg.draw(loss, max_nodes=1).source, tg.draw(loss, max_depth=0).source):
        source = html.unescape(source)
        assert "<B>L</B>" in source and "<B>BCE</B>" not in source
        assert "9 of the graph's 10 tensors and operations left out" in source


def test_a_name_that_is_not_a_string_is_a_clear_type_error():
    x = tg.tensor([1.0, 2.0], requires_grad=True, name=5)
    with pytest.raises(TypeError, match="a tensor's name must be a str or None, got int 5"):
        tg.draw((x * x).sum())


NAMES = ["a\x00b", "tab\there", "bell\x07", "surrogate \ud800", "line\nbreak"]


def test_control_characters_and_unencodable_text_in_names_are_escaped_in_the_dot_text():
    for name in NAMES:
        x = tg.tensor([1.0, 2.0], requires_grad=True, name=name)
        with tg.name_scope(f"scope {name}"):
            loss = (x * x).sum()
        source = tg.draw(loss, highlight=x).source
        assert "\x00" not in source and "\x07" not in source
        source.encode("utf-8")  # no lone surrogate left
    assert "a␀b" in tg.draw((tg.tensor(1.0, requires_grad=True, name="a\x00b") * 2).sum()).source


@pytest.mark.needs_dot
def test_names_with_control_characters_render(tmp_path):
    for number, name in enumerate(NAMES):
        x = tg.tensor([1.0, 2.0], requires_grad=True, name=name)
        with tg.name_scope(f"scope {name}"):
            loss = (x * x).sum()
        loss.backward()
        d = render(tg.draw(loss, highlight=x), tmp_path / f"name{number}")
        assert "Mul" in d.nodes
    nul = tg.draw((tg.tensor(1.0, requires_grad=True, name="a\x00b") * 2).sum())
    assert "a␀b" in render(nul, tmp_path / "nul").nodes  # NUL shown as its control picture


# ----------------------------------------------------------------------------- fitting the screen
def svg_size_px(diagram: graphviz.Digraph) -> tuple[float, float]:
    """The rendered diagram's width and height in pixels at 96 dpi (dot writes points: 72 an inch)."""
    svg = diagram.pipe(format="svg").decode()
    width, height = re.search(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"', svg).groups()
    return float(width) * 96 / 72, float(height) * 96 / 72


@pytest.mark.needs_dot
@pytest.mark.parametrize("hidden", [(16,), (16, 16)])
def test_a_default_mlp_diagram_fits_a_1920_px_screen_and_the_lecture_graph_stays_left_to_right(hidden):
    model = tg.models.MLP((4, *hidden, 3), l2=0.01, seed=0)
    rng = np.random.default_rng(0)
    loss = model.loss(rng.standard_normal((8, 4)), np.arange(8) % 3)
    loss.backward(retain_grads=True)
    diagram = tg.draw(loss, highlight=model.weights[0])
    assert "rankdir=TB" in diagram.source and svg_size_px(diagram)[0] <= 1920
    lecture = tg.draw(lecture_graph()[0])
    assert "rankdir=LR" in lecture.source and svg_size_px(lecture)[0] <= 1920
