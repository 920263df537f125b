"""Benchmark 5, deep_chain: a chain of unary nodes, 1,000 to 1,000,000 deep.

h = relu(relu(... relu(x))) on a one-element array (a scalar for micrograd), then backward:
the time per node covers recording the chain, the backward pass and freeing the graph. A
framework that sorts or frees the graph recursively fails here (RecursionError, or a crash);
one that does O(n) work per node shows a time per node growing with the depth. Python's
cyclic garbage collector makes a full collection each time the long-lived objects have grown
by a quarter: a timing lasts at least half a second so that it holds its share of them, and a
second tinygraph row pauses the collector to show the engine's own cost.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks import _harness as h

NAME = "deep_chain"
DEPTHS = (1_000, 10_000, 100_000, 1_000_000)
QUICK_DEPTHS = (1_000, 10_000)
REFERENCE_DEPTH = 10_000
MAX_SECONDS = 60.0  # a library whose run would take longer (from its time at the last depth) is skipped
TARGET = "no error, and ≤ 1.3× its µs/node at 10,000, collector on"
MAX_GROWTH = 1.3
WITHOUT_GC = "tinygraph, collector off"  # informational: the engine alone, without CPython's cyclic GC

Step = Callable[[], object]


def numpy_step(_numpy: Any, depth: int) -> Step:
    """The same chain by hand: forward keeping each mask, backward multiplying them."""
    x = np.full(1, 0.5)

    def step() -> object:
        h_, masks = x, []
        for _ in range(depth):
            masks.append(h_ > 0)
            h_ = np.maximum(h_, 0)
        g = np.ones(1)
        for mask in reversed(masks):
            g = g * mask
        return g

    return step


def tinygraph_step(tg: Any, depth: int) -> Step:
    x = tg.tensor(np.full(1, 0.5), requires_grad=True)

    def step() -> object:
        h_ = x
        for _ in range(depth):
            h_ = tg.relu(h_)
        h_.sum().backward()
        x.grad = None
        return None  # the graph is freed when the step returns, inside the timing

    return step


def tinygraph_without_gc_step(tg: Any, depth: int) -> Step:
    """The same chain with Python's cyclic garbage collector paused (``gc.disable()``) meanwhile.

    A graph of n nodes holds about 3n container objects, so building a deep one sets off full
    collections that traverse all of them; this row shows what the engine itself costs.
    """
    step = tinygraph_step(tg, depth)

    def paused() -> object:
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return step()
        finally:
            if was_enabled:
                gc.enable()

    return paused


def torch_step(torch: Any, depth: int) -> Step:
    x = torch.full((1,), 0.5, dtype=torch.float64, requires_grad=True)

    def step() -> object:
        h_ = x
        for _ in range(depth):
            h_ = torch.relu(h_)
        h_.sum().backward()
        x.grad = None
        return None

    return step


def autograd_step(autograd: Any, depth: int) -> Step:
    anp = autograd.numpy

    def chain(x: np.ndarray) -> Any:
        h_ = x
        for _ in range(depth):
            h_ = anp.maximum(h_, 0)
        return anp.sum(h_)

    gradient = autograd.grad(chain)
    x = np.full(1, 0.5)
    return lambda: gradient(x)


def mygrad_step(mg: Any, depth: int) -> Step:
    x = mg.tensor(np.full(1, 0.5))
    relu = mg.nnet.activations.relu

    def step() -> object:
        h_ = x
        for _ in range(depth):
            h_ = relu(h_)
        mg.sum(h_).backward()
        return None

    return step


def micrograd_step(engine: Any, depth: int) -> Step:
    x = engine.Value(0.5)

    def step() -> object:
        h_ = x
        for _ in range(depth):
            h_ = h_.relu()
        h_.backward()
        x.grad = 0
        return None

    return step


BUILDERS: dict[str, Callable[[Any, int], Step]] = {
    "tinygraph": tinygraph_step,
    "numpy": numpy_step,
    "torch": torch_step,
    "autograd": autograd_step,
    "mygrad": mygrad_step,
    "micrograd": micrograd_step,
}


def run(config: h.Config) -> list[h.Row]:
    """Each depth in turn; a library too slow for the next depth is skipped there, and said so."""
    rows: list[h.Row] = []
    per_node: dict[str, float] = {}  # µs per node at the last depth each library ran
    reference: float | None = None
    for depth in QUICK_DEPTHS if config.quick else DEPTHS:
        builders, too_slow = {}, {}
        for library, build in [*BUILDERS.items(), (WITHOUT_GC, None)]:
            seconds = per_node.get(library, 0.0) * 1e-6 * depth
            if seconds > MAX_SECONDS:
                too_slow[library] = f"would take about {seconds:.0f} s per run"
            elif build is not None:
                builders[library] = build
        steps, skipped = h.build_steps(builders, config, depth)
        if "tinygraph" in steps and WITHOUT_GC not in too_slow:
            steps[WITHOUT_GC] = tinygraph_without_gc_step(h.load("tinygraph", config), depth)
        repeats = config.repeats if depth <= 100_000 else min(config.repeats, 2)
        # A timing lasts at least half a second, so that it holds its share of the garbage
        # collector's full collections, which come every few chains at small depths (deeper
        # chains take that long, and set off several, on their own).
        min_time = 0.0 if depth > 10_000 else 0.05 if config.quick else 0.5
        timings = h.time_interleaved(steps, repeats, min_time=min_time, warmup=depth <= 100_000)
        case = h.case_rows(NAME, f"{depth:,} nodes", timings, "µs/node", 1e6 / depth, {**skipped, **too_slow})
        for row in case:
            if row.value is not None:
                per_node[row.library] = row.value
            if row.library == "tinygraph":
                if depth == REFERENCE_DEPTH:
                    reference = row.value
                if depth == max(DEPTHS):
                    _judge(row, reference)
        rows += case
    return rows


def _judge(row: h.Row, reference: float | None) -> None:
    """The deep-chain target on tinygraph's row at the largest depth."""
    row.target = TARGET
    if row.value is None or reference is None:
        row.met = False if row.value is None else None
        return
    growth = row.value / reference
    row.met = growth <= MAX_GROWTH
    row.note = f"{growth:.2f}× its µs/node at 10,000"
