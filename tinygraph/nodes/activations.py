"""Activation nodes: sigmoid and its inverse the logit, tanh, ReLU, softmax and log-softmax.

Also the log of a softmax's output, computed from the softmax's input (``SoftmaxLog``).

Each is computed in a form that is exact and finite for any finite input: no exp overflows, no
1 − σ(z) cancels to zero, on NumPy and on every other array library (see ``_array.sigmoid``).
"""

from __future__ import annotations

import numpy as np

from tinygraph import _array
from tinygraph._array import namespace, ndarray
from tinygraph._types import Grads
from tinygraph.node import Node


class Sigmoid(Node):
    """The logistic sigmoid a = σ(z) = 1 / (1 + e^(−z)), the probability P(y = 1 | x).

    Notes
    -----
    The "nice derivative": da/dz = σ(z)(1 − σ(z)) = a(1 − a), at most 0.25 (at z = 0).
    Backward: dL/dz = dL/da · a(1 − a). On NumPy the node keeps t = e^(−z) from the textbook
    formula, and 1 − a = t / (1 + t) = t · a, exact where 1 − a would round to 0 (z > 37) and
    with no exponential of its own. Where e^(−z) overflows (z < −709 in float64), and on other
    array libraries, a is computed from e^(−|z|) instead (``_array.sigmoid``), t is None, and
    1 − a is σ(−z). ``SigmoidBCE`` reads t too: its loss needs e^(−|z|), which is t or 1/t.
    """

    formula = "a = σ(z)"
    symbols = ("z",)
    local_derivatives = ("a(1 − a)",)

    def forward(self, z: ndarray) -> ndarray:
        self.z = z
        self.t = _exp_minus(z)
        if self.t is None:
            self.a = _array.sigmoid(z)
        else:  # 1 / (1 + t), divided in place in the node's own array: one temporary less
            a = 1.0 + self.t
            self.a = np.divide(1.0, a, out=a) if type(a) is ndarray else 1.0 / a
        return self.a

    def one_minus_a(self) -> ndarray:
        """1 − a = σ(−z): t · a from the saved t = e^(−z), else σ(−z) computed from z."""
        if self.t is None:
            return _array.sigmoid(self.z, complement=True)
        return self.t * self.a

    def backward(self, grad: ndarray) -> Grads:
        return (grad * self.a * self.one_minus_a(),)

    def jvp(self, dz: ndarray | None) -> ndarray:
        """ȧ = a(1 − a) ż."""
        return self.a * self.one_minus_a() * dz


def _exp_minus(z: ndarray) -> ndarray | None:
    """e^(−z) for a NumPy float array where no element overflows, else None (σ needs another form)."""
    if type(z) is not ndarray or not _array.is_float(z):
        return None
    with np.errstate(over="raise"):
        try:
            t = -z  # a shape () array gives a NumPy scalar, which has no place to write into
            return np.exp(t, out=t) if type(t) is ndarray else np.exp(t)
        except FloatingPointError:
            return None


class Logit(Node):
    """The logit (log-odds) z = log(p / (1 − p)), the inverse of the sigmoid.

    Notes
    -----
    dz/dp = 1 / (p (1 − p)). Defined on [0, 1] (±inf at the ends). The range check of p runs at
    once on eager arrays, and inside the computation on Dask (it raises when the result is computed).
    """

    formula = "z = log(p / (1 − p))"
    symbols = ("p",)
    local_derivatives = ("1 / (p(1 − p))",)

    def forward(self, p: ndarray) -> ndarray:
        p = _array.check_lazily(p, _check_probabilities)
        self.p = p
        xp = namespace(p)
        with np.errstate(divide="ignore"):
            return xp.log(p) - xp.log1p(-p)

    def backward(self, grad: ndarray) -> Grads:
        with np.errstate(divide="ignore"):
            return (grad / (self.p * (1 - self.p)),)

    def jvp(self, dp: ndarray | None) -> ndarray:
        """ż = ṗ / (p(1 − p))."""
        with np.errstate(divide="ignore"):
            return dp / (self.p * (1 - self.p))


def _check_probabilities(p: ndarray) -> None:
    """ValueError naming the first value of p outside [0, 1], NaN included (as BCE's check of p)."""
    outside = ~((p >= 0) & (p <= 1))
    if namespace(outside).any(outside):
        raise ValueError(f"Logit: probabilities must lie in [0, 1]; found {_array.first_where(p, outside)!r}")


class Tanh(Node):
    """a = tanh(z);  da/dz = 1 − a²."""

    formula = "a = tanh(z)"
    symbols = ("z",)
    local_derivatives = ("1 − a²",)

    def forward(self, z: ndarray) -> ndarray:
        self.a = namespace(z).tanh(z)
        return self.a

    def backward(self, grad: ndarray) -> Grads:
        return (grad * (1 - self.a**2),)

    def jvp(self, dz: ndarray | None) -> ndarray:
        """ȧ = (1 − a²) ż."""
        return (1 - self.a**2) * dz


class ReLU(Node):
    """a = max(z, 0);  da/dz = 1 where z > 0, else 0."""

    formula = "a = max(z, 0)"
    symbols = ("z",)
    local_derivatives = ("1 if z > 0 else 0",)

    def forward(self, z: ndarray) -> ndarray:
        self.positive = z > 0
        return (np if type(z) is ndarray else namespace(z)).maximum(z, 0)

    def backward(self, grad: ndarray) -> Grads:
        positive = self.positive  # NumPy's mask multiplies as it is; as_factor casts others'
        return (grad * (positive if type(positive) is ndarray else _array.as_factor(positive, grad)),)

    def jvp(self, dz: ndarray | None) -> ndarray:
        """ȧ = ż where z > 0, else 0."""
        return dz * _array.as_factor(self.positive, dz)


class Softmax(Node):
    """a_k = e^(z_k) / Σ_j e^(z_j) along ``axis``.

    Notes
    -----
    Computed as exp(log_softmax(z)), so no exponent overflows. Backward (the Jacobian
    diag(a) − a aᵀ applied to the incoming gradient): dL/dz = a ⊙ (dL/da − Σ_k a_k dL/da_k).
    """

    formula = "a = softmax(z)"
    symbols = ("z",)
    local_derivatives = ("diag(a) − a aᵀ",)

    def __init__(self, axis: int = -1) -> None:
        self.axis = axis

    def forward(self, z: ndarray) -> ndarray:
        self.a = namespace(z).exp(_array.log_softmax(z, self.axis))
        return self.a

    def backward(self, grad: ndarray) -> Grads:
        return (self.a * (grad - namespace(grad).sum(grad * self.a, axis=self.axis, keepdims=True)),)

    def jvp(self, dz: ndarray | None) -> ndarray:
        """ȧ = (diag(a) − a aᵀ) ż = a ⊙ (ż − Σ_k a_k ż_k)."""
        return self.a * (dz - namespace(dz).sum(dz * self.a, axis=self.axis, keepdims=True))


class LogSoftmax(Node):
    """log a_k = z_k − logsumexp(z) along ``axis``.

    Notes
    -----
    Backward: dL/dz = dL/dlog a − softmax(z) · Σ_k dL/dlog a_k.
    """

    formula = "log a = z − logsumexp(z)"
    symbols = ("z",)
    local_derivatives = ("I − softmax(z)",)

    def __init__(self, axis: int = -1) -> None:
        self.axis = axis

    def forward(self, z: ndarray) -> ndarray:
        self.log_a = _array.log_softmax(z, self.axis)
        return self.log_a

    def backward(self, grad: ndarray) -> Grads:
        return (_minus_softmax_times_sum(grad, self.log_a, self.axis),)

    def jvp(self, dz: ndarray | None) -> ndarray:
        """(log a)˙ = ż − Σ_k softmax(z)_k ż_k."""
        return _minus_jvp(dz, self.log_a, self.axis)


def _minus_softmax_times_sum(grad: ndarray, log_a: ndarray, axis: int) -> ndarray:
    """dL/dz = dL/dlog a − softmax(z) · Σ_k dL/dlog a_k, with softmax(z) = exp(log a)."""
    xp = namespace(grad)
    return grad - xp.exp(log_a) * xp.sum(grad, axis=axis, keepdims=True)


def _minus_jvp(dz: ndarray, log_a: ndarray, axis: int) -> ndarray:
    """(log a)˙ = ż − Σ_k softmax(z)_k ż_k."""
    xp = namespace(dz)
    return dz - xp.sum(xp.exp(log_a) * dz, axis=axis, keepdims=True)

class SoftmaxLog(Node):
    """log a for a = softmax(z), computed from z as log_softmax(z): the log of a softmax's output.

    Parameters (of the call)
    ------------------------
    a : any shape
        The output of a Softmax node along ``axis``.
    z : same shape as a
        The input that softmax was given.

    Notes
    -----
    d log a/da = 1 / a, and through the softmax the product cancels to
    d log a_k/dz_j = δ_kj − a_j, which needs no division by a. So the node declares the
    cancellation rule ``cancels = {0: 1}``: the gradient for a is only shown (computed only when a
    keeps its gradient), and dL/dz = dL/dlog a − softmax(z) · Σ_k dL/dlog a_k goes straight to z.
    The value is exact where a rounds to 0 and log a to −∞. ``tg.log`` picks this node when its
    input comes from a Softmax; diagrams draw its box as "Log".
    """

    title = "Log"
    cancels = {0: 1}
    formula = "log a = log softmax(z)"
    symbols = ("a", "z")
    local_derivatives = ("1 / a", "I − softmax(z)")

    def __init__(self, axis: int = -1) -> None:
        self.axis = axis

    def forward(self, a: ndarray, z: ndarray) -> ndarray:
        self.a = a
        self.log_a = _array.log_softmax(z, self.axis)
        return self.log_a

    def backward(self, grad: ndarray) -> Grads:
        ga = None
        if self.needs_grad[0]:  # only shown: the engine asks for it only when a keeps its gradient
            with np.errstate(divide="ignore"):  # never propagated, so it may be inf where a is 0
                ga = grad / self.a
        gz = _minus_softmax_times_sum(grad, self.log_a, self.axis) if self.needs_grad[1] else None
        return ga, gz

    def jvp(self, da: ndarray | None, dz: ndarray | None) -> ndarray:
        """(log a)˙ = ż − Σ_k softmax(z)_k ż_k; ȧ is ignored: a's path is z's (cancels)."""
        if dz is None:
            return namespace(self.log_a).zeros_like(self.log_a)
        return _minus_jvp(dz, self.log_a, self.axis)
