"""The values of each node's local derivatives ∂out/∂in, as ``tg.trace`` and ``tg.explain`` show them.

A node declares its local derivatives as formulas (``Sigmoid.local_derivatives = ("a(1 − a)",)``);
this module evaluates them on what the node saved in forward: one line per built-in node, in a
table. A node whose output is one number (a loss, a penalty, a sum) needs no line: its local
derivatives are what its backward sends for an incoming gradient of 1. Anything else that is not
in the table (a user's node, a Jacobian such as softmax's) has no values, only its formula.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tinygraph import _array, engine, nodes, view
from tinygraph.node import Node
from tinygraph.tensor import Tensor

Value = Any  # an ndarray, a Python number, or None where there is no value to show

# node class → its local derivatives' values, one per input, from the arrays it saved in forward
TABLE: dict[type, Callable[[Any], tuple[Value, ...]]] = {
    nodes.Add: lambda n: (1.0, 1.0),
    nodes.Sub: lambda n: (1.0, -1.0),
    nodes.Neg: lambda n: (-1.0,),
    nodes.Mul: lambda n: (n.y, n.x),
    nodes.Div: lambda n: (1 / n.y, -n.z / n.y),
    nodes.Pow: lambda n: (n.p * n.x ** (n.p - 1), None),
    nodes.MatMul: lambda n: (n.y, n.x),
    nodes.Linear: lambda n: (n.w, n.x, 1.0)[: len(n.inputs)],
    nodes.Exp: lambda n: (n.a,),
    nodes.Log: lambda n: (1 / n.x,),
    nodes.Sigmoid: lambda n: (n.a * _array.sigmoid(n.z, complement=True),),
    nodes.Tanh: lambda n: (1 - n.a**2,),
    nodes.ReLU: lambda n: (n.positive.astype(np.float64),),
    nodes.Mean: lambda n: (1 / n.count,),
    nodes.Sum: lambda n: (1.0,),
    nodes.SoftmaxLog: lambda n: (1 / n.a, None),
    nodes.Max: lambda n: (n.is_max / n.is_max.sum(axis=n.axes, keepdims=True),),
}


def values(node: Node, output: Tensor) -> tuple[Value, ...]:
    """The value of ∂output/∂input for each input of ``node``; None where there is none to show."""
    rule = TABLE.get(type(node))
    if rule is not None:
        found = rule(node)
    elif output.size == 1:
        found = unit_backward(node, output)
    else:
        found = ()
    return tuple(found[i] if i < len(found) else None for i in range(len(node.inputs)))


def unit_backward(node: Node, output: Tensor) -> tuple[Value, ...]:
    """What ``node.backward`` sends to each input that requires grad for an incoming gradient of 1."""
    return send(node, np.ones(output.shape, dtype=output.dtype))


def send(node: Node, grad: np.ndarray) -> tuple[Value, ...]:
    """``node.backward(grad)`` for every input that requires grad, a cancelled one included.

    ``needs_grad`` is set to ask for all of them and restored afterwards; an input that needs no
    gradient gets None.
    """
    before = node.needs_grad
    node.needs_grad = tuple(t.requires_grad for t in node.inputs)
    try:
        with np.errstate(all="ignore"):
            grads = node.backward(grad)
    finally:
        node.needs_grad = before
    grads = grads if isinstance(grads, tuple) else (grads,)
    return tuple(g if t.requires_grad else None for g, t in zip(grads, node.inputs))


def show(value: Value) -> str:
    """A value as tg.draw shows one: all of it when small, else its shape and norm."""
    if value is None:
        return "—"
    array = np.asarray(value)
    if array.size <= view.SMALL or array.dtype.kind not in "biuf":
        return view.values_text(array) if array.ndim else f"{float(array):.3g}"
    return f"shape {array.shape}, norm {_norm(array)}"


def gradient_line(symbol: str, grad: np.ndarray) -> str:
    """∂L/∂t under a tensor's name, as tg.draw writes it: its values when small, else its norm."""
    if grad.size > view.SMALL:
        return f"‖{symbol}‖ = {_norm(grad)}"
    return f"{symbol} = {view.values_text(grad)}"


def _norm(array: np.ndarray) -> str:
    return f"{float(np.linalg.norm(array.ravel())):.3g}"


def names(root: Tensor) -> tuple[dict[int, str], list[Tensor]]:
    """The diagram's name of every tensor a gradient reaches from ``root``, and those tensors, root first.

    The names are read from the whole graph's view, so words and diagrams call a tensor alike.
    """
    tensors = list(reversed(engine.topological_order(root)))
    items = view.build(root, show_grads=False, max_nodes=None).items
    by_id = {item.id.split("_")[0]: item.name for item in items.values()}  # shared leaves: "t…_n…"
    return {id(t): by_id[item_id(t)] for t in tensors}, tensors


def item_id(item: Tensor | Node) -> str:
    """The id of a tensor or an operation in a view (``view.Item.id``): "t…" or "n…" and its identity."""
    return f"{'t' if isinstance(item, Tensor) else 'n'}{id(item)}"


def cancels(node: Node) -> dict[int, int]:
    """The node's cancellation rule ``{shown input: receiving input}``, declared by its class.

    SigmoidBCE, {0: 2}: ∂L/∂a is only shown, and the product (a − y)/N goes to the sigmoid's own
    input z. Empty for most nodes.
    """
    return type(node).cancels


def derivative(node: Node, index: int) -> str | None:
    """The local derivative ∂out/∂in of input ``index`` as the node declares it ("a(1 − a)"); None if none."""
    declared = node.local_derivatives or ()
    return declared[index] if index < len(declared) else None


def title(node: Node) -> str:
    """The name diagrams write on the node's box: its title ("BCE" for SigmoidBCE), else its class."""
    return type(node).title or type(node).__name__
