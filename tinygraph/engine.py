"""The backward pass: topological order, the chain rule and gradient accumulation.

The engine alone accumulates gradients, sums broadcast gradients back to their input's shape and
checks what each node's ``backward`` returns; a node only computes its local chain-rule step.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from tinygraph import _array
from tinygraph._array import ndarray
from tinygraph.modes import current_mode

if TYPE_CHECKING:
    from tinygraph.node import Node
    from tinygraph.tensor import Tensor


class GradSource(NamedTuple):
    """Which backward calls produced a tensor's ``.grad``, as the engine last wrote it.

    Diagrams read it so that they show a gradient only when it is the drawn root's. ``grad`` is
    the tensor's ``.grad``, the array the engine stored. ``root`` refers to the tensor every one
    of those calls started from, None when they started from different tensors; ``calls`` counts
    them.
    """

    grad: ndarray
    root: weakref.ref[Tensor] | None
    calls: int


def grad_source(tensor: Tensor) -> GradSource | None:
    """Where ``tensor.grad`` came from, or None when backward did not write what it holds now.

    The engine keeps, beside ``.grad``, a weak reference to the array it stored (so a cleared
    gradient is freed) with the root and the count: when ``.grad`` holds another array, it was
    set outside backward.
    """
    record = tensor._grad_source
    if record is None or tensor.grad is None or record[0]() is not tensor.grad:
        return None
    return GradSource(tensor.grad, record[1], record[2])


def topological_order(root: Tensor) -> list[Tensor]:
    """Every tensor that ``root`` depends on and that requires grad, inputs before outputs.

    Kahn's algorithm, iterative (a graph of any depth needs no recursion): count each tensor's
    consumers in the graph, then take a tensor only once all its consumers are taken. The
    counts are keyed by the tensors themselves (hashed by identity), so no ``id()`` is made.
    """
    consumers = _consumer_counts(root)
    order: list[Tensor] = []
    ready = [root]
    while ready:
        tensor = ready.pop()
        order.append(tensor)
        node = tensor.node
        if node is None:
            continue
        for parent in reversed(node.inputs):  # the first input is taken first, as a depth-first walk does
            if parent.requires_grad:
                left = consumers[parent] - 1
                consumers[parent] = left
                if not left:  # its last consumer is in order: its gradient is complete there
                    ready.append(parent)
    order.reverse()
    return order


def _consumer_counts(root: Tensor) -> dict[Tensor, int]:
    """For each tensor that requires grad below ``root``, how many inputs of nodes below ``root`` it is."""
    consumers: dict[Tensor, int] = {}
    stack = [root]
    while stack:
        node = stack.pop().node
        if node is None:
            continue
        first = node._input_0  # node.inputs, read here without a call (see Node)
        second = node._input_1
        for parent in node._input_tuple if first is None else (first,) if second is None else (first, second):
            if parent.requires_grad:
                seen = consumers.get(parent)
                if seen is None:  # first reached: its own inputs are counted once, from here
                    consumers[parent] = 1
                    if parent.node is not None:  # a leaf has no inputs to count
                        stack.append(parent)
                else:
                    consumers[parent] = seen + 1
    return consumers


StepHook = Callable[["Tensor", ndarray, list[tuple[int, ndarray, ndarray]]], None]


def backward(
    root: Tensor, grad: _array.ndarray, retain_grads: bool = False, on_step: StepHook | None = None
) -> None:
    """Apply the chain rule from ``root`` (seeded with ``grad``) to every tensor it depends on.

    Leaves (tensors no node produced) that require grad accumulate into ``.grad``; an intermediate
    tensor does so when ``retain_grads`` is true or it called ``retain_grad()``. The recorded
    graph is left intact, so a second call adds the same gradients again.

    ``on_step(tensor, grad_output, sent)``, when given, is called after each node's backward, in
    order: ``sent`` lists ``(input index, gradient sent, that input's gradient summed so far)``.
    ``tg.trace`` records the pass this way, so what it shows is what this loop did.
    """
    detect_anomaly = current_mode().detect_anomaly  # the calling thread's modes, read once
    # Kahn's order, as topological_order takes it, walked here rather than listed first: a
    # tensor is ready once every consumer below root has sent its gradient, so it is complete.
    consumers = _consumer_counts(root)
    ready = [root]
    # Keyed by the tensors themselves (hashed by identity), dropped when the pass returns.
    pending: dict[Tensor, _array.ndarray] = {root: grad}  # sent back: the chain rule goes on
    shown: dict[Tensor, _array.ndarray] = {}  # only shown in .grad: see the cancellation rule below
    kept: set[int] = {id(grad)}  # arrays someone else holds: the seed, and each .grad set so far
    from_root = weakref.ref(root)  # made once: every .grad this pass writes came from root
    while ready:
        tensor = ready.pop()
        node = tensor.node
        g = pending.pop(tensor, None)
        if node is None or retain_grads or tensor.retains_grad:
            total = g
            if shown:
                extra = shown.pop(tensor, None)
                if extra is not None:
                    total = extra if g is None else g + extra
            if total is not None:
                if tensor.grad is None and type(total) is ndarray:  # the common case of _store, spelled out
                    if id(total) in kept or _array.is_view(total):
                        total = total.copy()  # a view or a shared array: .grad gets an array of its own
                    tensor.grad = total
                    tensor._grad_source = (weakref.ref(total), from_root, 1)
                else:
                    _store(tensor, total, kept, from_root)
                kept.add(id(tensor.grad))
        if node is None:
            continue
        first = node._input_0  # node.inputs, read here without a call (see Node)
        second = node._input_1
        inputs = node._input_tuple if first is None else (first,) if second is None else (first, second)
        if g is not None:
            # The cancellation rule, declared by the node's class as cancels = {shown: receiver}
            # (SigmoidBCE: {0: 2}): the gradient for input `shown` is only shown, because the
            # chain-rule product that cancels through it goes to input `receiver` instead. So it
            # is computed only if that input's tensor keeps its gradient, and it goes to `shown`,
            # never to `pending`: the node's backward returns the receiver's gradient like any other.
            cancels = node.cancels
            if cancels:
                node.needs_grad = tuple(
                    parent.requires_grad
                    and (index not in cancels or parent.node is None or retain_grads or parent.retains_grad)
                    for index, parent in enumerate(inputs)
                )
            sent: list[tuple[int, ndarray, ndarray]] | None = None if on_step is None else []
            if detect_anomaly:  # report the node by name rather than as a NumPy warning
                with _array.xp.errstate(all="ignore"):
                    grads = node.backward(g)
            else:
                grads = node.backward(g)
            if type(grads) is not tuple:  # one gradient alone, or a tuple's subclass
                grads = grads if isinstance(grads, tuple) else (grads,)
            if len(grads) != len(inputs):
                raise _wrong_count(node, len(grads))
            for index in range(len(inputs)):
                parent_grad = grads[index]
                parent = inputs[index]
                if parent_grad is None or not parent.requires_grad:
                    continue
                data = parent.data
                if (
                    type(parent_grad) is not ndarray
                    or parent_grad.shape != data.shape
                    or parent_grad.dtype is not data.dtype
                ):  # the slow path: convert, unbroadcast, cast
                    parent_grad = _conform(node, index, parent_grad, data)
                if detect_anomaly:  # on Dask, checked when computed
                    parent_grad = _array.checked_finite(
                        parent_grad, f"{type(node).__name__}.backward produced {{}} in the gradient for input {index}"
                    )
                target = shown if cancels and index in cancels else pending
                earlier = target.get(parent)  # from another consumer of the same tensor: gradients add up
                target[parent] = summed = parent_grad if earlier is None else earlier + parent_grad
                if sent is not None:
                    sent.append((index, parent_grad, summed))
            if sent is not None:
                on_step(tensor, g, sent)  # type: ignore[misc]  # sent is a list exactly when on_step is given
        for parent in reversed(inputs):  # the first input is taken first, as a depth-first walk does
            if parent.requires_grad:
                left = consumers[parent]
                if left == 1:  # its last consumer has sent its gradient: it is complete
                    ready.append(parent)
                else:
                    consumers[parent] = left - 1


def _store(tensor: Tensor, grad: ndarray, kept: set[int], from_root: weakref.ref[Tensor]) -> None:
    """Store ``grad`` as ``tensor.grad``, or add it there; ``kept`` holds the ids of arrays others hold."""
    if tensor.grad is None and isinstance(grad, _array.NUMPY_TYPES) and (id(grad) in kept or _array.is_view(grad)):
        grad = grad.copy()  # other libraries' arrays are never written in place: kept as they are
    _accumulate(tensor, grad, from_root)


def _accumulate(tensor: Tensor, grad: ndarray, from_root: weakref.ref[Tensor]) -> None:
    """Add ``grad`` into ``tensor.grad`` and note that a backward from ``from_root()`` did (``GradSource``)."""
    if tensor.grad is None:
        tensor.grad = grad
        calls = 1
    else:
        before = grad_source(tensor)
        tensor.grad = tensor.grad + grad
        same = before is not None and before.root is not None and before.root() is from_root()
        calls = (before.calls if before else 1) + 1
        if not same:
            from_root = None  # type: ignore[assignment]  # gradients of different roots summed
    try:
        written: Callable[[], object] = weakref.ref(tensor.grad)
    except TypeError:  # a NumPy scalar (a 0-d sum), which takes no weak reference: tiny, so kept
        written = functools.partial(lambda array: array, tensor.grad)
    tensor._grad_source = (written, from_root, calls)


def _wrong_count(node: Node, count: int) -> TypeError:
    """The error for a ``backward`` that returned ``count`` gradients, not one per input."""
    return TypeError(
        f"{type(node).__name__}.backward returned {count} gradient(s) but the node has "
        f"{len(node.inputs)} input(s): return one per input, None where none is needed"
    )


def _conform(node: Node, index: int, grad: object, data: ndarray) -> ndarray:
    """The gradient for input ``index`` as an array of its shape (summed over broadcast axes) and dtype."""
    grad = _array.as_array(grad)  # another library's array stays in it (a Dask one uncomputed)
    if grad.shape != data.shape and _array.known_shape(grad.shape) and _array.known_shape(data.shape):
        if not _array.broadcasts_to(data.shape, grad.shape):
            raise ValueError(
                f"{type(node).__name__}.backward: gradient for input {index} has shape {grad.shape} "
                f"but the input has shape {data.shape}"
            )
        grad = _array.unbroadcast(grad, data.shape)
    return _array.astype(grad, data.dtype)
