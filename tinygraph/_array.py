"""The array back end: which array library computes, and the numerically careful helpers the nodes share.

Every array computation of tinygraph happens in the nodes or here. A node computes with the
namespace of its input arrays (``namespace``): NumPy itself for NumPy arrays, and for any other
library (Dask, CuPy, ``array_api_strict``) the array API namespace that ``array-api-compat``
finds, imported only when such an array first arrives. NumPy keeps its fast paths and its exact
numerics; the other namespaces get the standard's functions, in branch-free forms that are just
as exact.
"""

from __future__ import annotations

import functools
import math
import sys
from typing import Any

import numpy as np

xp = np  # the namespace of Python numbers and lists (NumPy)
ndarray = np.ndarray
NUMPY_TYPES = (np.ndarray, np.generic)

_NAMESPACES: dict[type, Any] = {np.ndarray: np}  # array type -> namespace, filled as types arrive
_MISSING_COMPAT = 'arrays of other libraries than NumPy need array-api-compat: pip install "tinygraph[arrays]"'


def namespace(array: Any) -> Any:
    """The array API namespace that computes with ``array``: ``numpy`` itself for a NumPy array.

    Cached by the array's type, so the common case costs one dictionary lookup. Other libraries'
    namespaces come from ``array_api_compat.array_namespace`` (Dask's is its compat wrapper).
    """
    try:
        return _NAMESPACES[type(array)]
    except KeyError:
        return _find_namespace(array)


def _find_namespace(array: Any) -> Any:
    if isinstance(array, (np.ndarray, np.generic, int, float, bool, complex)):
        found: Any = np
    else:
        found = _compat().array_namespace(array)
    _NAMESPACES[type(array)] = found
    return found


def _compat() -> Any:
    """``array_api_compat``, imported on first use, with the extra to install when it is missing."""
    try:
        import array_api_compat
    except ImportError as error:
        raise ImportError(_MISSING_COMPAT) from error
    return array_api_compat


def is_numpy(array: Any) -> bool:
    return namespace(array) is np


def is_dask(array: Any) -> bool:
    """True for a Dask array (lazy: computing it is the caller's choice)."""
    return type(array).__module__.startswith("dask.")


def _is_foreign(data: Any) -> bool:
    """True for an array of another library than NumPy, told apart without importing anything."""
    if isinstance(data, (np.ndarray, np.generic, list, tuple, int, float, bool, complex)) or data is None:
        return False
    kind = type(data)
    return hasattr(kind, "__array_namespace__") or kind.__module__.startswith(("dask.", "cupy", "array_api_strict"))


def as_array(data: Any, dtype: Any = None) -> Any:
    """``data`` as an array; Python numbers and lists become float64 NumPy arrays unless ``dtype`` says.

    An array of another library (Dask, CuPy, ``array_api_strict``) stays in that library: a Dask
    array is not computed. A Python number with such a library's dtype becomes an array of it.
    """
    if type(data) is np.ndarray and dtype is None:
        return data
    if _is_foreign(data):
        return data if dtype is None or data.dtype == dtype else namespace(data).astype(data, dtype)
    if dtype is not None:
        home = _dtype_namespace(dtype)
        return np.asarray(data, dtype=dtype) if home is None else home.asarray(data, dtype=dtype)
    if isinstance(data, np.ndarray):
        return data
    array = np.asarray(data)
    if array.dtype.kind in "biu" and not isinstance(data, np.generic):
        return array.astype(np.float64)
    return array


def _dtype_namespace(dtype: Any) -> Any:
    """The library of a dtype NumPy does not know (``array_api_strict.float64``), or None for NumPy's."""
    if isinstance(dtype, (np.dtype, type, str)):
        return None
    module = sys.modules.get(type(dtype).__module__.split(".")[0])
    return module if module is not None and hasattr(module, "asarray") else None


def to_numpy(array: Any) -> np.ndarray:
    """``array`` as a NumPy array: a Dask array is computed, a CuPy array copied from the GPU."""
    if isinstance(array, np.ndarray):
        return array
    if is_dask(array):
        return to_numpy(array.compute())
    if hasattr(array, "get") and type(array).__module__.startswith("cupy"):
        return array.get()
    try:
        return np.from_dlpack(array)
    except (TypeError, AttributeError, RuntimeError, BufferError):
        return np.asarray(array)


def any_foreign(arrays: list[Any]) -> bool:
    """True if some array is of another library than NumPy (a NumPy scalar is NumPy's)."""
    return any(not isinstance(a, NUMPY_TYPES) for a in arrays)


def conform_inputs(arrays: list[Any], node: str) -> list[Any]:
    """A node's input arrays in one namespace, or a TypeError naming the node and both array types.

    The rule: arrays of one library stay as they are. NumPy arrays meeting Dask arrays become Dask
    arrays (one chunk each: small parameters beside large data, the natural set-up). A 0-d NumPy
    array (a Python number made a tensor) takes the other library. Any other mix is an error, as
    the array API standard leaves it undefined.
    """
    foreign = [a for a in arrays if not isinstance(a, (np.ndarray, np.generic))]
    target = namespace(foreign[0])
    for a in foreign[1:]:
        if namespace(a) is not target:
            raise _mixed(node, foreign[0], a)
    dask = is_dask(foreign[0])
    out = []
    for a in arrays:
        if isinstance(a, (np.ndarray, np.generic)):
            if not dask and np.ndim(a) != 0:
                raise _mixed(node, foreign[0], a)
            a = target.asarray(a) if dask else _scalar_as(target, a, foreign[0])
        out.append(a)
    return out


def _scalar_as(target: Any, a: Any, like: Any) -> Any:
    """A 0-d NumPy array in the namespace ``target``, with the matching dtype of that library."""
    dtype = _matching_dtype(target, np.asarray(a).dtype)
    return target.asarray(np.asarray(a).item(), dtype=dtype)


def _matching_dtype(target: Any, dtype: np.dtype) -> Any:
    return getattr(target, dtype.name, None) if dtype.kind in "biuf" else None


def _mixed(node: str, first: Any, second: Any) -> TypeError:
    def name(a: Any) -> str:
        return f"{type(a).__module__.split('.')[0]}.{type(a).__name__} (shape {tuple(a.shape)})"

    return TypeError(
        f"{node}: cannot combine {name(first)} with {name(second)}: keep every input of a node "
        "in one array library (NumPy arrays combine with Dask arrays only)"
    )


def is_view(array: Any) -> bool:
    """True for a NumPy view or read-only array, which ``.grad`` must not keep as it is."""
    return array.base is not None or not array.flags.writeable


def is_float(array: Any) -> bool:
    kind = getattr(array.dtype, "kind", None)
    if kind is not None:
        return kind == "f"
    return bool(namespace(array).isdtype(array.dtype, "real floating"))


def astype(array: Any, dtype: Any) -> Any:
    """``array`` cast to ``dtype`` (no copy when it has that dtype already), in its own namespace."""
    if array.dtype == dtype:
        return array
    return array.astype(dtype) if isinstance(array, np.ndarray) else namespace(array).astype(array, dtype)


def as_factor(mask: Any, like: Any) -> Any:
    """A boolean ``mask`` ready to multiply ``like``: NumPy's as it is, others' cast to ``like``'s dtype.

    The standard multiplies no booleans with floats; NumPy does, and its mask costs no cast.
    """
    return mask if isinstance(mask, np.ndarray) else astype(mask, like.dtype)


def float_dtype(array: Any) -> Any:
    """The dtype a result computed from ``array`` takes: its own if floating, else float64."""
    if is_float(array):
        return array.dtype
    return np.float64 if isinstance(array, (np.ndarray, np.generic)) else namespace(array).float64


def unbroadcast(grad: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``grad`` over the axes along which an array of ``shape`` was broadcast to ``grad.shape``."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        extra + i for i, n in enumerate(shape) if n == 1 and grad.shape[extra + i] != 1
    )
    if isinstance(grad, np.ndarray):
        return grad.sum(axis=axes, keepdims=True).reshape(shape)
    xp_ = namespace(grad)
    return xp_.reshape(xp_.sum(grad, axis=axes, keepdims=True), shape)


def broadcasts_to(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    """True if an array of ``shape`` broadcasts to ``target`` without changing ``target``.

    NumPy's rule, aligning the shapes on the right: each axis of ``shape`` is 1 or equal to that of
    ``target``, and ``shape`` has no more axes (plain Python: np.broadcast_shapes costs a microsecond).
    """
    pairs = zip(reversed(shape), reversed(target))
    return len(shape) <= len(target) and all(n == 1 or n == m for n, m in pairs)


def known_shape(shape: tuple[Any, ...]) -> bool:
    """False when a lazy array does not know some length yet (Dask writes NaN, others None)."""
    return all(isinstance(n, int) for n in shape)


def add_tangents(shape: tuple[int, ...], *terms: Any) -> Any:
    """The sum of the terms that are not None, broadcast to ``shape``: how a jvp combines its inputs' terms.

    Zeros (float64) when every term is None.
    """
    present = [t for t in terms if t is not None]
    if not present:
        return np.zeros(shape)
    total = present[0]
    for t in present[1:]:
        total = total + t
    return total if total.shape == shape else namespace(total).broadcast_to(total, shape)


def extremum(x: Any, axes: tuple[int, ...], kind: str) -> Any:
    """``max`` or ``min`` (``kind``) of ``x`` over ``axes``, keepdims, with NumPy's rule for an empty x on every library.

    Over no elements there is no extremum: a ValueError with NumPy's message. An empty x whose
    reduced axes are not empty has an empty result, which Dask would not give (its chunks' own
    reductions fail, or return the wrong shape).
    """
    xp_ = namespace(x)
    if 0 not in x.shape:
        return getattr(xp_, kind)(x, axis=axes, keepdims=True)
    if math.prod(x.shape[a] for a in axes) == 0:
        operation = "maximum" if kind == "max" else "minimum"
        raise ValueError(f"zero-size array to reduction operation {operation} which has no identity")
    return xp_.zeros(tuple(1 if a in axes else n for a, n in enumerate(x.shape)), dtype=x.dtype)


def all_finite(array: Any) -> bool:
    """True if no element is NaN or infinite. On a Dask array this computes it (``detect_anomaly`` only)."""
    if isinstance(array, (np.ndarray, np.generic)):
        return bool(np.isfinite(array).all())
    xp_ = namespace(array)
    return bool(xp_.all(xp_.isfinite(array)))


def first_non_finite(array: Any, start: tuple[int, ...] = (), shape: tuple[int, ...] | None = None) -> str:
    """Where the first NaN or inf of ``array`` is, for an error message: "nan at index (1,) of shape (2,)".

    For a block of a larger array, ``start`` is the block's first index in it and ``shape`` its shape.
    """
    array = to_numpy(array)
    local = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
    index = tuple(i + offset for i, offset in zip(local, start)) if start else local
    return f"{array[local]} at index {index} of shape {array.shape if shape is None else tuple(shape)}"


def checked_finite(array: Any, message: str) -> Any:
    """``array``, checked to hold no NaN or inf, else FloatingPointError(``message`` with ``{}`` filled in).

    ``{}`` becomes where the first non-finite element is ("nan at index (1,) of shape (2,)"). A Dask
    array is not computed (``detect_anomaly`` must not change when work happens): it comes back
    with the check inside its computation, so ``compute()`` raises the same error, naming the first
    non-finite element of the first block computed that has one. The caller uses the returned array.
    """
    if not is_dask(array):
        if not all_finite(array):
            raise FloatingPointError(message.format(first_non_finite(array)))
        return array
    return array.map_blocks(functools.partial(_finite_block, message), dtype=array.dtype, meta=array._meta)


def _finite_block(message: str, block: Any, block_info: dict[Any, Any] | None = None) -> Any:
    if all_finite(block):
        return block
    info = (block_info or {}).get(0, {})
    start = tuple(first for first, _ in info.get("array-location", ()))
    raise FloatingPointError(message.format(first_non_finite(block, start, info.get("shape"))))


def check_lazily(array: Any, check: Any, whole_axes: tuple[int, ...] = ()) -> Any:
    """``check(array)`` now, or, for a Dask array, inside the computation: ``array`` back, checked.

    ``check`` raises ValueError for bad values. On a Dask array it runs on each block when that
    block is computed, so the error (with the same message) comes from ``compute()`` and the
    check costs no compute of its own. The caller uses the returned array in place of ``array``.
    A check that needs whole rows names their axes in ``whole_axes``: the blocks span them.
    """
    if not is_dask(array):
        check(array)
        return array
    if whole_axes:
        array = array.rechunk({axis: -1 for axis in whole_axes})
    return array.map_blocks(functools.partial(_checked_block, check), dtype=array.dtype, meta=array._meta)


def _checked_block(check: Any, block: Any) -> Any:
    check(block)
    return block


def first_where(array: Any, mask: Any) -> Any:
    """The first element of ``array`` where ``mask`` holds, as a Python number (for an error message)."""
    values, where = to_numpy(array), to_numpy(mask)
    return np.broadcast_to(values, where.shape)[where].flat[0].item()


def sigmoid(z: Any, complement: bool = False) -> Any:
    """σ(z), or 1 − σ(z) = σ(−z) when ``complement``: exact for any finite z (no overflow, no cancellation).

    The textbook 1 / (1 + e^(−z)) is exact (to 2 ulp) wherever e^(−z) is finite. Where it overflows
    (z < −709 in float64), σ(z) is below the smallest normal number and would round to 0, so the
    whole array is then computed from e = e^(−|z|) ≤ 1, which never overflows: σ(z) = 1 / (1 + e) for
    z ≥ 0 and e / (1 + e) for z < 0, the numerator picked as max(e, [z ≥ 0]) without a branch.
    On NumPy the common case thus costs four passes, like the naive formula; other libraries
    (lazy or on a GPU, where NumPy's overflow flag cannot be read) always take the second form.
    """
    if not isinstance(z, np.ndarray):
        return _sigmoid_any(z, complement)
    if not is_float(z):
        z = z.astype(np.float64)
    try:
        with np.errstate(over="raise"):
            return 1.0 / (1.0 + np.exp(z if complement else -z))
    except FloatingPointError:
        e = np.exp(-np.abs(z))  # in (0, 1]: never overflows
        return np.maximum(e, z <= 0 if complement else z >= 0) / (1.0 + e)


def _sigmoid_any(z: Any, complement: bool) -> Any:
    xp_ = namespace(z)
    z = astype(z, float_dtype(z))
    e = xp_.exp(-xp_.abs(z))  # in (0, 1]: never overflows
    one = (z <= 0) if complement else (z >= 0)
    return xp_.where(one, xp_.ones_like(e), e) / (1.0 + e)


def logistic_loss(z: Any, y: Any) -> Any:
    """−[y log σ(z) + (1 − y) log(1 − σ(z))] = log(1 + e^z) − y z, exact for any finite z.

    Grouped as (max(z, 0) − y z) + log1p(e^(−|z|)): nothing overflows, and for a confident right
    answer (y = 1, z = 15) the first term is exactly 0, so the tiny loss 3.1e−7 keeps every digit.
    """
    xp_ = namespace(z)
    return (xp_.maximum(z, 0) - y * z) + xp_.log1p(xp_.exp(-xp_.abs(z)))


def log_softmax(x: Any, axis: int) -> Any:
    """x − logsumexp(x) along ``axis``, exact for any finite x.

    Written as (x − m) − log1p(Σ_rest e^(x − m)), with m the maximum and the sum over every element
    but one maximum: nothing overflows, and a tiny remainder (a log-probability of −1.8e−35) is not
    lost in 1 + remainder. An empty x has an empty log-softmax (there is no maximum to take).
    On NumPy the maximum is found with take/put_along_axis; other namespaces mark it with a mask,
    the first index where x equals its maximum (argmax compared with an arange along the axis).
    """
    xp_ = namespace(x)
    if math.prod(x.shape) == 0:
        return x - xp_.sum(x, axis=axis, keepdims=True)  # the sum checks the axis
    if xp_ is not np:
        return _log_softmax_any(xp_, x, axis)
    top = np.expand_dims(np.argmax(x, axis=axis), axis)
    shifted = x - np.take_along_axis(x, top, axis)
    rest = np.exp(shifted)
    np.put_along_axis(rest, top, 0, axis)
    return shifted - np.log1p(rest.sum(axis=axis, keepdims=True))


def _log_softmax_any(xp_: Any, x: Any, axis: int) -> Any:
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"axis {axis} is out of bounds for an array with {x.ndim} dimension(s)")
    axis %= x.ndim
    shifted = x - xp_.max(x, axis=axis, keepdims=True)
    top = xp_.argmax(x, axis=axis, keepdims=True)
    along = [1] * x.ndim
    along[axis] = x.shape[axis]
    positions = xp_.reshape(xp_.arange(x.shape[axis], dtype=top.dtype), tuple(along))
    rest = xp_.where(positions == top, xp_.zeros_like(shifted), xp_.exp(shifted))
    return shifted - xp_.log1p(xp_.sum(rest, axis=axis, keepdims=True))


def safe_log(p: Any) -> Any:
    """log(p) floored at log(smallest normal number): log(0) is about −708 in float64, not −inf."""
    xp_ = namespace(p)
    tiny = xp_.finfo(float_dtype(p)).smallest_normal
    return xp_.log(xp_.maximum(p, tiny) if xp_ is np else xp_.maximum(p, xp_.full_like(p, tiny)))


def one_hot(labels: Any, n_classes: int, dtype: Any) -> Any:
    """Rows of zeros with a one at each label: labels compared with an arange, broadcast."""
    xp_ = namespace(labels)
    classes = xp_.arange(n_classes, dtype=labels.dtype)
    return xp_.astype(xp_.reshape(labels, (-1, 1)) == xp_.reshape(classes, (1, -1)), dtype)


def scatter_add(shape: tuple[int, ...], index: Any, values: Any, dtype: Any) -> Any:
    """An array of zeros of ``shape`` with ``values`` added at ``index`` (repeated indices add up).

    NumPy uses ``np.add.at``. Other namespaces find the flat position of each indexed element
    (from an arange of positions indexed the same way, in NumPy: indices are small) and sum the
    values per position: Dask with ``bincount``, the others with a one-hot matrix product, which
    needs memory for size × (number of indexed elements), fine for the small arrays indexed there.
    """
    if isinstance(values, np.ndarray) or np.isscalar(values):
        out = np.zeros(shape, dtype=dtype)
        np.add.at(out, index, values)
        return out
    xp_ = namespace(values)
    positions = np.arange(math.prod(shape)).reshape(shape)[_numpy_index(index)].reshape(-1)
    flat = xp_.reshape(xp_.broadcast_to(values, positions.shape) if values.ndim == 0 else values, (-1,))
    if is_dask(values):
        import dask.array as da

        flat = flat if known_shape(flat.shape) else flat.compute_chunk_sizes()
        sums = da.bincount(da.from_array(positions, chunks=flat.chunks), weights=flat, minlength=math.prod(shape))
        return xp_.reshape(xp_.astype(sums, dtype), shape)
    hits = xp_.reshape(xp_.arange(math.prod(shape)), (-1, 1)) == xp_.reshape(xp_.asarray(positions), (1, -1))
    return xp_.reshape(xp_.astype(hits, dtype) @ xp_.astype(flat, dtype), shape)


def take_positions(x: Any, index: Any) -> Any:
    """``x[index]`` with NumPy's meaning, for an index the array API cannot spell (several integer arrays).

    The flat position of each selected element is found in NumPy (indexing an arange of x's
    positions the same way, as ``scatter_add`` does), then taken from the flattened x.
    """
    xp_ = namespace(x)
    positions = np.arange(math.prod(x.shape)).reshape(x.shape)[_numpy_index(index)]
    taken = xp_.take(xp_.reshape(x, (-1,)), xp_.asarray(positions.reshape(-1)), axis=0)
    return xp_.reshape(taken, positions.shape)


def _numpy_index(index: Any) -> Any:
    """An index with every array in it made a NumPy array (the positions are computed in NumPy)."""
    if isinstance(index, tuple):
        return tuple(_numpy_index(i) for i in index)
    return index if index is None or isinstance(index, (int, slice, type(Ellipsis), np.ndarray)) else to_numpy(index)
