"""A step of backward in words, as the trace's player shows it beside the diagram.

``lines(step, ...)`` says what arrived (∂L/∂out, and how many contributions it sums), each local
derivative as the node's formula and its value, and what was sent to each input; where a tensor
feeds several nodes, which contribution this is and the sum so far. The cancellation step says
it with the words the diagram writes on the shortcut edge: "(∂L/∂a · ∂a/∂z cancelled)".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tinygraph import _local
from tinygraph.tensor import Tensor

if TYPE_CHECKING:
    from tinygraph.trace import Arrival, Step


class Words:
    """Writes the lines of the steps of one trace; ``names`` are the diagram's names of its tensors."""

    def __init__(self, root: Tensor, names: dict[int, str], steps: list[Step]) -> None:
        self.root, self.names, self.steps = root, names, steps
        self.L = names[id(root)]

    def d(self, tensor: Tensor) -> str:
        """∂L/∂t for the tensor t."""
        return f"∂{self.L}/∂{self.names[id(tensor)]}"

    def lines(self, step: Step) -> list[str]:
        """The step's title, then its arithmetic, one line each; asides start with spaces."""
        node = step.node
        formula = str(node.formula or "")
        what = _local.title(node) + (f": {formula}" if formula else "")
        title = f"Step {step.index + 1} of {len(self.steps)}: {what}"
        if step.cancelled:
            return [f"{title}, cancelled", *self.cancelled(step)]
        return [title, self.arrived(step), *self.sent(step)]

    def arrived(self, step: Step) -> str:
        out = step.output
        if out is self.root:
            return f"{self.d(out)} = {_local.show(step.grad_output)}: the seed, backward starts here"
        parts = [a for s in self.steps[: step.index] for a in s.arrivals if a.tensor is out]
        sources = f", the sum of its {len(parts)} contributions" if len(parts) > 1 else ""
        return f"{self.d(out)} arrived{sources}: {_local.show(step.grad_output)}"

    def sent(self, step: Step) -> list[str]:
        node, out = step.node, self.names[id(step.output)]
        lines = []
        for arrival in step.arrivals:
            tensor, index = arrival.tensor, arrival.index
            name = self.names[id(tensor)]
            formula = _local.derivative(node, index)
            sent = _local.show(arrival.grad)
            if step.output is self.root:  # ∂L/∂L = 1: the local derivative is the gradient sent
                said = f" = {formula}" if formula and formula != sent else ""
                lines.append(f"→ {name}: {self.d(tensor)}{said} = {sent}")
            else:
                factor = f"∂{out}/∂{name}"
                local = step.local[index]
                if local is not None or formula:
                    value = _local.show(local)
                    said = f" = {value}" if local is not None and value != formula else ""
                    lines.append(f"   {factor} = {formula or '?'}{said}")
                lines.append(f"→ {name}: {self.d(tensor)} = {self.d(step.output)} · {factor} = {sent}")
            if arrival.shown_only:
                lines.append(f"   {name} keeps it to be seen; it is not sent further back (the next step)")
            lines += self.sums(arrival)
        return lines or ["no input needs a gradient"]

    def sums(self, arrival: Arrival) -> list[str]:
        """Which contribution to its tensor an arrival is, and the sum so far; nothing for the only one."""
        count, total = arrival.of, _local.show(arrival.total)
        if count == 1:
            return []
        if arrival.number < count:
            return [
                f"   contribution {arrival.number} of {count} to {self.d(arrival.tensor)}; so far {total}"
            ]
        times = "twice" if count == 2 else f"{count} times"
        used = f"{self.names[id(arrival.tensor)]} is used {times}"
        return [
            f"   contribution {count} of {count}: {self.d(arrival.tensor)} is their sum, {total} ({used})"
        ]

    def cancelled(self, step: Step) -> list[str]:
        node, via = step.node, step.via
        assert via is not None
        (arrival,) = step.arrivals
        tensor, receiver = arrival.tensor, arrival.index
        middle, name = self.names[id(step.output)], self.names[id(tensor)]
        index = next(i for i, t in enumerate(node.inputs) if t is tensor)
        product = _local.derivative(via, receiver) or "their product"
        own = _local.derivative(node, index)
        local = step.local[index]
        pair = f"{self.d(step.output)} · ∂{middle}/∂{name}"
        sender, skipped = _local.title(via), _local.title(node)
        factor = f"∂{middle}/∂{name}" + (f" = {own}" if own else "")
        shown, sent = _local.show(step.grad_output), _local.show(arrival.grad)
        direct = "the product is computed directly, exact even where"
        return [
            f"{self.d(step.output)} = {shown} was only shown: {sender} does not send it through {skipped}",
            factor + (f" = {_local.show(local)}" if local is not None else ""),
            f"shortcut: {pair} = {product}   ({pair} cancelled)",
            f"→ {name}: {self.d(tensor)} = {product} = {sent}, sent by {sender} straight to {name}",
            f"   {skipped}'s backward does not run: {direct} {self.d(step.output)} would overflow",
            *self.sums(arrival),
        ]
