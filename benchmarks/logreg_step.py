"""Benchmark 1, logreg_step: one full-batch step of logistic regression.

Net input z = Xw + b, a = σ(z), the negative log-likelihood, its gradient, and the SGD update,
at N × d = 1,000 × 10, 100,000 × 100 and 1,000,000 × 20. For the batch sizes that matter the
limit is the gradient a person derives by hand, Xᵀ(a − y)/N: the hand-written NumPy step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks import _harness as h

NAME = "logreg_step"
SIZES = ((1_000, 10), (100_000, 100), (1_000_000, 20))
QUICK_SIZES = ((1_000, 10), (20_000, 20))
TARGETS = {  # the batch sizes that matter: the limit is the step written by hand
    (100_000, 100): h.Target("≤ 1.0× NumPy and ≤ 0.9× PyTorch", max_vs_numpy=1.0, max_vs_torch=0.9),
    (1_000_000, 20): h.Target("≤ 1.0× NumPy", max_vs_numpy=1.0),
}
LR = 0.1
SCALAR_ONLY = "scalar-only and no exp or log: cannot express σ or the log-loss"

Step = Callable[[], object]


def data(n: int, d: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Standard-normal X of shape (n, d) and labels y in {0, 1} drawn from a logistic model."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    w_true = rng.standard_normal(d) / np.sqrt(d)
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ w_true)))).astype(np.float64)
    return X, y


def numpy_step(_numpy: Any, X: np.ndarray, y: np.ndarray) -> Step:
    """The step written by hand: forward, the loss, dL/dz = (a − y)/N, and the update.

    The loss is the stable softplus(z) − y z; σ(z) = 1 / (1 + e^(−z)) is exact in floating point
    (e^(−z) overflows to inf only where σ(z) rounds to 0), so its overflow warning is silenced.
    """
    n, d = X.shape
    w, b = np.zeros(d), 0.0

    def step() -> float:
        nonlocal w, b
        z = X @ w + b
        with np.errstate(over="ignore"):
            a = 1.0 / (1.0 + np.exp(-z))
        loss = np.mean(np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z))) - y * z)
        dz = (a - y) / n
        w = w - LR * (X.T @ dz)
        b = b - LR * dz.sum()
        return loss

    return step


def tinygraph_step(tg: Any, X: np.ndarray, y: np.ndarray) -> Step:
    """The lecture's graph, Linear → Sigmoid → BCE, then backward and the update by rebinding."""
    d = X.shape[1]
    x, target = tg.tensor(X), tg.tensor(y)
    w = tg.tensor(np.zeros(d), requires_grad=True, name="w")
    b = tg.tensor(0.0, requires_grad=True, name="b")

    def step() -> object:
        loss = tg.bce(tg.sigmoid(tg.linear(x, w, b)), target)
        loss.backward()
        w.data = w.data - LR * w.grad
        b.data = b.data - LR * b.grad
        w.grad = b.grad = None
        return loss

    return step


def torch_step(torch: Any, X: np.ndarray, y: np.ndarray) -> Step:
    """PyTorch as its users write it: BCE with logits, backward, an in-place update."""
    d = X.shape[1]
    x, target = torch.from_numpy(X), torch.from_numpy(y)
    w = torch.zeros(d, dtype=torch.float64, requires_grad=True)
    b = torch.zeros((), dtype=torch.float64, requires_grad=True)
    bce_with_logits = torch.nn.functional.binary_cross_entropy_with_logits

    def step() -> object:
        loss = bce_with_logits(x @ w + b, target)
        loss.backward()
        with torch.no_grad():
            w.sub_(LR * w.grad)
            b.sub_(LR * b.grad)
        w.grad = b.grad = None
        return loss

    return step


def autograd_step(autograd: Any, X: np.ndarray, y: np.ndarray) -> Step:
    """HIPS autograd differentiating the same stable loss as the NumPy step."""
    anp = autograd.numpy

    def loss(params: tuple[np.ndarray, float]) -> Any:
        w, b = params
        z = anp.dot(X, w) + b
        return anp.mean(anp.maximum(z, 0) + anp.log1p(anp.exp(-anp.abs(z))) - y * z)

    gradient = autograd.grad(loss)
    params = (np.zeros(X.shape[1]), 0.0)

    def step() -> object:
        nonlocal params
        gw, gb = gradient(params)
        params = (params[0] - LR * gw, params[1] - LR * gb)
        return params

    return step


def mygrad_step(mg: Any, X: np.ndarray, y: np.ndarray) -> Step:
    """MyGrad on the same stable loss, the parameters rebuilt after each update."""
    x = mg.tensor(X, constant=True)
    w, b = mg.tensor(np.zeros(X.shape[1])), mg.tensor(0.0)

    def step() -> object:
        nonlocal w, b
        z = mg.matmul(x, w) + b
        loss = mg.mean(mg.maximum(z, 0) + mg.log1p(mg.exp(-mg.abs(z))) - y * z)
        loss.backward()
        w, b = mg.tensor(w.data - LR * w.grad), mg.tensor(b.data - LR * b.grad)
        return loss

    return step


BUILDERS: dict[str, Callable[[Any, np.ndarray, np.ndarray], Step]] = {
    "tinygraph": tinygraph_step,
    "numpy": numpy_step,
    "torch": torch_step,
    "autograd": autograd_step,
    "mygrad": mygrad_step,
}


def run(config: h.Config) -> list[h.Row]:
    """Time one step of every library at each size; the target holds at the large sizes."""
    rows: list[h.Row] = []
    for n, d in QUICK_SIZES if config.quick else SIZES:
        X, y = data(n, d)
        for suffix, threads in h.thread_settings(config):  # the targets hold at the run's threads
            with threads:
                steps, skipped = h.build_steps(BUILDERS, config, X, y)
                skipped["micrograd"] = SCALAR_ONLY
                timings = h.time_interleaved(steps, config.repeats)
            target = None if suffix else TARGETS.get((n, d))
            rows += h.case_rows(NAME, f"{n:,} × {d}{suffix}", timings, "ms", 1e3, skipped, target)
    return rows

