"""Reductions beyond sum, mean and max: min, prod, var, std and logsumexp, over any axes.

``axis`` follows NumPy: None (every axis), an integer or a tuple of them, negatives counted from
the end; ``keepdims`` keeps the reduced axes with length 1. Each backward spreads dL/d(result)
back over the reduced elements with the local derivative written in its docstring. (argmax and
argmin have no gradient, so they are plain functions: ``tg.argmax``.)
"""

from __future__ import annotations

import math

import numpy as np

from tinygraph import _array
from tinygraph._array import namespace, ndarray
from tinygraph._types import Grads
from tinygraph.nodes.basic import Max, _Reduction


def _tangent(t: ndarray | None, like: ndarray) -> ndarray:
    return namespace(like).zeros(like.shape, dtype=_array.float_dtype(like)) if t is None else t


def _last(x: ndarray, axes: tuple[int, ...]) -> ndarray:
    """``x`` with the reduced ``axes`` moved to the end and flattened into one last axis."""
    kept = [a for a in range(x.ndim) if a not in axes]
    n = 1
    for a in axes:
        n *= x.shape[a]
    xp = namespace(x)
    moved = xp.permute_dims(x, tuple(kept + list(axes)))
    return xp.reshape(moved, tuple([x.shape[a] for a in kept] + [n]))  # n, not -1: size 0


def _unlast(y: ndarray, shape: tuple[int, ...], axes: tuple[int, ...]) -> ndarray:
    """The inverse of ``_last``: an array of ``shape`` again."""
    kept = [a for a in range(len(shape)) if a not in axes]
    order = kept + list(axes)
    xp = namespace(y)
    y = xp.reshape(y, tuple(shape[a] for a in order))
    return xp.permute_dims(y, tuple(order.index(a) for a in range(len(shape))))


class Min(Max):
    """m = min x over ``axis``.

    Notes
    -----
    dm/dx = 1 at the minimum, split evenly between ties, 0 elsewhere (as Max, and as PyTorch's
    ``amin``). Forward mode: ṁ = mean of ẋ over the minima.
    """

    formula = "m = min(x)"
    local_derivatives = ("1 at the min",)

    def forward(self, x: ndarray) -> ndarray:
        xp, axes = namespace(x), self._remember(x)
        m = _array.extremum(x, axes, "min")
        self.is_max = x == m  # the extremum Max's backward spreads the gradient over
        return m if self.keepdims else xp.squeeze(m, axis=axes)

    def jvp(self, tx: ndarray | None) -> ndarray:
        t = _tangent(tx, self.is_max)
        return super().jvp(t)


class Prod(_Reduction):
    """p = Π x over ``axis``, zeros included.

    Notes
    -----
    dp/dx_i = Π_{j ≠ i} x_j, the product of the other elements. It is computed without dividing
    p by x_i (which fails at x_i = 0) as the product of everything before x_i times everything
    after it (exclusive cumulative products from both ends), so one zero gives the other elements
    a zero gradient and itself the product of the rest. Forward mode: ṗ = Σ_i (Π_{j ≠ i} x_j) ẋ_i.
    """

    formula = "p = Π x"
    local_derivatives = ("Π of the others",)

    def forward(self, x: ndarray) -> ndarray:
        axes = self._remember(x)
        self.x = x
        return namespace(x).prod(x, axis=axes, keepdims=self.keepdims)

    def _others(self) -> ndarray:
        """Π_{j ≠ i} x_j for every element i, shaped like x."""
        if math.prod(self.x.shape) == 0:  # no element: nothing to multiply (and Dask's concat of empty chunks errs)
            return namespace(self.x).zeros(self.x.shape, dtype=self.x.dtype)
        flat = _last(self.x, self.axes)
        xp = namespace(flat)
        ones = xp.ones(flat.shape[:-1] + (1,), dtype=flat.dtype)
        n = flat.shape[-1]
        cumprod = xp.cumprod if xp is np else xp.cumulative_prod
        before = cumprod(xp.concat([ones, flat[..., : max(n - 1, 0)]], axis=-1), axis=-1)[..., :n]
        after = xp.flip(cumprod(xp.concat([ones, xp.flip(flat[..., min(n, 1) :], axis=-1)], axis=-1), axis=-1), axis=-1)
        return _unlast(before * after, self.x.shape, self.axes)

    def backward(self, grad: ndarray) -> Grads:
        return (self._expand(grad) * self._others(),)

    def jvp(self, tx: ndarray | None) -> ndarray:
        product = _tangent(tx, self.x) * self._others()
        return namespace(product).sum(product, axis=self.axes, keepdims=self.keepdims)


class Var(_Reduction):
    """v = Σ (x − x̄)² / (n − ddof) over ``axis``, NumPy's ``var`` (ddof=1: the sample variance).

    Notes
    -----
    dv/dx_i = 2 (x_i − x̄) / (n − ddof): the terms through x̄ sum to zero because Σ (x − x̄) = 0.
    Forward mode: v̇ = Σ 2 (x − x̄) ẋ / (n − ddof).
    """

    formula = "v = Σ (x − x̄)² / (n − ddof)"
    local_derivatives = ("2(x − x̄) / (n − ddof)",)

    def __init__(self, axis: object = None, keepdims: bool = False, ddof: float = 0) -> None:
        super().__init__(axis, keepdims)
        self.ddof = ddof

    def forward(self, x: ndarray) -> ndarray:
        axes = self._remember(x)
        n = 1
        for a in axes:
            n *= x.shape[a]
        xp = namespace(x)
        self.centered = x - xp.mean(x, axis=axes, keepdims=True)
        self.dof = n - self.ddof
        return xp.var(x, axis=axes, keepdims=self.keepdims, correction=self.ddof)

    def _factor(self) -> ndarray:
        return self.centered * (2 / self.dof if self.dof > 0 else float("nan"))

    def backward(self, grad: ndarray) -> Grads:
        return (self._expand(grad) * self._factor(),)

    def jvp(self, tx: ndarray | None) -> ndarray:
        product = _tangent(tx, self.centered) * self._factor()
        return namespace(product).sum(product, axis=self.axes, keepdims=self.keepdims)


class Std(Var):
    """s = √var(x) over ``axis``, NumPy's ``std``.

    Notes
    -----
    ds/dx_i = (x_i − x̄) / ((n − ddof) s). Where s = 0 (all elements equal) the derivative is
    taken as 0, as in PyTorch. Forward mode: ṡ = Σ (x − x̄) ẋ / ((n − ddof) s).
    """

    formula = "s = √(Σ (x − x̄)² / (n − ddof))"
    local_derivatives = ("(x − x̄) / ((n − ddof) s)",)

    def forward(self, x: ndarray) -> ndarray:
        v = super().forward(x)
        self.s = namespace(v).sqrt(v)
        return self.s

    def _factor(self) -> ndarray:
        xp = namespace(self.centered)
        s = self.s if self.keepdims else self._expand(self.s)
        safe = xp.where(s == 0, 1, s)
        dof = self.dof if self.dof > 0 else float("nan")
        return xp.where(s == 0, 0, self.centered / (dof * safe))


class LogSumExp(_Reduction):
    """l = log Σ eˣ over ``axis``, exact for any finite x (SciPy's ``logsumexp``); −∞ where every
    element is −∞ (a sum of zeros), +∞ where one is +∞.

    Notes
    -----
    Computed as m + log(1 + Σ_rest e^(x − m)), with m the maximum and the sum over every element
    but one maximum: no exponent overflows, and a tiny remainder is not lost in 1 + remainder.
    dl/dx = eˣ / Σ eˣ, the softmax over the reduced elements, computed as e^(x − m) / Σ e^(x − m):
    e^(x − l) would be wrong where l rounds to m (|m| ≳ 1e16, where log 2 is below m's last digit).
    Forward mode: l̇ = Σ softmax(x) ẋ.
    """

    formula = "l = log Σ eˣ"
    local_derivatives = ("softmax(x)",)

    def forward(self, x: ndarray) -> ndarray:
        axes = self._remember(x)
        self.x = x
        flat, xp = _last(x, axes), namespace(x)
        if math.prod(flat.shape) == 0:  # log of an empty sum, or no rows (Dask's max of empty chunks fails)
            l = xp.full(flat.shape[:-1], -math.inf, dtype=_array.float_dtype(x))
            self.softmax = xp.zeros(x.shape, dtype=l.dtype)
        else:
            with np.errstate(over="ignore", invalid="ignore"):  # x − m = −inf only where e^(x − m) is 0
                m, shifted, rest = _shift(flat)  # shifted is NaN where m = ±inf (∞ − ∞): l is m there
                l = xp.where(xp.isinf(m[..., 0]), m[..., 0], m[..., 0] + xp.log1p(xp.sum(rest, axis=-1)))
                self.softmax = _unlast(shifted / xp.sum(shifted, axis=-1, keepdims=True), x.shape, axes)
        keep = [1 if a in axes else n for a, n in enumerate(x.shape)]
        return xp.reshape(l, tuple(keep) if self.keepdims else tuple(n for a, n in enumerate(x.shape) if a not in axes))

    def _softmax(self) -> ndarray:
        return self.softmax

    def backward(self, grad: ndarray) -> Grads:
        return (self._expand(grad) * self._softmax(),)

    def jvp(self, tx: ndarray | None) -> ndarray:
        product = _tangent(tx, self.x) * self._softmax()
        return namespace(product).sum(product, axis=self.axes, keepdims=self.keepdims)


def _shift(flat: ndarray) -> tuple[ndarray, ndarray, ndarray]:
    """m = the maximum over the last axis (kept), e^(x − m), and e^(x − m) with one maximum set to 0.

    NumPy finds that maximum with take/put_along_axis; other namespaces mark it with a mask, the
    first index where argmax points (an arange compared with it).
    """
    xp = namespace(flat)
    top = xp.argmax(flat, axis=-1, keepdims=True)
    if xp is np:
        m = np.take_along_axis(flat, top, -1)
        shifted = np.exp(flat - m)
        rest = shifted.copy()
        np.put_along_axis(rest, top, 0, -1)
        return m, shifted, rest
    m = xp.max(flat, axis=-1, keepdims=True)
    shifted = xp.exp(flat - m)
    first = xp.arange(flat.shape[-1], dtype=top.dtype) == top
    return m, shifted, xp.where(first, 0.0, shifted)
