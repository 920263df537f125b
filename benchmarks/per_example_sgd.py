"""Benchmark 4, per_example_sgd: one epoch of the lecture's per-example SGD on breast cancer.

The standardized Wisconsin breast-cancer data (569 × 30, bundled with scikit-learn) visited one
example at a time, in a fixed shuffled order: net input, sigmoid, negative log-likelihood,
backward, update. Each step is the lecture's three-node graph (Linear → Sigmoid → BCE), so the
time per node is the epoch's time over 3 × 569; it is the same ratio as that of the epochs.

The target is on ``LogisticRegression.fit(batch_size=1)``: at most 1.05× the plain tinygraph
loop doing the same updates, so that the loop's bookkeeping (batches, scopes, the finite-loss
check, the optimizer) costs next to nothing per step.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks import _harness as h

NAME = "per_example_sgd"
NODES_PER_STEP = 3
LR = 0.01
FIT = "tinygraph LogisticRegression.fit"
TARGET = "fit ≤ 1.05× the plain tinygraph loop"
MAX_VS_LOOP = 1.05

Step = Callable[[], object]
Rows = list[tuple[np.ndarray, np.ndarray]]


def data(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Standardized X (569, 30), labels y in {0, 1}, and the order in which the epoch visits them."""
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    return X, y.astype(np.float64), np.random.default_rng(seed).permutation(len(y))


def examples(X: np.ndarray, y: np.ndarray, order: np.ndarray) -> Rows:
    """The epoch's examples as batches of one, x of shape (1, d) and y of shape (1,), split in advance."""
    return [(X[i : i + 1], y[i : i + 1]) for i in order]


def numpy_step(_numpy: Any, rows: Rows) -> Step:
    """The per-example update written by hand: dL/dz = a − y, dL/dw = xᵀ(a − y), dL/db = a − y."""
    d = rows[0][0].shape[1]
    w, b = np.zeros(d), 0.0

    def epoch() -> object:
        nonlocal w, b
        for x, y in rows:
            z = x @ w + b
            with np.errstate(over="ignore"):
                a = 1.0 / (1.0 + np.exp(-z))
            loss = np.mean(np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z))) - y * z)
            dz = a - y
            w = w - LR * (x.T @ dz)
            b = b - LR * dz.sum()
        return loss

    return epoch


def tinygraph_step(tg: Any, rows: Rows) -> Step:
    """The lecture's loop over the core: Linear → Sigmoid → BCE, backward, update by rebinding."""
    d = rows[0][0].shape[1]
    tensors = [(tg.tensor(x), tg.tensor(y)) for x, y in rows]
    w = tg.tensor(np.zeros(d), requires_grad=True, name="w")
    b = tg.tensor(0.0, requires_grad=True, name="b")

    def epoch() -> object:
        for x, y in tensors:
            loss = tg.bce(tg.sigmoid(tg.linear(x, w, b)), y)
            loss.backward()
            w.data = w.data - LR * w.grad
            b.data = b.data - LR * b.grad
            w.grad = b.grad = None
        return loss

    return epoch


def fit_step(tg: Any, X: np.ndarray, y: np.ndarray) -> Step:
    """The same epoch as a user runs it: ``LogisticRegression.fit(batch_size=1)``."""

    def epoch() -> object:
        model = tg.models.LogisticRegression(X.shape[1], seed=0)
        return model.fit(X, y, epochs=1, lr=LR, batch_size=1, progress=False)

    return epoch


def torch_step(torch: Any, rows: Rows) -> Step:
    """PyTorch as its users write the loop: BCE with logits, backward, an in-place update."""
    d = rows[0][0].shape[1]
    tensors = [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in rows]
    w = torch.zeros(d, dtype=torch.float64, requires_grad=True)
    b = torch.zeros((), dtype=torch.float64, requires_grad=True)
    bce_with_logits = torch.nn.functional.binary_cross_entropy_with_logits

    def epoch() -> object:
        for x, y in tensors:
            loss = bce_with_logits(x @ w + b, y)
            loss.backward()
            with torch.no_grad():
                w.sub_(LR * w.grad)
                b.sub_(LR * b.grad)
            w.grad = b.grad = None
        return loss

    return epoch


def autograd_step(autograd: Any, rows: Rows) -> Step:
    anp = autograd.numpy

    def loss(params: tuple[np.ndarray, float], x: np.ndarray, y: np.ndarray) -> Any:
        z = anp.dot(x, params[0]) + params[1]
        return anp.mean(anp.maximum(z, 0) + anp.log1p(anp.exp(-anp.abs(z))) - y * z)

    gradient = autograd.grad(loss)
    params = (np.zeros(rows[0][0].shape[1]), 0.0)

    def epoch() -> object:
        nonlocal params
        for x, y in rows:
            gw, gb = gradient(params, x, y)
            params = (params[0] - LR * gw, params[1] - LR * gb)
        return params

    return epoch


def mygrad_step(mg: Any, rows: Rows) -> Step:
    tensors = [(mg.tensor(x, constant=True), y) for x, y in rows]
    w, b = mg.tensor(np.zeros(rows[0][0].shape[1])), mg.tensor(0.0)

    def epoch() -> object:
        nonlocal w, b
        for x, y in tensors:
            z = mg.matmul(x, w) + b
            loss = mg.mean(mg.maximum(z, 0) + mg.log1p(mg.exp(-mg.abs(z))) - y * z)
            loss.backward()
            w, b = mg.tensor(w.data - LR * w.grad), mg.tensor(b.data - LR * b.grad)
        return loss

    return epoch


BUILDERS: dict[str, Callable[[Any, Rows], Step]] = {
    "tinygraph": tinygraph_step,
    "numpy": numpy_step,
    "torch": torch_step,
    "autograd": autograd_step,
    "mygrad": mygrad_step,
}


def run(config: h.Config) -> list[h.Row]:
    """Time one epoch per library; report microseconds per node of the lecture's graph."""
    try:
        X, y, order = data()
    except ImportError:
        return [h.Row(NAME, "569 × 30, 1 epoch", "tinygraph", None, "µs/node",
                      note="skipped: the breast-cancer data need scikit-learn (the train extra)")]
    rows = examples(X, y, order)
    steps, skipped = h.build_steps(BUILDERS, config, rows)
    tg = h.load("tinygraph", config)
    if tg is not None and hasattr(tg, "models"):
        steps[FIT] = fit_step(tg, X, y)
    skipped["micrograd"] = "scalar-only and no exp or log: cannot express σ or the log-loss"
    timings = h.time_interleaved(steps, config.repeats, min_time=0.0 if config.quick else 0.1)
    per_node = 1e6 / (NODES_PER_STEP * len(rows))
    case = f"{len(rows)} × {X.shape[1]}, 1 epoch"
    result = h.case_rows(NAME, case, timings, "µs/node", per_node, skipped)
    for row in result:
        if row.library == FIT:
            _judge(row, timings.get(FIT), timings.get("tinygraph"))
    return result


def _judge(row: h.Row, fit: h.Timing | None, loop: h.Timing | None) -> None:
    """The target on the fit row: its time over the plain loop's, the median of the per-round ratios."""
    row.target = TARGET
    if fit is None or loop is None or not fit.samples or len(fit.samples) != len(loop.samples):
        row.met = False if row.value is None else None
        return
    ratio = statistics.median(a / b for a, b in zip(fit.samples, loop.samples))
    row.met = ratio <= MAX_VS_LOOP
    row.note = f"{ratio:.2f}× the plain tinygraph loop"
