"""Small graphs that the trace and explain tests share: each built fresh, identically, on every call.

Each builder returns ``(loss, tensors)``: ``tensors`` are the ones whose gradients are compared,
named, in the same order on every call, so two builds can be compared tensor by tensor.
"""

from __future__ import annotations

import numpy as np

import tinygraph as tg


def lecture() -> tuple[tg.Tensor, list[tg.Tensor]]:
    """Logistic regression as the lecture draws it: x → Linear → z → Sigmoid → a → BCE → L."""
    rng = np.random.default_rng(0)
    x = tg.tensor(rng.normal(size=(4, 3)), name="x")
    y = tg.tensor([0.0, 1.0, 1.0, 0.0], name="y")
    w = tg.tensor(rng.normal(size=3), requires_grad=True, name="w")
    b = tg.tensor(0.1, requires_grad=True, name="b")
    z = tg.linear(x, w, b)
    a = tg.sigmoid(z)
    loss = tg.bce(a, y)
    return loss, [w, b, z, a, loss]


def softmax_regression() -> tuple[tg.Tensor, list[tg.Tensor]]:
    rng = np.random.default_rng(1)
    x = tg.tensor(rng.normal(size=(5, 3)), name="x")
    w = tg.tensor(rng.normal(size=(3, 4)), requires_grad=True, name="W")
    b = tg.tensor(np.zeros(4), requires_grad=True, name="b")
    z = tg.linear(x, w, b)
    loss = tg.softmax_cross_entropy(z, np.array([0, 3, 1, 2, 1]))
    return loss, [w, b, z, loss]


def mlp_with_penalty() -> tuple[tg.Tensor, list[tg.Tensor]]:
    """Two layers, tanh between them, and the L2 penalty (λ/2)(‖W1‖² + ‖W2‖²): W1 is used three times.

    In its layer, and twice in W1 · W1, the two inputs of one multiplication.
    """
    rng = np.random.default_rng(2)
    x = tg.tensor(rng.normal(size=(6, 3)), name="x")
    w1 = tg.tensor(rng.normal(size=(3, 4)), requires_grad=True, name="W1")
    b1 = tg.tensor(np.zeros(4), requires_grad=True, name="b1")
    w2 = tg.tensor(rng.normal(size=(4, 2)), requires_grad=True, name="W2")
    b2 = tg.tensor(np.zeros(2), requires_grad=True, name="b2")
    h = tg.tanh(tg.linear(x, w1, b1))
    data_loss = tg.softmax_cross_entropy(tg.linear(h, w2, b2), np.array([0, 1, 1, 0, 1, 0]))
    loss = data_loss + 0.05 * ((w1 * w1).sum() + (w2 * w2).sum())
    return loss, [w1, b1, w2, b2, h, data_loss, loss]


def three_consumers() -> tuple[tg.Tensor, list[tg.Tensor]]:
    """h feeds Sigmoid, Tanh and Exp: three gradients arrive at h and add up."""
    rng = np.random.default_rng(3)
    x = tg.tensor(rng.normal(size=(4, 2)), name="x")
    w = tg.tensor(rng.normal(size=2), requires_grad=True, name="w")
    h = tg.linear(x, w)
    loss = (tg.sigmoid(h) + tg.tanh(h) + tg.exp(h)).mean()
    return loss, [w, h, loss]


def log_of_softmax() -> tuple[tg.Tensor, list[tg.Tensor]]:
    """Cross-entropy written out, −Σ y log softmax(z): the log's cancellation rule skips the softmax."""
    rng = np.random.default_rng(4)
    x = tg.tensor(rng.normal(size=(3, 2)), name="x")
    w = tg.tensor(rng.normal(size=(2, 3)), requires_grad=True, name="W")
    z = tg.linear(x, w)
    a = tg.softmax(z, axis=1)
    loss = -(np.eye(3) * tg.log(a)).sum(axis=1).mean()
    return loss, [w, z, a, loss]


GRAPHS = {
    "lecture": lecture,
    "softmax regression": softmax_regression,
    "MLP with a penalty": mlp_with_penalty,
    "three consumers": three_consumers,
    "log of a softmax": log_of_softmax,
}
