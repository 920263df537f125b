"""The Linear node: the net input z = x @ w + b of logistic regression and of every dense layer."""

from __future__ import annotations

import numpy as np

from tinygraph import _array
from tinygraph._array import ndarray
from tinygraph._types import Grads
from tinygraph.node import Node


class Linear(Node):
    """Net input z = x @ w + b.

    Parameters (of the call)
    ------------------------
    x : shape (N, d) or (d,)
        Inputs, one example per row.
    w : shape (d,) or (d, k)
        Weights: a vector gives one net input per example, z of shape (N,); a matrix gives k.
    b : shape () or (k,), optional
        Bias.

    Notes
    -----
    dz/dw_j = x_j and dz/db = 1, so with the incoming gradient dL/dz:
    dL/dw = xᵀ · dL/dz, dL/db = Σ_n dL/dz_n, dL/dx = dL/dz · wᵀ.
    The bias gradient is returned unsummed; the engine sums it over the batch.
    For a matrix of weights, xᵀ · dL/dz is computed as (dL/dzᵀ · x)ᵀ (``weight_gradient``), the
    same product, which OpenBLAS runs faster (see docs/performance.md).
    Forward mode: ż = ẋ @ w + x @ ẇ + ḃ.
    """

    formula = "z = x @ w + b"
    symbols = ("x", "w", "b")
    local_derivatives = ("w", "x", "1")

    def forward(self, x: ndarray, w: ndarray, b: ndarray | None = None) -> ndarray:
        _check_shapes(x, w, b)
        self.x, self.w = x, w
        if _in_row_blocks(x, w, b):
            return net_input_in_blocks(x, w, b)
        return x @ w if b is None else x @ w + b  # in one expression, NumPy adds b in place

    def backward(self, grad: ndarray) -> Grads:
        x, w = self.x, self.w
        gx = gw = None
        if self.needs_grad[0]:  # usually not: x is data
            gx = _outer(grad, w) if w.ndim == 1 else grad @ w.T
        if self.needs_grad[1]:
            gw = weight_gradient(x, grad) if x.ndim == 2 else _outer(x, grad)
        if len(self.inputs) == 2:
            return gx, gw
        return gx, gw, (grad if self.needs_grad[2] else None)

    def jvp(self, dx: ndarray | None, dw: ndarray | None, db: ndarray | None = None) -> ndarray:
        """ż = ẋ @ w + x @ ẇ + ḃ."""
        x, w = self.x, self.w
        shape = x.shape[:-1] + w.shape[1:]
        return _array.add_tangents(shape, None if dx is None else dx @ w, None if dw is None else x @ dw, db)


def _outer(u: ndarray, v: ndarray) -> ndarray:
    """The outer product u vᵀ of a vector u and an array v, by broadcasting (the standard has no outer)."""
    return _array.namespace(u).reshape(u, u.shape + (1,) * v.ndim) * v


def weight_gradient(x: ndarray, grad: ndarray) -> ndarray:
    """xᵀ @ grad for x of shape (N, d) and grad of shape (N,) or (N, k): dL/dw of z = x @ w.

    With a C-ordered x and a matrix grad it is computed as (gradᵀ @ x)ᵀ, the same sums: measured
    with OpenBLAS 0.3 on the batch benchmarks' shapes (N up to 1,000,000, d = 20 to 784, k = 3 to
    100), it takes 0.65–0.98× the time of xᵀ @ grad, and 0.75–1.02× for an F-ordered x, which
    therefore keeps xᵀ @ grad. For a vector grad both are one matrix-vector product, and
    ``grad @ x`` was slower (1.9× at 20,000 × 20). ``python -m benchmarks --only matmul_forms``
    shows each form on the machine it runs on. The result is a transposed view (F-ordered).
    """
    if grad.ndim == 2 and type(x) is ndarray and x.flags.c_contiguous:  # NumPy's memory order
        return (grad.T @ x).T
    return x.T @ grad


BLOCK_BYTES = 2 << 20
"""The bytes of x that one block of rows of ``net_input_in_blocks`` reads: 2 MB, a few times the L2 cache."""


def _in_row_blocks(x: ndarray, w: ndarray, b: ndarray | None) -> bool:
    """Whether ``net_input_in_blocks`` is the faster form: many features, few outputs, NumPy arrays.

    Measured with OpenBLAS 0.3 (one thread, in alternating rounds): for d = 300 to 2,000 features
    and k = 3 to 32 outputs it takes 0.85–0.92× the time of x @ w once x spans 4 blocks or more;
    at d ≤ 100 or k = 100 it gained nothing or lost (up to 1.13× at d = 20), so those keep x @ w.
    """
    return (
        type(x) is ndarray and type(w) is ndarray and x.ndim == 2 and w.ndim == 2
        and x.shape[1] > 256 and w.shape[1] <= 32 and x.nbytes >= 4 * BLOCK_BYTES
        and x.dtype == w.dtype and x.dtype.kind == "f" and x.flags.c_contiguous
        and (b is None or (type(b) is ndarray and b.dtype == x.dtype))
    )


def net_input_in_blocks(x: ndarray, w: ndarray, b: ndarray | None = None, rows: int | None = None) -> ndarray:
    """x @ w + b for x of shape (N, d) and w of shape (d, k), computed ``rows`` rows at a time.

    OpenBLAS packs a wide panel of x for the whole product; when w has few columns, that panel
    is used by few of them before it leaves the cache. Blocks of ``BLOCK_BYTES`` (the default
    ``rows``) keep each one in cache for all of w, and b is added to a block while it is there.
    The same sums as x @ w + b, equal to rounding.
    """
    n = x.shape[0]
    rows = rows or max(1, BLOCK_BYTES // max(1, x.shape[1] * x.itemsize))
    z = np.empty((n, w.shape[1]), dtype=np.result_type(x, w))
    for start in range(0, n, rows):
        block = z[start : start + rows]
        np.matmul(x[start : start + rows], w, out=block)
        if b is not None:
            np.add(block, b, out=block)
    return z


def _check_shapes(x: ndarray, w: ndarray, b: ndarray | None) -> None:
    if x.ndim not in (1, 2) or w.ndim not in (1, 2) or x.shape[-1] != w.shape[0]:
        raise ValueError(
            f"Linear: x has shape {x.shape} but w has shape {w.shape}; "
            "expected x of shape (N, d) and w of shape (d,) or (d, k)"
        )
    out = w.shape[1:]
    if b is not None and b.shape not in ((), out):
        raise ValueError(f"Linear: b has shape {b.shape} but w has shape {w.shape}; expected b of shape {out}")
