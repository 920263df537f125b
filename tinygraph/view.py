"""What a diagram shows, as plain data: ``build(root, ...)`` → a ``View`` that ``tinygraph.draw`` paints.

Everything a diagram says is decided here: which tensors and operations are drawn (an iterative
walk back from the root, cut to a size dot can lay out in seconds), the kind and name of each, the
lines of text in each label (formulas and local derivatives in the drawn tensors' names, read
from ``Node.symbols``; a gradient only when the engine's ``GradSource`` says backward of this
root wrote it), the kind and label of each edge, the clusters of each name scope, the
highlighted path, the chain-rule product written above the drawing, the notes, the legend
entries in use, and the length of the longest chain, from which ``draw`` picks the direction. ``tinygraph.draw`` only maps these kinds to Graphviz styles, so a view can be read
and tested without the ``dot`` program.

Item kinds: "parameter", "data", "intermediate", "loss" (the root) for tensors; "operation" for
nodes; "left out" for the marker standing for what the cut left out. Edge kinds: "output"
(operation → the tensor it produced), "gradient" (an input a gradient flows back to), "data" (an
input without gradient), "shortcut" (an input receiving a cancelled product, see ``Node.cancels``),
"left out" (marker → an item that lost a neighbour to the cut).
"""

from __future__ import annotations

import functools
import operator
import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinygraph import engine
from tinygraph.node import Node
from tinygraph.nodes.losses import Loss
from tinygraph.tensor import Tensor

MAX_SPAN = 3  # a leaf with more than MAX_USES users further apart than this many operations
MAX_USES = 4  # is drawn again at each use (the weights of an unrolled network); others are drawn once
SMALL = 4  # tensors with at most this many elements show their values, larger ones a summary
LEFT_OUT = "left_out"  # the id of the marker for what the cut left out


# ============================================================ the view


@dataclass(frozen=True)
class Line:
    """One line of a label under its name; ``role`` says what it is: "shape", "values",
    "gradient" (with "accumulated over n calls" when it is), "formula" or "shared" (the note on
    a leaf drawn again at each use)."""

    text: str
    role: str


@dataclass(frozen=True)
class Item:
    """A tensor, an operation or the left-out marker, as drawn."""

    id: str  # unique in the diagram, from object identity: "t…" tensors, "n…" operations
    kind: str
    name: str  # the tensor's name, the operation's title, the marker's text
    lines: tuple[Line, ...] = ()
    highlighted: bool = False


@dataclass(frozen=True)
class Edge:
    """An arrow between two items, in the direction the values flow."""

    source: str
    target: str
    kind: str
    label: tuple[str, ...] = ()  # lines of text; empty for none
    highlighted: bool = False


@dataclass
class View:
    """Everything a diagram shows, in drawing order."""

    items: dict[str, Item]  # by id
    edges: list[Edge]
    clusters: dict[str | None, list[str]]  # name scope → ids of its items; None: outside every scope
    chain_rule: list[str] = field(default_factory=list)  # lines, when a tensor is highlighted
    notes: list[str] = field(default_factory=list)
    grad_notes: list[str] = field(default_factory=list)  # whose gradients .grad holds, when not only this root's
    legend: list[str] = field(default_factory=list)  # entries in use, in the legend's order
    left_out: int = 0  # tensors and operations of the graph not drawn
    ranks: int = 1  # items on the longest chain of edges: how wide a left-to-right layout is


LEGEND_ORDER = (
    "parameter",
    "data",
    "intermediate",
    "loss",
    "node",
    "gradient label",
    "data edge",
    "shortcut",
    "highlight",
)


def build(
    root: Tensor,
    *,
    show_values: bool = False,
    show_grads: bool = True,
    highlight: Tensor | None = None,
    max_nodes: int | None = 200,
    max_depth: int | None = None,
) -> View:
    """The view of the graph that produced ``root``; the parameters are those of ``tinygraph.draw``."""
    max_nodes = _check_limit(max_nodes, "max_nodes", smallest=1)
    max_depth = _check_limit(max_depth, "max_depth", smallest=0)
    graph = _collect(root, max_nodes, max_depth)
    names = _names(graph)
    path: set[int] = set()
    chain: list[str] = []
    if highlight is not None:
        path, chain = _on_path(graph, highlight, names), _chain_rule(graph, highlight, names)
    items, copies = _items(graph, names, path, show_values, show_grads)
    edges = _edges(graph, names, path, show_grads)
    ranks = _ranks(edges)
    clusters = _clusters(graph, copies)
    if graph.cut:
        clusters[None].append(LEFT_OUT)
    used = {item.kind for item in items.values()} | {"node"} | ({"highlight"} if path else set())
    used |= {"data edge" if edge.kind == "data" else edge.kind for edge in edges}
    used |= {"gradient label"} if any(edge.label for edge in edges) else set()
    return View(
        items=items,
        edges=edges,
        clusters=clusters,
        chain_rule=chain,
        notes=_notes(graph, names, show_grads),
        grad_notes=_grad_notes(graph, names, show_grads),
        legend=[entry for entry in LEGEND_ORDER if entry in used],
        left_out=graph.left_out,
        ranks=ranks,
    )


def _check_limit(value: Any, name: str, smallest: int) -> int | None:
    """``value`` as an int at least ``smallest``, or None; a clear error otherwise."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an integer or None, got {value!r}")
    try:
        number = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer or None, got {value!r}") from None
    if number < smallest:
        raise ValueError(f"{name} must be at least {smallest} (or None for no limit), got {number}")
    return number


# ============================================================ collection: what is drawn


@dataclass
class _Graph:
    """The part of the graph to draw: tensors and operations kept, the edges between them."""

    root: Tensor
    tensors: list[Tensor] = field(default_factory=list)  # nearest the root first
    nodes: list[Node] = field(default_factory=list)
    output: dict[int, Tensor] = field(default_factory=dict)  # id(node) → the tensor it produced
    inputs: list[tuple[Tensor, Node, int]] = field(default_factory=list)  # input edges kept
    cut: list[Tensor | Node] = field(default_factory=list)  # kept items with a neighbour left out
    depth: dict[int, int] = field(default_factory=dict)  # id(node) → operations between it and the root
    shared: dict[int, list[Node]] = field(default_factory=dict)  # id(leaf) → its users, when drawn per use
    total: int = 0  # tensors and operations in the whole graph

    @property
    def left_out(self) -> int:
        return self.total - len(self.tensors) - len(self.nodes)


def _collect(root: Tensor, max_nodes: int | None, max_depth: int | None) -> _Graph:
    """Walk back from ``root`` breadth first, without recursion, keeping what lies within the cut.

    Breadth first means the items nearest the root come first, so a cut by count keeps whole
    layers next to the loss. The whole graph is still walked, to count what was left out. Every
    step is a dict or set look-up, so the work grows with the size of the graph, however many
    operations share one leaf.
    """
    order: list[tuple[Tensor | Node, int]] = []  # (item, depth) nearest the root first
    seen = {id(root)}
    queue: deque[tuple[Tensor, int]] = deque([(root, 0)])
    while queue:
        tensor, depth = queue.popleft()
        order.append((tensor, depth))
        node = tensor.node
        if node is None:
            continue
        order.append((node, depth))
        for parent in node.inputs:
            if id(parent) not in seen:
                seen.add(id(parent))
                queue.append((parent, depth + 1))

    # A tensor at depth d is d operations away from the root; an operation is drawn only when
    # its inputs are too.
    within = [
        item for item, depth in order if max_depth is None or depth + isinstance(item, Node) <= max_depth
    ]
    graph = _Graph(root, total=len(order))
    for item in within[:max_nodes]:
        (graph.tensors if isinstance(item, Tensor) else graph.nodes).append(item)
    graph.depth = {id(item): depth for item, depth in order if isinstance(item, Node)}
    _connect(graph)
    _share(graph)
    return graph


def _connect(graph: _Graph) -> None:
    """Record the edges between kept items, and which kept items lost a neighbour to the cut."""
    kept = {id(t) for t in graph.tensors}
    nodes = {id(n) for n in graph.nodes}
    for tensor in graph.tensors:
        if tensor.node is not None:
            if id(tensor.node) in nodes:
                graph.output[id(tensor.node)] = tensor
            else:
                graph.cut.append(tensor)
    for node in graph.nodes:
        graph.inputs += [(parent, node, i) for i, parent in enumerate(node.inputs) if id(parent) in kept]
        if any(id(parent) not in kept for parent in node.inputs):
            graph.cut.append(node)


def _share(graph: _Graph) -> None:
    """Find the leaves to draw once per use: those used by many operations far apart in the graph.

    A parameter shared by every step of an unrolled network would otherwise have edges stretching
    across the whole drawing, which makes the diagram unreadable and dot's layout take minutes.
    Any other leaf is one ellipse with an edge to each user, so that the reader sees where its
    gradients add up: the diamond, or a weight used in its layer and in the penalty.
    """
    users: dict[int, dict[int, Node]] = {}  # id(leaf) → its users by id, in order of first use
    for tensor, node, _ in graph.inputs:
        if tensor.node is None:
            users.setdefault(id(tensor), {}).setdefault(id(node), node)
    for tensor_id, nodes in users.items():
        depths = [graph.depth[node_id] for node_id in nodes]
        if len(nodes) > MAX_USES and max(depths) - min(depths) > MAX_SPAN:
            graph.shared[tensor_id] = list(nodes.values())


# ============================================================ names


def _names(graph: _Graph) -> dict[int, str]:
    """A display name for every kept tensor: its own, or one made from what it is (see ``draw``)."""
    consumers: dict[int, Node] = {id(t): n for t, n, _ in reversed(graph.inputs)}
    names: dict[int, str] = {}
    made: dict[int, str] = {}
    for tensor in graph.tensors:
        if tensor.name is not None and not isinstance(tensor.name, str):
            raise TypeError(
                f"a tensor's name must be a str or None, got {type(tensor.name).__name__} {tensor.name!r}"
            )
        if tensor.name:
            names[id(tensor)] = tensor.name
        else:
            made[id(tensor)] = _made_name(tensor, consumers.get(id(tensor)))
    counts: dict[str, int] = {}
    for name in [*names.values(), *made.values()]:
        counts[name] = counts.get(name, 0) + 1
    numbered: dict[str, int] = {}
    for tensor in reversed(graph.tensors):  # inputs first, so z₁ is the first layer's net input
        base = made.get(id(tensor))
        if base is not None and counts[base] > 1 and not _reads_as_number(base):
            numbered[base] = numbered.get(base, 0) + 1
            names[id(tensor)] = base + str(numbered[base]).translate(_SUBSCRIPTS)
        elif base is not None:
            names[id(tensor)] = base
    return names


_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _made_name(tensor: Tensor, consumer: Node | None) -> str:
    node = tensor.node
    if node is not None:
        left = _formula(node).split(" = ")[0].strip()
        return left if left and len(left) <= 8 and "=" not in left else _title(node).lower()
    if tensor.size == 1 and not tensor.requires_grad and tensor.dtype.kind in "biuf":
        return f"{tensor.data.item():g}"  # a constant, such as the 2 of 2 * x
    if tensor.requires_grad:
        return "θ"
    is_target = isinstance(consumer, Loss) and len(consumer.inputs) > 1 and consumer.inputs[1] is tensor
    return "y" if is_target else "x"


def _reads_as_number(text: str) -> bool:
    """Whether a made name is a constant's value ("2", "0.5"), which is never numbered."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def _title(node: Node) -> str:
    """The name on an operation's box: its class's title, else the class name."""
    return node.title or type(node).__name__


def _formula(node: Node) -> str:
    return str(node.formula or "")


def renamed(
    names: dict[int, str], node: Node, text: str, index: int | None = None, output: Tensor | None = None
) -> str:
    """``text``, the node's formula or its local derivative for input ``index``, in the graph's names.

    Each input's symbol (``Node.symbols``) becomes that tensor's name and the formula's left side
    the output's: Linear's ``z = x @ w + b`` reads ``z₂ = a₁ @ W2 + b2``, its derivative for w
    ``a₁``. A symbol standing for several inputs (the penalty's w) is renamed only in the
    derivative of one of them. ``names`` maps id(tensor) to its name (``_local.names``); ``output``
    is the tensor the node produced, whose name replaces the formula's left side.
    """
    symbols = node.symbols
    if not text or not symbols:
        return text
    left = _left_side(_formula(node))
    parts = _template(text, (*symbols, left) if left else tuple(symbols))
    if len(parts) == 1:  # no symbol in it
        return text
    mapping: dict[str, str] = {}
    for symbol, tensor in zip(symbols, node.inputs):
        name = names.get(id(tensor))
        if name is not None:
            mapping[symbol] = name if mapping.get(symbol, name) == name else symbol
    if index is not None and index < len(symbols) and id(node.inputs[index]) in names:
        mapping[symbols[index]] = names[id(node.inputs[index])]
    if left and left not in mapping and output is not None and id(output) in names:
        mapping[left] = names[id(output)]
    return "".join(part if k % 2 == 0 else mapping.get(part, part) for k, part in enumerate(parts))


@functools.lru_cache(maxsize=256)
def _left_side(formula: str) -> str:
    """The symbol a formula assigns to when it is one letter (z, a, L, ŷ), else ""."""
    left = formula.split(" = ")[0].strip()
    return left if _SYMBOL.fullmatch(left) else ""


_SYMBOL = re.compile(r"[^\W\d_]")


@functools.lru_cache(maxsize=256)
def _template(text: str, symbols: tuple[str, ...]) -> tuple[str, ...]:
    """``text`` split around the symbols standing alone (not inside "max" or "y_k"): odd parts are symbols."""
    alternatives = "|".join(map(re.escape, sorted(set(symbols), key=len, reverse=True)))
    return tuple(re.split(rf"(?<![A-Za-z0-9_])({alternatives})(?![A-Za-z0-9_])", text))


def _derivative(graph: _Graph, names: dict[int, str], node: Node, index: int) -> str | None:
    """The local derivative for input ``index`` in the graph's names; None if the node gives none."""
    derivative = _local_derivative(node, index)
    return derivative and renamed(names, node, derivative, index, graph.output.get(id(node)))


# ============================================================ items, edges, clusters


def _id(item: Tensor | Node) -> str:
    """An id from object identity: everything in a drawn graph is alive, so ids are unique."""
    return f"{'t' if isinstance(item, Tensor) else 'n'}{id(item)}"


def _source(graph: _Graph, tensor: Tensor, user: Node) -> str:
    """The id of ``tensor`` where ``user`` takes it as input (a shared leaf has one per use)."""
    if id(tensor) not in graph.shared:
        return _id(tensor)
    return f"{_id(tensor)}_{_id(user)}"


def _kind(tensor: Tensor, root: Tensor) -> str:
    if tensor is root:
        return "loss"
    if tensor.node is None:
        return "parameter" if tensor.requires_grad else "data"
    return "intermediate"


def _items(
    graph: _Graph, names: dict[int, str], path: set[int], show_values: bool, show_grads: bool
) -> tuple[dict[str, Item], dict[int, list[str]]]:
    """Every item drawn, by id, and for each shared leaf the ids of its copies."""
    items: dict[str, Item] = {}
    copies: dict[int, list[str]] = {}
    root = names[id(graph.root)]
    for tensor in graph.tensors:
        name = names[id(tensor)]
        lines = [Line(f"{'scalar' if tensor.ndim == 0 else tensor.shape} {tensor.dtype}", "shape")]
        if show_values:
            lines.append(Line(values_text(tensor.data), "values"))
        source = _root_grad(tensor, graph.root) if show_grads else None
        if source is not None:
            lines += [Line(text, "gradient") for text in _grad_lines(source.grad, f"∂{root}/∂{name}")]
            if source.calls > 1:
                lines.append(Line(f"accumulated over {source.calls} calls", "gradient"))
        kind, highlighted = _kind(tensor, graph.root), id(tensor) in path
        users = graph.shared.get(id(tensor))
        if users is None:
            items[_id(tensor)] = Item(_id(tensor), kind, name, tuple(lines), highlighted)
            continue
        copies[id(tensor)] = [_source(graph, tensor, user) for user in users]
        shared = (*lines, Line("shared: drawn again at each use", "shared"))
        for copy in copies[id(tensor)]:
            items[copy] = Item(copy, kind, name, shared, highlighted)
    for node in graph.nodes:
        formula = renamed(names, node, _formula(node), output=graph.output.get(id(node)))
        lines = (Line(formula, "formula"),) if formula else ()
        items[_id(node)] = Item(_id(node), "operation", _title(node), lines, id(node) in path)
    if graph.cut:
        items[LEFT_OUT] = Item(LEFT_OUT, "left out", f"⋯ {graph.left_out:,} more")
    return items, copies


def _root_grad(tensor: Tensor, root: Tensor) -> engine.GradSource | None:
    """Where ``tensor.grad`` came from, when it came from backward calls of ``root`` alone; else None."""
    return root_grad(tensor, root, "")[0]


def root_grad(tensor: Tensor, root: Tensor, root_name: str) -> tuple[engine.GradSource | None, str | None]:
    """``tensor.grad``'s source when backward calls of ``root`` alone wrote it; else why it is not shown.

    Returns (source, None) for a gradient of ``root``, (None, why) for one that is not (``why``
    completes "``.grad`` ..."), and (None, None) when ``.grad`` is None. Diagrams, ``tg.trace``
    and ``tg.explain`` show a gradient only in the first case.
    """
    if tensor.grad is None:
        return None, None
    source = engine.grad_source(tensor)
    if source is None:
        return None, "was set outside backward()"
    if source.root is None:
        return None, "adds up backward() calls of different tensors"
    if source.root() is not root:
        return None, f"is from backward() of another tensor, not of {root_name}"
    return source, None


def _grad_lines(grad: np.ndarray, symbol: str) -> list[str]:
    """dL/dt: its values when small (on a line of their own when long), else its norm."""
    if grad.size > SMALL:
        return [f"‖{symbol}‖ = {_number(float(np.linalg.norm(grad.ravel())))}"]
    values = values_text(grad)
    return [f"{symbol} = {values}"] if len(values) <= 12 else [f"{symbol} =", values]


def values_text(array: np.ndarray) -> str:
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


def _edges(graph: _Graph, names: dict[int, str], path: set[int], show_grads: bool) -> list[Edge]:
    """Output edges, then input edges, then the marker's edges to what lost a neighbour to the cut."""
    edges = [
        Edge(f"n{node_id}", _id(tensor), "output", (), node_id in path) for node_id, tensor in graph.output.items()
    ]
    for tensor, node, index in graph.inputs:
        kind, label = _input_edge(graph, names, tensor, node, index, show_grads)
        highlighted = id(tensor) in path and id(node) in path
        edges.append(Edge(_source(graph, tensor, node), _id(node), kind, label, highlighted))
    edges += [Edge(LEFT_OUT, _id(item), "left out") for item in graph.cut]  # a leaf is never cut: no copies
    return edges


def _input_edge(
    graph: _Graph, names: dict[int, str], tensor: Tensor, node: Node, index: int, show_grads: bool
) -> tuple[str, tuple[str, ...]]:
    """The kind of an input edge, and its label: the local derivative, where a gradient flows."""
    if not tensor.requires_grad:
        return "data", ()
    shown = _shown_for(node, index)
    kind = "gradient" if shown is None else "shortcut"
    derivative = _derivative(graph, names, node, index)
    if not show_grads or not derivative:
        return kind, ()
    out, name = names[id(graph.output[id(node)])], names[id(tensor)]
    symbol = f"∂{out}/∂{name} ="
    label = (f"{symbol} {derivative}",) if len(derivative) <= 10 else (symbol, derivative)
    if shown is not None:
        middle = names.get(id(node.inputs[shown]), "?")
        label += (f"(∂{out}/∂{middle} · ∂{middle}/∂{name} cancelled)",)
    return kind, label


def _ranks(edges: list[Edge]) -> int:
    """How many items the longest chain of edges passes through (what dot lays out side by side).

    Kahn's order over the edges that shape the layout: not the left-out marker's nor the shortcuts.
    """
    after: dict[str, list[str]] = {}
    waiting: dict[str, int] = {}
    for edge in edges:
        if edge.kind not in ("left out", "shortcut"):
            after.setdefault(edge.source, []).append(edge.target)
            waiting[edge.target] = waiting.get(edge.target, 0) + 1
    length = {item: 1 for item in after if item not in waiting}
    ready = deque(length)
    while ready:
        item = ready.popleft()
        for target in after.get(item, ()):
            length[target] = max(length.get(target, 1), length[item] + 1)
            waiting[target] -= 1
            if waiting[target] == 0:
                ready.append(target)
    return max(length.values(), default=1)


def _clusters(graph: _Graph, copies: dict[int, list[str]]) -> dict[str | None, list[str]]:
    """Item ids grouped by the name_scope they belong to (None: outside every scope).

    An operation belongs to its scope, a tensor to the scope of the operation that produced it,
    and a parameter to the scope of the operations using it when they all share one; data stays
    outside, since a model is given its data.
    """
    scope_of: dict[int, str | None] = {id(n): _scope(n) for n in graph.nodes}
    users: dict[int, set[str | None]] = {}
    for tensor, node, _ in graph.inputs:
        users.setdefault(id(tensor), set()).add(scope_of[id(node)])
    groups: dict[str | None, list[str]] = {None: []}
    for tensor in graph.tensors:
        if tensor.node is not None and id(tensor.node) in scope_of:
            scope = scope_of[id(tensor.node)]
        else:
            scopes = users.get(id(tensor), set())
            is_parameter = tensor.node is None and tensor.requires_grad
            scope = next(iter(scopes)) if is_parameter and len(scopes) == 1 else None
        groups.setdefault(scope, []).extend(copies.get(id(tensor), [_id(tensor)]))
    for node in graph.nodes:
        groups.setdefault(scope_of[id(node)], []).append(_id(node))
    return groups


def _scope(node: Node) -> str | None:
    scope = node.scope
    if scope is not None and not isinstance(scope, str):
        raise TypeError(f"a name_scope label must be a str, got {type(scope).__name__} {scope!r}")
    return scope


# ============================================================ the cancellation rule


def _shown_for(node: Node, index: int) -> int | None:
    """For an input receiving a cancelled product, the input whose gradient is only shown; else None.

    Read from the node's class: ``cancels = {shown: receiver}`` (see ``Node.cancels``).
    """
    return next((shown for shown, receiver in type(node).cancels.items() if receiver == index), None)


def _local_derivative(node: Node, index: int) -> str | None:
    """The node's local derivative for input ``index`` as a slide writes it; None if it has none."""
    derivatives = node.local_derivatives or ()
    return derivatives[index] if index < len(derivatives) else None


# ============================================================ highlight and the chain rule


def _on_path(graph: _Graph, start: Tensor, names: dict[int, str]) -> set[int]:
    """Ids of the tensors and operations on some path from ``start`` to the root."""
    if id(start) not in names:
        tensor = f"the tensor {start.name!r}" if start.name else "this tensor"
        where = (
            "the drawn part of the graph (raise max_nodes or max_depth)" if graph.left_out else "this graph"
        )
        raise ValueError(f"highlight: {tensor} is not part of {where}")
    reached = {id(start)}
    queue = deque([start])
    consumers = _consumers(graph)
    while queue:
        tensor = queue.popleft()
        for node, _ in consumers.get(id(tensor), ()):
            out = graph.output[id(node)]
            reached.add(id(node))
            if id(out) not in reached:
                reached.add(id(out))
                queue.append(out)
    return reached


def _consumers(graph: _Graph) -> dict[int, list[tuple[Node, int]]]:
    """id(tensor) → the drawn operations taking it as input, with the input's index."""
    consumers: dict[int, list[tuple[Node, int]]] = {}
    for tensor, node, index in graph.inputs:
        if id(node) in graph.output:
            consumers.setdefault(id(tensor), []).append((node, index))
    return consumers


def _chain_rule(graph: _Graph, start: Tensor, names: dict[int, str]) -> list[str]:
    """The lines ∂L/∂w = ∂L/∂a · ∂a/∂z · ∂z/∂w = [factors] (= the cancelled form) along one path."""
    steps = _one_path(graph, start)
    if not steps:
        return []
    root = names[id(graph.root)]
    symbols = [f"∂{names[id(graph.output[id(n)])]}/∂{names[id(t)]}" for t, n, _ in steps]
    lines = [f"∂{root}/∂{names[id(start)]} = " + " · ".join(symbols)]
    factors = [_derivative(graph, names, n, i) for _, n, i in steps]
    if all(factors):
        lines.append("= " + " · ".join(_factor(f) for f in factors))
        cancelled, merged = _cancel(graph, names, steps, factors)
        if merged:
            why = "; ".join(f"{symbols[k]} · {symbols[k + 1]} = {derivative}" for k, derivative in merged)
            lines.append("= " + " · ".join(_factor(f) for f in cancelled) + f"   (shortcut: {why})")
    paths = _count_paths(graph, start)
    if paths > 1:
        where = " in the drawn part" if graph.left_out else ""
        lines.append(f"(one of {paths} paths from {names[id(start)]}{where}: their products add up)")
    return lines


def _one_path(graph: _Graph, start: Tensor) -> list[tuple[Tensor, Node, int]]:
    """The steps (input, operation, input index) of one path from ``start`` to the root, root first.

    Shortcut edges are avoided, so the path is the one the lecture writes; breadth first, so it
    is a shortest one. When ``start`` reaches the data loss (the loss node nearest the root), the
    path goes through it: for a weight under a penalty, J = L + R, the chain rule through the
    network, not the penalty's one step.
    """
    loss = next((graph.output[id(n)] for n in graph.nodes if isinstance(n, Loss) and id(n) in graph.output), None)
    if loss is not None and loss is not graph.root and loss is not start:
        to_loss = _shortest(graph, start, loss)
        if to_loss:
            return _shortest(graph, loss, graph.root) + to_loss
    return _shortest(graph, start, graph.root)


def _shortest(graph: _Graph, start: Tensor, end: Tensor) -> list[tuple[Tensor, Node, int]]:
    """The steps of a shortest path from ``start`` to ``end`` without shortcut edges, ``end`` first."""
    consumers = _consumers(graph)
    came_from: dict[int, tuple[Tensor, Node, int]] = {}
    queue = deque([start])
    while queue and id(end) not in came_from:
        tensor = queue.popleft()
        for node, index in consumers.get(id(tensor), ()):
            out = graph.output[id(node)]
            if _shown_for(node, index) is None and id(out) not in came_from and out is not start:
                came_from[id(out)] = (tensor, node, index)
                queue.append(out)
    steps, tensor = [], end
    while tensor is not start and id(tensor) in came_from:
        steps.append(came_from[id(tensor)])
        tensor = steps[-1][0]
    return steps if tensor is start else []


def _count_paths(graph: _Graph, start: Tensor) -> int:
    """How many paths lead from ``start`` to the root (shortcut edges not counted).

    Kahn's topological order over what ``start`` reaches: a tensor's count is final once every
    edge into it has been added.
    """
    consumers = _consumers(graph)
    steps: dict[int, list[Tensor]] = {}  # id(tensor) → the outputs its edges lead to, one per edge
    waiting: dict[int, int] = {}  # id(tensor) → edges into it not yet counted
    queue, seen = deque([start]), {id(start)}
    while queue:
        tensor = queue.popleft()
        for node, index in consumers.get(id(tensor), ()):
            if _shown_for(node, index) is None:
                out = graph.output[id(node)]
                steps.setdefault(id(tensor), []).append(out)
                waiting[id(out)] = waiting.get(id(out), 0) + 1
                if id(out) not in seen:
                    seen.add(id(out))
                    queue.append(out)
    ways = {id(start): 1}
    ready = deque([start])
    while ready:
        tensor = ready.popleft()
        for out in steps.get(id(tensor), ()):
            ways[id(out)] = ways.get(id(out), 0) + ways[id(tensor)]
            waiting[id(out)] -= 1
            if waiting[id(out)] == 0:
                ready.append(out)
    return ways.get(id(graph.root), 0)


def _cancel(
    graph: _Graph, names: dict[int, str], steps: list[tuple[Tensor, Node, int]], factors: list[str | None]
) -> tuple[list[str | None], list[tuple[int, str]]]:
    """Replace two factors by the derivative a node's cancellation rule sends past them.

    BCE after a sigmoid: ∂L/∂a · ∂a/∂z = (a − y)/(a(1 − a)) · a(1 − a) becomes (a − y), the
    derivative the node gives its input z (``cancels = {0: 2}``), when the step after a on the
    path is the one from z. Returns the factors, and the merged pairs as (the position of their
    first step, the derivative replacing them).
    """
    out: list[str | None] = []
    merged: list[tuple[int, str]] = []
    k = 0
    while k < len(steps):
        _, node, index = steps[k]
        receiver = type(node).cancels.get(index)
        passes = receiver is not None and k + 1 < len(steps) and node.inputs[receiver] is steps[k + 1][0]
        derivative = _derivative(graph, names, node, receiver) if passes else None
        if derivative:
            out.append(derivative)
            merged.append((k, derivative))
            k += 2
        else:
            out.append(factors[k])
            k += 1
    return out, merged


def _factor(expression: str | None) -> str:
    """``expression`` bracketed when it has an operator outside parentheses, so a product reads right."""
    expression = expression or ""
    depth = 0
    for char in expression:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == " " and depth == 0:
            return f"[{expression}]"
    return expression


# ============================================================ notes


def _grad_notes(graph: _Graph, names: dict[int, str], show_grads: bool) -> list[str]:
    """Which .grad are not shown because other calls wrote them, and which add up several calls."""
    if not show_grads:
        return []
    root = names[id(graph.root)]
    foreign: dict[str, list[str]] = {}  # why a gradient is not shown → the tensors' names
    accumulated: dict[int, list[str]] = {}  # calls → the tensors' names
    for t in reversed(graph.tensors):
        if t.requires_grad and t is not graph.root:
            source, why = root_grad(t, graph.root, root)
            if why is not None:
                foreign.setdefault(why, []).append(names[id(t)])
            elif source is not None and source.calls > 1:
                accumulated.setdefault(source.calls, []).append(names[id(t)])
    lines = [
        f"no gradient shown for {_listed(which)}: .grad {why} (set .grad = None, then {root}.backward())"
        for why, which in foreign.items()
    ]
    lines += [
        f"the gradients of {_listed(which)} are accumulated over {calls} calls of {root}.backward()"
        for calls, which in accumulated.items()
    ]
    return lines


def _listed(names: list[str]) -> str:
    return ", ".join(names[:4]) + (", …" if len(names) > 4 else "")


def _notes(graph: _Graph, names: dict[int, str], show_grads: bool) -> list[str]:
    """What the reader should know is missing from the diagram: gradients not kept, the cut."""
    lines = []
    if show_grads:
        missing = [
            names[id(t)]
            for t in reversed(graph.tensors)
            if t.requires_grad and t.grad is None and t is not graph.root
        ]
        if missing:
            root = names[id(graph.root)]
            shown = ", ".join(f"∂{root}/∂{m}" for m in missing[:4]) + (", …" if len(missing) > 4 else "")
            lines.append(f"run backward(retain_grads=True) on the loss to see {shown}")
    if graph.left_out:
        drawn = len(graph.tensors) + len(graph.nodes)
        lines.append(
            f"{graph.left_out:,} of the graph's {graph.total:,} tensors and operations left out: "
            f"only the {drawn:,} nearest the root are drawn (change max_nodes= or max_depth=)"
        )
    return lines
