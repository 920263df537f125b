"""Benchmark 6, peak_memory: peak resident memory of the logistic-regression step, per library.

Each library runs three steps of benchmark 1 (logreg_step) at 100,000 × 100 in a process of its
own, which reports its peak resident set size (VmHWM on Linux) and its resident size before the
first step (the interpreter, the library's imports and the data, 80 MB of it X). The whole
process is compared, as a user's program would be: a library that imports a large runtime pays
for it here.

Run by the parent as ``python -m benchmarks.peak_memory LIBRARY N D`` for each library.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
from pathlib import Path

from benchmarks import _harness as h

NAME = "peak_memory"
SIZE = (100_000, 100)
QUICK_SIZE = (20_000, 20)
STEPS = 3
TARGET = h.Target("≤ 1.1× NumPy", max_vs_numpy=1.1)
LIBRARIES = ("tinygraph", "numpy", "torch", "autograd", "mygrad")
ROOT = Path(__file__).resolve().parent.parent


def run(config: h.Config) -> list[h.Row]:
    """Run every library's child process ``repeats`` times (at most 3), in turns; median peaks."""
    n, d = QUICK_SIZE if config.quick else SIZE
    peaks: dict[str, list[float]] = {}
    before: dict[str, list[float]] = {}
    failed: dict[str, str] = {}
    skipped: dict[str, str] = {}
    libraries = [lib for lib in LIBRARIES if lib == "numpy" or lib in config.libraries]
    skipped.update({lib: "not selected" for lib in LIBRARIES if lib not in libraries})
    for _ in range(min(config.repeats, 3)):
        for library in libraries:
            if library in failed or library in skipped:
                continue
            result = _child(library, n, d, config.threads)
            if "skipped" in result:
                skipped[library] = result["skipped"]
            elif "error" in result:
                failed[library] = result["error"]
            else:
                peaks.setdefault(library, []).append(result["peak_mb"])
                before.setdefault(library, []).append(result["before_mb"])
    timings = {lib: h.Timing(statistics.median(values)) for lib, values in peaks.items()}
    timings.update({lib: h.Timing(None, error) for lib, error in failed.items()})
    skipped["micrograd"] = "scalar-only: 10⁷ products would be 10⁷ Python objects"
    rows = h.case_rows(NAME, f"{n:,} × {d}, {STEPS} steps", timings, "MB", 1.0, skipped, TARGET)
    for row in rows:
        if row.library in before:
            row.note = f"{statistics.median(before[row.library]):.0f} MB before the first step"
    return rows


def _child(library: str, n: int, d: int, threads: int) -> dict:
    """Run one library's steps in a fresh interpreter and read what it reports."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path}
    command = [sys.executable, "-m", "benchmarks.peak_memory", library, str(n), str(d), str(threads)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["exit status " + str(done.returncode)])[-1]
        return {"error": last[:80]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _resident_mb() -> float:
    """The current resident set size, from /proc (Linux) or psutil; the peak so far otherwise."""
    try:
        with open("/proc/self/statm", encoding="ascii") as file:
            return int(file.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        pass
    try:
        import psutil

        return psutil.Process().memory_info().rss / 2**20
    except ImportError:
        return _peak_mb()


def _peak_mb() -> float:
    """The peak resident set size of this process.

    On Linux, VmHWM from /proc: ``ru_maxrss`` would also count the parent's memory, because a
    forked child starts as a copy of the parent and Linux keeps that copy's peak across exec.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as file:
            for line in file:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 2**10  # kB
    except (OSError, ValueError, IndexError):
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes on macOS, KiB elsewhere


def child(library: str, n: int, d: int, threads: int) -> dict:
    """In the child process: import the library, make the data, run the steps, report memory."""
    h.fix_threads(threads)
    from benchmarks import logreg_step

    config = h.Config(libraries=(library,), threads=threads)
    module = h.load(library, config)
    if module is None:
        return {"skipped": h.skip_reason(library)}
    X, y = logreg_step.data(n, d)
    step = logreg_step.BUILDERS[library](module, X, y)
    before = _resident_mb()
    for _ in range(STEPS):
        step()
    return {"peak_mb": _peak_mb(), "before_mb": before}


if __name__ == "__main__":
    library, n, d, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    print(json.dumps(child(library, n, d, threads)))
