"""The GPU check: run the CuPy tests, then time a logistic-regression step on the GPU against NumPy.

``python -m benchmarks.gpu`` on a machine with CuPy and a GPU: it runs the tests that use CuPy
(``tests/models/test_cupy.py`` and the back-end tests' CuPy cases), then one full-batch step of the
lecture's graph, Linear → Sigmoid → BCE with backward and the update, at N × d = 10,000,000 × 100
(8 GB in float64) on the GPU with CuPy and on the CPU with NumPy, and prints the seconds per step
(median over ``STEPS`` steps after a first, untimed one) and the ratio. Without CuPy or a GPU it
says so and exits with status 0: there is nothing to check.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

N, D = 10_000_000, 100
STEPS = 5
LR = 0.1
ROOT = Path(__file__).resolve().parent.parent
TESTS = ["tests/models/test_cupy.py", "tests/backends", "-k", "cupy or test_cupy"]


def gpu_missing() -> str | None:
    """Why the GPU check cannot run here, or None when CuPy sees a GPU."""
    try:
        import cupy
    except ImportError:
        return "CuPy is not installed (pip install cupy-cuda12x, for the machine's CUDA version)"
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as error:  # noqa: BLE001 (no driver, or no device the runtime can see)
        return f"CuPy is installed but finds no GPU ({error})"
    return None if count > 0 else "CuPy is installed but finds no GPU"


def step_of(tg: Any, xp: Any, X: Any, y: Any, sync: Callable[[], None]) -> Callable[[], float]:
    """One full-batch step of tinygraph's logistic regression on X, y of module ``xp`` (NumPy or CuPy), timed."""
    w = tg.tensor(xp.zeros(X.shape[1]), requires_grad=True, name="w")
    b = tg.tensor(xp.zeros(()), requires_grad=True, name="b")
    x, target = tg.tensor(X, name="x"), tg.tensor(y, name="y")

    def step() -> float:
        start = time.perf_counter()
        loss = tg.bce(tg.sigmoid(tg.linear(x, w, b)), target)
        loss.backward()
        w.data, b.data = w.data - LR * w.grad, b.data - LR * b.grad
        w.grad = b.grad = None
        sync()  # the GPU runs asynchronously: wait for the step to finish before reading the clock
        return time.perf_counter() - start

    return step


def median_step(step: Callable[[], float]) -> float:
    step()  # the first step compiles CuPy's kernels and warms the allocator: not timed
    return statistics.median(step() for _ in range(STEPS))


def main() -> int:
    missing = gpu_missing()
    if missing:
        print(f"skipped: {missing}; the GPU check needs CuPy and a GPU")
        return 0
    import cupy
    import numpy as np

    import tinygraph as tg

    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider", *TESTS],
                           cwd=ROOT, check=False)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N, D))
    y = (rng.random(N) < 1 / (1 + np.exp(-X[:, 0]))).astype(np.float64)
    cpu = median_step(step_of(tg, np, X, y, lambda: None))
    X_gpu, y_gpu = cupy.asarray(X), cupy.asarray(y)
    del X
    gpu = median_step(step_of(tg, cupy, X_gpu, y_gpu, cupy.cuda.Device().synchronize))
    name = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)["name"].decode()
    print(f"logistic-regression step at {N:,} × {D}, float64, median of {STEPS}:")
    print(f"  NumPy on the CPU  {cpu:8.3f} s")
    print(f"  CuPy on {name}  {gpu:8.3f} s   ({cpu / gpu:.1f}× faster)")
    return tests.returncode


if __name__ == "__main__":
    raise SystemExit(main())
