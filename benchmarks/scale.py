"""Benchmark 8, scale: a full-batch logistic-regression step on data bigger than memory, with Dask.

X (N × 20) and y are generated lazily by ``dask.array``'s seeded generator in chunks of
``CHUNK`` rows, so each step generates the data again, chunk by chunk, and never holds it whole:
50,000,000 × 20 in float64 would be 8 GB. A step is the lecture's graph, Linear → Sigmoid → BCE,
its backward and one ``dask.compute`` of the loss and the gradients, then the update of the
NumPy parameters. Beside it, where X fits in memory (1M and 10M rows), the same step of tinygraph
and the hand-written NumPy step on an in-memory X. Each case runs in a process of its own, which
reports its seconds per step (the median over the steps after the first) and its peak resident
memory (VmHWM); on a ``LocalCluster`` the workers' peaks are reported too.

Run by the parent as ``python -m benchmarks.scale KIND N D`` for each case.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks import _harness as h
from benchmarks.peak_memory import _peak_mb

NAME = "scale"
D = 20
SIZES = (1_000_000, 10_000_000, 50_000_000)
IN_MEMORY = (1_000_000, 10_000_000)
QUICK_SIZES = (40_000,)
CHUNK = 250_000
QUICK_CHUNK = 10_000
STEPS = 3
LR = 0.1
KINDS = ("dask", "cluster", "tinygraph", "numpy")
LABELS = {"dask": "tinygraph, Dask", "cluster": "tinygraph, LocalCluster", "tinygraph": "tinygraph", "numpy": "numpy"}
TIME_TARGET = h.Target("Dask ≤ 3× NumPy in memory", max_vs_numpy=3.0)
MEMORY_LIMIT_MIB = 400.0
ROOT = Path(__file__).resolve().parent.parent


def run(config: h.Config) -> list[h.Row]:
    """Every case in its own process; a time row and a memory row per size and kind."""
    rows: list[h.Row] = []
    for n in QUICK_SIZES if config.quick else SIZES:
        kinds = ["dask", "tinygraph", "numpy"] if config.quick or n in IN_MEMORY else ["dask"]
        if not config.quick and n == max(SIZES):  # a cluster takes seconds to start: not in --quick
            kinds.append("cluster")
        results = {kind: _child(kind, n, D, config) for kind in kinds}
        rows += _rows(n, results, first=n == (QUICK_SIZES if config.quick else SIZES)[0])
    return rows


def _rows(n: int, results: dict[str, dict], first: bool) -> list[h.Row]:
    """The time rows (ratios to NumPy, the target at the first size) and the peak-memory rows."""
    timings = {LABELS[k]: h.Timing(r.get("seconds"), r.get("error")) for k, r in results.items()}
    target = TIME_TARGET if first else None
    rows = h.case_rows(NAME, f"{n:,} × {D}: time per step", timings, "s", 1.0, target=target,
                       target_library=LABELS["dask"])
    for kind, result in results.items():
        peak = result.get("peak_mb")
        label = LABELS[kind]
        note = result.get("error", "")
        if kind in ("dask", "cluster") and peak is not None:
            met = max(peak, result.get("workers_mb", 0.0)) < MEMORY_LIMIT_MIB
            workers = f"workers' peak {result['workers_mb']:.0f} MiB" if "workers_mb" in result else ""
            rows.append(h.Row(NAME, f"{n:,} × {D}: peak memory", label, peak, "MiB",
                              target="< 400 MiB", met=met, note="; ".join(filter(None, [note, workers]))))
        else:
            rows.append(h.Row(NAME, f"{n:,} × {D}: peak memory", label, peak, "MiB", note=note))
    return rows


def _child(kind: str, n: int, d: int, config: h.Config) -> dict:
    """Run one case in a fresh interpreter and read the JSON line it prints."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path}
    chunk = QUICK_CHUNK if config.quick else CHUNK
    command = [sys.executable, "-m", "benchmarks.scale", kind, str(n), str(d), str(chunk)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        return {"error": f"failed: {last[:80]}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- in the child
def lazy_data(n: int, d: int, chunk: int, seed: int = 0) -> tuple[Any, Any]:
    """X ~ N(0, 1) of shape (n, d) and labels y from a logistic model, both lazy, in chunks of ``chunk`` rows."""
    import dask.array as da
    import numpy as np

    rng = da.random.default_rng(seed)
    X = rng.standard_normal((n, d), chunks=(chunk, d))
    w_true = np.linspace(-1.0, 1.0, d) / np.sqrt(d)
    y = (rng.random(n, chunks=chunk) < 1 / (1 + da.exp(-(X @ w_true)))).astype(np.float64)
    return X, y


def lazy_step(tg: Any, X: Any, y: Any) -> Any:
    """The lecture's graph on lazy X and y, its loss and gradients computed in one pass, then the update."""
    import dask
    import numpy as np

    x, target = tg.tensor(X, name="x"), tg.tensor(y, name="y")
    w = tg.tensor(np.zeros(X.shape[1]), requires_grad=True, name="w")
    b = tg.tensor(0.0, requires_grad=True, name="b")

    def step() -> float:
        loss = tg.bce(tg.sigmoid(tg.linear(x, w, b)), target)
        loss.backward()
        value, gw, gb = dask.compute(loss.data, w.grad, b.grad)
        w.data, b.data = w.data - LR * gw, b.data - LR * gb
        w.grad = b.grad = None
        return float(value)

    return step


def child(kind: str, n: int, d: int, chunk: int) -> dict:
    """Build the case's step, time ``STEPS`` steps (wall clock), report seconds per step and memory."""
    import tinygraph as tg
    from benchmarks import logreg_step

    cluster = client = None
    if kind in ("dask", "cluster"):
        if kind == "cluster":
            from dask.distributed import Client, LocalCluster

            cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                   dashboard_address=None, memory_limit=None)
            client = Client(cluster)
        step = lazy_step(tg, *lazy_data(n, d, chunk))
    else:
        X, y = logreg_step.data(n, d)
        step = (logreg_step.tinygraph_step if kind == "tinygraph" else logreg_step.numpy_step)(None if kind == "numpy" else tg, X, y)
    times = []
    for _ in range(STEPS):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    result = {"seconds": statistics.median(times[1:]), "peak_mb": _peak_mb()}
    if client is not None:
        result["workers_mb"] = max(client.run(_peak_mb).values())
        client.close()
        cluster.close()
    return result


if __name__ == "__main__":
    kind, n, d, chunk = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    print(json.dumps(child(kind, n, d, chunk)))
