"""What check_node and gradcheck_nodes share: a node's forward re-run on arrays, its Jacobian by
central differences, and how an array is written in a message."""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Sequence

import numpy as np

from tinygraph import _array
from tinygraph.node import Node

Forward = Callable[[Sequence[np.ndarray]], np.ndarray]


def fresh_copy(node: Node) -> Node:
    """A shallow copy of ``node`` whose forward may run again: cached derivatives are dropped."""
    replay = copy.copy(node)
    for cls in type(node).__mro__:
        for name, attr in vars(cls).items():
            if isinstance(attr, functools.cached_property):
                replay.__dict__.pop(name, None)
    return replay


def numeric_jacobian(forward: Forward, arrays: Sequence[np.ndarray], i: int, eps: float) -> np.ndarray:
    """∂f/∂x_i by central differences, shape f.shape + x_i.shape; ``arrays`` are left as they were."""
    x = np.array(arrays[i], dtype=np.float64)
    moved = list(arrays)
    moved[i] = x
    columns = []
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + eps
        plus = np.array(forward(moved), dtype=np.float64)  # a copy: forward may return a view of x
        x[index] = original - eps
        minus = np.array(forward(moved), dtype=np.float64)
        x[index] = original
        columns.append((plus - minus) / (2 * eps))
    out_shape = columns[0].shape if columns else np.shape(forward(moved))
    return np.stack(columns, axis=-1).reshape(out_shape + x.shape) if columns else np.zeros(out_shape + x.shape)


def first_mismatch(analytic: np.ndarray, numeric: np.ndarray, atol: float, rtol: float) -> tuple[int, ...] | None:
    """The first index where |analytic − numeric| > atol + rtol |numeric| (NaN counts), or None."""
    bad = ~(np.abs(analytic - numeric) <= atol + rtol * np.abs(numeric))
    if not bad.any():
        return None
    return tuple(int(k) for k in np.argwhere(bad)[0])


def unbroadcast_to(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """A gradient summed back to its input's shape, as the engine does."""
    grad = _array.as_array(grad)
    return grad if grad.shape == shape else _array.unbroadcast(grad, shape)


def show(arrays: Sequence[np.ndarray]) -> str:
    """The inputs as a message writes them: ``[array([1., 2.]), array(0.5)]``."""
    with np.printoptions(precision=6, threshold=20, edgeitems=3):
        return "[" + ", ".join(repr(np.asarray(a)) for a in arrays) + "]"


def value(x: float) -> str:
    return f"{float(x):.6g}"


def projected_differences(
    forward: Forward, arrays: Sequence[np.ndarray], i: int, v: np.ndarray, eps: float
) -> np.ndarray:
    """∂⟨v, f⟩/∂x_i by central differences, shaped like x_i: vᵀJ without storing J."""
    x = np.array(arrays[i], dtype=np.float64)
    moved = list(arrays)
    moved[i] = x
    result = np.zeros(x.shape)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + eps
        plus = float(np.sum(v * forward(moved)))
        x[index] = original - eps
        minus = float(np.sum(v * forward(moved)))
        x[index] = original
        result[index] = (plus - minus) / (2 * eps)
    return result


def shown_mismatch(
    forward: Forward,
    make: Callable[[np.ndarray], np.ndarray],
    arrays: Sequence[np.ndarray],
    s: int,
    r: int,
    given: np.ndarray,
    v: np.ndarray,
    eps: float,
    atol: float,
    rtol: float,
) -> tuple[tuple[int, ...], float, float, bool] | None:
    """Check a shown gradient dL/da against the loss as a function of a alone, a = make(z) moved through z.

    Each element z_k of the receiver moves by ±eps; a moves with it, a = make(z), and so does the
    loss. Where a_k alone moves (a = σ(z)), dL/da_k is compared with ΔL / Δa_k; otherwise
    ⟨dL/da, Δa⟩ with ΔL. Returns (k, backward, finite differences, alone) at the first mismatch.
    """
    z = np.array(arrays[r], dtype=np.float64)
    for k in np.ndindex(z.shape):
        values = []
        for step in (eps, -eps):
            moved_z = z.copy()
            moved_z[k] += step
            a = np.array(make(moved_z), dtype=np.float64)
            moved = list(arrays)
            moved[s], moved[r] = a, moved_z
            values.append((a, float(np.sum(v * forward(moved)))))
        (a_plus, l_plus), (a_minus, l_minus) = values
        da = (a_plus - a_minus) / (2 * eps)
        dl = (l_plus - l_minus) / (2 * eps)
        alone = da.shape == z.shape and np.count_nonzero(da) == 1 and da[k] != 0
        numeric, backward = (dl / da[k], float(given[k])) if alone else (dl, float(np.sum(given * da)))
        if not abs(backward - numeric) <= atol + rtol * abs(numeric):
            return k, backward, numeric, alone
    return None
