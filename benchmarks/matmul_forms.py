"""Benchmark matmul_forms: each way of writing Linear's two matrix products, on the batch shapes.

The forward z = X @ W and the weight gradient dL/dW = Xᵀ G are the same sums whichever way the
product is written, but a BLAS runs the forms at different speeds: (Wᵀ Xᵀ)ᵀ and X @ W a block of
rows at a time for the forward, (Gᵀ X)ᵀ for the gradient (``w @ Xᵀ`` and ``g @ X`` for a vector
of weights). The NumPy row is the form written by hand (X @ W, Xᵀ G); the tinygraph row is what
``Linear`` computes. The shapes are those of logreg_step and softmax_step, X C-ordered as there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks import _harness as h

NAME = "matmul_forms"
SIZES = ((100_000, 100, None), (1_000_000, 20, None), (60_000, 784, 10))
QUICK_SIZES = ((20_000, 20, None), (6_000, 784, 10))
TARGET = h.Target("≤ 1.05× the form by hand (never slower, to the noise)", max_vs_numpy=1.05)

Step = Callable[[], object]


def data(n: int, d: int, k: int | None, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Standard-normal X (n, d), weights W (d,) or (d, k) and an incoming gradient G (n,) or (n, k)."""
    rng = np.random.default_rng(seed)
    tail = () if k is None else (k,)
    return rng.standard_normal((n, d)), rng.standard_normal((d, *tail)), rng.standard_normal((n, *tail))


BLOCK_BYTES = 2 << 20
"""The bytes of X that one block of rows of ``in_row_blocks`` reads: 2 MB, a few times the L2 cache."""


def in_row_blocks(X: np.ndarray, W: np.ndarray, rows: int | None = None) -> np.ndarray:
    """X @ W computed ``rows`` rows at a time (by default, blocks of ``BLOCK_BYTES``).

    OpenBLAS packs a wide panel of X for the whole product, which few columns of W use before it
    leaves the cache; row blocks keep it there. With one thread this took 0.85–0.92× the time of
    X @ W at d = 300 to 2,000 and k = 3 to 32, but with two BLAS threads on a busy machine every
    block waits for both threads: 7× the time of X @ W. So ``Linear`` does not use it.
    """
    rows = rows or max(1, BLOCK_BYTES // max(1, X.shape[1] * X.itemsize))
    Z = np.empty((X.shape[0], W.shape[1]), dtype=np.result_type(X, W))
    for start in range(0, X.shape[0], rows):
        np.matmul(X[start : start + rows], W, out=Z[start : start + rows])
    return Z


def forward_forms(linear: Any, X: np.ndarray, W: np.ndarray) -> dict[str, Step]:
    """z = X @ W by hand, transposed, and as Linear's forward computes it."""
    if W.ndim == 1:
        return {"numpy": lambda: X @ W, "w @ Xᵀ": lambda: W @ X.T, "tinygraph": lambda: linear.Linear().forward(X, W)}
    return {
        "numpy": lambda: X @ W,
        "(Wᵀ Xᵀ)ᵀ": lambda: (W.T @ X.T).T,
        "X @ W in row blocks": lambda: in_row_blocks(X, W),
        "tinygraph": lambda: linear.Linear().forward(X, W),
    }


def gradient_forms(linear: Any, X: np.ndarray, G: np.ndarray) -> dict[str, Step]:
    """dL/dW = Xᵀ G by hand, transposed, and as Linear's backward computes it."""
    other = "g @ X" if G.ndim == 1 else "(Gᵀ X)ᵀ"
    return {
        "numpy": lambda: X.T @ G,
        other: (lambda: G @ X) if G.ndim == 1 else (lambda: (G.T @ X).T),
        "tinygraph": lambda: linear.weight_gradient(X, G),
    }


def run(config: h.Config) -> list[h.Row]:
    """Time each form of each product at each size; tinygraph's must not be slower than by hand."""
    from tinygraph.nodes import linear  # after the thread settings, as every benchmark

    rows: list[h.Row] = []
    for n, d, k in QUICK_SIZES if config.quick else SIZES:
        X, W, G = data(n, d, k)
        size = f"{n:,} × {d}" + ("" if k is None else f" × {k}")
        products = (("z = X @ W", forward_forms(linear, X, W)), ("dL/dW = Xᵀ G", gradient_forms(linear, X, G)))
        for product, steps in products:
            timings = h.time_interleaved(steps, config.repeats)
            rows += h.case_rows(NAME, f"{size}: {product}", timings, "ms", 1e3, None, TARGET)
    return rows
