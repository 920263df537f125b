"""What the benchmarks share: thread settings, optional libraries, interleaved timing and the table.

Every benchmark module builds one step function per library, times them with
``time_interleaved`` and turns the medians into ``Row`` objects; ``render_text`` and
``render_markdown`` print the rows, with the ratios to hand-written NumPy and to PyTorch, and
mark each target met or missed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import importlib
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)

LIBRARIES = ("tinygraph", "numpy", "torch", "autograd", "mygrad", "micrograd")
"""Every library a benchmark may run; ``numpy`` is the hand-written version, always run."""

LABELS = {
    "tinygraph": "tinygraph",
    "numpy": "NumPy, by hand",
    "torch": "PyTorch",
    "autograd": "autograd",
    "mygrad": "MyGrad",
    "micrograd": "micrograd",
}

_IMPORT_NAMES = {"tinygraph": "tinygraph", "numpy": "numpy", "torch": "torch", "autograd": "autograd",
                 "mygrad": "mygrad", "micrograd": "micrograd.engine"}


@dataclasses.dataclass
class Config:
    """How a run is made.

    Attributes
    ----------
    quick : bool
        Small sizes and few repeats: a check that everything runs, in seconds, not a measurement.
    repeats : int
        Timed rounds per case; the table shows medians over them.
    libraries : tuple of str
        The libraries to run (among ``LIBRARIES``); the others are reported as skipped.
    threads : int
        Threads for BLAS, OpenMP and PyTorch, the same for all libraries.
    default_threads : int or None
        When set, the batch steps are timed a second time with this many threads (the machine's
        default, ``os.cpu_count()``) for every library, on the wall clock: a second row per library.
    """

    quick: bool = False
    repeats: int = 7
    libraries: tuple[str, ...] = LIBRARIES
    threads: int = 1
    default_threads: int | None = None


# ----------------------------------------------------------------------------- threads
_thread_limits: Any = None


def fix_threads(n: int) -> None:
    """Make every library use ``n`` threads.

    The environment variables are read by OpenBLAS, MKL and OpenMP when they load, so call this
    before NumPy or PyTorch is imported; a BLAS that is already loaded is limited through
    threadpoolctl when it is installed, and PyTorch gets ``torch.set_num_threads`` in ``load``.
    """
    global _thread_limits
    for name in THREAD_VARIABLES:
        os.environ[name] = str(n)
    if "numpy" in sys.modules:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            return
        _thread_limits = threadpool_limits(n)  # applies at once; kept so it is not undone


def thread_count() -> int:
    """The thread count set by ``fix_threads`` (1 when it was not called)."""
    return int(os.environ.get("OMP_NUM_THREADS", "1"))


def thread_settings(config: Config) -> list[tuple[str, contextlib.AbstractContextManager[None]]]:
    """The settings a batch step is timed under: the run's threads, then the machine's default.

    Each is a suffix for the case's name ("" for the run's own setting) and a context manager
    that applies it; with ``config.default_threads`` unset there is only the first.
    """
    settings: list[tuple[str, contextlib.AbstractContextManager[None]]] = [("", contextlib.nullcontext())]
    n = config.default_threads
    if n is not None and n != config.threads:
        settings.append((f", {n} threads (default), wall clock", threads_for_a_while(n)))
    return settings


@contextlib.contextmanager
def threads_for_a_while(n: int) -> Iterator[None]:
    """Run the block with ``n`` threads for BLAS, OpenMP and PyTorch, timed on the wall clock.

    CPU time adds up the threads' times, so the block uses wall time; both are restored after.
    """
    from threadpoolctl import threadpool_limits

    torch = sys.modules.get("torch")
    before_torch = torch.get_num_threads() if torch is not None else None
    before_clock = clock
    use_clock("wall")
    try:
        with threadpool_limits(n):
            if torch is not None:
                torch.set_num_threads(n)
            yield
    finally:
        if torch is not None and before_torch is not None:
            torch.set_num_threads(before_torch)
        use_clock(next(name for name, function in CLOCKS.items() if function is before_clock))


# ----------------------------------------------------------------------------- libraries
_missing: dict[str, str] = {}


def load(library: str, config: Config) -> Any | None:
    """The library's module if it is selected and installed, else None (see ``skip_reason``)."""
    if library not in config.libraries and library != "numpy":  # the hand-written version always runs
        _missing[library] = "not selected"
        return None
    try:
        module = importlib.import_module(_IMPORT_NAMES[library])
    except ImportError:
        _missing[library] = "not installed"
        return None
    if library == "torch":
        module.set_num_threads(thread_count())
    return module


def build_steps(
    builders: dict[str, Callable[..., Callable[[], object]]], config: Config, *args: Any
) -> tuple[dict[str, Callable[[], object]], dict[str, str]]:
    """One step per installed, selected library, and the reason each other one is skipped.

    ``builders`` maps a library name to a function ``build(module, *args)`` returning the step.
    """
    steps, skipped = {}, {}
    for library, build in builders.items():
        module = load(library, config)
        if module is None:
            skipped[library] = skip_reason(library)
        else:
            steps[library] = build(module, *args)
    return steps, skipped


def skip_reason(library: str) -> str:
    """Why ``load`` returned None for ``library``."""
    return _missing.get(library, "not installed")


def version(library: str) -> str:
    """The installed version of ``library``, or "not installed"."""
    from importlib import metadata

    try:
        return metadata.version(library)
    except metadata.PackageNotFoundError:
        return "not installed"


# ----------------------------------------------------------------------------- timing
CLOCKS = {"cpu": time.process_time, "wall": time.perf_counter}
clock = CLOCKS["cpu"]


def use_clock(name: str) -> None:
    """Time with process CPU time ("cpu", the default) or wall-clock time ("wall").

    CPU time leaves out the time other processes of a busy machine take from this one, and with
    one thread it equals the wall time of an idle machine; with several threads it adds them up,
    so use wall time there.
    """
    global clock
    clock = CLOCKS[name]
@dataclasses.dataclass
class Timing:
    """The median seconds per call of one candidate, or the error that stopped it.

    ``samples`` holds the time of each round, in round order, for ratios taken round by round.
    """

    seconds: float | None
    error: str | None = None
    samples: tuple[float, ...] = ()


def time_interleaved(
    candidates: dict[str, Callable[[], object]],
    repeats: int,
    min_time: float = 0.02,
    warmup: bool = True,
    seed: int = 0,
) -> dict[str, Timing]:
    """Median seconds per call of each candidate, the candidates timed in turns.

    ``repeats`` rounds each time every candidate once, in an order shuffled anew each round, so
    that the drift of a noisy machine, and whatever one library leaves behind for the next (the
    allocator's free memory, the caches), fall on all of them alike; ``case_rows`` then takes
    ratios round by round. With ``warmup``, each timing
    follows one untimed call of the same candidate: it measures a step in that library's own
    steady state, as in a training loop. A timing makes enough calls to last ``min_time``, counted
    from one call before the rounds (after a first, untimed one). Garbage is collected before each
    turn (before its warm call, which brings the caches back), and the collector stays on while
    timing, as in a user's program. A candidate that raises is timed no further and
    reports the error's type.

    Parameters
    ----------
    candidates : dict of str to callable
        Library name → a function doing one step; it keeps its own state between calls.
    repeats : int
        Timed rounds.
    min_time : float
        Seconds a timing should last at least: short steps are called several times in a row.
    warmup : bool
        Call each candidate once, untimed, before each of its timings (off for steps of seconds).
    seed : int
        Seeds the shuffling of the turns.
    """
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    errors: dict[str, str] = {}
    calls = dict.fromkeys(candidates, 1)
    if min_time > 0:
        for name, step in candidates.items():
            errors.update(_run_guarded(name, step))  # first calls load and initialise: not timed
            start = clock()
            errors.update(_run_guarded(name, step))
            calls[name] = max(1, round(min_time / max(clock() - start, 1e-9)))
    turns = random.Random(seed)
    for _ in range(repeats):
        order = list(candidates)
        turns.shuffle(order)
        for name in order:
            gc.collect()  # before the warm call: a collection walks the heap and evicts the caches
            if warmup and name not in errors:
                errors.update(_run_guarded(name, candidates[name]))
            if name in errors:
                continue
            step, number = candidates[name], calls[name]
            start = clock()
            try:
                for _ in range(number):
                    step()
            except Exception as error:  # noqa: BLE001 (any failure is a result to report)
                errors[name] = type(error).__name__
                continue
            samples[name].append((clock() - start) / number)
    return {
        name: Timing(None, errors[name])
        if name in errors
        else Timing(statistics.median(samples[name]), samples=tuple(samples[name]))
        for name in candidates
    }


def _run_guarded(name: str, step: Callable[[], object]) -> dict[str, str]:
    try:
        step()
    except Exception as error:  # noqa: BLE001
        return {name: type(error).__name__}
    return {}


# ----------------------------------------------------------------------------- rows
@dataclasses.dataclass(frozen=True)
class Target:
    """A target on the tinygraph row of a case: ratios to NumPy and to PyTorch not to exceed."""

    text: str
    max_vs_numpy: float | None = None
    max_vs_torch: float | None = None

    def met(self, row: Row) -> bool | None:
        """Whether ``row`` meets the target; None when no ratio it needs could be measured."""
        if row.value is None:
            return False
        checks = []
        if self.max_vs_numpy is not None and row.vs_numpy is not None:
            checks.append(row.vs_numpy <= self.max_vs_numpy)
        if self.max_vs_torch is not None and row.vs_torch is not None:
            checks.append(row.vs_torch <= self.max_vs_torch)
        return all(checks) if checks else None


@dataclasses.dataclass
class Row:
    """One line of the table: a library's median on one case of one benchmark.

    Attributes
    ----------
    value : float or None
        The median in ``unit``; None when the library was skipped or failed (see ``note``).
    vs_numpy, vs_torch : float or None
        ``value`` over the hand-written NumPy one, and over PyTorch's.
    target : str
        The target this row is held to ("" for rows without one).
    met : bool or None
        Whether the target is met (None: no target, or not measurable in this run).
    """

    benchmark: str
    case: str
    library: str
    value: float | None
    unit: str
    vs_numpy: float | None = None
    vs_torch: float | None = None
    target: str = ""
    met: bool | None = None
    note: str = ""


def case_rows(
    benchmark: str,
    case: str,
    timings: dict[str, Timing],
    unit: str,
    scale: float | dict[str, float],
    skipped: dict[str, str] | None = None,
    target: Target | None = None,
    target_library: str = "tinygraph",
) -> list[Row]:
    """Rows of one case: each timing converted to ``unit``, with its ratios and the target.

    Parameters
    ----------
    timings : dict of str to Timing
        Library name (a key of ``LABELS``, or a label of its own) → median seconds.
    scale : float or dict of str to float
        Multiplies seconds into ``unit`` (1e3 for ms; 1e6 / nodes for µs per node), per library
        when a dict (libraries may build different numbers of nodes for the same graph).
    skipped : dict of str to str
        Library name → why it did not run.
    target : Target, optional
        Held against the row of ``target_library``.
    """
    rows = []
    for name, timing in timings.items():
        factor = scale[name] if isinstance(scale, dict) else scale
        value = None if timing.seconds is None else timing.seconds * factor
        note = f"failed: {timing.error}" if timing.error else ""
        rows.append(Row(benchmark, case, name, value, unit, note=note))
    for name, reason in (skipped or {}).items():
        rows.append(Row(benchmark, case, name, None, unit, note=f"skipped: {reason}"))
    add_ratios(rows, {name: _per_unit(timing, scale, name) for name, timing in timings.items()})
    if target is not None:
        for row in rows:
            if row.library == target_library:
                row.target, row.met = target.text, target.met(row)
    return rows


def add_ratios(rows: Sequence[Row], samples: dict[str, tuple[float, ...]] | None = None) -> None:
    """Fill ``vs_numpy`` and ``vs_torch`` of rows of one case from the NumPy and PyTorch rows.

    With ``samples`` (per library, one value per round, in ``unit``), a ratio is the median of the
    ratios of the rounds: two libraries timed in the same round share the machine's state then,
    so their ratio drifts less than their times. Otherwise it is the ratio of the medians.
    """
    samples = samples or {}
    reference = {row.library: row.value for row in rows if row.value}
    for row in rows:
        if row.value is None:
            continue
        ratios = {}
        for other in ("numpy", "torch"):
            if other not in reference:
                continue
            mine, theirs = samples.get(row.library, ()), samples.get(other, ())
            if mine and len(mine) == len(theirs):
                ratios[other] = statistics.median(a / b for a, b in zip(mine, theirs))
            else:
                ratios[other] = row.value / reference[other]
        row.vs_numpy, row.vs_torch = ratios.get("numpy"), ratios.get("torch")


def _per_unit(timing: Timing, scale: float | dict[str, float], name: str) -> tuple[float, ...]:
    factor = scale[name] if isinstance(scale, dict) else scale
    return tuple(seconds * factor for seconds in timing.samples)


# ----------------------------------------------------------------------------- the machine
def machine() -> dict[str, str]:
    """What the numbers depend on: CPU, cores, memory, Python, library versions, threads."""
    info = {
        "CPU": _cpu_model(),
        "logical cores": str(os.cpu_count()),
        "memory": _memory(),
        "OS": platform.platform(terse=True),
        "Python": platform.python_version(),
    }
    for library in LIBRARIES:
        info[LABELS[library] if library != "numpy" else "NumPy"] = version(library)
    info["BLAS"] = _blas()
    info["threads"] = (
        f"{thread_count()} ({', '.join(THREAD_VARIABLES[:3])} and torch.set_num_threads), the same for all"
    )
    info["dtype"] = "float64 everywhere"
    info["clock"] = "process CPU time" if clock is CLOCKS["cpu"] else "wall-clock time"
    info["garbage collector"] = "on while timing; a collection, then a warm call, before each timing"
    return info


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as file:
            for line in file:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory() -> str:
    try:
        with open("/proc/meminfo", encoding="utf-8") as file:
            kilobytes = int(file.readline().split()[1])
        return f"{kilobytes / 2**20:.0f} GiB"
    except (OSError, ValueError, IndexError):
        return "unknown"


def _blas() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown"
    import numpy  # noqa: F401 (loads NumPy's BLAS so that it is listed)

    found = {f"{pool.get('internal_api')} {pool.get('version')}" for pool in threadpool_info()
             if pool.get("user_api") == "blas"}
    return ", ".join(sorted(found)) or "unknown"


# ----------------------------------------------------------------------------- the table
VERDICTS = {True: "met", False: "MISSED", None: "not measured"}
READING = (
    "Each median is over the rounds; each ratio is the median, over the rounds, of the two "
    "libraries' times in the same round, which a change in the machine's speed during the run "
    "leaves alone: it need not be the quotient of the medians."
)
HEADER = ("benchmark", "case", "library", "median", "× NumPy", "× PyTorch", "target / note")


def _cells(row: Row) -> tuple[str, ...]:
    median = f"{_number(row.value)} {row.unit}" if row.value is not None else "—"
    remark = ""
    if row.target:
        remark = f"{row.target}: {VERDICTS[row.met]}"
    if row.note:
        remark = f"{remark}; {row.note}" if remark else row.note
    return (
        row.benchmark,
        row.case,
        LABELS.get(row.library, row.library),
        median,
        _ratio(row.vs_numpy),
        _ratio(row.vs_torch),
        remark,
    )


def _number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if value >= 0.01 else f"{value:.2g}"


def _ratio(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}×"


def render_text(rows: Iterable[Row]) -> str:
    """The rows as a plain-text table, one benchmark after another."""
    lines = [HEADER, *(_cells(row) for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADER))]
    out = []
    previous = None
    for line in lines:
        if previous is not None and line[0] != previous and previous != HEADER[0]:
            out.append("")
        out.append("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip())
        previous = line[0]
    return "\n".join(out)


def render_markdown(rows: Iterable[Row]) -> str:
    """The rows as a Markdown table."""
    lines = [
        "| " + " | ".join(HEADER) + " |",
        "|" + "|".join(["---"] * 3 + ["---:"] * 3 + ["---"]) + "|",
    ]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in _cells(row)) + " |" for row in rows]
    return "\n".join(lines)


def summary(rows: Iterable[Row]) -> list[str]:
    """One line per target: the case, the verdict, the ratios."""
    out = []
    for row in rows:
        if not row.target:
            continue
        verdict = VERDICTS[row.met]
        ratios = ", ".join(
            f"{value:.2f}× {name}" for name, value in (("NumPy", row.vs_numpy), ("PyTorch", row.vs_torch))
            if value is not None
        )
        label = LABELS.get(row.library, row.library)
        out.append(f"{row.benchmark} {row.case} ({label}): {verdict}: {row.target}; {ratios or row.note}")
    return out
