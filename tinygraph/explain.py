"""Explain one gradient: every path from a tensor to the root, the chain rule along each, their sum.

``tg.explain(w, loss)`` lists each path w → … → loss with the local derivative of every edge, as
the node's formula and as the value it has in this graph, and the product of the path: what the
loss's gradient would be if that path were the only one. Where a tensor is used several times
(x * x, a weight in its layer and in the penalty) there are several paths, and backward's
gradient is their sum; the explanation adds them up and compares with ``.grad``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tinygraph import _local, engine, view
from tinygraph.node import Node
from tinygraph.tensor import Tensor

ENUMERATED = 2000  # paths beyond this many are counted, not listed one by one
TOLERANCE = 1e-12


@dataclass(frozen=True)
class Factor:
    """One edge of a path: ∂out/∂in, as the node's formula and as its value here."""

    symbol: str  # ∂a/∂z
    formula: str | None  # a(1 − a)
    value: object  # its value (an array, a number or None)
    cancelled: str | None = None  # for the product of two cancelling factors, the node that sends it


@dataclass
class Path:
    """One path from the tensor to the root: its tensors, its factors (root first), its product."""

    tensors: list[Tensor]
    nodes: list[Node]
    edges: list[tuple[Tensor, Node, int]]  # (input, node, input index), from the tensor up
    factors: list[Factor] = field(default_factory=list)
    product: np.ndarray | None = None  # the gradient the root would send along this path alone


class Explanation:
    """What ``explain`` found: the paths, their products and sum, and how ``.grad`` compares.

    Attributes
    ----------
    paths : list of Path
        The paths shown: all of them, or the largest few when there are too many.
    count : int
        How many paths lead from the tensor to the root.
    total : ndarray or None
        The sum of every path's product; None when there were too many to list.
    grad : ndarray or None
        The tensor's ``.grad`` when explained, if backward calls of the root wrote it; else None.
    calls : int
        How many backward calls of the root added up in ``grad`` (each adds the same sum again).
    not_shown : str or None
        Why ``.grad`` is not compared when it holds something else: another root's gradient, or
        values set by hand.
    """

    def __init__(
        self,
        tensor: Tensor,
        root: Tensor,
        names: dict[int, str],
        paths: list[Path],
        count: int,
        total: np.ndarray | None,
        shown: int,
    ) -> None:
        self.tensor, self.root, self.names = tensor, root, names
        self.count, self.total = count, total
        source, self.not_shown = view.root_grad(tensor, root, names[id(root)])
        self.grad = None if source is None else np.array(source.grad)
        self.calls = 1 if source is None else source.calls
        listed = sorted(paths, key=lambda p: -float(np.linalg.norm(np.ravel(p.product))))
        self.paths = paths if len(paths) <= shown else listed[:shown]
        self.listed = len(paths)

    @property
    def matches(self) -> bool:
        """Whether ``.grad`` equals the sum of the paths to 1e-12 (relative to its size)."""
        if self.total is None or self.grad is None:
            return False
        scale = max(1.0, float(np.max(np.abs(self.grad))) if self.grad.size else 1.0)
        return bool(np.all(np.abs(self.calls * self.total - self.grad) <= TOLERANCE * scale))

    def __str__(self) -> str:
        name, root = self.names[id(self.tensor)], self.names[id(self.root)]
        symbol = f"∂{root}/∂{name}"
        plural = "path" if self.count == 1 else "paths"
        lines = [f"{symbol}: {self.count:,} {plural} from {name} to {root}"]
        if len(self.paths) < self.count:
            where = "" if self.listed == self.count else f" of the first {self.listed:,} found"
            lines.append(f"(too many to show: the {len(self.paths)} with the largest products{where})")
        for number, path in enumerate(self.paths, 1):
            route = " → ".join([self.names[id(t)] + f" → {_node(n, i)}" for t, n, i in path.edges] + [root])
            lines.append(f"path {number}: {route}")
            for factor in path.factors:
                formula = f" = {factor.formula}" if factor.formula else ""
                shown = _local.show(factor.value)
                value = f" = {shown}" if factor.value is not None and shown != factor.formula else ""
                why = f"   (they cancel: {factor.cancelled} sends this product)" if factor.cancelled else ""
                lines.append(f"    {factor.symbol}{formula}{value}{why}")
            shown_factors = [f.symbol for f in path.factors if f.cancelled is None]
            lines.append(f"  product {' · '.join(shown_factors)} = {_local.show(path.product)}")
        label = f"{name}.grad"
        if self.total is not None:
            lines.append(
                f"sum of the {self.count:,} paths: {_local.show(self.total)}"
                if self.count > 1
                else f"sum: {_local.show(self.total)}"
            )
        else:
            lines.append(f"sum of the {self.count:,} paths: what backward adds up without listing them")
        calls = f" accumulated over {self.calls} calls of {root}.backward()" if self.calls > 1 else ""
        if self.grad is None and self.not_shown is not None:
            lines.append(f"{label} not shown: it {self.not_shown} (set .grad = None, then run {root}.backward())")
        elif self.grad is None:
            lines.append(f"{label} is None: run {root}.backward() to compare")
        elif self.total is None or self.matches:
            times = f"{self.calls} × " if self.calls > 1 else ""
            same = f" (equal to {times}the sum, to 1e-12)" if self.total is not None else ""
            lines.append(f"{label} = {_local.show(self.grad)}{calls}{same}")
        else:
            gap = float(np.max(np.abs(self.calls * self.total - self.grad)))
            lines.append(
                f"{label} = {_local.show(self.grad)} differs from the sum by up to {gap:.3g}: it holds "
                f"what other backward calls left too, of {root} or of another root (clear .grad, then "
                f"run {root}.backward() once)"
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)


def _node(node: Node, index: int) -> str:
    """The node's class name, with the input's position when the node takes one tensor twice (x * x)."""
    name = _local.title(node)
    repeated = sum(t is node.inputs[index] for t in node.inputs) > 1
    return f"{name} (input {index + 1})" if repeated else name


def explain(tensor: Tensor, root: Tensor, *, max_paths: int = 6) -> Explanation:
    """Every path from ``tensor`` to ``root``, the chain rule's product along each, and their sum.

    Parameters
    ----------
    tensor : Tensor
        Any tensor of the graph that requires grad: a parameter, or an intermediate value.
    root : Tensor
        The scalar the gradient is of, usually the loss.
    max_paths : int
        Show at most this many paths; with more, the ones with the largest products are shown and
        the count of all is given.

    Returns
    -------
    Explanation
        ``print`` it to read it; ``.paths``, ``.count``, ``.total`` and ``.grad`` hold the numbers.

    Notes
    -----
    The product of a path is computed as backward computes it, one node at a time from the root
    (each node's backward applied to what the edge above it sends), so for arrays it is the
    chain rule's product of Jacobians and matches ``.grad`` summed over paths to rounding. The
    lecture's cancellation counts as one path through a: its two factors are listed, and their
    product is the (a − y)/N that BCE sends to z.

    Examples
    --------
    >>> import tinygraph as tg
    >>> x = tg.tensor(3.0, requires_grad=True, name="x")
    >>> y = x * x
    >>> y.backward()
    >>> explanation = tg.explain(x, y)
    >>> explanation.count, float(explanation.total)
    (2, 6.0)
    """
    if not tensor.requires_grad:
        raise ValueError("explain: this tensor does not require grad, so no gradient reaches it")
    names, tensors = _local.names(root)
    if id(tensor) not in names:
        hint = ""
        if any(t is root for t in engine.topological_order(tensor)):  # the arguments swapped
            hint = (
                "; the root is part of the tensor's graph, so the arguments look swapped: "
                "call tg.explain(tensor, root), the tensor whose gradient is explained first"
            )
        raise ValueError(f"explain: the tensor is not part of the graph of this root{hint}")
    walk = _Walk(root, tensors, names)
    count = walk.count().get(id(tensor), 0)
    paths = walk.paths(tensor, ENUMERATED)
    seed = root._seed(None)
    for path in paths:
        walk.evaluate(path, seed)
    total = None
    if len(paths) == count:
        total = np.zeros(tensor.shape, dtype=tensor.dtype)
        for path in paths:
            total = total + path.product
    return Explanation(tensor, root, names, paths, count, total, max_paths)


class _Walk:
    """The paths of one graph: which edges carry a gradient back, and the products along them."""

    def __init__(self, root: Tensor, tensors: list[Tensor], names: dict[int, str]) -> None:
        self.root, self.names = root, names
        self.output = {id(t.node): t for t in tensors if t.node is not None}  # id(node) → its output
        # id(tensor) → (node, input index) for each edge along which a gradient flows back to it.
        # A cancellation's receiving edge (BCE → z) is left out: its gradient is the product
        # along the path through the cancelled node, which is counted there.
        self.consumers: dict[int, list[tuple[Node, int]]] = {}
        for out in tensors:
            node = out.node
            if node is None:
                continue
            receivers = _local.cancels(node).values()
            for index, parent in enumerate(node.inputs):
                if parent.requires_grad and index not in receivers:
                    self.consumers.setdefault(id(parent), []).append((node, index))
        self.cache: dict[tuple[tuple[int, int], ...], np.ndarray] = {}  # path from the root → gradient

    def count(self) -> dict[int, int]:
        """id(tensor) → how many paths lead from it to the root, counted outputs before inputs."""
        ways: dict[int, int] = {id(self.root): 1}
        for tensor in reversed(engine.topological_order(self.root)):
            if tensor is not self.root:
                ways[id(tensor)] = sum(
                    ways.get(id(self.output[id(node)]), 0) for node, _ in self.consumers.get(id(tensor), ())
                )
        return ways

    def paths(self, tensor: Tensor, limit: int) -> list[Path]:
        """Up to ``limit`` paths from ``tensor`` to the root, depth first, without recursion."""
        found: list[Path] = []
        stack: list[tuple[Tensor, list[tuple[Tensor, Node, int]]]] = [(tensor, [])]
        while stack and len(found) < limit:
            current, edges = stack.pop()
            if current is self.root:
                found.append(Path([t for t, _, _ in edges] + [current], [n for _, n, _ in edges], edges))
                continue
            for node, index in reversed(self.consumers.get(id(current), [])):
                stack.append((self.output[id(node)], [*edges, (current, node, index)]))
        return found

    def evaluate(self, path: Path, seed: np.ndarray) -> None:
        """The factors of ``path`` (root first) and its product, sent back one node at a time.

        Where the path passes a cancellation (a → BCE after z → Sigmoid → a), both factors are
        listed, and the gradient taken on is what BCE sends to z: their product, computed exactly.
        """
        names, edges = self.names, path.edges
        grad, key = seed, ()
        k = len(edges) - 1
        while k >= 0:
            tensor, node, index = edges[k]
            path.factors.append(self.factor(tensor, node, index))
            receiver = _local.cancels(node).get(index)
            below = edges[k - 1] if k > 0 else None
            if (
                receiver is not None
                and below is not None
                and below[1] is tensor.node
                and below[0] is node.inputs[receiver]
            ):
                inner = below[0]
                path.factors.append(self.factor(*below))
                pair = (
                    f"∂{names[id(self.root)]}/∂{names[id(tensor)]} · ∂{names[id(tensor)]}/∂{names[id(inner)]}"
                )
                key = (*key, (id(node), receiver))
                grad = self.sent(node, receiver, grad, inner, key)
                path.factors.append(Factor(pair, self.derivative(node, receiver), grad, _local.title(node)))
                k -= 2
            else:
                key = (*key, (id(node), index))
                grad = self.sent(node, index, grad, tensor, key)
                k -= 1
        path.product = grad

    def factor(self, tensor: Tensor, node: Node, index: int) -> Factor:
        out = self.output[id(node)]
        symbol = f"∂{self.names[id(out)]}/∂{self.names[id(tensor)]}"
        return Factor(symbol, self.derivative(node, index), _local.values(node, out)[index])

    def derivative(self, node: Node, index: int) -> str | None:
        """The node's local derivative for input ``index`` in the graph's names, as diagrams write it."""
        text = _local.derivative(node, index)
        return text and view.renamed(self.names, node, text, index, self.output.get(id(node)))

    def sent(
        self, node: Node, index: int, grad: np.ndarray, tensor: Tensor, key: tuple[tuple[int, int], ...]
    ) -> np.ndarray:
        """What ``node`` sends to input ``index`` for ``grad``, shaped like that input (once per prefix)."""
        if key not in self.cache:
            sent = _local.send(node, grad)[index]
            self.cache[key] = engine._conform(node, index, sent, tensor.data)
        return self.cache[key]
