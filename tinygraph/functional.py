"""Functional forms of the nodes: ``tg.linear(x, w, b)`` is ``Linear()(x, w, b)``, and so on.

Every function creates one node and calls it, so the graph records the node by its class name.
Arguments may be tensors, ndarrays or Python numbers.
"""

from __future__ import annotations

from typing import Any

from tinygraph import nodes
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


def softmax(x: Any, axis: int = -1) -> Tensor:
    """a_k = e^(x_k) / Σ_j e^(x_j) along ``axis``, without overflow."""
    return nodes.Softmax(axis)(x)


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
        return nodes.SigmoidBCE(reduction)(p, y, p.node.inputs[0])
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


def sum(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:  # noqa: A001 (NumPy's name)
    """Σ x over ``axis``."""
    return as_tensor(x).sum(axis, keepdims)


def mean(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Mean of x over ``axis``."""
    return as_tensor(x).mean(axis, keepdims)


def max(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:  # noqa: A001 (NumPy's name)
    """Maximum of x over ``axis`` (the gradient is split evenly between ties)."""
    return as_tensor(x).max(axis, keepdims)


def reshape(x: Any, shape: Any) -> Tensor:
    """x with a new shape."""
    return as_tensor(x).reshape(shape)


def transpose(x: Any, axes: Any = None) -> Tensor:
    """x with its axes reversed, or permuted as ``axes`` says."""
    return as_tensor(x).transpose(axes)
