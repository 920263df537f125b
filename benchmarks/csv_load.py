"""Benchmark 7, csv_load: reading a 100 MB CSV file with ``tinygraph.data.load_csv`` and ``np.loadtxt``.

The file (20 features of ``repr``-written standard-normal floats and a 0/1 label, about 270,000
rows) is written to a temporary directory; each reader then loads it once, in a process of its
own, which reports the load's time (the clock of the run) and the process's peak resident memory
(VmHWM on Linux), its imports included, as a user's program would see it. The targets: within 3×
of ``np.loadtxt`` in both.

Run it alone with ``python -m benchmarks --only csv_load``, or at another size with
``python -m benchmarks.csv_load --mb 20``; the children run as
``python -m benchmarks.csv_load --child LOADER PATH CLOCK``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks import _harness as h
from benchmarks.peak_memory import _peak_mb, _resident_mb

NAME = "csv_load"
MEGABYTES = 100
QUICK_MEGABYTES = 1
FEATURES = 20
TARGET = h.Target("≤ 3× np.loadtxt", max_vs_numpy=3.0)
LOADERS = {
    "tinygraph": "data.load_csv(path, 'label')",
    "numpy": "np.loadtxt(path, delimiter=',', skiprows=1)",
}
ROOT = Path(__file__).resolve().parent.parent


def run(config: h.Config, megabytes: float | None = None) -> list[h.Row]:
    """Write the file, load it once with each reader in a fresh process, and compare."""
    megabytes = megabytes or (QUICK_MEGABYTES if config.quick else MEGABYTES)
    clock = "cpu" if h.clock is h.CLOCKS["cpu"] else "wall"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "table.csv"
        rows = write_csv(path, megabytes)
        size = path.stat().st_size
        size_text = f"{size / 2**20:.0f} MB" if size >= 10 * 2**20 else f"{size / 2**10:.0f} KB"
        results = {loader: _child(loader, path, clock) for loader in LOADERS}
    case = f"{size_text}, {rows:,} × {FEATURES + 1}"
    times, peaks = {}, {}
    for loader, result in results.items():
        error = result.get("error")
        times[loader] = h.Timing(None, error) if error else h.Timing(result["seconds"])
        peaks[loader] = h.Timing(None, error) if error else h.Timing(result["peak_mb"])
    out = h.case_rows(NAME, f"{case}: time", times, "s", 1.0, target=TARGET)
    out += h.case_rows(NAME, f"{case}: peak memory", peaks, "MB", 1.0, target=TARGET)
    for row in out:
        if row.library in LOADERS and not row.note:
            row.note = LOADERS[row.library]
            if row.unit == "MB":
                row.note += f"; {results[row.library]['before_mb']:.0f} MB before loading"
    return out


def write_csv(path: Path, megabytes: float, seed: int = 0) -> int:
    """A CSV file of about ``megabytes`` MB: a header, then rows of floats and a 0/1 label; the rows."""
    import numpy as np

    rng = np.random.default_rng(seed)
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as file:
        file.write(",".join([f"x{j}" for j in range(FEATURES)] + ["label"]) + "\n")
        while file.tell() < megabytes * 2**20:
            X = rng.standard_normal((1_000, FEATURES)).tolist()
            labels = rng.integers(0, 2, len(X)).tolist()
            file.write("".join(",".join(map(repr, x)) + f",{label}\n" for x, label in zip(X, labels)))
            rows += len(X)
    return rows


def _child(loader: str, path: Path, clock: str) -> dict:
    """Load ``path`` with ``loader`` in a fresh interpreter and read what it reports."""
    python_path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": python_path}
    command = [sys.executable, "-m", "benchmarks.csv_load", "--child", loader, str(path), clock]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["exit status " + str(done.returncode)])[-1]
        return {"error": last[:80]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def child(loader: str, path: str, clock: str) -> dict:
    """In the child process: import the reader, load the file once, report time and memory."""
    import numpy as np

    if loader == "tinygraph":
        from tinygraph import data

        def load() -> object:
            return data.load_csv(path, "label").X
    else:

        def load() -> object:
            return np.loadtxt(path, delimiter=",", skiprows=1)

    before = _resident_mb()
    tick = h.CLOCKS[clock]
    start = tick()
    X = load()
    seconds = tick() - start
    return {"seconds": seconds, "peak_mb": _peak_mb(), "before_mb": before, "shape": list(np.shape(X))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.csv_load",
                                     description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--mb", type=float, default=MEGABYTES, help=f"size of the file (default {MEGABYTES})")
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu",
                        help="process CPU time (default) or wall time")
    parser.add_argument("--child", nargs=3, metavar=("LOADER", "PATH", "CLOCK"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(*args.child)))
        return 0
    h.use_clock(args.clock)
    print(h.render_text(run(h.Config(), args.mb)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
