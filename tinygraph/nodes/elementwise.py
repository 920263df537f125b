"""Elementwise nodes beyond the operators: abs, sqrt, square, log1p, expm1, softplus, sin, cos, clip,
maximum, minimum and where.

Each output element depends on the input elements at the same place only, so each derivative is
a local factor: dL/dx = dL/da · da/dx. Binary nodes return gradients shaped like the broadcast
output; the engine sums them back to each input's shape. Each node's ``jvp`` applies the same
factor to a tangent (forward mode): ṫ_a = da/dx · ṫ_x.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygraph import _array
from tinygraph._array import namespace, ndarray
from tinygraph._types import Grads
from tinygraph.node import Node


def _tangent(t: ndarray | None, like: ndarray) -> ndarray:
    """A tangent, or zeros shaped like ``like`` where it is None (a constant input)."""
    return namespace(like).zeros(like.shape, dtype=_array.float_dtype(like)) if t is None else t


class Abs(Node):
    """a = |x|.

    Notes
    -----
    da/dx = sign(x): 1 for x > 0, −1 for x < 0 and 0 at the kink x = 0 (PyTorch's choice).
    Forward mode: ȧ = sign(x) ẋ.
    """

    formula = "a = |x|"
    local_derivatives = ("sign(x)",)

    def forward(self, x: ndarray) -> ndarray:
        xp = namespace(x)
        self.sign = xp.sign(x)
        return xp.abs(x)

    def backward(self, grad: ndarray) -> Grads:
        return (grad * self.sign,)

    def jvp(self, tx: ndarray | None) -> ndarray:
        return _tangent(tx, self.sign) * self.sign


class Sqrt(Node):
    """a = √x.

    Notes
    -----
    da/dx = 1 / (2√x) = 1 / (2a), infinite at x = 0. Forward mode: ȧ = ẋ / (2a).
    """

    formula = "a = √x"
    local_derivatives = ("1 / (2√x)",)

    def forward(self, x: ndarray) -> ndarray:
        self.a = namespace(x).sqrt(x)
        return self.a

    def backward(self, grad: ndarray) -> Grads:
        with np.errstate(divide="ignore"):
            return (grad / (2 * self.a),)

    def jvp(self, tx: ndarray | None) -> ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return _tangent(tx, self.a) / (2 * self.a)


class Square(Node):
    """a = x², PyTorch's ``square`` (NumPy's ``np.square``).

    Notes
    -----
    da/dx = 2x. Forward mode: ȧ = 2x ẋ.
    """

    formula = "a = x²"
    local_derivatives = ("2x",)

    def forward(self, x: ndarray) -> ndarray:
        self.x = x
        return namespace(x).square(x)

    def backward(self, grad: ndarray) -> Grads:
        return (grad * 2 * self.x,)

    def jvp(self, tx: ndarray | None) -> ndarray:
        return _tangent(tx, self.x) * 2 * self.x


class Log1p(Node):
    """a = log(1 + x), exact for tiny x (where 1 + x would round to 1).

    Notes
    -----
    da/dx = 1 / (1 + x). Forward mode: ȧ = ẋ / (1 + x).
    """

    formula = "a = log(1 + x)"
    local_derivatives = ("1 / (1 + x)",)

    def forward(self, x: ndarray) -> ndarray:
        self.x = x
        return namespace(x).log1p(x)

    def backward(self, grad: ndarray) -> Grads:
        return (grad / (1 + self.x),)

    def jvp(self, tx: ndarray | None) -> ndarray:
        return _tangent(tx, self.x) / (1 + self.x)


class Expm1(Node):
    """a = eˣ − 1, exact for tiny x (where eˣ − 1 would cancel to 0).

    Notes
    -----
    da/dx = eˣ = a + 1. Forward mode: ȧ = (a + 1) ẋ.
    """

    formula = "a = eˣ − 1"
    local_derivatives = ("eˣ",)

    def forward(self, x: ndarray) -> ndarray:
        self.a = namespace(x).expm1(x)
        return self.a

    def backward(self, grad: ndarray) -> Grads:
        return (grad * (self.a + 1),)

    def jvp(self, tx: ndarray | None) -> ndarray:
        return _tangent(tx, self.a) * (self.a + 1)


class Softplus(Node):
    """a = log(1 + eˣ), exact for any finite x: the smooth ReLU, and the logistic loss of −x.

    Notes
    -----
    Computed as max(x, 0) + log(1 + e^(−|x|)): nothing overflows, and for very negative x the
    tiny result keeps every digit. da/dx = eˣ / (1 + eˣ) = σ(x). Forward mode: ȧ = σ(x) ẋ.
    """

    formula = "a = log(1 + eˣ)"
    local_derivatives = ("σ(x)",)

    def forward(self, x: ndarray) -> ndarray:
        self.x = x
        xp = namespace(x)
        return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))

    def backward(self, grad: ndarray) -> Grads:
        return (grad * _array.sigmoid(self.x),)

    def jvp(self, tx: ndarray | None) -> ndarray:
        return _tangent(tx, self.x) * _array.sigmoid(self.x)


class Sin(Node):
    """a = sin x;  da/dx = cos x. Forward mode: ȧ = cos(x) ẋ."""

    formula = "a = sin x"
    local_derivatives = ("cos x",)

    def forward(self, x: ndarray) -> ndarray:
        self.x = x
        return namespace(x).sin(x)

    def backward(self, grad: ndarray) -> Grads:
        return (grad * namespace(self.x).cos(self.x),)

    def jvp(self, tx: ndarray | None) -> ndarray:
        return _tangent(tx, self.x) * namespace(self.x).cos(self.x)


class Cos(Node):
    """a = cos x;  da/dx = −sin x. Forward mode: ȧ = −sin(x) ẋ."""

    formula = "a = cos x"
    local_derivatives = ("−sin x",)

    def forward(self, x: ndarray) -> ndarray:
        self.x = x
        return namespace(x).cos(x)

    def backward(self, grad: ndarray) -> Grads:
        return (-grad * namespace(self.x).sin(self.x),)

    def jvp(self, tx: ndarray | None) -> ndarray:
        return -_tangent(tx, self.x) * namespace(self.x).sin(self.x)


class Clip(Node):
    """a = min(max(x, low), high), NumPy's ``clip``; either bound may be None (no bound).

    Parameters
    ----------
    low, high : float, array_like or None
        The bounds, constants (no gradient flows to them); arrays broadcast against x.

    Notes
    -----
    da/dx = 1 where low ≤ x ≤ high (bounds included, as in PyTorch), else 0.
    Forward mode: ȧ = [low ≤ x ≤ high] ẋ.
    """

    formula = "a = clip(x, low, high)"
    local_derivatives = ("1 inside [low, high], else 0",)

    def __init__(self, low: Any = None, high: Any = None) -> None:
        if low is None and high is None:
            raise ValueError("Clip: give low, high or both")
        self.low, self.high = low, high

    def forward(self, x: ndarray) -> ndarray:
        xp = namespace(x)
        inside = xp.ones(x.shape, dtype=xp.bool)
        if self.low is not None:
            inside = inside & (x >= self.low)
        if self.high is not None:
            inside = inside & (x <= self.high)
        self.inside = inside
        out = xp.clip(x, self.low, self.high)
        return _array.astype(out, x.dtype) if _array.is_float(x) else out

    def backward(self, grad: ndarray) -> Grads:
        return (grad * _array.as_factor(self.inside, grad),)

    def jvp(self, tx: ndarray | None) -> ndarray:
        t = _tangent(tx, self.inside)
        return t * _array.as_factor(self.inside, t)


def _share(wins: ndarray, ties: ndarray, z: ndarray) -> ndarray:
    """dz/dx of Maximum or Minimum, 1 where x wins and ½ at a tie, in the output's dtype (float32 stays)."""
    if isinstance(wins, np.ndarray):
        share = wins + 0.5 * ties
        return share.astype(z.dtype) if _array.is_float(z) else share
    dtype = _array.float_dtype(z)
    return _array.astype(wins, dtype) + 0.5 * _array.astype(ties, dtype)


class Maximum(Node):
    """z = max(x, y) elementwise, NumPy's ``maximum`` (with broadcasting).

    Notes
    -----
    dz/dx = 1 where x > y, 1/2 where x = y, 0 where x < y; dz/dy = 1 − dz/dx. A tie splits the
    gradient evenly between the two, as PyTorch does. Forward mode: ż = dz/dx ẋ + dz/dy ẏ.
    """

    formula = "z = max(x, y)"
    local_derivatives = ("1 if x > y, ½ if x = y", "1 if y > x, ½ if x = y")

    def forward(self, x: ndarray, y: ndarray) -> ndarray:
        self.x, self.y = x, y
        z = namespace(x).maximum(x, y)
        self.share_x = _share(x > y, x == y, z)  # dz/dx: 1, ½ or 0
        return z

    def backward(self, grad: ndarray) -> Grads:
        gx = grad * self.share_x if self.needs_grad[0] else None
        gy = grad * (1 - self.share_x) if self.needs_grad[1] else None
        return gx, gy

    def jvp(self, tx: ndarray | None, ty: ndarray | None) -> ndarray:
        share = self.share_x
        return share * _tangent(tx, self.x) + (1 - share) * _tangent(ty, self.y)


class Minimum(Maximum):
    """z = min(x, y) elementwise, NumPy's ``minimum`` (with broadcasting).

    Notes
    -----
    dz/dx = 1 where x < y, 1/2 where x = y, 0 where x > y; dz/dy = 1 − dz/dx (ties split evenly,
    as in PyTorch). Forward mode: ż = dz/dx ẋ + dz/dy ẏ.
    """

    formula = "z = min(x, y)"
    local_derivatives = ("1 if x < y, ½ if x = y", "1 if y < x, ½ if x = y")

    def forward(self, x: ndarray, y: ndarray) -> ndarray:
        self.x, self.y = x, y
        z = namespace(x).minimum(x, y)
        self.share_x = _share(x < y, x == y, z)
        return z


class Where(Node):
    """z = x where ``condition`` holds, else y: NumPy's ``where(condition, x, y)``, broadcasting.

    Notes
    -----
    dz/dx = [condition], dz/dy = 1 − [condition]; the condition gets no gradient.
    Forward mode: ż = [condition] ẋ + (1 − [condition]) ẏ.
    """

    formula = "z = x if c else y"
    local_derivatives = (None, "1 where c", "1 where not c")

    def forward(self, condition: ndarray, x: ndarray, y: ndarray) -> ndarray:
        xp = namespace(x)
        self.condition, self.x, self.y = _array.astype(condition, xp.bool), x, y
        return xp.where(self.condition, x, y)

    def backward(self, grad: ndarray) -> Grads:
        c, xp = self.condition, namespace(grad)
        gx = xp.where(c, grad, 0.0) if self.needs_grad[1] else None
        gy = xp.where(c, 0.0, grad) if self.needs_grad[2] else None
        return None, gx, gy

    def jvp(self, tc: ndarray | None, tx: ndarray | None, ty: ndarray | None) -> ndarray:
        return namespace(self.x).where(self.condition, _tangent(tx, self.x), _tangent(ty, self.y))
