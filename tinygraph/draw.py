"""Diagrams of the computation graph that teach the chain rule: ``tg.draw(loss)`` → a Graphviz Digraph.

Tensors are ellipses (name, shape, dtype, optionally values, and the gradient dL/dt that arrived
after ``backward``); operations are boxes with their formula; each edge that carries a gradient
is labelled with the local derivative of that step, so a path from a parameter to the loss reads
as the chain-rule product. What is drawn (the part of the graph, names, paths, notes) is worked
out in ``tinygraph._graphview``; this module only styles it, every attribute taken from the small
tables below, which the legend explains. Nothing is rendered here: the Digraph is returned, so
Jupyter displays it and ``.render(...)`` writes SVG, PNG or PDF.
"""

from __future__ import annotations

import html
from typing import Any

import graphviz
import numpy as np

from tinygraph import _graphview as view
from tinygraph.node import Node
from tinygraph.tensor import Tensor

SMALL = 4  # tensors with at most this many elements show their values, larger ones a summary
FONT = "Helvetica,Arial,sans-serif"

# Kind of tensor → Graphviz attributes. The legend is built from these tables, so it cannot drift.
TENSOR_STYLES: dict[str, dict[str, str]] = {
    "parameter": {"fillcolor": "#cde9c0", "color": "#4f8a3c"},
    "data": {"fillcolor": "#dbe6f3", "color": "#5b7aa6"},
    "intermediate": {"fillcolor": "#ffffff", "color": "#8a8a8a"},
    "loss": {"fillcolor": "#fbd3a4", "color": "#c2671a"},
}
NODE_STYLE = {"shape": "box", "style": "rounded,filled", "fillcolor": "#f1f1f1", "color": "#666666"}
EDGE_STYLES: dict[str, dict[str, str]] = {
    "gradient": {"color": "#444444", "fontcolor": "#a33a16"},  # label: the local derivative
    "data": {"color": "#b5b5b5"},  # no gradient flows back along it
    "output": {"color": "#444444"},  # operation → the tensor it produced
    "shortcut": {"color": "#7a3ea1", "fontcolor": "#7a3ea1", "style": "dashed", "constraint": "false"},
    "left out": {"color": "#8a8a8a", "style": "dotted"},
}
HIGHLIGHT = {"color": "#d62728", "penwidth": "2.4"}
LEGEND: dict[str, str] = {
    "parameter": "parameter (requires grad)",
    "data": "data (no gradient)",
    "intermediate": "intermediate value",
    "loss": "loss (the root)",
    "node": "operation: its formula",
    "gradient label": "edge label: local derivative ∂out/∂in",
    "data edge": "no gradient flows back",
    "shortcut": "shortcut: two steps' product sent straight back",
    "highlight": "highlighted path to the loss",
}


class GraphvizNotFoundError(graphviz.ExecutableNotFound):
    """Raised when a diagram is rendered but Graphviz's ``dot`` program is not installed."""

    def __init__(self, cause: Exception) -> None:
        RuntimeError.__init__(
            self,
            "cannot render the diagram: the Graphviz program `dot` was not found on PATH "
            f"({cause}). Install Graphviz with `apt-get install graphviz` (Debian/Ubuntu), "
            "`brew install graphviz` (macOS) or `conda install graphviz` (conda), then try again. "
            "The diagram itself is fine: its DOT text is in `.source`.",
        )


class Diagram(graphviz.Digraph):
    """The ``graphviz.Digraph`` that ``draw`` returns; rendering without Graphviz says how to install it."""

    def render(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().render(*args, **kwargs)
        except graphviz.ExecutableNotFound as error:
            raise GraphvizNotFoundError(error) from error

    def pipe(self, *args: Any, **kwargs: Any) -> Any:  # also what Jupyter's display calls
        try:
            return super().pipe(*args, **kwargs)
        except graphviz.ExecutableNotFound as error:
            raise GraphvizNotFoundError(error) from error


def draw(
    root: Tensor,
    *,
    show_values: bool = False,
    show_grads: bool = True,
    rankdir: str = "LR",
    legend: bool = True,
    highlight: Tensor | None = None,
    max_nodes: int | None = 200,
    max_depth: int | None = None,
) -> Diagram:
    """Draw the computation graph that produced ``root``, annotated with the chain rule.

    Parameters
    ----------
    root : Tensor
        The tensor to draw back from, usually the loss.
    show_values : bool
        Show each tensor's value: all of it when it has at most 4 elements, else min/mean/max.
    show_grads : bool
        Show each tensor's gradient dL/dt (all of it when small, else its norm), and the local
        derivative on each edge that carries a gradient. Intermediate gradients exist only after
        ``backward(retain_grads=True)``; the diagram says so when they are missing.
    rankdir : {"LR", "TB", "RL", "BT"}
        Direction of the layout: "LR" reads inputs → loss from left to right.
    legend : bool
        Add a legend explaining the colours and edge styles.
    highlight : Tensor, optional
        A tensor of the graph (usually a parameter): the paths from it to the root are drawn in
        red, and the chain-rule product along one of them is written at the top.
    max_nodes : int or None
        Draw at most this many tensors and operations, those nearest the root; a note says how
        many were left out. None draws them all (dot may take minutes on thousands).
    max_depth : int, optional
        Draw only operations at most this many steps back from the root.

    Returns
    -------
    Diagram
        A ``graphviz.Digraph``: displays inline in Jupyter; ``.render("logreg", format="svg")``
        writes a file; ``.source`` is the DOT text. Rendering needs the Graphviz ``dot`` program
        and raises ``GraphvizNotFoundError``, saying how to install it, when it is missing.

    Notes
    -----
    Colours: parameters green, data blue, intermediate values white, the loss orange, operations
    grey boxes. Unnamed tensors are named after their operation's formula (``z``, ``a``, ``L``),
    numbered when repeated (z₁, z₂); unnamed leaves are ``x`` (data), ``y`` (a loss's target),
    ``θ`` (parameters), or their value when they hold one number.

    The operations of a ``tg.name_scope`` are drawn in a cluster labelled with the scope, with
    the tensors they produce and the parameters only they use; data stays outside. A dashed edge
    is a shortcut: BCE fed a sigmoid's output sends ∂L/∂z = (a − y)/N straight to z, while the
    edge through a still shows ∂L/∂a. A leaf used by operations far apart in the graph (a weight
    shared by the steps of an unrolled network) is drawn again beside each use, so that no edge
    stretches across the whole drawing.

    Examples
    --------
    >>> import numpy as np
    >>> import tinygraph as tg
    >>> X = tg.tensor(np.ones((4, 2)), name="x")
    >>> w = tg.tensor(np.zeros(2), requires_grad=True, name="w")
    >>> b = tg.tensor(0.0, requires_grad=True, name="b")
    >>> with tg.name_scope("LogisticRegression: net input → sigmoid → NLL"):
    ...     loss = tg.bce(tg.sigmoid(tg.linear(X, w, b)), np.array([0.0, 1.0, 1.0, 0.0]))
    >>> loss.backward(retain_grads=True)
    >>> diagram = tg.draw(loss, highlight=w)
    >>> "∂L/∂w = ∂L/∂a · ∂a/∂z · ∂z/∂w" in diagram.source
    True
    >>> diagram.render("logreg", format="svg")  # doctest: +SKIP
    """
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"rankdir must be 'LR', 'TB', 'RL' or 'BT', got {rankdir!r}")
    graph = view.collect(root, max_nodes, max_depth)
    names = view.names_of(graph)
    on_path, chain = set(), []
    if highlight is not None:
        on_path, chain = view.on_path(graph, highlight, names), view.chain_rule(graph, highlight, names)
    painter = _Painter(graph, names, on_path, show_values=show_values, show_grads=show_grads)
    return painter.paint(rankdir, chain, view.notes(graph, names, show_grads), legend)


# ============================================================ styling: the Digraph


class _Painter:
    """Turns the collected graph into a Digraph, every attribute taken from the style tables."""

    def __init__(
        self,
        graph: view.Graph,
        names: dict[int, str],
        on_path: set[int],
        *,
        show_values: bool,
        show_grads: bool,
    ) -> None:
        self.graph, self.names, self.on_path = graph, names, on_path
        self.show_values, self.show_grads = show_values, show_grads
        self.root_name = names[id(graph.root)]
        self.used: set[str] = {"node", "highlight"} if on_path else {"node"}  # what the legend explains

    def paint(self, rankdir: str, chain: list[str], notes: list[str], legend: bool) -> Diagram:
        dot = Diagram(
            name="tinygraph",
            graph_attr={"rankdir": rankdir, "fontname": FONT, "nodesep": "0.25", "ranksep": "0.3"},
            node_attr={"fontname": FONT, "fontsize": "11", "penwidth": "1.2"},
            edge_attr={"fontname": FONT, "fontsize": "10", "arrowsize": "0.7"},
        )
        for number, (scope, members) in enumerate(_clusters(self.graph).items()):
            target = dot if scope is None else _cluster(scope, number)
            for item in members:
                self.item(target, item)
            if target is not dot:
                dot.subgraph(target)
        self.edges(dot)
        self.cut(dot)
        rows = [_text_row(chain, HIGHLIGHT["color"], "12"), _text_row(notes, "#555555", "11")]
        if legend:
            rows.append(_legend(self.used))
        if any(rows):  # above the drawing, where it does not disturb the layout
            table = f"<TABLE BORDER='0' CELLSPACING='2' CELLPADDING='0'>{''.join(rows)}</TABLE>"
            dot.attr(label=f"<{table}>", labelloc="t", labeljust="l")
        return dot

    def item(self, target: graphviz.Digraph, item: Tensor | Node) -> None:
        if isinstance(item, Tensor):
            kind = _tensor_kind(item, self.graph.root)
            self.used.add(kind)
            attrs = {"shape": "ellipse", "style": "filled", "margin": "0.02,0.02", **TENSOR_STYLES[kind]}
            label = self.tensor_label(item)
        else:
            attrs, label = dict(NODE_STYLE), _node_label(item)
        if id(item) in self.on_path:
            attrs.update(HIGHLIGHT)
        users = self.graph.shared.get(id(item), [])
        if not users:
            target.node(_id(item), f"<{label}>", **attrs)
        note = "<BR/>" + _small("shared: drawn again at each use", "#555555")
        for user in users:
            target.node(self.source(item, user), f"<{label}{note}>", **attrs)

    def source(self, tensor: Tensor, user: Node) -> str:
        """The DOT id of ``tensor`` where ``user`` takes it as input (a shared leaf has one per use)."""
        if id(tensor) not in self.graph.shared:
            return _id(tensor)
        return f"{_id(tensor)}_{_id(user)}"

    def tensor_label(self, tensor: Tensor) -> str:
        """Name in bold; shape and dtype; the value and dL/dt when asked for and known."""
        name = self.names[id(tensor)]
        shape = "scalar" if tensor.ndim == 0 else str(tensor.shape)
        lines = [f"<B>{_html(name)}</B>", _small(f"{shape} {tensor.dtype}", "#555555")]
        if self.show_values:
            lines.append(_small(_values(tensor.data)))
        if self.show_grads and tensor.grad is not None:
            lines += [
                _small(line, EDGE_STYLES["gradient"]["fontcolor"]) for line in self.grad_lines(tensor, name)
            ]
        return "<BR/>".join(lines)

    def grad_lines(self, tensor: Tensor, name: str) -> list[str]:
        """dL/dt: its values when small (on a line of their own when long), else its norm."""
        symbol = f"∂{self.root_name}/∂{name}"
        if tensor.grad.size > SMALL:
            return [f"‖{symbol}‖ = {_number(float(np.linalg.norm(tensor.grad.ravel())))}"]
        values = _values(tensor.grad)
        return [f"{symbol} = {values}"] if len(values) <= 12 else [f"{symbol} =", values]

    def edges(self, dot: graphviz.Digraph) -> None:
        for node_id, tensor in self.graph.output.items():
            attrs = {**EDGE_STYLES["output"], "weight": "4", **(HIGHLIGHT if node_id in self.on_path else {})}
            dot.edge(f"n{node_id}", _id(tensor), **attrs)
        for tensor, node, index in self.graph.inputs:
            kind, label = self.edge_label(tensor, node, index)
            self.used.add("data edge" if kind == "data" else kind)
            attrs = dict(EDGE_STYLES[kind])
            if tensor.node is not None and kind != "shortcut":
                attrs["weight"] = "4"  # keep the chain of computed values straight, leaves to the side
            if id(tensor) in self.on_path and id(node) in self.on_path:
                attrs.update(HIGHLIGHT)
            if label:
                attrs["label"] = f"<{label}>"
                self.used.add("gradient label")
            dot.edge(self.source(tensor, node), _id(node), **attrs)

    def edge_label(self, tensor: Tensor, node: Node, index: int) -> tuple[str, str]:
        """The kind of an input edge, and its label: the local derivative, where a gradient flows."""
        if not tensor.requires_grad:
            return "data", ""
        kind = "shortcut" if view.is_shortcut(node, index) else "gradient"
        derivative = view.local_derivative(node, index)
        if not self.show_grads or not derivative:
            return kind, ""
        out, name = self.names[id(self.graph.output[id(node)])], self.names[id(tensor)]
        symbol = f"∂{out}/∂{name} ="
        label = (
            _html(f"{symbol} {derivative}")
            if len(derivative) <= 10
            else f"{_html(symbol)}<BR/>{_html(derivative)}"
        )
        shown = view.shortcut_of(node, index)
        if kind == "shortcut" and shown is not None:
            middle = self.names.get(id(shown), "?")
            label += "<BR/>" + _html(f"(∂{out}/∂{middle} · ∂{middle}/∂{name} cancelled)")
        return kind, label

    def cut(self, dot: graphviz.Digraph) -> None:
        """One marker for what the cut left out, with a dotted edge to everything it fed."""
        if not self.graph.cut:
            return
        label = _html(f"⋯ {self.graph.left_out:,} more")
        dot.node("left_out", f"<{label}>", shape="note", color="#8a8a8a", fontcolor="#555555")
        for item in self.graph.cut:
            dot.edge("left_out", _id(item), **EDGE_STYLES["left out"])  # a leaf is never cut: no copies


def _clusters(graph: view.Graph) -> dict[str | None, list[Tensor | Node]]:
    """Items grouped by the name_scope they belong to (None: outside every scope).

    An operation belongs to its scope, a tensor to the scope of the operation that produced it,
    and a parameter to the scope of the operations using it when they all share one; data stays
    outside, since a model is given its data.
    """
    scope_of: dict[int, str | None] = {id(n): getattr(n, "scope", None) for n in graph.nodes}
    users: dict[int, set[str | None]] = {}
    for tensor, node, _ in graph.inputs:
        users.setdefault(id(tensor), set()).add(scope_of[id(node)])
    groups: dict[str | None, list[Tensor | Node]] = {None: []}
    for tensor in graph.tensors:
        if tensor.node is not None and id(tensor.node) in scope_of:
            scope = scope_of[id(tensor.node)]
        else:
            scopes = users.get(id(tensor), set())
            is_parameter = tensor.node is None and tensor.requires_grad
            scope = next(iter(scopes)) if is_parameter and len(scopes) == 1 else None
        groups.setdefault(scope, []).append(tensor)
    for node in graph.nodes:
        groups.setdefault(scope_of[id(node)], []).append(node)
    return groups


def _cluster(scope: str, number: int) -> graphviz.Digraph:
    cluster = graphviz.Digraph(name=f"cluster_{number}")
    cluster.attr(
        label=f"<<B>{_html(scope)}</B>>",
        labeljust="l",
        style="rounded,dashed",
        color="#999999",
        fontname=FONT,
        fontsize="12",
        margin="12",
    )
    return cluster


def _legend(used: set[str], per_row: int = 5) -> str:
    """Table rows explaining each colour and edge style in use, drawn from the style tables."""
    entries = []
    for kind, style in TENSOR_STYLES.items():
        if kind in used:
            entries.append((_swatch(style["fillcolor"], style["color"], "ellipse"), kind))
    entries.append((_swatch(NODE_STYLE["fillcolor"], NODE_STYLE["color"], "box"), "node"))
    swatches = {
        "gradient label": _small("∂z/∂w", EDGE_STYLES["gradient"]["fontcolor"], "10"),
        "data edge": f"<FONT COLOR='{EDGE_STYLES['data']['color']}'>⟶</FONT>",
        "shortcut": f"<FONT COLOR='{EDGE_STYLES['shortcut']['color']}'>⇢</FONT>",
        "highlight": f"<FONT COLOR='{HIGHLIGHT['color']}'><B>⟶</B></FONT>",
    }
    entries += [(f"<TD>{swatch}</TD>", kind) for kind, swatch in swatches.items() if kind in used]
    cells = [f"{swatch}<TD ALIGN='LEFT'>{_small(LEGEND[kind], size='10')}  </TD>" for swatch, kind in entries]
    rows = ["".join(cells[i : i + per_row]) for i in range(0, len(cells), per_row)]
    # One table per row, so that the entries of a row do not line up with the row above.
    table = "<TABLE BORDER='0' CELLBORDER='0' CELLSPACING='2' CELLPADDING='1'><TR>{}</TR></TABLE>"
    return "".join(f"<TR><TD ALIGN='LEFT'>{table.format(row)}</TD></TR>" for row in rows)


def _swatch(fill: str, border: str, shape: str) -> str:
    style = " STYLE='rounded'" if shape == "ellipse" else ""
    return f"<TD BGCOLOR='{fill}' COLOR='{border}' BORDER='1' WIDTH='22'{style}> </TD>"


def _text_row(lines: list[str], color: str, size: str) -> str:
    """A table row of left-aligned lines, or nothing when there are none."""
    if not lines:
        return ""
    text = "<BR ALIGN='LEFT'/>".join(_html(line) for line in lines)
    return f"<TR><TD ALIGN='LEFT'><FONT COLOR='{color}' POINT-SIZE='{size}'>{text}<BR ALIGN='LEFT'/></FONT></TD></TR>"


def _node_label(node: Node) -> str:
    """The class name in bold, then its formula if it has one: user nodes look like built-in ones."""
    formula = str(getattr(node, "formula", "") or "")
    label = f"<B>{_html(type(node).title or type(node).__name__)}</B>"
    return label + "<BR/>" + _small(formula, size="10") if formula else label


def _tensor_kind(tensor: Tensor, root: Tensor) -> str:
    if tensor is root:
        return "loss"
    if tensor.node is None:
        return "parameter" if tensor.requires_grad else "data"
    return "intermediate"


def _values(array: np.ndarray) -> str:
    """All values of a small array, else min / mean / max."""
    if array.size <= SMALL:
        text = np.array2string(array, separator=", ", formatter={"float_kind": _number}, max_line_width=10**6)
        return " ".join(text.split())
    if array.dtype.kind not in "biuf":
        return f"{array.size:,} values"
    data = array.astype(np.float64)
    return f"min {_number(data.min())}, mean {_number(data.mean())}, max {_number(data.max())}"


def _number(value: float) -> str:
    return f"{value:.3g}"


def _small(text: str, color: str | None = None, size: str = "9") -> str:
    colour = f' COLOR="{color}"' if color else ""
    return f'<FONT POINT-SIZE="{size}"{colour}>{_html(text)}</FONT>'


def _id(item: Tensor | Node) -> str:
    """A DOT id from object identity: everything in a drawn graph is alive, so ids are unique."""
    return f"{'t' if isinstance(item, Tensor) else 'n'}{id(item)}"


def _html(text: str) -> str:
    """Escape text for a Graphviz HTML-like label."""
    return html.escape(text, quote=True)
