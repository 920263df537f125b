"""What a diagram shows, before any styling: the part of the graph to draw, names, paths, the chain rule.

``tinygraph.draw`` turns this into Graphviz attributes. Everything here is plain data about the
graph: which tensors and operations are kept (an iterative walk back from the root, cut to a
size dot can lay out in seconds), what each tensor is called, which items lie on a path from a
highlighted tensor, and the lines of text the diagram writes above the drawing.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from tinygraph.node import Node
from tinygraph.tensor import Tensor

MAX_SPAN = 3  # a leaf whose users lie further apart than this many operations is drawn per use


# ============================================================ collection: what is drawn


@dataclass
class Graph:
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


def collect(root: Tensor, max_nodes: int | None, max_depth: int | None) -> Graph:
    """Walk back from ``root`` breadth first, without recursion, keeping what lies within the cut.

    Breadth first means the items nearest the root come first, so a cut by count keeps whole
    layers next to the loss. The whole graph is still walked, to count what was left out.
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
    graph = Graph(root, total=len(order))
    for item in within[:max_nodes]:
        (graph.tensors if isinstance(item, Tensor) else graph.nodes).append(item)
    graph.depth = {id(item): depth for item, depth in order if isinstance(item, Node)}
    _connect(graph)
    _share(graph)
    return graph


def _connect(graph: Graph) -> None:
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


def _share(graph: Graph) -> None:
    """Find the leaves to draw once per use: those used by operations far apart in the graph.

    A parameter shared by every step of an unrolled network would otherwise have edges stretching
    across the whole drawing, which makes the diagram unreadable and dot's layout take minutes.
    A leaf used twice nearby (the diamond where gradients add up) stays one ellipse.
    """
    users: dict[int, list[Node]] = {}
    for tensor, node, _ in graph.inputs:
        if tensor.node is None and node not in users.get(id(tensor), ()):
            users.setdefault(id(tensor), []).append(node)
    for tensor_id, nodes in users.items():
        depths = [graph.depth[id(n)] for n in nodes]
        if max(depths) - min(depths) > MAX_SPAN:
            graph.shared[tensor_id] = nodes


# ============================================================ names


def names_of(graph: Graph) -> dict[int, str]:
    """A display name for every kept tensor: its own, or one made from what it is (see ``draw``)."""
    consumers: dict[int, Node] = {id(t): n for t, n, _ in reversed(graph.inputs)}
    names: dict[int, str] = {}
    made: dict[int, str] = {}
    for tensor in graph.tensors:
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
        if base is not None and counts[base] > 1 and not _is_number(base):
            numbered[base] = numbered.get(base, 0) + 1
            names[id(tensor)] = base + str(numbered[base]).translate(_SUBSCRIPTS)
        elif base is not None:
            names[id(tensor)] = base
    return names


_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _made_name(tensor: Tensor, consumer: Node | None) -> str:
    node = tensor.node
    if node is not None:
        left = str(getattr(node, "formula", "") or "").split(" = ")[0].strip()
        return left if left and len(left) <= 8 and "=" not in left else type(node).__name__.lower()
    if tensor.size == 1 and not tensor.requires_grad and tensor.dtype.kind in "biuf":
        return f"{tensor.data.item():g}"  # a constant, such as the 2 of 2 * x
    if tensor.requires_grad:
        return "θ"
    is_target = consumer is not None and str(getattr(consumer, "formula", "")).startswith("L =")
    return "y" if is_target and consumer.inputs[0] is not tensor else "x"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# ============================================================ highlight and the chain rule


def on_path(graph: Graph, start: Tensor, names: dict[int, str]) -> set[int]:
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


def _consumers(graph: Graph) -> dict[int, list[tuple[Node, int]]]:
    """id(tensor) → the drawn operations taking it as input, with the input's index."""
    consumers: dict[int, list[tuple[Node, int]]] = {}
    for tensor, node, index in graph.inputs:
        if id(node) in graph.output:
            consumers.setdefault(id(tensor), []).append((node, index))
    return consumers


def chain_rule(graph: Graph, start: Tensor, names: dict[int, str]) -> list[str]:
    """The lines ∂L/∂w = ∂L/∂a · ∂a/∂z · ∂z/∂w = [factors] (= the cancelled form) along one path."""
    steps = _one_path(graph, start)
    if not steps:
        return []
    root = names[id(graph.root)]
    symbols = [f"∂{names[id(graph.output[id(n)])]}/∂{names[id(t)]}" for t, n, _ in steps]
    lines = [f"∂{root}/∂{names[id(start)]} = " + " · ".join(symbols)]
    factors = [local_derivative(n, i) for _, n, i in steps]
    if all(factors):
        lines.append("= " + " · ".join(_factor(f) for f in factors))
        cancelled, merged = _cancel(steps, factors)
        if merged:
            why = "; ".join(f"{symbols[k]} · {symbols[k + 1]} = {derivative}" for k, derivative in merged)
            lines.append("= " + " · ".join(_factor(f) for f in cancelled) + f"   (shortcut: {why})")
    paths = _count_paths(graph, start)
    if paths > 1:
        where = " in the drawn part" if graph.left_out else ""
        lines.append(f"(one of {paths} paths from {names[id(start)]}{where}: their products add up)")
    return lines


def _one_path(graph: Graph, start: Tensor) -> list[tuple[Tensor, Node, int]]:
    """The steps (input, operation, input index) of one path from ``start`` to the root, root first.

    Shortcut edges are avoided, so the path is the one the lecture writes; breadth first, so it
    is a shortest one.
    """
    consumers = _consumers(graph)
    came_from: dict[int, tuple[Tensor, Node, int]] = {}
    queue = deque([start])
    while queue and id(graph.root) not in came_from:
        tensor = queue.popleft()
        for node, index in consumers.get(id(tensor), ()):
            out = graph.output[id(node)]
            if not is_shortcut(node, index) and id(out) not in came_from and out is not start:
                came_from[id(out)] = (tensor, node, index)
                queue.append(out)
    steps, tensor = [], graph.root
    while tensor is not start and id(tensor) in came_from:
        steps.append(came_from[id(tensor)])
        tensor = steps[-1][0]
    return steps if tensor is start else []


def _count_paths(graph: Graph, start: Tensor) -> int:
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
            if not is_shortcut(node, index):
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
    steps: list[tuple[Tensor, Node, int]], factors: list[str]
) -> tuple[list[str], list[tuple[int, str]]]:
    """Replace two factors by a node's shortcut derivative where it sends their product straight back.

    BCE after a sigmoid: ∂L/∂a · ∂a/∂z = (a − y)/(a(1 − a)) · a(1 − a) becomes (a − y), the
    derivative BCE gives its hidden input z. Returns the factors, and the merged pairs as (the
    position of their first step, the derivative replacing them).
    """
    out: list[str] = []
    merged: list[tuple[int, str]] = []
    k = 0
    while k < len(steps):
        _, node, index = steps[k]
        j = _shortcut_target(node, index, steps[k + 1][0]) if k + 1 < len(steps) else None
        derivative = local_derivative(node, j) if j is not None else None
        if derivative:
            out.append(derivative)
            merged.append((k, derivative))
            k += 2
        else:
            out.append(factors[k])
            k += 1
    return out, merged


def _shortcut_target(node: Node, index: int, earlier: Tensor) -> int | None:
    """The input of ``node`` that is ``earlier`` and takes the shortcut past input ``index``, if any."""
    shown = node.inputs[index]
    return next(
        (j for j, t in enumerate(node.inputs) if t is earlier and shortcut_of(node, j) is shown), None
    )


def is_shortcut(node: Node, index: int) -> bool:
    """True for an input that receives a shortcut gradient (BCE's hidden net input z)."""
    return shortcut_of(node, index) is not None


def shortcut_of(node: Node, index: int) -> Tensor | None:
    """For a shortcut input, the tensor whose two steps it skips (a, for BCE's hidden z).

    Read from the class's cancellation rule ``cancels = {shown: receiver}`` (SigmoidBCE: {0: 2}).
    """
    for shown, receiver in type(node).cancels.items():
        if receiver == index:
            return node.inputs[shown]
    return None


def local_derivative(node: Node, index: int) -> str | None:
    """The node's local derivative for input ``index`` as a slide writes it; None if it has none."""
    derivatives = getattr(node, "local_derivatives", None) or ()
    return derivatives[index] if index < len(derivatives) else None


def _factor(expression: str) -> str:
    """``expression`` bracketed when it has an operator outside parentheses, so a product reads right."""
    depth = 0
    for char in expression:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == " " and depth == 0:
            return f"[{expression}]"
    return expression


# ============================================================ notes


def notes(graph: Graph, names: dict[int, str], show_grads: bool) -> list[str]:
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
