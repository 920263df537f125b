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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import graphviz
import numpy as np

from tinygraph import _local, _player, engine, view
from tinygraph._arithmetic import Words
from tinygraph.draw import (
    EDGE_STYLES,
    HIGHLIGHT,
    LEGEND,
    LINE_STYLES,
    TENSOR_STYLES,
    Diagram,
    GraphvizNotFoundError,
    paint,
)
from tinygraph.node import Node
from tinygraph.tensor import Tensor

Sent = list[tuple[int, np.ndarray, np.ndarray]]  # what engine.backward's hook reports for one node


@dataclass(frozen=True)
class Arrival:
    """One gradient reaching one tensor: a contribution, and the tensor's gradient summed so far."""

    tensor: Tensor
    node: Node  # the edge it came along: input ``index`` of ``node``
    index: int
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

    def __repr__(self) -> str:
        return f"<Step {self.index}: {self.words[0] if self.words else type(self.node).__name__}>"


# An arrival before it is numbered: (step, node, input index, gradient, the engine's sum, shown only)
_Raw = tuple[Step, Node, int, np.ndarray, np.ndarray, bool]


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
    calls: list[tuple[Tensor, np.ndarray, Sent]] = []
    seed = root._seed(None)
    engine.backward(root, seed, True, on_step=lambda tensor, g, sent: calls.append((tensor, g, list(sent))))
    return Steps(root, seed, calls)


class Steps:
    """The recorded steps of one backward pass (see ``trace``): a sequence of ``Step``."""

    def __init__(self, root: Tensor, seed: np.ndarray, calls: list[tuple[Tensor, np.ndarray, Sent]]) -> None:
        self.root, self.seed = root, seed
        self.names, self._tensors = _local.names(root)  # tensors: root first
        self._steps: list[Step] = []
        arrivals: list[_Raw] = []
        for tensor, grad, sent in calls:
            arrivals += self._record(tensor, grad, sent)
        self._number(arrivals)
        words = Words(root, self.names, self._steps)
        for step in self._steps:
            step.words = words.lines(step)

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
    def _record(self, tensor: Tensor, grad: np.ndarray, sent: Sent) -> list[_Raw]:
        """The step of one backward call, and the cancellation's step after it when the node has one.

        Returns what arrived where: (step, node, input index, gradient sent, the engine's sum so
        far, whether it is only shown).
        """
        node = tensor.node
        assert node is not None
        got = {index: (g, total) for index, g, total in sent}
        rule = _local.cancels(node)
        receivers = set(rule.values())
        local = _local.values(node, tensor)
        own = [i for i in range(len(node.inputs)) if i in got and i not in receivers]
        step = Step(
            len(self._steps),
            node,
            tensor,
            grad,
            tuple(got[i][0] if i in own else None for i in range(len(node.inputs))),
            tuple(None if i in receivers else v for i, v in enumerate(local)),
        )
        self._steps.append(step)
        arrived: list[_Raw] = [(step, node, i, *got[i], i in rule) for i in own]
        for shown, receiver in rule.items():
            if receiver not in got:
                continue
            middle = node.inputs[shown]  # a, whose producer's backward the rule skips
            skipped = middle.node
            assert skipped is not None
            target = node.inputs[receiver]
            cancel = Step(
                len(self._steps),
                skipped,
                middle,
                got[shown][0] if shown in got else None,
                tuple(got[receiver][0] if t is target else None for t in skipped.inputs),
                _local.values(skipped, middle),
                cancelled=True,
                via=node,
            )
            self._steps.append(cancel)
            arrived.append((cancel, node, receiver, *got[receiver], False))
        return arrived

    def _number(self, arrivals: list[_Raw]) -> None:
        """Each step's arrivals, numbered per tensor, with the tensor's gradient so far.

        The engine keeps a gradient that is only shown apart from those it sends on, and adds the
        two when it stores ``.grad``: the sum so far here is that sum, as ``.grad`` gets it.
        """
        counts: dict[int, int] = {}
        for _, node, index, *_ in arrivals:
            counts[id(node.inputs[index])] = counts.get(id(node.inputs[index]), 0) + 1
        seen: dict[int, int] = {}
        sums: dict[tuple[int, bool], np.ndarray] = {}  # (id(tensor), only shown) → the engine's sum
        for step, node, index, grad, total, shown_only in arrivals:
            tensor = node.inputs[index]
            key = id(tensor)
            seen[key] = seen.get(key, 0) + 1
            sums[(key, shown_only)] = total
            parts = [sums[k] for k in ((key, False), (key, True)) if k in sums]
            total = parts[0] if len(parts) == 1 else parts[0] + parts[1]
            number, of = seen[key], counts[key]
            step.arrivals.append(Arrival(tensor, node, index, np.array(grad), total, number, of, shown_only))

    # ------------------------------------------------------------------ the state after a step
    def grads_after(self, k: int) -> dict[int, np.ndarray]:
        """id(tensor) → its gradient in this pass after step ``k`` (k = −1: only the seed)."""
        grads = {id(self.root): self.seed}
        for step in self._steps[: k + 1]:
            for arrival in step.arrivals:
                grads[id(arrival.tensor)] = arrival.total
        return grads

    def pending(self, k: int) -> list[Tensor]:
        """The tensors that a gradient will reach but has not yet after step ``k``, root side first."""
        grads = self.grads_after(k)
        return [t for t in self._tensors if id(t) not in grads]

    def draw(
        self,
        k: int,
        *,
        rankdir: str | None = None,
        legend: bool = True,
        heading: bool = True,
        max_nodes: int | None = 200,
    ) -> Diagram:
        """The diagram after step ``k``: its node highlighted, the gradients it sent on its edges.

        Every tensor shows the gradient that has reached it so far, and "pending" where none has
        yet. ``k = -1`` is the start, where only the seed ∂L/∂L = 1 has arrived. ``heading``
        writes the step's title and what is pending above the drawing; ``legend`` explains the
        styles. The other parameters are those of ``tg.draw``.
        """
        if not -1 <= k < len(self):
            raise IndexError(
                f"step {k} of a trace with {len(self)} steps (0 to {len(self) - 1}, or -1 for the start)"
            )
        shown = _at_step(view.build(self.root, max_nodes=max_nodes), self, k)
        shown.chain_rule, shown.notes, shown.grad_notes = [], [], []  # the step's gradients are this pass's
        if heading:
            step = self._steps[k] if k >= 0 else None
            shown.chain_rule = step.words[:1] if step is not None else [_start_line(self)]
            shown.notes = ["red: this step, its node and the gradients it sent"] if step is not None else []
            shown.notes += _pending_line(self, k)
            if shown.left_out:
                shown.notes.append(
                    f"{shown.left_out:,} tensors and operations far from the root left out (max_nodes=)"
                )
        return paint(shown, rankdir=rankdir, legend=legend)

    # ------------------------------------------------------------------ the player
    def diagrams(self) -> list[Diagram]:
        """The player's diagrams: the start, then the state after each step (no legend or heading)."""
        return [self.draw(k, legend=False, heading=False) for k in range(-1, len(self))]

    def frames(self) -> list[_player.Frame]:
        """The player's frames: the start, then one per step, each with its SVG and its words."""
        focus = [_local.item_id(self.root), *(_local.item_id(s.node) for s in self._steps)]
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
            frames, note = self.frames(), ""
        except GraphvizNotFoundError:
            frames = [_player.Frame("Start", [_start_line(self, "The")])]
            frames += [_player.Frame(s.words[0], s.words[1:]) for s in self._steps]
            note = (
                "Graphviz's dot program was not found, so the diagrams are left out: install Graphviz "
                "(apt-get install graphviz, brew install graphviz or conda install graphviz)."
            )
        return _player.fragment(frames, note=note, key=_key())


def _start_line(steps: Steps, lead: str = "Start: the") -> str:
    name = steps.names[id(steps.root)]
    return f"{lead} seed ∂{name}/∂{name} = {_local.show(steps.seed)} arrives at {name}; backward begins there"


def _pending_line(steps: Steps, k: int) -> list[str]:
    waiting = [steps.names[id(t)] for t in steps.pending(k)]
    return [f"pending (not arrived yet): {', '.join(waiting)}"] if waiting else []


def _key() -> str:
    """The player's legend, from tg.draw's style tables, with what a step adds to them."""
    entries = [(style["fillcolor"], style["color"], LEGEND[kind]) for kind, style in TENSOR_STYLES.items()]
    entries.append(("#ffffff", HIGHLIGHT["color"], "this step: the node that ran, the gradients it sent"))
    notes = [
        f'<b style="color: {LINE_STYLES["pending"]["color"]}">pending</b>: no gradient has arrived yet',
        f'<b style="color: {EDGE_STYLES["shortcut"]["color"]}">- - →</b> {LEGEND["shortcut"]}',
        "click a diagram for its full size",
    ]
    return _player.legend(entries, notes)


# ============================================================ the diagram of a step


def _at_step(shown: view.View, steps: Steps, k: int) -> view.View:
    """``shown`` (tg.draw's view) as it stands after step ``k``.

    Each tensor's gradient line is the gradient that has reached it so far, or "pending"; the
    step's node, the tensors it sent to and those edges are highlighted, each edge labelled with
    what it carried. Red marks the step here, not a path, so the legend leaves "highlight" out.
    """
    L = steps.names[id(steps.root)]
    grads = steps.grads_after(k)
    tensors = {_local.item_id(t): t for t in steps._tensors}
    step = steps[k] if k >= 0 else None
    lit: set[str] = set()
    carried: dict[tuple[str, str], Arrival] = {}
    if step is not None:
        lit = {_local.item_id(step.node)}
        for arrival in step.arrivals:
            lit |= {_local.item_id(arrival.tensor), _local.item_id(arrival.node)}
            carried[(_local.item_id(arrival.tensor), _local.item_id(arrival.node))] = arrival
    items = {}
    for key, item in shown.items.items():
        base = key.split("_")[0]  # a leaf drawn once per use has ids "t…_n…"
        tensor = tensors.get(base)
        lines = item.lines
        if tensor is not None:
            symbol = f"∂{L}/∂{item.name}"
            grad = grads.get(id(tensor))
            now = (
                view.Line(_local.gradient_line(symbol, grad), "gradient")
                if grad is not None
                else view.Line(f"{symbol}: pending", "pending")
            )
            lines = (
                *(line for line in lines if line.role not in ("gradient", "shared")),
                now,
                *(line for line in lines if line.role == "shared"),
            )
        items[key] = replace(item, lines=lines, highlighted=base in lit)
    edges = []
    for edge in shown.edges:
        arrival = carried.get((edge.source.split("_")[0], edge.target))
        label = edge.label
        if arrival is not None:
            symbol = f"∂{L}/∂{items[edge.source].name}"
            label = (*label, "sent: " + _local.gradient_line(symbol, arrival.grad))
        output = edge.kind == "output" and edge.source in lit
        edges.append(replace(edge, label=label, highlighted=arrival is not None or output))
    legend = [entry for entry in shown.legend if entry != "highlight"]
    return replace(shown, items=items, edges=edges, legend=legend)


def _svg(diagram: graphviz.Digraph, focus: str) -> tuple[str, str]:
    """The diagram as inline SVG, and the id in it of the item ``focus``, which the player scrolls to.

    dot's output without its XML prolog; ids numbered in order, so the file is the same on every run.
    """
    numbers: dict[str, str] = {}
    source = re.sub(
        r"\b([tn])\d{6,}\b", lambda m: numbers.setdefault(m[0], f"{m[1]}{len(numbers) + 1}"), diagram.source
    )
    try:
        svg = graphviz.Source(source).pipe(format="svg", encoding="utf-8")
    except graphviz.ExecutableNotFound as error:
        raise GraphvizNotFoundError(error) from error
    start = svg.find("<svg")
    return (svg[start:] if start >= 0 else html.escape(svg)), numbers.get(focus, "")
