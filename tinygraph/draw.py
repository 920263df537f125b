"""Diagrams of the computation graph that teach the chain rule: ``tg.draw(loss)`` → a Graphviz Digraph.

Tensors are ellipses (name, shape, dtype, optionally values, and the gradient dL/dt that arrived
after ``backward``); operations are boxes with their formula; each edge that carries a gradient
is labelled with the local derivative of that step, so a path from a parameter to the loss reads
as the chain-rule product. What is drawn (the part of the graph, names, paths, notes) is worked
out in ``tinygraph.view``; this module only styles it, every attribute taken from the small
tables below, which the legend explains. Nothing is rendered here: the Digraph is returned, so
Jupyter displays it and ``.render(...)`` writes SVG, PNG or PDF.
"""

from __future__ import annotations

import html
from typing import Any

import graphviz

from tinygraph import view
from tinygraph.tensor import Tensor

FONT = "Helvetica,Arial,sans-serif"
# rankdir=None lays out left to right up to this many items in a row (about 200 px each at 96 dpi,
# so it fits a 1920-px-wide screen), top to bottom beyond: a two-layer MLP with its penalty has 13.
MAX_RANKS_LR = 8

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
LEFT_OUT_STYLE = {"shape": "note", "color": "#8a8a8a", "fontcolor": "#555555"}
# The role of a line under a label's name → its font: colour and point size.
LINE_STYLES: dict[str, dict[str, str]] = {
    "shape": {"color": "#555555"},
    "values": {},
    "gradient": {"color": EDGE_STYLES["gradient"]["fontcolor"]},
    "shared": {"color": "#555555"},
    "formula": {"size": "10"},
    "pending": {"color": "#9a9a9a"},  # a gradient that has not arrived yet (tg.trace's steps)
}
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


NO_DOT = (
    "Graphviz's dot program was not found, so here is the diagram's DOT text: install Graphviz "
    "(apt-get install graphviz, brew install graphviz or conda install graphviz) to see the picture."
)


class Diagram(graphviz.Digraph):
    """The ``graphviz.Digraph`` that ``draw`` returns; rendering without Graphviz says how to install it.

    In Jupyter, without Graphviz, a diagram displays as its DOT text under one line saying how to
    install Graphviz, rather than stopping the notebook with a traceback.
    """

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None, **kwargs: Any) -> dict[str, Any]:
        try:
            return super()._repr_mimebundle_(include, exclude, **kwargs)
        except graphviz.ExecutableNotFound:
            return {"text/plain": f"{NO_DOT}\n\n{self.source}"}

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
    rankdir: str | None = None,
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
    rankdir : {None, "LR", "TB", "RL", "BT"}
        Direction of the layout: "LR" reads inputs → loss from left to right, "TB" from top to
        bottom. None (the default) is "LR" unless the longest chain of the drawing has more than
        ``MAX_RANKS_LR`` (8) items, where "LR" would be wider than a 1920-px screen: then "TB".
        The lecture's logistic-regression graph has 7; a two-layer MLP with a penalty 13.
    legend : bool
        Add a legend explaining the colours and edge styles.
    highlight : Tensor, optional
        A tensor of the graph (usually a parameter): the paths from it to the root are drawn in
        red, and the chain-rule product along one of them is written at the top.
    max_nodes : int or None
        Draw at most this many tensors and operations (at least 1), those nearest the root; a
        note says how many were left out. None draws them all (dot may take minutes on thousands).
    max_depth : int, optional
        Draw only operations at most this many steps back from the root (0: the root alone).

    Returns
    -------
    Diagram
        A ``graphviz.Digraph``: displays inline in Jupyter; ``.render("logreg", format="svg")``
        writes a file; ``.source`` is the DOT text. Rendering needs the Graphviz ``dot`` program
        and raises ``GraphvizNotFoundError``, saying how to install it, when it is missing.

    Raises
    ------
    ValueError
        For a ``rankdir`` that is not a direction, ``max_nodes`` below 1, ``max_depth`` below 0,
        or a ``highlight`` tensor that is not drawn.
    TypeError
        For a limit that is not an integer, or a tensor name or scope that is not a str.

    Notes
    -----
    Colours: parameters green, data blue, intermediate values white, the loss orange, operations
    grey boxes. Unnamed tensors are named after their operation's formula (``z``, ``a``, ``L``),
    numbered when repeated (z₁, z₂); unnamed leaves are ``x`` (data), ``y`` (a loss's target),
    ``θ`` (parameters), or their value when they hold one number. Control characters in a name,
    which dot cannot show, are drawn as their Unicode pictures (NUL as ␀).

    The operations of a ``tg.name_scope`` are drawn in a cluster labelled with the scope, with
    the tensors they produce and the parameters only they use; data stays outside. A dashed edge
    is a shortcut: BCE fed a sigmoid's output sends ∂L/∂z = (a − y)/N straight to z, while the
    edge through a still shows ∂L/∂a. A tensor used by several operations is drawn once, with an
    edge to each; only a leaf used by more than four operations far apart in the graph (a weight
    shared by the steps of an unrolled network) is drawn again beside each use, so that no edge
    stretches across the whole drawing.

    Formulas and edge labels are written in the names of the drawn tensors: a hidden layer's
    box reads ``z₂ = a₁ @ W2 + b2`` and the edge from W2 ∂z₂/∂W2 = a₁. A gradient is shown only
    when the engine wrote it in backward calls of ``root`` (with "accumulated over n calls" when
    there were several); a gradient left from another loss's backward is not shown, and a note
    says why.

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
    if rankdir not in (None, "LR", "TB", "RL", "BT"):
        raise ValueError(f"rankdir must be None, 'LR', 'TB', 'RL' or 'BT', got {rankdir!r}")
    shown = view.build(
        root,
        show_values=show_values,
        show_grads=show_grads,
        highlight=highlight,
        max_nodes=max_nodes,
        max_depth=max_depth,
    )
    return paint(shown, rankdir=rankdir, legend=legend)


# ============================================================ styling: the Digraph


def paint(shown: view.View, *, rankdir: str | None = None, legend: bool = True) -> Diagram:
    """The Digraph of a view, every attribute taken from the style tables (``rankdir`` as in ``draw``)."""
    if rankdir is None:
        rankdir = "LR" if shown.ranks <= MAX_RANKS_LR else "TB"
    dot = Diagram(
        name="tinygraph",
        graph_attr={"rankdir": rankdir, "fontname": FONT, "nodesep": "0.25", "ranksep": "0.3"},
        node_attr={"fontname": FONT, "fontsize": "11", "penwidth": "1.2"},
        edge_attr={"fontname": FONT, "fontsize": "10", "arrowsize": "0.7"},
    )
    for number, (scope, members) in enumerate(shown.clusters.items()):
        target = dot if scope is None else _cluster(scope, number)
        for member in members:
            item = shown.items[member]
            target.node(item.id, f"<{_item_label(item)}>", **_item_attrs(item))
        if target is not dot:
            dot.subgraph(target)
    for edge in shown.edges:
        dot.edge(edge.source, edge.target, **_edge_attrs(edge, shown.items[edge.source].kind))
    notes = [*shown.grad_notes, *shown.notes]
    rows = [_text_row(shown.chain_rule, HIGHLIGHT["color"], "12"), _text_row(notes, "#555555", "11")]
    if legend:
        rows.append(_legend(shown.legend))
    if any(rows):  # above the drawing, where it does not disturb the layout
        table = f"<TABLE BORDER='0' CELLSPACING='2' CELLPADDING='0'>{''.join(rows)}</TABLE>"
        dot.attr(label=f"<{table}>", labelloc="t", labeljust="l")
    return dot


def _item_attrs(item: view.Item) -> dict[str, str]:
    if item.kind == "operation":
        attrs = dict(NODE_STYLE)
    elif item.kind == "left out":
        attrs = dict(LEFT_OUT_STYLE)
    else:
        attrs = {"shape": "ellipse", "style": "filled", "margin": "0.02,0.02", **TENSOR_STYLES[item.kind]}
    return {**attrs, **HIGHLIGHT} if item.highlighted else attrs


def _item_label(item: view.Item) -> str:
    """The name (in bold, but for the left-out marker), then each line in the style of its role."""
    name = _html(item.name) if item.kind == "left out" else f"<B>{_html(item.name)}</B>"
    return "<BR/>".join([name, *(_small(line.text, **LINE_STYLES[line.role]) for line in item.lines)])


def _edge_attrs(edge: view.Edge, source_kind: str) -> dict[str, str]:
    attrs = dict(EDGE_STYLES[edge.kind])
    if edge.kind == "output" or (edge.kind in ("gradient", "data") and source_kind in ("intermediate", "loss")):
        attrs["weight"] = "4"  # keep the chain of computed values straight, leaves to the side
    if edge.highlighted:
        attrs.update(HIGHLIGHT)
    if edge.label:
        attrs["label"] = "<" + "<BR/>".join(_html(line) for line in edge.label) + ">"
    return attrs


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


def _legend(entries: list[str], per_row: int = 5) -> str:
    """Table rows explaining each colour and edge style in use, drawn from the style tables."""
    swatches = {
        **{kind: _swatch(style["fillcolor"], style["color"], "ellipse") for kind, style in TENSOR_STYLES.items()},
        "node": _swatch(NODE_STYLE["fillcolor"], NODE_STYLE["color"], "box"),
        "gradient label": "<TD>" + _small("∂z/∂w", EDGE_STYLES["gradient"]["fontcolor"], "10") + "</TD>",
        "data edge": f"<TD><FONT COLOR='{EDGE_STYLES['data']['color']}'>⟶</FONT></TD>",
        "shortcut": f"<TD><FONT COLOR='{EDGE_STYLES['shortcut']['color']}'>⇢</FONT></TD>",
        "highlight": f"<TD><FONT COLOR='{HIGHLIGHT['color']}'><B>⟶</B></FONT></TD>",
    }
    cells = [f"{swatches[kind]}<TD ALIGN='LEFT'>{_small(LEGEND[kind], size='10')}  </TD>" for kind in entries]
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


def _small(text: str, color: str | None = None, size: str = "9") -> str:
    colour = f' COLOR="{color}"' if color else ""
    return f'<FONT POINT-SIZE="{size}"{colour}>{_html(text)}</FONT>'


# Control characters other than tab and newlines are not allowed in dot's HTML-like labels: each is
# shown as its Unicode control picture (NUL as ␀). Text that cannot be written as UTF-8 (a lone
# surrogate) is shown as its Python escape.
_CONTROL_PICTURES = {code: 0x2400 + code for code in range(32) if chr(code) not in "\t\n\r"}


def _html(text: str) -> str:
    """Escape text for a Graphviz HTML-like label."""
    text = text.translate(_CONTROL_PICTURES).encode("utf-8", "backslashreplace").decode("utf-8")
    return html.escape(text, quote=True)
