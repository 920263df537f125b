"""Shape nodes: concatenate, stack, squeeze, expand_dims, flip and broadcast_to.

They move elements without changing them, so each backward moves the gradient back the same way:
split what was joined, reshape what was reshaped, flip what was flipped, and (for broadcast_to)
nothing at all, since the engine already sums a gradient back over broadcast axes. Each ``jvp``
applies the forward move itself to the tangents. Arguments follow NumPy.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

from tinygraph import _array
from tinygraph._array import namespace, ndarray
from tinygraph._types import Grads
from tinygraph.node import Node
from tinygraph.nodes.basic import _axis_list


def _tangent(t: ndarray | None, like: ndarray) -> ndarray:
    return namespace(like).zeros(like.shape, dtype=_array.float_dtype(like)) if t is None else t


class Concatenate(Node):
    """y = the inputs joined along an existing ``axis`` (NumPy's ``concatenate``; None flattens).

    Notes
    -----
    dy/dx_k is the identity on x_k's slice of y, so dL/dx_k is that slice of dL/dy.
    Forward mode: ẏ = the tangents joined the same way.
    """

    formula = "y = [x₁, x₂, …]"
    local_derivatives = ("its slice",)

    def __init__(self, axis: Any = 0) -> None:
        self.axis = axis

    def forward(self, *xs: ndarray) -> ndarray:
        if not xs:
            raise ValueError("Concatenate: needs at least one array")
        self.xs = xs
        self.shapes = [x.shape for x in xs]
        out = namespace(xs[0]).concat(list(xs), axis=None if self.axis is None else int(self.axis))  # None flattens
        self.along = 0 if self.axis is None else _axis_list(self.axis, out.ndim)[0]
        return out

    def backward(self, grad: ndarray) -> Grads:
        xp = namespace(grad)
        sizes = [math.prod(s) if self.axis is None else s[self.along] for s in self.shapes]
        ends = list(itertools.accumulate(sizes))
        before = (slice(None),) * self.along
        return tuple(
            xp.reshape(grad[before + (slice(end - size, end), ...)], shape) if needed else None
            for size, end, shape, needed in zip(sizes, ends, self.shapes, self.needs_grad)
        )

    def jvp(self, *tangents: ndarray | None) -> ndarray:
        ts = [_tangent(t, x) for t, x in zip(tangents, self.xs)]
        return namespace(ts[0]).concat(ts, axis=None if self.axis is None else self.along)


class Stack(Node):
    """y = the inputs, all of one shape, stacked along a new ``axis`` (NumPy's ``stack``).

    Notes
    -----
    dL/dx_k = dL/dy[..., k, ...], the k-th entry along the new axis. Forward mode: ẏ = the
    tangents stacked.
    """

    formula = "y = stack(x₁, x₂, …)"
    local_derivatives = ("its entry",)

    def __init__(self, axis: Any = 0) -> None:
        self.axis = axis

    def forward(self, *xs: ndarray) -> ndarray:
        self.xs = xs
        out = namespace(xs[0]).stack(list(xs), axis=int(self.axis))
        self.along = _axis_list(self.axis, out.ndim)[0]
        return out

    def backward(self, grad: ndarray) -> Grads:
        before = (slice(None),) * self.along
        return tuple(grad[before + (k, ...)] if needed else None for k, needed in enumerate(self.needs_grad))

    def jvp(self, *tangents: ndarray | None) -> ndarray:
        ts = [_tangent(t, x) for t, x in zip(tangents, self.xs)]
        return namespace(ts[0]).stack(ts, axis=self.along)


class _Reshaping(Node):
    """A node whose output is its input with another shape: the gradient is reshaped back."""

    def backward(self, grad: ndarray) -> Grads:
        return (namespace(grad).reshape(grad, self.in_shape),)

    def jvp(self, tx: ndarray | None) -> ndarray:
        t = _tangent(tx, self.x)
        return namespace(t).reshape(t, self.out_shape)


class Squeeze(_Reshaping):
    """y = x without its length-1 axes (all, or those of ``axis``), NumPy's ``squeeze``.

    Notes
    -----
    Only the shape changes: dL/dx = dL/dy reshaped to x's shape. Forward mode: ẏ = ẋ squeezed.
    """

    formula = "y = squeeze(x)"
    local_derivatives = ("reshape back",)

    def __init__(self, axis: Any = None) -> None:
        self.axis = axis

    def forward(self, x: ndarray) -> ndarray:
        self.x, self.in_shape = x, x.shape
        ones = tuple(a for a, n in enumerate(x.shape) if n == 1)  # the standard needs the axes named
        axis = ones if self.axis is None else tuple(_axis_list(self.axis, x.ndim))
        out = namespace(x).squeeze(x, axis=axis)
        self.out_shape = out.shape
        return out


class ExpandDims(_Reshaping):
    """y = x with new length-1 axes at the positions ``axis`` (NumPy's ``expand_dims``).

    Notes
    -----
    Only the shape changes: dL/dx = dL/dy reshaped to x's shape. Forward mode: ẏ = ẋ expanded.
    """

    formula = "y = expand_dims(x)"
    local_derivatives = ("reshape back",)

    def __init__(self, axis: Any) -> None:
        self.axis = axis

    def forward(self, x: ndarray) -> ndarray:
        self.x, self.in_shape = x, x.shape
        n = x.ndim + (len(self.axis) if isinstance(self.axis, (tuple, list)) else 1)
        new = _axis_list(self.axis, n)
        if len(set(new)) != len(new):
            raise ValueError(f"ExpandDims: repeated axis in {self.axis}")
        sizes = iter(x.shape)
        self.out_shape = tuple(1 if a in new else next(sizes) for a in range(n))  # a reshape: one call in every namespace
        return namespace(x).reshape(x, self.out_shape)


class Flip(Node):
    """y = x with the order of its elements reversed along ``axis`` (None: every axis), ``flip``.

    Notes
    -----
    Flipping is its own inverse: dL/dx = dL/dy flipped along the same axes. Forward mode: ẏ = ẋ
    flipped.
    """

    formula = "y = flip(x)"
    local_derivatives = ("flip back",)

    def __init__(self, axis: Any = None) -> None:
        self.axis = axis

    def forward(self, x: ndarray) -> ndarray:
        self.x = x
        self.axes = tuple(range(x.ndim)) if self.axis is None else tuple(_axis_list(self.axis, x.ndim))
        return namespace(x).flip(x, axis=self.axes)

    def backward(self, grad: ndarray) -> Grads:
        return (namespace(grad).flip(grad, axis=self.axes),)

    def jvp(self, tx: ndarray | None) -> ndarray:
        t = _tangent(tx, self.x)
        return namespace(t).flip(t, axis=self.axes)


class BroadcastTo(Node):
    """y = x broadcast to ``shape`` by NumPy's rules (a read-only view, as ``np.broadcast_to``).

    Notes
    -----
    Each element of x is copied to every position it is broadcast to, so dL/dx is the sum of
    dL/dy over those copies. The node returns dL/dy as it is: summing over broadcast axes is the
    engine's job for every node. Forward mode: ẏ = ẋ broadcast.
    """

    formula = "y = broadcast_to(x, shape)"
    local_derivatives = ("sum back",)

    def __init__(self, shape: Any) -> None:
        self.shape = (shape,) if isinstance(shape, int) else tuple(shape)

    def forward(self, x: ndarray) -> ndarray:
        self.x = x
        return namespace(x).broadcast_to(x, self.shape)

    def backward(self, grad: ndarray) -> Grads:
        return (grad,)

    def jvp(self, tx: ndarray | None) -> ndarray:
        t = _tangent(tx, self.x)
        return namespace(t).broadcast_to(t, self.shape)
