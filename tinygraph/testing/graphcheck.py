"""``gradcheck_nodes``: find the node of a recorded graph whose backward is wrong.

A plain ``gradcheck`` says that a parameter's gradient is off; this re-checks every node on its
own, against central differences of that node's own forward on the very inputs it saw, and names
the first wrong one in backward order (the order in which its error would spread).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from tinygraph import _array, engine
from tinygraph.node import Node
from tinygraph.tensor import Tensor
from tinygraph.testing import _local
from tinygraph.testing.gradcheck import GradcheckError


class NodeReplayError(RuntimeError):
    """A node of the graph cannot be re-run on the inputs it saw, so its backward cannot be checked; says why."""


def gradcheck_nodes(
    root: Tensor,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
    unreplayable: str = "raise",
) -> int:
    """Check each node's backward in the graph of ``root`` against finite differences of its own forward.

    Parameters
    ----------
    root : Tensor
        The output of a recorded graph (a loss, say); backward need not have run.
    eps, atol, rtol : float
        Step and tolerances, as in ``gradcheck``. The check runs in float64 whatever the graph's dtype.
    seed : int
        Seed of the random incoming gradient v given to each node.
    unreplayable : {"raise", "warn"}
        What to do with a node that cannot be re-run: raise ``NodeReplayError``, or warn and go on.

    Returns
    -------
    int
        The number of nodes checked.

    Raises
    ------
    GradcheckError
        For the first node, in backward order, whose backward disagrees: its class and scope, the
        input, the element, and both values.
    NodeReplayError
        For a node that cannot be re-run, saying why: its forward raised on the inputs it saw (or
        on them moved by ±eps), or it no longer gives the output that was recorded (an input
        changed in place since, or forward depends on more than its inputs).

    Notes
    -----
    Each node is re-run on a copy, never on the recorded node, so the graph is left as it was. For
    every input that requires grad, backward(v) for a random v is compared with the central
    differences of ⟨v, forward⟩ along each element of that input: the numbers in a message are
    those of the projection ⟨v, out⟩, as the message says.

    An input whose gradient is only shown (``cancels = {shown: receiver}``: BCE's dL/da beside
    dL/dz) is not an input the node's forward reads, so moving it alone changes nothing. Its
    value is checked as what it claims to be, the derivative of the loss as a function of a alone:
    each element z_k of the receiver is moved by ±eps, which moves a through the node that made it
    (a = σ(z) moves a_k alone), and backward's dL/da_k is compared with ΔL / Δa_k.
    """
    if unreplayable not in ("raise", "warn"):
        raise ValueError(f"gradcheck_nodes: unreplayable must be 'raise' or 'warn', got {unreplayable!r}")
    if not root.requires_grad:
        raise ValueError("gradcheck_nodes: the root does not require grad, so no node of its graph has a gradient to check")
    rng = np.random.default_rng(seed)
    checked = 0
    for tensor in reversed(engine.topological_order(root)):
        node = tensor.node
        if node is None:
            continue
        try:
            _check(node, tensor, rng, eps, atol, rtol)
        except NodeReplayError as error:
            if unreplayable == "raise":
                raise
            warnings.warn(str(error), stacklevel=2)
            continue
        checked += 1
    return checked


def _where(node: Node) -> str:
    return type(node).__name__ + (f" (scope {node.scope!r})" if node.scope else "")


def _input(node: Node, i: int) -> str:
    name = node.inputs[i].name
    return f"input {i}" + (f" ({name})" if name else "")


def _shown(node: Node) -> dict[int, int]:
    """{shown input: receiver input}, as the node's class declares in ``cancels``."""
    return dict(getattr(node, "cancels", {}) or {})


def _replay(node: Node, arrays: list[np.ndarray], what: str) -> np.ndarray:
    try:
        with np.errstate(all="ignore"):
            return _array.as_array(_local.fresh_copy(node).forward(*arrays))
    except Exception as error:
        raise NodeReplayError(
            f"gradcheck_nodes cannot re-run {_where(node)}: its forward raised {type(error).__name__} "
            f"on {what}: {error}"
        ) from error


def _check(node: Node, tensor: Tensor, rng: np.random.Generator, eps: float, atol: float, rtol: float) -> None:
    seen = [t.data for t in node.inputs]
    again = _replay(node, seen, "the inputs it saw")
    if again.shape != tensor.shape or not np.allclose(again, tensor.data, rtol=1e-6, atol=0, equal_nan=True):
        raise NodeReplayError(
            f"gradcheck_nodes cannot re-run {_where(node)}: on the inputs it saw, forward no longer gives the "
            "recorded output, so an input changed in place since the graph was recorded (a parameter "
            "updated in place?) or forward depends on more than its inputs"
        )
    if _array.is_float(again) and not _array.all_finite(again):
        raise NodeReplayError(
            f"gradcheck_nodes cannot check {_where(node)}: its output has {_array.first_non_finite(again)}, "
            "and finite differences need a finite output"
        )
    x64 = [a.astype(np.float64) if _array.is_float(a) else a for a in seen]
    shown = _shown(node)
    wrt = [i for i, t in enumerate(node.inputs) if t.requires_grad and _array.is_float(t.data)]
    v = rng.standard_normal(tensor.shape)
    replay = _local.fresh_copy(node)
    replay.forward(*x64)
    replay.needs_grad = tuple(i in wrt for i in range(len(seen)))
    grads = replay.backward(v)
    grads = grads if isinstance(grads, tuple) else (grads,)

    def forward(arrays: Any) -> np.ndarray:
        return _replay(node, list(arrays), "its inputs moved by ±eps")

    for i in wrt:
        g = grads[i] if i < len(grads) else None
        given = np.zeros(seen[i].shape) if g is None else _local.unbroadcast_to(np.asarray(g, dtype=np.float64), seen[i].shape)
        if i in shown:
            _check_shown(node, i, shown[i], given, x64, v, eps, atol, rtol)
            continue
        numeric = _local.projected_differences(forward, x64, i, v, eps)
        k = _local.first_mismatch(given, numeric, atol, rtol)
        if k is not None:
            raise GradcheckError(
                f"{_where(node)}, {_input(node, i)}, element {k}: backward {_local.value(given[k])}, "
                f"finite differences {_local.value(numeric[k])} (gradcheck_nodes: each node against its own "
                "forward on the inputs it saw, values of ⟨v, output⟩ for a random incoming gradient v)",
                node=type(node).__name__, inputs=tuple(seen),
            )


def _check_shown(
    node: Node, s: int, r: int, given: np.ndarray, x64: list[np.ndarray], v: np.ndarray, eps: float, atol: float, rtol: float
) -> None:
    """dL/da of a shown input a, against the loss as a function of a alone, a moved through its receiver z."""
    producer = node.inputs[s].node
    q = next((j for j, t in enumerate(producer.inputs) if t is node.inputs[r]), None) if producer else None
    if q is None:
        raise NodeReplayError(
            f"gradcheck_nodes cannot check {_where(node)}'s shown {_input(node, s)}: it was not made from the "
            f"receiver {_input(node, r)} by one node, so a cannot be moved through z"
        )
    made_from = [t.data.astype(np.float64) if _array.is_float(t.data) else t.data for t in producer.inputs]

    def make(z: np.ndarray) -> np.ndarray:
        args = list(made_from)
        args[q] = z
        return _replay(producer, args, f"its input moved by ±eps (to move {_input(node, s)} of {_where(node)})")

    def forward(arrays: Any) -> np.ndarray:
        return _replay(node, list(arrays), "its inputs moved by ±eps")

    found = _local.shown_mismatch(forward, make, x64, s, r, given, v, eps, atol, rtol)
    if found is not None:
        k, backward, numeric, alone = found
        how = "" if alone else f" (projected on the change of a that moving z{list(k)} makes)"
        raise GradcheckError(
            f"{_where(node)}, {_input(node, s)} (shown: dL/da, checked as the loss as a function of a alone, a "
            f"moved through {_input(node, r)}), element {k}{how}: backward {_local.value(backward)}, "
            f"finite differences {_local.value(numeric)}",
            node=type(node).__name__, inputs=tuple(t.data for t in node.inputs),
        )
