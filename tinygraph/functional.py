"""Functional forms of the nodes: ``tg.linear(x, w, b)`` is ``Linear()(x, w, b)``, and so on.

Every function creates one node and calls it, so the graph records the node by its class name.
Arguments may be tensors, ndarrays or Python numbers.
"""

from __future__ import annotations

from typing import Any

from tinygraph import nodes
from tinygraph._keywords import accepts_dim
from tinygraph._types import Axis
from tinygraph.tensor import Tensor, as_tensor


def linear(x: Any, w: Any, b: Any = None) -> Tensor:
    """Net input z = x @ w + b (see ``nodes.Linear``): shape (N,) for w of shape (d,), (N, k) for (d, k).

    Examples
    --------
    >>> import numpy as np
    >>> import tinygraph as tg
    >>> tg.linear(np.ones((2, 3)), np.array([1.0, 2.0, 3.0]), 0.5)
    tensor([6.5, 6.5], node=Linear)
    """
    return nodes.Linear()(x, w) if b is None else nodes.Linear()(x, w, b)


def sigmoid(z: Any) -> Tensor:
    """a = σ(z) = 1 / (1 + e^(−z)), exact for any finite z (see ``nodes.Sigmoid``)."""
    return nodes.Sigmoid()(z)


def logit(p: Any) -> Tensor:
    """z = log(p / (1 − p)), the inverse of the sigmoid (see ``nodes.Logit``)."""
    return nodes.Logit()(p)


def tanh(z: Any) -> Tensor:
    """a = tanh(z)."""
    return nodes.Tanh()(z)


def relu(z: Any) -> Tensor:
    """a = max(z, 0)."""
    return nodes.ReLU()(z)


def exp(x: Any) -> Tensor:
    """eˣ, elementwise."""
    return nodes.Exp()(x)


def log(x: Any) -> Tensor:
    """Natural logarithm, elementwise; of a softmax's output, log_softmax of its input (exact)."""
    return as_tensor(x).log()


@accepts_dim
def softmax(x: Any, axis: int = -1) -> Tensor:
    """a_k = e^(x_k) / Σ_j e^(x_j) along ``axis``, without overflow."""
    return nodes.Softmax(axis)(x)


@accepts_dim
def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """log softmax(x) = x − logsumexp(x) along ``axis``."""
    return nodes.LogSoftmax(axis)(x)


def bce(p: Any, y: Any, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy (negative log-likelihood) of probabilities ``p`` for targets ``y``.

    −[y log p + (1 − y) log(1 − p)], reduced by ``reduction`` ("mean", "sum" or "none").
    Given the output of ``sigmoid``, the node is ``SigmoidBCE``, which also takes that sigmoid's
    net input z: the loss is computed from z, exact for any z, and (a − y)/N goes straight to z.

    Examples
    --------
    >>> import tinygraph as tg
    >>> round(tg.bce(tg.tensor([0.9, 0.2]), [1.0, 0.0]).item(), 6)
    0.164252
    """
    p = as_tensor(p)
    if isinstance(p.node, nodes.Sigmoid):  # the lecture's graph: the loss also takes the net input z
        return nodes.SigmoidBCE(reduction, p.node)(p, y, p.node.inputs[0])
    return nodes.BCE(reduction)(p, y)


def bce_with_logits(z: Any, y: Any, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy from net inputs ``z``: log(1 + e^z) − y z, exact for any finite z."""
    return nodes.BCEWithLogits(reduction)(z, y)


def softmax_cross_entropy(logits: Any, y: Any, reduction: str = "mean") -> Tensor:
    """Cross-entropy of softmax(logits) for class indices (N,) or probability rows (N, K)."""
    return nodes.SoftmaxCrossEntropy(reduction)(logits, y)


def mse(pred: Any, y: Any, reduction: str = "mean") -> Tensor:
    """Mean squared error (pred − y)², reduced by ``reduction``."""
    return nodes.MSE(reduction)(pred, y)


def matmul(x: Any, y: Any) -> Tensor:
    """x @ y with NumPy's matmul rules."""
    return nodes.MatMul()(x, y)


@accepts_dim
def sum(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:  # noqa: A001 (NumPy's name)
    """Σ x over ``axis``."""
    return as_tensor(x).sum(axis, keepdims)


@accepts_dim
def mean(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Mean of x over ``axis``."""
    return as_tensor(x).mean(axis, keepdims)


@accepts_dim
def max(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:  # noqa: A001 (NumPy's name)
    """Maximum of x over ``axis`` (the gradient is split evenly between ties)."""
    return as_tensor(x).max(axis, keepdims)


def reshape(x: Any, shape: Any) -> Tensor:
    """x with a new shape."""
    return as_tensor(x).reshape(shape)


def transpose(x: Any, axes: Any = None) -> Tensor:
    """x with its axes reversed, or permuted as ``axes`` says."""
    return as_tensor(x).transpose(axes)


def l2_penalty(lam: float, *weights: Any) -> Tensor:
    """The L2 penalty R = (λ/2) Σ_i ‖w_i‖² of the weight tensors (see ``nodes.L2Penalty``).

    Parameters
    ----------
    lam : float
        The strength λ ≥ 0.
    *weights : Tensor or array_like, any shapes
        The tensors w_i to penalize (the models pass their weights, not their biases).

    Returns
    -------
    Tensor, shape ()
        R, one node ``L2Penalty`` in the graph whose inputs are the weights.

    Notes
    -----
    dR/dw_i = λ w_i: added to the data loss L, every gradient step shrinks the weights by the factor
    (1 − ηλ) before the data's step, w := w − η (dL/dw + λw) ("weight decay").

    Examples
    --------
    >>> import numpy as np
    >>> import tinygraph as tg
    >>> w = tg.tensor(np.array([3.0, 4.0]), requires_grad=True)
    >>> r = tg.l2_penalty(0.1, w)
    >>> r.item()
    1.25
    >>> r.backward(); w.grad
    array([0.3, 0.4])
    """
    return nodes.L2Penalty(lam)(*weights)


# ----------------------------------------------------------------------------- elementwise
def abs(x: Any) -> Tensor:  # noqa: A001 (NumPy's name)
    """|x|, elementwise; the gradient at 0 is 0 (see ``nodes.Abs``)."""
    return nodes.Abs()(x)


def sqrt(x: Any) -> Tensor:
    """√x, elementwise."""
    return nodes.Sqrt()(x)


def log1p(x: Any) -> Tensor:
    """log(1 + x), exact for tiny x."""
    return nodes.Log1p()(x)


def expm1(x: Any) -> Tensor:
    """eˣ − 1, exact for tiny x."""
    return nodes.Expm1()(x)


def softplus(x: Any) -> Tensor:
    """log(1 + eˣ), exact for any finite x; its derivative is σ(x) (see ``nodes.Softplus``)."""
    return nodes.Softplus()(x)


def sin(x: Any) -> Tensor:
    """sin x, elementwise."""
    return nodes.Sin()(x)


def cos(x: Any) -> Tensor:
    """cos x, elementwise."""
    return nodes.Cos()(x)


def clip(x: Any, low: Any = None, high: Any = None) -> Tensor:
    """x limited to [low, high] (NumPy's ``clip``); the gradient is 1 inside, bounds included."""
    return nodes.Clip(low, high)(x)


def maximum(x: Any, y: Any) -> Tensor:
    """max(x, y) elementwise, broadcasting; a tie splits the gradient evenly (see ``nodes.Maximum``)."""
    return nodes.Maximum()(x, y)


def minimum(x: Any, y: Any) -> Tensor:
    """min(x, y) elementwise, broadcasting; a tie splits the gradient evenly."""
    return nodes.Minimum()(x, y)


def where(condition: Any, x: Any, y: Any) -> Tensor:
    """x where ``condition`` holds, else y (NumPy's ``where`` with three arguments).

    Examples
    --------
    >>> import numpy as np
    >>> import tinygraph as tg
    >>> x = tg.tensor([-2.0, 3.0], requires_grad=True)
    >>> tg.where(x.data > 0, x, 0.0).sum().backward()
    >>> x.grad
    array([0., 1.])
    """
    return nodes.Where()(condition, x, y)


# ----------------------------------------------------------------------------- reductions
@accepts_dim
def min(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:  # noqa: A001 (NumPy's name)
    """Minimum of x over ``axis`` (the gradient is split evenly between ties)."""
    return as_tensor(x).min(axis, keepdims)


@accepts_dim
def prod(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Π x over ``axis``; exact gradients with zeros among the elements (see ``nodes.Prod``)."""
    return as_tensor(x).prod(axis, keepdims)


@accepts_dim
def var(x: Any, axis: Axis = None, keepdims: bool = False, ddof: float = 0) -> Tensor:
    """Variance over ``axis``, dividing by n − ddof (NumPy's ``var``)."""
    return as_tensor(x).var(axis, keepdims=keepdims, ddof=ddof)


@accepts_dim
def std(x: Any, axis: Axis = None, keepdims: bool = False, ddof: float = 0) -> Tensor:
    """Standard deviation over ``axis``, dividing by n − ddof (NumPy's ``std``)."""
    return as_tensor(x).std(axis, keepdims=keepdims, ddof=ddof)


@accepts_dim
def logsumexp(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """log Σ eˣ over ``axis``, exact for any finite x (SciPy's ``logsumexp``)."""
    return as_tensor(x).logsumexp(axis, keepdims)


@accepts_dim
def argmax(x: Any, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """Index of the maximum (NumPy's ``argmax``): an integer tensor, outside the graph (no gradient)."""
    return as_tensor(x).argmax(axis, keepdims)


@accepts_dim
def argmin(x: Any, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """Index of the minimum (NumPy's ``argmin``): an integer tensor, outside the graph (no gradient)."""
    return as_tensor(x).argmin(axis, keepdims)


# ----------------------------------------------------------------------------- shapes
@accepts_dim
def concatenate(xs: Any, axis: int | None = 0) -> Tensor:
    """The arrays of ``xs`` joined along an existing ``axis`` (None: flattened first)."""
    return nodes.Concatenate(axis)(*xs)


@accepts_dim
def stack(xs: Any, axis: int = 0) -> Tensor:
    """The arrays of ``xs``, all of one shape, stacked along a new ``axis``."""
    return nodes.Stack(axis)(*xs)


@accepts_dim
def squeeze(x: Any, axis: Axis = None) -> Tensor:
    """x without its length-1 axes (all of them, or those of ``axis``)."""
    return nodes.Squeeze(axis)(x)


def expand_dims(x: Any, axis: int | tuple[int, ...]) -> Tensor:
    """x with new length-1 axes at the positions ``axis``."""
    return nodes.ExpandDims(axis)(x)


def flip(x: Any, axis: Axis = None) -> Tensor:
    """x with its elements in reverse order along ``axis`` (None: every axis)."""
    return nodes.Flip(axis)(x)


def broadcast_to(x: Any, shape: Any) -> Tensor:
    """x broadcast to ``shape``; backward sums the gradient back over the copies."""
    return nodes.BroadcastTo(shape)(x)


# ----------------------------------------------------------------------------- linear algebra
def einsum(subscripts: str, *operands: Any) -> Tensor:
    """Einstein summation with NumPy's notation: ``tg.einsum("ij,jk->ik", a, b)`` is a @ b.

    Examples
    --------
    >>> import numpy as np
    >>> import tinygraph as tg
    >>> a = tg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    >>> tg.einsum("ij,ij->", a, a).backward()  # Σ a², so dL/da = 2a
    >>> a.grad
    array([[ 0.,  2.,  4.],
           [ 6.,  8., 10.]])
    """
    return nodes.Einsum(subscripts)(*operands)


def tensordot(a: Any, b: Any, axes: Any = 2) -> Tensor:
    """Sum of products over paired axes of a and b (NumPy's ``tensordot``)."""
    return nodes.Tensordot(axes)(a, b)


# ----------------------------------------------------------------------------- PyTorch's names
def square(x: Any) -> Tensor:
    """x², elementwise (``nodes.Square``); its derivative is 2x."""
    return as_tensor(x).square()


def clamp(x: Any, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002 (PyTorch's names)
    """x limited to [min, max]: PyTorch's name for ``clip``; the derivative is 1 inside, bounds included."""
    return as_tensor(x).clamp(min, max)


@accepts_dim
def amax(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """The maximum over ``dim``: PyTorch's name for ``max``; the derivative is 1 at the maximum, ties split."""
    return as_tensor(x).amax(axis, keepdims)


@accepts_dim
def amin(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """The minimum over ``dim``: PyTorch's name for ``min``; the derivative is 1 at the minimum, ties split."""
    return as_tensor(x).amin(axis, keepdims)
