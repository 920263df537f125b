"""Linear-algebra nodes: einsum (any number of operands) and tensordot (two, over paired axes).

An einsum is a sum of products, y[out] = Σ Π_k x_k[s_k], so its derivative with respect to one
operand is the same sum of products with that operand left out and dL/dy put in its place:

    dL/dx_k[s_k] = Σ dL/dy[out] · Π_{j ≠ k} x_j[s_j]

which is again an einsum, from the subscripts of the others to those of x_k. Two details: an
index that only x_k has (summed away inside x_k alone) is brought back by a ones array of its
length, and an index repeated within x_k (a diagonal, "ii->i") gets its gradient written on that
diagonal and zeros elsewhere.
"""

from __future__ import annotations

import string
from typing import Any

import numpy as np

from tinygraph._array import namespace, ndarray
from tinygraph._types import Grads
from tinygraph.node import Node


def _parse(subscripts: str, arrays: tuple[ndarray, ...]) -> tuple[list[str], str]:
    """The input and output subscripts of an einsum, with each ``...`` written out as letters.

    Implicit mode (no ``->``) follows NumPy: the output is the broadcast ``...`` followed by the
    letters that occur once, in alphabetical order.
    """
    subscripts = subscripts.replace(" ", "")
    given, arrow, out = subscripts.partition("->")
    inputs = given.split(",")
    if len(inputs) != len(arrays):
        raise ValueError(f"Einsum: {len(inputs)} operand subscripts for {len(arrays)} operand(s)")
    if not arrow:
        letters = given.replace("...", "").replace(",", "")
        out = ("..." if "..." in given else "") + "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    free = [c for c in string.ascii_letters if c not in subscripts]
    widths = [x.ndim - len(s.replace("...", "")) for s, x in zip(inputs, arrays) if "..." in s]
    broadcast = "".join(free[: max(widths, default=0)])
    inputs = [s.replace("...", broadcast[len(broadcast) - (x.ndim - len(s) + 3) :]) for s, x in zip(inputs, arrays)]
    return inputs, out.replace("...", broadcast)


class Einsum(Node):
    """y = einsum(subscripts, x₁, x₂, …), NumPy's Einstein summation (``"ij,jk->ik"`` is x₁ @ x₂).

    Parameters
    ----------
    subscripts : str
        NumPy's notation, explicit (``"bij,bjk->bik"``) or implicit (``"ij,jk"``), ``...`` allowed.

    Notes
    -----
    y[out] = Σ Π_k x_k[s_k], summed over the indices not in ``out``. Each factor is linear in its
    operand, so dL/dx_k = einsum(out, s_j for j ≠ k -> s_k) of dL/dy and the other operands.
    Forward mode (product rule): ẏ = Σ_k einsum(subscripts) with x_k replaced by ẋ_k.
    Off NumPy it uses the library's own einsum (Dask's, CuPy's): the array API standard has none,
    so ``array_api_strict`` arrays get a TypeError.
    """

    formula = "y = Σ Π x_k"
    local_derivatives = ("Π of the others",)

    def __init__(self, subscripts: str) -> None:
        self.subscripts = subscripts

    def forward(self, *xs: ndarray) -> ndarray:
        self.xs = xs
        self.ins, self.out = _parse(self.subscripts, xs)
        return _einsum(self.subscripts, *xs)

    def _gradient(self, grad: ndarray, k: int) -> ndarray:
        x, s = self.xs[k], self.ins[k]
        operands = [grad] + [xj for j, xj in enumerate(self.xs) if j != k]
        subs = [self.out] + [sj for j, sj in enumerate(self.ins) if j != k]
        elsewhere = "".join(subs)
        only_here = "".join(dict.fromkeys(c for c in s if c not in elsewhere))
        if only_here:  # summed within x_k alone: every element of it gets the same gradient
            operands.append(namespace(grad).ones(tuple(x.shape[s.index(c)] for c in only_here), dtype=grad.dtype))
            subs.append(only_here)
        unique = "".join(dict.fromkeys(s))
        g = _einsum(",".join(subs) + "->" + unique, *operands)
        if unique == s:
            return g  # the engine sums an index x_k broadcast (length 1) back
        return _on_diagonal(_sum_to(g, tuple(x.shape[s.index(c)] for c in unique)), s, x.shape)

    def backward(self, grad: ndarray) -> Grads:
        return tuple(self._gradient(grad, k) if needed else None for k, needed in enumerate(self.needs_grad))

    def jvp(self, *tangents: ndarray | None) -> ndarray:
        spec = ",".join(self.ins) + "->" + self.out
        terms = [
            _einsum(spec, *(t if j == k else xj for j, xj in enumerate(self.xs)))
            for k, t in enumerate(tangents)
            if t is not None
        ]
        if not terms:
            out = _einsum(spec, *self.xs)
            return namespace(out).zeros_like(out)
        return sum(terms[1:], terms[0])


def _einsum(subscripts: str, *xs: ndarray) -> ndarray:
    """NumPy's einsum, or the array library's own (Dask and CuPy have one; the standard has none)."""
    xp = namespace(xs[0])
    einsum = getattr(xp, "einsum", None)
    if einsum is None:
        raise TypeError(f"Einsum: {xp.__name__} has no einsum (the array API standard defines none)")
    return einsum(subscripts, *xs)


def _on_diagonal(g: ndarray, s: str, shape: tuple[int, ...]) -> ndarray:
    """``g``, indexed by the distinct letters of ``s``, on the diagonal of an array of ``shape``; zeros elsewhere.

    x[i, i] depends on x[a, b] only where a = b = i, so the gradient is g times an identity for
    each repeat of a letter: "ii" gives einsum("i,ij->ij", g, I). Products with 1 and 0 only,
    so it is exact, and it needs nothing but the library's einsum and eye.
    """
    xp_ = namespace(g)
    fresh = iter(c for c in string.ascii_letters if c not in s)
    out, subs, operands = "", ["".join(dict.fromkeys(s))], [g]
    for position, c in enumerate(s):
        if c not in s[:position]:
            out += c
            continue
        again = next(fresh)  # the repeat gets its own letter, tied to the first by the identity
        out += again
        subs.append(c + again)
        operands.append(xp_.eye(shape[position], dtype=g.dtype))
    return _einsum(",".join(subs) + "->" + out, *operands)


def _sum_to(g: ndarray, shape: tuple[int, ...]) -> ndarray:
    """``g`` summed over the axes where ``shape`` has length 1 and g does not."""
    axes = tuple(a for a, (m, n) in enumerate(zip(g.shape, shape)) if n == 1 and m != 1)
    return g.sum(axis=axes, keepdims=True) if axes else g


class Tensordot(Node):
    """y = tensordot(a, b, axes), NumPy's: sum the products over axes of a paired with axes of b.

    Parameters
    ----------
    axes : int or (sequence of int, sequence of int)
        An integer n pairs the last n axes of a with the first n of b (2 is a matrix's double
        contraction, 1 a matrix product, 0 the outer product); two sequences name the pairs.

    Notes
    -----
    y[free_a, free_b] = Σ_paired a[free_a, paired] b[paired, free_b], so each gradient is again a
    tensordot: dL/da = tensordot(dL/dy, b) over b's free axes, dL/db = tensordot(a, dL/dy) over
    a's free axes, each put back in its input's axis order (for matrices, dL/da = dL/dy · bᵀ and
    dL/db = aᵀ · dL/dy). Forward mode: ẏ = tensordot(ȧ, b) + tensordot(a, ḃ). Every library
    computes with its own ``tensordot``, which the array API standard defines.
    """

    formula = "y = Σ a · b"
    local_derivatives = ("b", "a")

    def __init__(self, axes: Any = 2) -> None:
        self.axes = axes

    def forward(self, a: ndarray, b: ndarray) -> ndarray:
        self.a, self.b = a, b
        self.pairs = _tensordot_axes(self.axes, a.ndim, b.ndim)
        return namespace(a).tensordot(a, b, axes=self.pairs)

    def _free(self) -> tuple[list[int], list[int]]:
        """The axes of a and of b that are not contracted, in order: y's axes are these."""
        (pa, pb), a, b = self.pairs, self.a, self.b
        return [i for i in range(a.ndim) if i not in pa], [j for j in range(b.ndim) if j not in pb]

    def _grad_a(self, grad: ndarray) -> ndarray:
        (pa, pb), (free_a, free_b) = self.pairs, self._free()
        g = namespace(grad).tensordot(grad, self.b, axes=(tuple(range(len(free_a), grad.ndim)), tuple(free_b)))
        return _reorder(g, free_a + [pa[pb.index(j)] for j in sorted(pb)])  # b's paired axes, in b's order

    def _grad_b(self, grad: ndarray) -> ndarray:
        (pa, pb), (free_a, free_b) = self.pairs, self._free()
        g = namespace(grad).tensordot(self.a, grad, axes=(tuple(free_a), tuple(range(len(free_a)))))
        return _reorder(g, [pb[pa.index(i)] for i in sorted(pa)] + free_b)  # a's paired axes, in a's order

    def backward(self, grad: ndarray) -> Grads:
        need_a, need_b = self.needs_grad
        return (self._grad_a(grad) if need_a else None, self._grad_b(grad) if need_b else None)

    def jvp(self, ta: ndarray | None, tb: ndarray | None) -> ndarray:
        xp = namespace(self.a)
        terms = [xp.tensordot(ta, self.b, axes=self.pairs)] if ta is not None else []
        terms += [xp.tensordot(self.a, tb, axes=self.pairs)] if tb is not None else []
        if not terms:
            out = xp.tensordot(self.a, self.b, axes=self.pairs)
            return xp.zeros_like(out)
        return sum(terms[1:], terms[0])


def _reorder(g: ndarray, axes: list[int]) -> ndarray:
    """``g``, whose axis k is axis ``axes[k]`` of an input, with its axes in the input's order."""
    return namespace(g).permute_dims(g, tuple(axes.index(i) for i in range(len(axes))))


def _tensordot_axes(axes: Any, ndim_a: int, ndim_b: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The axes of a and of b that ``tensordot(a, b, axes)`` pairs, counted from 0, checked."""
    if isinstance(axes, (tuple, list)):
        pairs_a, pairs_b = ([int(i)] if np.ndim(i) == 0 else [int(j) for j in i] for i in axes)
    else:
        n = int(axes)
        if n < 0 or n > min(ndim_a, ndim_b):
            raise ValueError(f"Tensordot: cannot contract {n} axes of arrays with {ndim_a} and {ndim_b} axes")
        pairs_a, pairs_b = list(range(ndim_a - n, ndim_a)), list(range(n))
    if len(pairs_a) != len(pairs_b):
        raise ValueError(f"Tensordot: axes {axes} pair {len(pairs_a)} axes of a with {len(pairs_b)} of b")
    for name, pairs, ndim in (("a", pairs_a, ndim_a), ("b", pairs_b, ndim_b)):
        outside = [i for i in pairs if not -ndim <= i < ndim]
        if outside:  # i % ndim would quietly contract another axis
            raise ValueError(f"Tensordot: axes {axes} name axis {outside[0]} of {name}, which has {ndim} axes")
        if len({i % ndim for i in pairs}) < len(pairs):
            raise ValueError(f"Tensordot: axes {axes} name an axis of {name} twice")
    return tuple(i % ndim_a for i in pairs_a), tuple(j % ndim_b for j in pairs_b)
