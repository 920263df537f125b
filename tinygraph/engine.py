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

    An iterative depth-first search: a graph of any depth needs no recursion.
    """
    order: list[Tensor] = []
    visited: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        tensor, expanded = stack.pop()
        if expanded:  # its inputs are all in order already
            order.append(tensor)
            continue
        key = id(tensor)
        if key in visited:
            continue
        visited.add(key)
        node = tensor.node
        if node is None:  # a leaf has no inputs to wait for
            order.append(tensor)
            continue
        stack.append((tensor, True))
        for parent in node.inputs:
            if parent.requires_grad and id(parent) not in visited:
                stack.append((parent, False))
    return order


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
    mode = current_mode()  # the calling thread's modes, read once
    pending: dict[int, _array.ndarray] = {id(root): grad}  # sent back: the chain rule goes on
    shown: dict[int, _array.ndarray] = {}  # only shown in .grad: see the cancellation rule below
    kept: set[int] = {id(grad)}  # arrays someone else holds: the seed, and each .grad set so far
    for tensor in reversed(topological_order(root)):
        node = tensor.node
        g = pending.pop(id(tensor), None)
        if node is None or retain_grads or tensor.retains_grad:
            total = _add(g, shown.pop(id(tensor), None))
            if total is not None:
                shared = isinstance(total, _array.NUMPY_TYPES) and (id(total) in kept or _array.is_view(total))
                if tensor.grad is None and shared:
                    total = total.copy()  # a view or a shared array: .grad gets an array of its own
                _accumulate(tensor, total, root)
                kept.add(id(tensor.grad))
        if node is None or g is None:
            continue
        # The cancellation rule, declared by the node's class as cancels = {shown: receiver}
        # (SigmoidBCE: {0: 2}): the gradient for input `shown` is only shown, because the
        # chain-rule product that cancels through it goes to input `receiver` instead. So it is
        # computed only if that input's tensor keeps its gradient, and it goes to `shown`, never
        # to `pending`: the node's backward returns the receiver's gradient like any other.
        cancels = node.cancels
        if cancels:
            node.needs_grad = tuple(
                parent.requires_grad
                and (index not in cancels or parent.node is None or retain_grads or parent.retains_grad)
                for index, parent in enumerate(node.inputs)
            )
        sent: list[tuple[int, ndarray, ndarray]] | None = None if on_step is None else []
        for index, (parent, parent_grad) in enumerate(zip(node.inputs, _call_backward(node, g))):
            if parent_grad is None or not parent.requires_grad:
                continue
            data = parent.data
            if (
                type(parent_grad) is not ndarray
                or parent_grad.shape != data.shape
                or parent_grad.dtype is not data.dtype
            ):  # the slow path: convert, unbroadcast, cast
                parent_grad = _conform(node, index, parent_grad, data)
            if mode.detect_anomaly and not _array.all_finite(parent_grad):
                raise FloatingPointError(
                    f"{type(node).__name__}.backward produced {_array.first_non_finite(parent_grad)} in the "
                    f"gradient for input {index}"
                )
            target = shown if cancels and index in cancels else pending
            key = id(parent)
            earlier = target.get(key)  # from another consumer of the same tensor: gradients add up
            target[key] = parent_grad if earlier is None else earlier + parent_grad
            if sent is not None:
                sent.append((index, parent_grad, target[key]))
        if on_step is not None and sent is not None:
            on_step(tensor, g, sent)


def _accumulate(tensor: Tensor, grad: ndarray, root: Tensor) -> None:
    """Add ``grad`` into ``tensor.grad`` and note that a backward from ``root`` did (``GradSource``)."""
    before = None if tensor.grad is None else grad_source(tensor)
    if tensor.grad is None:
        tensor.grad, from_root, calls = grad, weakref.ref(root), 1
    else:
        tensor.grad = tensor.grad + grad
        same = before is not None and before.root is not None and before.root() is root
        from_root, calls = (weakref.ref(root) if same else None), (before.calls if before else 1) + 1
    try:
        written: Callable[[], object] = weakref.ref(tensor.grad)
    except TypeError:  # a NumPy scalar (a 0-d sum), which takes no weak reference: tiny, so kept
        written = functools.partial(lambda array: array, tensor.grad)
    tensor._grad_source = (written, from_root, calls)


def _call_backward(node: Node, g: ndarray) -> tuple[object, ...]:
    """``node.backward(g)`` as a tuple, checked to hold one gradient per input."""
    if current_mode().detect_anomaly:  # report the node by name rather than as a NumPy warning
        with _array.xp.errstate(all="ignore"):
            grads = node.backward(g)
    else:
        grads = node.backward(g)
    if not isinstance(grads, tuple):
        grads = (grads,)
    if len(grads) != len(node.inputs):
        raise TypeError(
            f"{type(node).__name__}.backward returned {len(grads)} gradient(s) but the node has "
            f"{len(node.inputs)} input(s): return one per input, None where none is needed"
        )
    return grads


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


def _add(a: ndarray | None, b: ndarray | None) -> ndarray | None:
    if a is None:
        return b
    if b is None:
        return a
    return a + b
