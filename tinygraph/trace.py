"""Backpropagation step by step: ``tg.trace(loss)`` runs backward and records every step of it.

The steps are the engine's own: ``engine.backward`` calls a hook after each node's backward, with
the gradient that arrived and what the node sent to each input, so the order, the numbers and the
sums shown are those of the pass that filled ``.grad``. Each ``Step`` says which node ran, the
gradient ∂L/∂out that arrived, the gradient sent to each input, the local derivatives' values,
and, where a tensor feeds several nodes, which contribution this was and the sum so far. The
lecture's cancellation (BCE after a sigmoid sends ∂L/∂a · ∂a/∂z = (a − y)/N straight to z) is a
step of its own. ``Steps.draw(k)`` is the diagram after step k; ``Steps.save_html`` writes a
player that steps through them all, which Jupyter also shows inline.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import graphviz
import numpy as np

from tinygraph import _graphview as view
from tinygraph import _local, _player, engine
from tinygraph.draw import (
    EDGE_STYLES,
    HIGHLIGHT,
    LEGEND,
    SMALL,
    TENSOR_STYLES,
    Diagram,
    GraphvizNotFoundError,
    _html,
    _number,
    _Painter,
    _small,
    _values,
)
from tinygraph.node import Node
from tinygraph.tensor import Tensor

PENDING_COLOR = "#9a9a9a"


@dataclass(frozen=True)
class Arrival:
    """One gradient reaching one tensor: a contribution, and the tensor's gradient summed so far."""

    tensor: Tensor
    grad: np.ndarray  # what this step sent to the tensor
    total: np.ndarray  # the tensor's gradient in this pass after it arrived
    number: int  # 1 for the first contribution to reach the tensor, 2 for the second, ...
    of: int  # how many contributions reach it in the whole pass
    shown_only: bool  # kept in .grad to be seen, not sent further back (the cancelled ∂L/∂a)


@dataclass
class Step:
    """One step of backward: a node receives ∂L/∂out and sends a gradient to each of its inputs.

    Attributes
    ----------
    index : int
        Its place in the pass, from 0.
    node : Node
        The node whose step it is.
    output : Tensor
        The tensor the node produced, whose gradient arrived.
    grad_output : ndarray
        ∂L/∂out, the gradient that arrived (the sum of every contribution to it).
    grad_inputs : tuple of (ndarray or None)
        What the step sent to each input of ``node``, in input order; None where nothing was sent.
    local : tuple
        The values of the local derivatives ∂out/∂in, one per input (None where unknown).
    arrivals : list of Arrival
        The gradients this step delivered, with the receiving tensors' sums so far.
    cancelled : bool
        True for the cancellation step: ``node`` (the sigmoid) did not run its backward; the loss
        ``via`` sent the product of the two cancelling factors past it.
    via : Node or None
        For the cancellation step, the node that sent the product.
    words : list of str
        The step's arithmetic in words, as the player shows it.
    """

    index: int
    node: Node
    output: Tensor
    grad_output: np.ndarray | None
    grad_inputs: tuple[np.ndarray | None, ...]
    local: tuple[Any, ...]
    arrivals: list[Arrival] = field(default_factory=list)
    cancelled: bool = False
    via: Node | None = None
    words: list[str] = field(default_factory=list)
    edges: list[tuple[Tensor, Node, int]] = field(default_factory=list)  # the edges its gradients took

    def __repr__(self) -> str:
        return f"<Step {self.index}: {self.words[0] if self.words else type(self.node).__name__}>"


def trace(root: Tensor) -> Steps:
    """Run ``root.backward(retain_grads=True)`` and record every step of it.

    Parameters
    ----------
    root : Tensor
        A scalar that requires grad, usually the loss.

    Returns
    -------
    Steps
        The steps in the engine's order: ``len(steps)``, ``steps[k]`` (a ``Step``),
        ``steps.draw(k)``, ``steps.save_html(path)``; Jupyter displays them as a player.

    Notes
    -----
    Afterwards every ``.grad`` is exactly what ``root.backward(retain_grads=True)`` leaves: the
    engine's own loop ran, and the trace only listened. Gradients accumulate into ``.grad`` as
    backward's do, so clear them first to see this pass alone.

    Examples
    --------
    >>> import numpy as np
    >>> import tinygraph as tg
    >>> x = tg.tensor([[1.0, 2.0, -1.0]], name="x")
    >>> w = tg.tensor([0.5, -0.3, 0.8], requires_grad=True, name="w")
    >>> b = tg.tensor(0.1, requires_grad=True, name="b")
    >>> steps = tg.trace(tg.bce(tg.sigmoid(tg.linear(x, w, b)), [1.0]))
    >>> [type(s.node).__name__ for s in steps]
    ['SigmoidBCE', 'Sigmoid', 'Linear']
    >>> steps[1].cancelled
    True
    """
    calls: list[tuple[Tensor, np.ndarray, list[tuple[int, np.ndarray, np.ndarray]]]] = []
    seed = root._seed(None)
    engine.backward(root, seed, True, on_step=lambda t, g, sent: calls.append((t, g, list(sent))))
    return Steps(root, seed, calls)


class Steps:
    """The recorded steps of one backward pass (see ``trace``): a sequence of ``Step``."""

    def __init__(
        self,
        root: Tensor,
        seed: np.ndarray,
        calls: list[tuple[Tensor, np.ndarray, list[tuple[int, np.ndarray, np.ndarray]]]],
    ) -> None:
        self.root, self.seed = root, seed
        graph = view.collect(root, None, None)
        self.names = view.names_of(graph)
        self._tensors = graph.tensors  # nearest the root first
        self._steps: list[Step] = []
        for tensor, grad, sent in calls:
            self._record(tensor, grad, sent)
        self._count_arrivals()
        for step in self._steps:
            step.words = _Words(self, step).lines()

    # ------------------------------------------------------------------ the sequence
    def __len__(self) -> int:
        return len(self._steps)

    def __getitem__(self, k: int) -> Step:
        return self._steps[k]

    def __iter__(self) -> Iterator[Step]:
        return iter(self._steps)

    def __repr__(self) -> str:
        lines = [f"{len(self)} steps of backward from {self.names[id(self.root)]}:"]
        lines += [f"  {s.index}. {s.words[0].split(': ', 1)[1]}" for s in self._steps]
        return "\n".join(lines)

    # ------------------------------------------------------------------ building the steps
    def _record(self, tensor: Tensor, grad: np.ndarray, sent: list[tuple[int, np.ndarray, np.ndarray]]) -> None:
        node = tensor.node
        assert node is not None
        got = {index: (g, total) for index, g, total in sent}
        rule = _local.cancels(node)
        receivers = set(rule.values())
        local = _local.values(node, tensor)
        step = Step(
            len(self._steps),
            node,
            tensor,
            grad,
            tuple(got[i][0] if i in got and i not in receivers else None for i in range(len(node.inputs))),
            tuple(None if i in receivers else v for i, v in enumerate(local)),
        )
        for i in range(len(node.inputs)):
            if i in got and i not in receivers:
                self._arrive(step, node, i, *got[i], shown_only=i in rule)
        self._steps.append(step)
        for shown, receiver in rule.items():
            if receiver not in got:
                continue
            middle = node.inputs[shown]
            skipped = middle.node
            assert skipped is not None
            target = node.inputs[receiver]
            grads = tuple(got[receiver][0] if t is target else None for t in skipped.inputs)
            cancel = Step(
                len(self._steps),
                skipped,
                middle,
                got[shown][0] if shown in got else None,
                grads,
                _local.values(skipped, middle),
                cancelled=True,
                via=node,
            )
            self._arrive(cancel, node, receiver, *got[receiver], shown_only=False)
            self._steps.append(cancel)

    def _arrive(self, step: Step, node: Node, index: int, grad: np.ndarray, total: np.ndarray, *, shown_only: bool) -> None:
        tensor = node.inputs[index]
        step.edges.append((tensor, node, index))
        step.arrivals.append(Arrival(tensor, np.array(grad), np.array(total), 0, 0, shown_only))

    def _count_arrivals(self) -> None:
        """Number each tensor's contributions, and make each total what the tensor holds so far.

        The engine keeps a gradient that is only shown apart from the ones it sends on and adds
        the two when it stores ``.grad``; the totals here are that sum, as ``.grad`` gets it.
        """
        counts: dict[int, int] = {}
        for step in self._steps:
            for arrival in step.arrivals:
                counts[id(arrival.tensor)] = counts.get(id(arrival.tensor), 0) + 1
        seen: dict[int, int] = {}
        sent_on: dict[int, np.ndarray] = {}
        shown: dict[int, np.ndarray] = {}
        for step in self._steps:
            for k, arrival in enumerate(step.arrivals):
                key = id(arrival.tensor)
                seen[key] = seen.get(key, 0) + 1
                (shown if arrival.shown_only else sent_on)[key] = arrival.total
                parts = [part for part in (sent_on.get(key), shown.get(key)) if part is not None]
                total = parts[0] if len(parts) == 1 else parts[0] + parts[1]
                step.arrivals[k] = Arrival(
                    arrival.tensor, arrival.grad, total, seen[key], counts[key], arrival.shown_only
                )

    # ------------------------------------------------------------------ the state after a step
    def grads_after(self, k: int) -> dict[int, np.ndarray]:
        """id(tensor) → its gradient in this pass after step ``k`` (k = −1: only the seed)."""
        grads = {id(self.root): self.seed}
        for step in self._steps[: k + 1]:
            for arrival in step.arrivals:
                grads[id(arrival.tensor)] = arrival.total
        return grads

    def draw(
        self, k: int, *, rankdir: str = "LR", legend: bool = True, heading: bool = True, max_nodes: int | None = 200
    ) -> Diagram:
        """The diagram after step ``k``: its node highlighted, the gradients it sent on its edges.

        Every tensor shows the gradient that has reached it so far, and "pending" where none has
        yet. ``k = -1`` is the start, where only the seed ∂L/∂L = 1 has arrived. ``heading``
        writes the step's title and what is pending above the drawing; ``legend`` explains the styles.
        """
        if not -1 <= k < len(self):
            raise IndexError(f"step {k} of a trace with {len(self)} steps (0 to {len(self) - 1}, or -1 for the start)")
        graph = view.collect(self.root, max_nodes, None)
        step = self._steps[k] if k >= 0 else None
        painter = _StepPainter(graph, self.names, self.grads_after(k), step)
        head = (step.words[:1] if step is not None else [_start_line(self)]) if heading else []
        return painter.paint(rankdir, head, painter.notes() if heading else [], legend)

    # ------------------------------------------------------------------ the player
    def diagrams(self) -> list[Diagram]:
        """The player's diagrams: the start, then the state after each step (no legend or heading)."""
        return [self.draw(k, legend=False, heading=False) for k in range(-1, len(self))]

    def frames(self) -> list[_player.Frame]:
        """The player's frames: the start, then one per step, each with its SVG and its words."""
        focus: list[Tensor | Node] = [self.root, *(s.node for s in self._steps)]
        svgs = [_svg(diagram, item) for diagram, item in zip(self.diagrams(), focus)]
        frames = [_player.Frame("Start", [_start_line(self, "The"), *_pending_line(self, -1)], *svgs[0])]
        frames += [_player.Frame(s.words[0], s.words[1:], *svg) for s, svg in zip(self._steps, svgs[1:])]
        return frames

    def save_html(self, path: str | Path) -> Path:
        """Write the player as one self-contained HTML file (no network resource); returns its path.

        Rendering the diagrams needs Graphviz's ``dot``; without it this raises
        ``GraphvizNotFoundError``, saying how to install it.
        """
        path = Path(path)
        title = f"Backpropagation, step by step, from {self.names[id(self.root)]}"
        path.write_text(_player.page(self.frames(), title, _key()), encoding="utf-8")
        return path

    def _repr_html_(self) -> str:
        """The player, inline in Jupyter; without ``dot``, the steps in words and how to get diagrams."""
        try:
            frames = self.frames()
            note = ""
        except GraphvizNotFoundError:
            frames = [_player.Frame("Start", [_start_line(self, "The")])]
            frames += [_player.Frame(s.words[0], s.words[1:]) for s in self._steps]
            note = "Graphviz's dot program was not found, so the diagrams are left out: install Graphviz (apt-get install graphviz, brew install graphviz or conda install graphviz)."
        return _player.fragment(frames, note=note, key=_key())


def _times(count: int) -> str:
    return "twice" if count == 2 else f"{count} times"


def _key() -> str:
    """The player's legend, from tg.draw's style tables, with what a step adds to them."""
    entries = [(style["fillcolor"], style["color"], LEGEND[kind]) for kind, style in TENSOR_STYLES.items()]
    entries.append(("#ffffff", HIGHLIGHT["color"], "this step: the node that ran, the gradients it sent"))
    shortcut = EDGE_STYLES["shortcut"]["color"]
    notes = [
        f'<b style="color: {PENDING_COLOR}">pending</b>: no gradient has arrived yet',
        f'<b style="color: {shortcut}">- - →</b> {LEGEND["shortcut"]}',
        "click a diagram for its full size",
    ]
    return _player.legend(entries, notes)


def _start_line(steps: Steps, lead: str = "Start: the") -> str:
    name = steps.names[id(steps.root)]
    return f"{lead} seed ∂{name}/∂{name} = {_local.show(steps.seed)} arrives at {name}; backward begins there"


def _pending_line(steps: Steps, k: int) -> list[str]:
    grads = steps.grads_after(k)
    waiting = [steps.names[id(t)] for t in steps._tensors if t.requires_grad and id(t) not in grads]
    return [f"pending (not arrived yet): {', '.join(waiting)}"] if waiting else []


# ============================================================ words


class _Words:
    """The arithmetic of one step in words: what arrived, each local derivative, what was sent."""

    def __init__(self, steps: Steps, step: Step) -> None:
        self.steps, self.step = steps, step
        self.names = steps.names
        self.root = self.names[id(steps.root)]

    def d(self, tensor: Tensor) -> str:
        return f"∂{self.root}/∂{self.names[id(tensor)]}"

    def lines(self) -> list[str]:
        step, node = self.step, self.step.node
        number = f"Step {step.index + 1} of {len(self.steps)}"
        name = _local.title(node)
        formula = str(getattr(node, "formula", "") or "")
        what = f"{name}: {formula}" if formula else name
        if step.cancelled:
            return [f"{number}: {what}, cancelled", *self.cancelled()]
        return [f"{number}: {what}", self.arrived(), *self.sent()]

    def arrived(self) -> str:
        step = self.step
        out = step.output
        if out is self.steps.root:
            return f"{self.d(out)} = {_local.show(step.grad_output)}: the seed, backward starts here"
        parts = [a for s in self.steps for a in s.arrivals if a.tensor is out and s.index < step.index]
        sources = f", the sum of its {len(parts)} contributions" if len(parts) > 1 else ""
        return f"{self.d(out)} arrived{sources}: {_local.show(step.grad_output)}"

    def sent(self) -> list[str]:
        step, node = self.step, self.step.node
        out = self.names[id(step.output)]
        lines = []
        for arrival, (tensor, _, index) in zip(step.arrivals, step.edges):
            name = self.names[id(tensor)]
            formula = view.local_derivative(node, index)
            local = step.local[index] if index < len(step.local) else None
            factor = f"∂{out}/∂{name}"
            if step.output is self.steps.root:  # ∂L/∂L = 1: the local derivative is the gradient
                shown = _local.show(arrival.grad)
                said = f" = {formula}" if formula and formula != shown else ""
                lines.append(f"→ {name}: {self.d(tensor)}{said} = {shown}")
            else:
                if local is not None or formula:
                    shown = _local.show(local)
                    value = f" = {shown}" if local is not None and shown != formula else ""
                    lines.append(f"   {factor} = {formula or '?'}{value}")
                chain = f"{self.d(step.output)} · {factor}"
                lines.append(f"→ {name}: {self.d(tensor)} = {chain} = {_local.show(arrival.grad)}")
            if arrival.shown_only:
                lines.append(f"   {name} keeps it to be seen; it is not sent further back (the next step)")
            lines += self.sum_lines(arrival)
        if not lines:
            lines.append("no input needs a gradient")
        return lines

    def sum_lines(self, arrival: Arrival) -> list[str]:
        if arrival.of == 1:
            return []
        name = self.names[id(arrival.tensor)]
        if arrival.number < arrival.of:
            return [f"   contribution {arrival.number} of {arrival.of} to {self.d(arrival.tensor)}; so far {_local.show(arrival.total)}"]
        return [f"   contribution {arrival.of} of {arrival.of}: {self.d(arrival.tensor)} is their sum, {_local.show(arrival.total)} ({name} is used {_times(arrival.of)})"]

    def cancelled(self) -> list[str]:
        step, node, via = self.step, self.step.node, self.step.via
        assert via is not None
        middle = self.names[id(step.output)]
        (arrival,) = step.arrivals
        tensor, _, receiver = step.edges[0]
        name = self.names[id(tensor)]
        index = next(i for i, t in enumerate(node.inputs) if t is tensor)
        product = view.local_derivative(via, receiver) or "their product"
        sigma = view.local_derivative(node, index)
        local = step.local[index]
        pair = f"{self.d(step.output)} · ∂{middle}/∂{name}"
        lines = [
            f"{self.d(step.output)} = {_local.show(step.grad_output)} was only shown: {_local.title(via)} does not send it through {_local.title(node)}",
            f"∂{middle}/∂{name}" + (f" = {sigma}" if sigma else "") + (f" = {_local.show(local)}" if local is not None else ""),
            f"shortcut: {pair} = {product}   ({pair} cancelled)",
            f"→ {name}: {self.d(tensor)} = {product} = {_local.show(arrival.grad)}, sent by {_local.title(via)} straight to {name}",
            f"   {_local.title(node)}'s backward does not run: the product is computed directly, exact even where {self.d(step.output)} would overflow",
        ]
        return lines + self.sum_lines(arrival)


# ============================================================ the diagram of a step


class _StepPainter(_Painter):
    """tg.draw's painter, with the gradients as they stand after one step and that step's numbers."""

    def __init__(self, graph: view.Graph, names: dict[int, str], grads: dict[int, np.ndarray], step: Step | None) -> None:
        lit: set[int] = set()
        if step is not None:
            lit = {id(step.node), *(id(t) for t, _, _ in step.edges)}
            lit |= {id(n) for _, n, _ in step.edges}
        super().__init__(graph, names, lit, show_values=False, show_grads=True)
        self.used.discard("highlight")  # red marks this step here, not a path: the notes say so
        self.grads, self.step = grads, step
        self.sent = {(id(t), id(n), i): a for (t, n, i), a in zip(step.edges, step.arrivals)} if step else {}

    def tensor_label(self, tensor: Tensor) -> str:
        name = self.names[id(tensor)]
        shape = "scalar" if tensor.ndim == 0 else str(tensor.shape)
        lines = [f"<B>{_html(name)}</B>", _small(f"{shape} {tensor.dtype}", "#555555")]
        grad = self.grads.get(id(tensor))
        symbol = f"∂{self.root_name}/∂{name}"
        if grad is not None:
            color = EDGE_STYLES["gradient"]["fontcolor"]
            if grad.size > SMALL:
                lines.append(_small(f"‖{symbol}‖ = {_number(float(np.linalg.norm(grad.ravel())))}", color))
            else:
                lines.append(_small(f"{symbol} = {_values(grad)}", color))
        elif tensor.requires_grad:
            lines.append(_small(f"{symbol}: pending", PENDING_COLOR))
        return "<BR/>".join(lines)

    def edge_label(self, tensor: Tensor, node: Node, index: int) -> tuple[str, str]:
        kind, label = super().edge_label(tensor, node, index)
        arrival = self.sent.get((id(tensor), id(node), index))
        if arrival is None:
            return kind, label
        symbol = f"∂{self.root_name}/∂{self.names[id(tensor)]}"
        sent = f"sent: {symbol} = {_local.show(arrival.grad)}"
        color = HIGHLIGHT["color"]
        return kind, f"{label}<BR/>" + f'<FONT POINT-SIZE="11" COLOR="{color}"><B>{_html(sent)}</B></FONT>'

    def notes(self) -> list[str]:
        waiting = [
            self.names[id(t)]
            for t in self.graph.tensors
            if t.requires_grad and id(t) not in self.grads
        ]
        lines = ["red: this step, its node and the gradients it sent"] if self.step is not None else []
        lines += [f"pending (not arrived yet): {', '.join(waiting)}"] if waiting else []
        if self.graph.left_out:
            lines.append(f"{self.graph.left_out:,} tensors and operations far from the root left out (max_nodes=)")
        return lines


def _svg(diagram: graphviz.Digraph, focus: Tensor | Node) -> tuple[str, str]:
    """The diagram as inline SVG, and the id in it of ``focus``, the item the player scrolls to.

    dot's output without its XML prolog, ids numbered in order so that the file is the same on
    every run.
    """
    numbers: dict[str, str] = {}
    source = re.sub(
        r"\b([tn])\d{6,}\b", lambda m: numbers.setdefault(m[0], f"{m[1]}{len(numbers) + 1}"), diagram.source
    )
    focus_id = numbers.get(f"{'t' if isinstance(focus, Tensor) else 'n'}{id(focus)}", "")
    try:
        svg = graphviz.Source(source).pipe(format="svg", encoding="utf-8")
    except graphviz.ExecutableNotFound as error:
        raise GraphvizNotFoundError(error) from error
    start = svg.find("<svg")
    return (svg[start:] if start >= 0 else html.escape(svg)), focus_id
