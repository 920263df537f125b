"""Benchmark 3, node_overhead: what a framework costs per node on arrays too small to matter.

A graph of 51 nodes on tiny arrays (shape (1,) and (8, 8)): ten blocks h = relu(h·w + b)·v + c,
each with its own parameters, then a sum; forward and backward, in microseconds per node. The
arithmetic is almost free, so the time is the framework's bookkeeping: recording a node,
ordering the graph, calling each backward, accumulating gradients.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks import _harness as h

NAME = "node_overhead"
SHAPES = ((1,), (8, 8))
BLOCKS = 10
NODES = 5 * BLOCKS + 1  # mul, add, relu, mul, add per block, then the sum
TARGET = h.Target("≤ 0.5× PyTorch per node", max_vs_torch=0.5)

Step = Callable[[], object]
Params = list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]


def data(shape: tuple[int, ...], seed: int = 0) -> tuple[np.ndarray, Params]:
    """The input x and, for each block, (w, b, v, c) drawn so that h stays near 1."""
    rng = np.random.default_rng(seed)

    def near(value: float) -> np.ndarray:
        return value + 0.05 * rng.standard_normal(shape)

    return near(0.5), [(near(0.9), near(0.1), near(1.1), near(-0.05)) for _ in range(BLOCKS)]


def numpy_step(_numpy: Any, x: np.ndarray, params: Params) -> Step:
    """Forward and backward of the same graph, written by hand: the cost of the arithmetic alone."""

    def step() -> object:
        h_, saved = x, []
        for w, b, v, c in params:
            u = h_ * w + b
            positive = u > 0
            r = np.maximum(u, 0)
            saved.append((h_, positive, r))
            h_ = r * v + c
        loss = h_.sum()
        g, grads = np.ones_like(h_), []
        for (w, _, v, _), (h_in, positive, r) in zip(reversed(params), reversed(saved)):
            gc, gv = g, g * r  # h = r·v + c
            g = g * v * positive  # r = max(u, 0)
            gb, gw = g, g * h_in  # u = h·w + b
            g = g * w
            grads.append((gw, gb, gv, gc))
        return loss, grads

    return step


def tinygraph_step(tg: Any, x: np.ndarray, params: Params) -> Step:
    xt = tg.tensor(x)
    ps = [tuple(tg.tensor(p, requires_grad=True) for p in block) for block in params]
    leaves = [p for block in ps for p in block]

    def step() -> object:
        h_ = xt
        for w, b, v, c in ps:
            h_ = (h_ * w + b).relu() * v + c
        h_.sum().backward()
        for p in leaves:
            p.grad = None
        return h_

    return step


def torch_step(torch: Any, x: np.ndarray, params: Params) -> Step:
    xt = torch.tensor(x)
    ps = [tuple(torch.tensor(p, requires_grad=True) for p in block) for block in params]
    leaves = [p for block in ps for p in block]

    def step() -> object:
        h_ = xt
        for w, b, v, c in ps:
            h_ = torch.relu(h_ * w + b) * v + c
        h_.sum().backward()
        for p in leaves:
            p.grad = None
        return h_

    return step


def autograd_step(autograd: Any, x: np.ndarray, params: Params) -> Step:
    anp = autograd.numpy

    def loss(ps: Params) -> Any:
        h_ = x
        for w, b, v, c in ps:
            h_ = anp.maximum(h_ * w + b, 0) * v + c
        return anp.sum(h_)

    gradient = autograd.grad(loss)
    return lambda: gradient(params)


def mygrad_step(mg: Any, x: np.ndarray, params: Params) -> Step:
    xt = mg.tensor(x, constant=True)
    ps = [tuple(mg.tensor(p) for p in block) for block in params]
    relu = mg.nnet.activations.relu

    def step() -> object:
        h_ = xt
        for w, b, v, c in ps:
            h_ = relu(h_ * w + b) * v + c
        mg.sum(h_).backward()
        return h_

    return step


def micrograd_step(engine: Any, x: np.ndarray, params: Params) -> Step:
    """micrograd on the scalar graph (no sum: the output is already a scalar), 50 nodes."""
    xv = engine.Value(float(x.item()))
    ps = [tuple(engine.Value(float(p.item())) for p in block) for block in params]
    leaves = [p for block in ps for p in block]

    def step() -> object:
        h_ = xv
        for w, b, v, c in ps:
            h_ = (h_ * w + b).relu() * v + c
        h_.backward()
        for p in leaves:
            p.grad = 0
        return h_

    return step


BUILDERS: dict[str, Callable[[Any, np.ndarray, Params], Step]] = {
    "tinygraph": tinygraph_step,
    "numpy": numpy_step,
    "torch": torch_step,
    "autograd": autograd_step,
    "mygrad": mygrad_step,
    "micrograd": micrograd_step,
}


def run(config: h.Config) -> list[h.Row]:
    """Time the 51-node graph on each shape; report microseconds per node."""
    rows: list[h.Row] = []
    for shape in SHAPES:
        x, params = data(shape)
        builders = dict(BUILDERS)
        skipped = {}
        if shape != (1,):
            del builders["micrograd"]
            skipped["micrograd"] = "scalar-only"
        steps, more = h.build_steps(builders, config, x, params)
        timings = h.time_interleaved(steps, config.repeats, min_time=0.005 if config.quick else 0.05)
        per_node = {name: 1e6 / (NODES - 1 if name == "micrograd" else NODES) for name in timings}
        rows += h.case_rows(NAME, f"shape {shape}", timings, "µs/node", per_node, {**more, **skipped}, TARGET)
    return rows
