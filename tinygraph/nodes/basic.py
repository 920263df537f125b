"""The primitive nodes behind the tensor operators: arithmetic, matmul, exp/log, reductions, shapes.

Binary nodes return gradients shaped like the broadcast output; the engine sums them back to each
input's own shape, so the math here stays the textbook one. Every node computes with the
namespace of its input arrays (``_array.namespace``): NumPy, or Dask, CuPy, array_api_strict. Each node's ``jvp`` is the same
derivative pushed forward: for z = x · y, ż = ẋ y + x ẏ (a dot marks a tangent; None is zero).
"""

from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np

from tinygraph import _array
from tinygraph._array import namespace, ndarray
from tinygraph._types import Axis, Grads
from tinygraph.node import Node

Tangent = ndarray | None


def _out_shape(node: Node) -> tuple[int, ...]:
    """The broadcast shape of a binary node's output, from its inputs' shapes."""
    return np.broadcast_shapes(*(t.shape for t in node.inputs))  # shapes only: plain tuples

class Add(Node):
    """z = x + y;  dz/dx = 1, dz/dy = 1."""

    formula = "z = x + y"
    symbols = ("x", "y")
    local_derivatives = ("1", "1")

    def forward(self, x: ndarray, y: ndarray) -> ndarray:
        return x + y

    def backward(self, grad: ndarray) -> Grads:
        x_needs, y_needs = self.needs_grad
        return (grad if x_needs else None), (grad if y_needs else None)

    def jvp(self, dx: Tangent, dy: Tangent) -> ndarray:
        """ż = ẋ + ẏ."""
        return _array.add_tangents(_out_shape(self), dx, dy)


class Sub(Node):
    """z = x − y;  dz/dx = 1, dz/dy = −1."""

    formula = "z = x − y"
    symbols = ("x", "y")
    local_derivatives = ("1", "−1")

    def forward(self, x: ndarray, y: ndarray) -> ndarray:
        return x - y

    def backward(self, grad: ndarray) -> Grads:
        return (grad if self.needs_grad[0] else None), (-grad if self.needs_grad[1] else None)

    def jvp(self, dx: Tangent, dy: Tangent) -> ndarray:
        """ż = ẋ − ẏ."""
        return _array.add_tangents(_out_shape(self), dx, None if dy is None else -dy)


class Neg(Node):
    """z = −x;  dz/dx = −1."""

    formula = "z = −x"
    symbols = ("x",)
    local_derivatives = ("−1",)

    def forward(self, x: ndarray) -> ndarray:
        return -x

    def backward(self, grad: ndarray) -> Grads:
        return (-grad,)

    def jvp(self, dx: Tangent) -> ndarray:
        """ż = −ẋ."""
        return -dx


class Mul(Node):
    """z = x · y;  dz/dx = y, dz/dy = x."""

    formula = "z = x · y"
    symbols = ("x", "y")
    local_derivatives = ("y", "x")

    def forward(self, x: ndarray, y: ndarray) -> ndarray:
        self.x, self.y = x, y
        return x * y

    def backward(self, grad: ndarray) -> Grads:
        x_needs, y_needs = self.needs_grad
        return (grad * self.y if x_needs else None), (grad * self.x if y_needs else None)

    def jvp(self, dx: Tangent, dy: Tangent) -> ndarray:
        """ż = ẋ y + x ẏ."""
        return _array.add_tangents(
            _out_shape(self), None if dx is None else dx * self.y, None if dy is None else self.x * dy
        )


class Div(Node):
    """z = x / y;  dz/dx = 1 / y, dz/dy = −x / y² = −z / y."""

    formula = "z = x / y"
    symbols = ("x", "y")
    local_derivatives = ("1 / y", "−x / y²")

    def forward(self, x: ndarray, y: ndarray) -> ndarray:
        self.y = y
        self.z = x / y
        return self.z

    def backward(self, grad: ndarray) -> Grads:
        gx = grad / self.y if self.needs_grad[0] else None
        gy = -grad * self.z / self.y if self.needs_grad[1] else None
        return gx, gy

    def jvp(self, dx: Tangent, dy: Tangent) -> ndarray:
        """ż = ẋ / y − z ẏ / y."""
        return _array.add_tangents(
            self.z.shape, None if dx is None else dx / self.y, None if dy is None else -self.z * dy / self.y
        )


class Pow(Node):
    """z = x ** p;  dz/dx = p · x^(p − 1), dz/dp = z · log x (for x > 0)."""

    formula = "z = x ** p"
    symbols = ("x", "p")
    local_derivatives = ("p x^(p − 1)", "z log x")

    def forward(self, x: ndarray, p: ndarray) -> ndarray:
        self.x, self.p = x, p
        self.z = x**p
        return self.z

    def backward(self, grad: ndarray) -> Grads:
        gx = grad * self._dz_dx() if self.needs_grad[0] else None
        gp = None
        if self.needs_grad[1]:
            gp = grad * self._z_log_x()
        return gx, gp

    def _dz_dx(self) -> ndarray:
        """p x^(p − 1); where p = 0 it is 0 (x⁰ = 1), also at x = 0, where 0 · 0⁻¹ would be NaN."""
        p = self.p
        return p * self.x ** namespace(p).where(p == 0, 1, p - 1)

    def _z_log_x(self) -> ndarray:
        """dz/dp = z log x where x > 0, and 0 elsewhere (where x^p has no derivative in p)."""
        xp, positive = namespace(self.x), self.x > 0
        return _array.astype(xp.where(positive, self.z * xp.log(xp.where(positive, self.x, 1)), 0), self.z.dtype)

    def jvp(self, dx: Tangent, dp: Tangent) -> ndarray:
        """ż = p x^(p − 1) ẋ + z log x ṗ."""
        return _array.add_tangents(
            self.z.shape,
            None if dx is None else self._dz_dx() * dx,
            None if dp is None else self._z_log_x() * dp,
        )


class MatMul(Node):
    """z = x @ y (NumPy's matmul rules);  dL/dx = dL/dz @ yᵀ, dL/dy = xᵀ @ dL/dz."""

    formula = "z = x @ y"
    symbols = ("x", "y")
    local_derivatives = ("· yᵀ", "xᵀ ·")

    def forward(self, x: ndarray, y: ndarray) -> ndarray:
        if x.ndim == 0 or y.ndim == 0 or x.shape[-1] != y.shape[-2 if y.ndim > 1 else 0]:
            raise ValueError(
                f"MatMul: x has shape {x.shape} but y has shape {y.shape}; the last axis of x must "
                "match the first (vector) or second-to-last (matrix) axis of y"
            )
        self.x, self.y = x, y
        return x @ y

    def backward(self, grad: ndarray) -> Grads:
        x, y = self.x, self.y
        if x.ndim == 1 and y.ndim == 1:
            return (grad * y if self.needs_grad[0] else None), (grad * x if self.needs_grad[1] else None)
        # Treat a vector as a one-row (x) or one-column (y) matrix, then drop that axis again.
        x2 = x[None, :] if x.ndim == 1 else x
        y2 = y[:, None] if y.ndim == 1 else y
        xp = namespace(grad)
        g2 = xp.expand_dims(grad, axis=-2) if x.ndim == 1 else grad
        g2 = xp.expand_dims(g2, axis=-1) if y.ndim == 1 else g2
        gx = gy = None
        if self.needs_grad[0]:
            gx = g2 @ xp.matrix_transpose(y2)
            gx = gx[..., 0, :] if x.ndim == 1 else gx
        if self.needs_grad[1]:
            if x.ndim == 2 and y.ndim == 2 and type(x) is ndarray and x.flags.c_contiguous:
                gy = (g2.T @ x).T  # the faster form on NumPy: see Linear's weight_gradient
            else:
                gy = xp.matrix_transpose(x2) @ g2
                gy = gy[..., 0] if y.ndim == 1 else gy
        return gx, gy

    def jvp(self, dx: Tangent, dy: Tangent) -> ndarray:
        """ż = ẋ @ y + x @ ẏ."""
        # either product already has the output's shape; with no tangent at all, ż = 0
        if dx is None and dy is None:
            return namespace(self.x).zeros_like(self.x @ self.y)
        if dy is None:
            return dx @ self.y
        return self.x @ dy if dx is None else dx @ self.y + self.x @ dy


class Exp(Node):
    """a = eˣ;  da/dx = eˣ = a."""

    formula = "a = eˣ"
    symbols = ("x",)
    local_derivatives = ("eˣ",)

    def forward(self, x: ndarray) -> ndarray:
        self.a = namespace(x).exp(x)
        return self.a

    def backward(self, grad: ndarray) -> Grads:
        return (grad * self.a,)

    def jvp(self, dx: Tangent) -> ndarray:
        """ȧ = a ẋ."""
        return self.a * dx


class Log(Node):
    """a = log x;  da/dx = 1 / x."""

    formula = "a = log x"
    symbols = ("x",)
    local_derivatives = ("1 / x",)

    def forward(self, x: ndarray) -> ndarray:
        self.x = x
        return namespace(x).log(x)

    def backward(self, grad: ndarray) -> Grads:
        return (grad / self.x,)

    def jvp(self, dx: Tangent) -> ndarray:
        """ȧ = ẋ / x."""
        return dx / self.x


def _axes(axis: Axis, ndim: int) -> tuple[int, ...]:
    """``axis`` (None, an integer or a tuple of them, negatives allowed) as a sorted tuple of axes ≥ 0.

    Any integer NumPy takes as an axis will do, ``np.int64(1)`` included (``operator.index``).
    """
    if axis is None:
        return tuple(range(ndim))
    return tuple(sorted(_axis_list(axis, ndim)))


def _axis_list(axis: Any, ndim: int) -> list[int]:
    """``axis`` (an integer or a sequence of them) as a list of axes ≥ 0, in the order given."""
    axes = axis if isinstance(axis, (tuple, list)) or getattr(axis, "ndim", 0) > 0 else (axis,)
    indices = [operator.index(a) for a in axes]
    return [a % ndim if -ndim <= a < ndim else _bad_axis(a, ndim) for a in indices]


def _bad_axis(axis: int, ndim: int) -> int:
    raise ValueError(f"axis {axis} is out of bounds for a tensor with {ndim} dimension(s)")


class _Reduction(Node):
    """Shared bookkeeping of Sum, Mean and Max: which axes were reduced, and how to undo it."""

    def __init__(self, axis: Axis = None, keepdims: bool = False) -> None:
        self.axis, self.keepdims = axis, keepdims

    def _remember(self, x: ndarray) -> tuple[int, ...]:
        self.shape = x.shape
        self.axes = _axes(self.axis, x.ndim)
        return self.axes

    def _expand(self, grad: ndarray) -> ndarray:
        """``grad`` with the reduced axes put back as length-1 axes, ready to broadcast."""
        if self.keepdims:
            return grad
        kept = tuple(1 if a in self.axes else n for a, n in enumerate(self.shape))
        return namespace(grad).reshape(grad, kept)


class Sum(_Reduction):
    """s = Σ x over ``axis``;  ds/dx = 1 for every summed element."""

    formula = "s = Σ x"
    symbols = ("x",)
    local_derivatives = ("1",)

    def forward(self, x: ndarray) -> ndarray:
        if isinstance(x, np.ndarray):  # NumPy's method: a microsecond less than np.sum
            return x.sum(axis=self._remember(x), keepdims=self.keepdims)
        return namespace(x).sum(x, axis=self._remember(x), keepdims=self.keepdims)

    def backward(self, grad: ndarray) -> Grads:
        return (namespace(grad).broadcast_to(self._expand(grad), self.shape),)

    def jvp(self, dx: Tangent) -> ndarray:
        """ṡ = Σ ẋ over the same axes."""
        return namespace(dx).sum(dx, axis=self.axes, keepdims=self.keepdims)


class Mean(_Reduction):
    """m = (1/n) Σ x over ``axis``;  dm/dx = 1/n."""

    formula = "m = mean(x)"
    symbols = ("x",)
    local_derivatives = ("1 / n",)

    def forward(self, x: ndarray) -> ndarray:
        axes = self._remember(x)
        self.count = math.prod([x.shape[a] for a in axes])
        if isinstance(x, np.ndarray):
            return x.mean(axis=axes, keepdims=self.keepdims)
        return namespace(x).mean(x, axis=axes, keepdims=self.keepdims)

    def backward(self, grad: ndarray) -> Grads:
        return (namespace(grad).broadcast_to(self._expand(grad) / self.count, self.shape),)

    def jvp(self, dx: Tangent) -> ndarray:
        """ṁ = (1/n) Σ ẋ over the same axes."""
        return namespace(dx).mean(dx, axis=self.axes, keepdims=self.keepdims)


class Max(_Reduction):
    """m = max x over ``axis``;  dm/dx = 1 at the maximum (split evenly between ties), else 0."""

    formula = "m = max(x)"
    symbols = ("x",)
    local_derivatives = ("1 at the max",)

    def forward(self, x: ndarray) -> ndarray:
        xp, axes = namespace(x), self._remember(x)
        m = _array.extremum(x, axes, "max")
        self.is_max = x == m
        return m if self.keepdims else xp.squeeze(m, axis=axes)

    def _extrema(self, dtype: object) -> ndarray:
        """1 at each extremum, 0 elsewhere, in ``dtype`` (the standard multiplies no bools with floats)."""
        return _array.astype(self.is_max, dtype)

    def backward(self, grad: ndarray) -> Grads:
        xp, is_max = namespace(grad), self._extrema(grad.dtype)
        ties = xp.sum(is_max, axis=self.axes, keepdims=True)
        return (is_max * (self._expand(grad) / ties),)

    def jvp(self, dx: Tangent) -> ndarray:
        """ṁ = the mean of ẋ over the maxima (ties split evenly, as in backward)."""
        xp, is_max = namespace(dx), self._extrema(dx.dtype)
        ties = xp.sum(is_max, axis=self.axes, keepdims=self.keepdims)
        return xp.sum(is_max * dx, axis=self.axes, keepdims=self.keepdims) / ties


class Reshape(Node):
    """y = x reshaped;  dL/dx = dL/dy reshaped back."""

    formula = "y = reshape(x)"
    symbols = ("x",)
    local_derivatives = ("reshape back",)

    def __init__(self, shape: Any) -> None:
        self.shape = shape

    def forward(self, x: ndarray) -> ndarray:
        self.in_shape = x.shape
        return namespace(x).reshape(x, _shape(self.shape))

    def backward(self, grad: ndarray) -> Grads:
        return (namespace(grad).reshape(grad, self.in_shape),)

    def jvp(self, dx: Tangent) -> ndarray:
        """ẏ = ẋ reshaped."""
        return namespace(dx).reshape(dx, _shape(self.shape))


def _shape(shape: Any) -> tuple[int, ...]:
    """A shape as the standard's reshape takes it: a tuple of ints (NumPy also takes one int or a list)."""
    return tuple(int(n) for n in shape) if isinstance(shape, (tuple, list)) else (operator.index(shape),)


class Transpose(Node):
    """y = x with its axes permuted;  dL/dx = dL/dy with the inverse permutation."""

    formula = "y = xᵀ"
    symbols = ("x",)
    local_derivatives = ("transpose back",)

    def __init__(self, axes: Any = None) -> None:
        self.axes = axes

    def forward(self, x: ndarray) -> ndarray:
        if self.axes is None:
            self.order = self.inverse = tuple(range(x.ndim - 1, -1, -1))
            return namespace(x).permute_dims(x, self.order)
        axes = _axis_list(self.axes, x.ndim)  # (-1, 0) means (1, 0): the inverse needs axes ≥ 0
        if sorted(axes) != list(range(x.ndim)):
            raise ValueError(f"Transpose: axes {self.axes} are not a permutation of the {x.ndim} axes")
        self.order = tuple(axes)
        self.inverse = tuple(sorted(range(x.ndim), key=axes.__getitem__))
        return namespace(x).permute_dims(x, self.order)

    def backward(self, grad: ndarray) -> Grads:
        return (namespace(grad).permute_dims(grad, self.inverse),)

    def jvp(self, dx: Tangent) -> ndarray:
        """ẏ = ẋ with the same permutation."""
        return namespace(dx).permute_dims(dx, self.order)


class GetItem(Node):
    """y = x[index] (basic or integer-array indexing);  dL/dx scatters dL/dy back, adding repeats.

    ``index`` holds arrays, not tensors (``Tensor.__getitem__`` unwraps them). Off NumPy the
    index is spelled as the standard wants it (``_select``), and the scatter of backward sums per
    position (``_array.scatter_add``).
    """

    formula = "y = x[i]"
    symbols = ("x",)
    local_derivatives = ("scatter back",)

    def __init__(self, index: Any) -> None:
        self.index = index

    def forward(self, x: ndarray) -> ndarray:
        self.shape, self.dtype = x.shape, x.dtype
        return x[self.index] if isinstance(x, np.ndarray) else _select(x, self.index)

    def backward(self, grad: ndarray) -> Grads:
        return (_array.scatter_add(self.shape, self.index, grad, self.dtype),)

    def jvp(self, dx: Tangent) -> ndarray:
        """ẏ = ẋ[index]."""
        return dx[self.index] if isinstance(dx, np.ndarray) else _select(dx, self.index)


def _select(x: ndarray, index: Any) -> ndarray:
    """``x[index]`` as the standard spells it: ``take`` for one integer array, and every axis indexed.

    NumPy fills in ``:`` for the axes an index leaves out; the standard wants a trailing ``...``
    (a boolean mask stays alone: the standard allows it only as the sole index).
    """
    parts = index if isinstance(index, tuple) else (index,)
    if _array.is_dask(x):  # Dask indexes with NumPy masks as positions, so that shapes stay known
        parts = sum(((*np.nonzero(p),) if isinstance(p, np.ndarray) and p.dtype == bool else (p,) for p in parts), ())
        index = parts if len(parts) > 1 else parts[0]
        if sum(1 for p in parts if getattr(p, "ndim", 0) > 0) > 1:
            return x.vindex[index]  # several integer arrays: point-wise, as NumPy pairs them
    if len(parts) == 1 and getattr(index, "ndim", 0) == 1 and not _is_bool_array(index):
        return namespace(x).take(x, index, axis=0)
    if sum(1 for p in parts if getattr(p, "ndim", 0) > 0) > 1:  # the standard has no point-wise pairing
        return _array.take_positions(x, index)
    used = sum(1 for p in parts if p is not None and p is not Ellipsis)
    if used == x.ndim or any(p is Ellipsis or _is_bool_array(p) for p in parts):
        return x[index]
    return x[(*parts, Ellipsis)]


def _is_bool_array(part: Any) -> bool:
    dtype = getattr(part, "dtype", None)
    return dtype is not None and _array.namespace(part).isdtype(dtype, "bool")
