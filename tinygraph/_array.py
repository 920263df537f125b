"""The array back end: NumPy, and the few numerically careful helpers the nodes share.

Every array computation of tinygraph happens in the nodes or here, so that swapping the array
library (CuPy, Dask) means changing this module and the nodes, and nothing else.
"""

from __future__ import annotations

from typing import Any

import numpy as np

xp = np
ndarray = np.ndarray


def as_array(data: Any, dtype: Any = None) -> np.ndarray:
    """Convert ``data`` to an ndarray; Python numbers and lists become float64 unless ``dtype`` says."""
    if dtype is not None:
        return np.asarray(data, dtype=dtype)
    if isinstance(data, np.ndarray):
        return data
    array = np.asarray(data)
    if array.dtype.kind in "biu" and not isinstance(data, np.generic):
        return array.astype(np.float64)
    return array


def is_float(array: np.ndarray) -> bool:
    return array.dtype.kind == "f"


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` over the axes along which an array of ``shape`` was broadcast to ``grad.shape``."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        extra + i for i, n in enumerate(shape) if n == 1 and grad.shape[extra + i] != 1
    )
    return grad.sum(axis=axes, keepdims=True).reshape(shape)


def broadcasts_to(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    """True if an array of ``shape`` broadcasts to ``target`` without changing ``target``.

    NumPy's rule, aligning the shapes on the right: each axis of ``shape`` is 1 or equal to that of
    ``target``, and ``shape`` has no more axes (plain Python: np.broadcast_shapes costs a microsecond).
    """
    pairs = zip(reversed(shape), reversed(target))
    return len(shape) <= len(target) and all(n == 1 or n == m for n, m in pairs)


def all_finite(array: np.ndarray) -> bool:
    return bool(np.isfinite(array).all())


def first_non_finite(array: np.ndarray) -> str:
    """Where the first NaN or inf of ``array`` is, for an error message: "nan at index (1,) of shape (2,)"."""
    index = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
    return f"{array[index]} at index {index} of shape {array.shape}"


def sigmoid(z: np.ndarray, complement: bool = False) -> np.ndarray:
    """σ(z), or 1 − σ(z) = σ(−z) when ``complement``: exact for any finite z (no overflow, no cancellation).

    The textbook 1 / (1 + e^(−z)) is exact (to 2 ulp) wherever e^(−z) is finite. Where it overflows
    (z < −709 in float64), σ(z) is below the smallest normal number and would round to 0, so the
    whole array is then computed from e = e^(−|z|) ≤ 1, which never overflows: σ(z) = 1 / (1 + e) for
    z ≥ 0 and e / (1 + e) for z < 0, the numerator picked as max(e, [z ≥ 0]) without a branch.
    The common case thus costs four passes, like the naive formula.
    """
    if not is_float(z):
        z = z.astype(np.float64)
    try:
        with np.errstate(over="raise"):
            return 1.0 / (1.0 + np.exp(z if complement else -z))
    except FloatingPointError:
        e = np.exp(-np.abs(z))  # in (0, 1]: never overflows
        return np.maximum(e, z <= 0 if complement else z >= 0) / (1.0 + e)


def logistic_loss(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """−[y log σ(z) + (1 − y) log(1 − σ(z))] = log(1 + e^z) − y z, exact for any finite z.

    Grouped as (max(z, 0) − y z) + log1p(e^(−|z|)): nothing overflows, and for a confident right
    answer (y = 1, z = 15) the first term is exactly 0, so the tiny loss 3.1e−7 keeps every digit.
    """
    return (np.maximum(z, 0) - y * z) + np.log1p(np.exp(-np.abs(z)))


def log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    """x − logsumexp(x) along ``axis``, exact for any finite x.

    Written as (x − m) − log1p(Σ_rest e^(x − m)), with m the maximum and the sum over every element
    but one maximum: nothing overflows, and a tiny remainder (a log-probability of −1.8e−35) is not
    lost in 1 + remainder.
    """
    top = np.expand_dims(np.argmax(x, axis=axis), axis)
    shifted = x - np.take_along_axis(x, top, axis)
    rest = np.exp(shifted)
    np.put_along_axis(rest, top, 0, axis)
    return shifted - np.log1p(rest.sum(axis=axis, keepdims=True))


def safe_log(p: np.ndarray) -> np.ndarray:
    """log(p) floored at log(smallest normal number): log(0) is about −708 in float64, not −inf."""
    tiny = np.finfo(p.dtype).tiny if is_float(p) else np.finfo(np.float64).tiny
    return np.log(np.maximum(p, tiny))


def one_hot(labels: np.ndarray, n_classes: int, dtype: Any) -> np.ndarray:
    out = np.zeros((labels.shape[0], n_classes), dtype=dtype)
    out[np.arange(labels.shape[0]), labels] = 1
    return out


def scatter_add(shape: tuple[int, ...], index: Any, values: np.ndarray, dtype: Any) -> np.ndarray:
    """An array of zeros of ``shape`` with ``values`` added at ``index`` (repeated indices add up)."""
    out = np.zeros(shape, dtype=dtype)
    np.add.at(out, index, values)
    return out
