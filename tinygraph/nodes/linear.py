"""The Linear node: the net input z = x @ w + b of logistic regression and of every dense layer."""

from __future__ import annotations

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


def _check_shapes(x: ndarray, w: ndarray, b: ndarray | None) -> None:
    if x.ndim not in (1, 2) or w.ndim not in (1, 2) or x.shape[-1] != w.shape[0]:
        raise ValueError(
            f"Linear: x has shape {x.shape} but w has shape {w.shape}; "
            "expected x of shape (N, d) and w of shape (d,) or (d, k)"
        )
    out = w.shape[1:]
    if b is not None and b.shape not in ((), out):
        raise ValueError(f"Linear: b has shape {b.shape} but w has shape {w.shape}; expected b of shape {out}")
