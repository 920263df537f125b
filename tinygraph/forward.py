"""Forward mode: push a direction through the recorded graph, node by node, inputs to output.

Reverse mode (``backward``) gives the gradient of one output with respect to every input in one
pass; forward mode gives the derivative of every output along one input direction t in one pass,
the Jacobian-vector product J·t. Each node contributes its ``jvp``: ȧ = a(1 − a) ż for a sigmoid.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from tinygraph import _array, engine
from tinygraph.modes import enable_grad
from tinygraph.tensor import Tensor


def jvp(
    fn: Callable[..., Tensor], inputs: Sequence[Any], tangents: Sequence[Any]
) -> tuple[Tensor, _array.ndarray]:
    """The output of ``fn(*inputs)`` and its directional derivative J·t along ``tangents``.

    Parameters
    ----------
    fn : callable
        Takes the inputs as tensors and returns a tensor, built from nodes that define ``jvp``.
    inputs : sequence of Tensor or array_like
        The point x. Each is passed to ``fn`` as a new leaf tensor sharing its data (and name).
    tangents : sequence of array_like or None
        The direction t: one per input, shaped like it, or None for an input that does not move.

    Returns
    -------
    (Tensor, ndarray)
        The output y = fn(x), with its recorded graph, and ẏ = J t, shaped like y.

    Raises
    ------
    NotImplementedError
        For a node of the graph without ``jvp``, naming its class and scope.

    Notes
    -----
    The tangents are pushed in topological order of the graph: every node whose inputs carry a
    tangent gets ``node.jvp(*their tangents)`` (None for an input that carries none), and nodes
    that no tangent reaches are skipped. One call gives one column combination J t; the full
    Jacobian takes one call per input element, where reverse mode takes one per output element.

    Examples
    --------
    >>> import numpy as np
    >>> import tinygraph as tg
    >>> a, da = tg.jvp(tg.sigmoid, [np.array([0.0, 2.0])], [np.array([1.0, 1.0])])
    >>> da.round(4)  # a(1 − a)
    array([0.25 , 0.105])
    """
    if len(tangents) != len(inputs):
        raise ValueError(f"jvp: {len(inputs)} input(s) but {len(tangents)} tangent(s): give one per input, None for none")
    leaves, given = [], {}
    for index, (x, t) in enumerate(zip(inputs, tangents)):
        data = x.data if isinstance(x, Tensor) else _array.as_array(x)
        name = x.name if isinstance(x, Tensor) else None
        if t is None:
            leaves.append(Tensor(data, name=name))
            continue
        t = _array.as_array(t, data.dtype if _array.is_float(data) else None)
        if t.shape != data.shape:
            raise ValueError(f"jvp: tangent {index} has shape {t.shape} but input {index} has shape {data.shape}")
        leaf = Tensor(data, requires_grad=True, name=name)  # so the graph records what depends on it
        leaves.append(leaf)
        given[id(leaf)] = t
    with enable_grad():  # the graph must be recorded to be walked, even under no_grad
        out = fn(*leaves)
    if not isinstance(out, Tensor):
        raise TypeError(f"jvp: fn must return a Tensor, got {type(out).__name__}")
    return out, push_tangents(out, given)


def push_tangents(root: Tensor, given: dict[int, _array.ndarray]) -> _array.ndarray:
    """The tangent of ``root``, given the tangents of some leaves (by ``id``): zeros if none reaches it."""
    tangent: dict[int, _array.ndarray] = dict(given)
    for t in engine.topological_order(root) if root.requires_grad else []:
        node = t.node
        if node is None:
            continue
        parents = [tangent.get(id(parent)) for parent in node.inputs]
        if all(p is None for p in parents):
            continue  # no tangent reaches this node: its tangent is zero, skip it
        try:
            out = node.jvp(*parents)
        except NotImplementedError as error:
            scope = f" (scope {node.scope!r})" if node.scope else ""
            raise NotImplementedError(f"{type(node).__name__}{scope}: {error}") from None
        out = _array.as_array(out)
        if out.shape != t.shape:
            raise ValueError(
                f"{type(node).__name__}.jvp returned a tangent of shape {out.shape} but the output has shape {t.shape}"
            )
        tangent[id(t)] = _array.astype(out, t.dtype)
    result = tangent.get(id(root))
    return _array.namespace(root.data).zeros(root.shape, dtype=root.dtype) if result is None else result
