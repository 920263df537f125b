"""Benchmark 2, softmax_step: one full-batch step of softmax regression at MNIST's size.

Logits Z = XW + b for N = 60,000 examples of d = 784 features and K = 10 classes, the
cross-entropy of softmax(Z), its gradient Xᵀ(A − Y)/N, and the SGD update. The data are
synthetic (pixel-like values in [0, 1], labels from a random linear teacher), so no download.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks import _harness as h

NAME = "softmax_step"
SIZE = (60_000, 784, 10)
QUICK_SIZE = (6_000, 784, 10)
TARGET = h.Target("≤ 0.75× NumPy", max_vs_numpy=0.75)
LR = 0.1

Step = Callable[[], object]


def data(n: int, d: int, k: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """X of shape (n, d) in [0, 1] and class indices y of shape (n,) in [0, k)."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, d))
    teacher = rng.standard_normal((d, k))
    y = np.argmax(X @ teacher + rng.gumbel(size=(n, k)), axis=1)
    return X, y


def numpy_step(_numpy: Any, X: np.ndarray, y: np.ndarray, k: int) -> Step:
    """The step written by hand: log-softmax shifted by the row maximum, dL/dZ = (A − Y)/N."""
    n, d = X.shape
    rows = np.arange(n)
    W, b = np.zeros((d, k)), np.zeros(k)

    def step() -> float:
        nonlocal W, b
        Z = X @ W + b
        shifted = Z - Z.max(axis=1, keepdims=True)
        log_a = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = -log_a[rows, y].mean()
        dZ = np.exp(log_a)
        dZ[rows, y] -= 1
        dZ /= n
        W = W - LR * (X.T @ dZ)
        b = b - LR * dZ.sum(axis=0)
        return loss

    return step


def tinygraph_step(tg: Any, X: np.ndarray, y: np.ndarray, k: int) -> Step:
    """Linear → SoftmaxCrossEntropy, backward, the update by rebinding."""
    x, target = tg.tensor(X), tg.tensor(y)
    W = tg.tensor(np.zeros((X.shape[1], k)), requires_grad=True, name="W")
    b = tg.tensor(np.zeros(k), requires_grad=True, name="b")

    def step() -> object:
        loss = tg.softmax_cross_entropy(tg.linear(x, W, b), target)
        loss.backward()
        W.data = W.data - LR * W.grad
        b.data = b.data - LR * b.grad
        W.grad = b.grad = None
        return loss

    return step


def torch_step(torch: Any, X: np.ndarray, y: np.ndarray, k: int) -> Step:
    """PyTorch's cross_entropy on the logits, backward, an in-place update."""
    x, target = torch.from_numpy(X), torch.from_numpy(y)
    W = torch.zeros((X.shape[1], k), dtype=torch.float64, requires_grad=True)
    b = torch.zeros(k, dtype=torch.float64, requires_grad=True)
    cross_entropy = torch.nn.functional.cross_entropy

    def step() -> object:
        loss = cross_entropy(x @ W + b, target)
        loss.backward()
        with torch.no_grad():
            W.sub_(LR * W.grad)
            b.sub_(LR * b.grad)
        W.grad = b.grad = None
        return loss

    return step


def autograd_step(autograd: Any, X: np.ndarray, y: np.ndarray, k: int) -> Step:
    """HIPS autograd differentiating the same log-softmax loss as the NumPy step."""
    anp = autograd.numpy
    rows = np.arange(X.shape[0])

    def loss(params: tuple[np.ndarray, np.ndarray]) -> Any:
        Z = anp.dot(X, params[0]) + params[1]
        shifted = Z - anp.max(Z, axis=1, keepdims=True)
        log_a = shifted - anp.log(anp.sum(anp.exp(shifted), axis=1, keepdims=True))
        return -anp.mean(log_a[rows, y])

    gradient = autograd.grad(loss)
    params = (np.zeros((X.shape[1], k)), np.zeros(k))

    def step() -> object:
        nonlocal params
        gW, gb = gradient(params)
        params = (params[0] - LR * gW, params[1] - LR * gb)
        return params

    return step


def mygrad_step(mg: Any, X: np.ndarray, y: np.ndarray, k: int) -> Step:
    """MyGrad's softmax_crossentropy, the parameters rebuilt after each update."""
    x = mg.tensor(X, constant=True)
    W, b = mg.tensor(np.zeros((X.shape[1], k))), mg.tensor(np.zeros(k))

    def step() -> object:
        nonlocal W, b
        loss = mg.nnet.losses.softmax_crossentropy(mg.matmul(x, W) + b, y)
        loss.backward()
        W, b = mg.tensor(W.data - LR * W.grad), mg.tensor(b.data - LR * b.grad)
        return loss

    return step


BUILDERS: dict[str, Callable[[Any, np.ndarray, np.ndarray, int], Step]] = {
    "tinygraph": tinygraph_step,
    "numpy": numpy_step,
    "torch": torch_step,
    "autograd": autograd_step,
    "mygrad": mygrad_step,
}


def run(config: h.Config) -> list[h.Row]:
    """Time one step of every library; the target holds at the full size."""
    n, d, k = QUICK_SIZE if config.quick else SIZE
    X, y = data(n, d, k)
    rows: list[h.Row] = []
    for suffix, threads in h.thread_settings(config):  # the target holds at the run's threads
        with threads:
            steps, skipped = h.build_steps(BUILDERS, config, X, y, k)
            skipped["micrograd"] = "scalar-only and no exp or log: cannot express softmax or the log-loss"
            timings = h.time_interleaved(steps, config.repeats)
        target = None if config.quick or suffix else TARGET
        rows += h.case_rows(NAME, f"{n:,} × {d}, {k} classes{suffix}", timings, "ms", 1e3, skipped, target)
    return rows
