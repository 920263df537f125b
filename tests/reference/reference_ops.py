"""The op table: every operation of tinygraph beside an independent reference, and its inputs.

One row per operation: its tinygraph function, the NumPy function that computes the same value
(written from NumPy's own primitives, never from tinygraph), the PyTorch function for the optional
comparison, and a hypothesis strategy that draws valid inputs with keyword arguments. Inputs are
kept away from kinks (|x| at 0, ties of max) by at least 1e-3, so central differences with a step
of 1e-6 see a smooth function. Both ``test_against_numpy.py`` and ``test_against_torch.py`` read
this table; a new operation gets a row here and is then checked by both.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygraph as tg

SEP = 1e-3  # how far inputs stay from a kink or a tie


@dataclass
class Case:
    """Inputs of one call: arrays (float ones may get a gradient) and keyword arguments."""

    inputs: tuple[np.ndarray, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass
class Op:
    name: str
    fn: Callable[..., Any]  # tinygraph: fn(*tensors, **kwargs)
    reference: Callable[..., np.ndarray]  # NumPy: reference(*arrays, **kwargs)
    cases: st.SearchStrategy[Case]
    grad: tuple[int, ...] = (0,)  # the inputs whose gradient is checked
    torch: Callable[..., Any] | None = None  # torch(torch_module, *tensors, **kwargs)
    binary: bool = False  # elementwise with broadcasting between its two inputs (grad (0, 1))

    def __repr__(self) -> str:
        return self.name


# ----------------------------------------------------------------------------- strategies
SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)  # size-0 and size-1 axes too
NONEMPTY = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)


def floats(low: float = -3.0, high: float = 3.0, away_from: tuple[float, ...] = ()) -> st.SearchStrategy[float]:
    values = st.floats(low, high, allow_nan=False, allow_infinity=False)
    if away_from:
        values = values.filter(lambda v: all(abs(v - k) > SEP for k in away_from))
    return values


def arrays(shape: Any, elements: st.SearchStrategy[float] | None = None) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(np.float64, shape, elements=floats() if elements is None else elements)


def separated(a: np.ndarray) -> bool:
    """No two elements within SEP of each other (a max or min without a near-tie)."""
    return a.size < 2 or bool(np.diff(np.sort(a, axis=None)).min() > SEP)


def unary(elements: st.SearchStrategy[float] | None = None, shapes: Any = SHAPES) -> st.SearchStrategy[Case]:
    return arrays(shapes, elements).map(lambda x: Case((x,)))


def binary(
    first: st.SearchStrategy[float] | None = None, second: st.SearchStrategy[float] | None = None
) -> st.SearchStrategy[Case]:
    """Two arrays of mutually broadcastable shapes, up to 3-D, with size-0 and size-1 axes."""
    pairs = hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, min_side=0, max_side=3)
    return pairs.flatmap(
        lambda s: st.tuples(arrays(s.input_shapes[0], first), arrays(s.input_shapes[1], second))
    ).map(lambda xy: Case(xy))


@st.composite
def axis_args(draw: Any, ndim: int, allow_none: bool = True) -> Any:
    """An axis as NumPy takes it: None, an int (maybe negative, maybe a NumPy integer) or a tuple."""
    kinds = ["int", "tuple"] + (["none"] if allow_none else [])
    if ndim == 0:
        return None
    kind = draw(st.sampled_from(kinds))
    if kind == "none":
        return None
    negative = st.booleans()
    if kind == "int":
        a = draw(st.integers(0, ndim - 1))
        a = a - ndim if draw(negative) else a
        return draw(st.sampled_from([int, np.int64, np.intp]))(a)
    axes = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return tuple(a - ndim if draw(negative) else a for a in axes)


def _reduced(shape: tuple[int, ...], axis: Any) -> int:
    if axis is None:
        return int(np.prod(shape))
    axes = axis if isinstance(axis, tuple) else (axis,)
    return int(np.prod([shape[a] for a in axes]))


@st.composite
def reduction(
    draw: Any,
    elements: st.SearchStrategy[float] | None = None,
    min_count: int = 0,
    distinct: bool = False,
    ddof: bool = False,
) -> Case:
    """An array, an axis and keepdims (and a ddof), with at least ``min_count`` reduced elements."""
    x = draw(arrays(SHAPES, elements))
    axis = draw(axis_args(x.ndim))
    count = _reduced(x.shape, axis)
    assume(count >= max(min_count, 1 if ddof else 0))
    kwargs: dict[str, Any] = {"axis": axis, "keepdims": draw(st.booleans())}
    if ddof:
        kwargs["ddof"] = draw(st.integers(0, min(1, count - 1)))
    if distinct and not separated(x):  # keep the order hypothesis chose, spread the values apart
        ranks = np.argsort(np.argsort(x, axis=None, kind="stable"))
        x = (ranks * 0.05 - 0.6).reshape(x.shape)
    return Case((x,), kwargs)


@st.composite
def getitem_case(draw: Any) -> Case:
    """Basic and advanced indices: ints (negative too), slices, None, ..., repeated integer arrays, masks."""
    x = draw(arrays(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3)))
    n = x.shape[0]
    kind = draw(st.sampled_from(["int", "slice", "repeats", "tuple", "mask", "newaxis", "ellipsis"]))
    if kind == "int":
        index: Any = draw(st.integers(-n, n - 1))
    elif kind == "slice":
        index = slice(draw(st.integers(-n, n)), draw(st.integers(-n, n) | st.none()), draw(st.integers(1, 2)))
    elif kind == "repeats":
        index = np.array(draw(st.lists(st.integers(-n, n - 1), min_size=0, max_size=6)), dtype=np.intp)
    elif kind == "tuple" and x.ndim >= 2:
        rows = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=4))
        cols = draw(st.lists(st.integers(-x.shape[1], x.shape[1] - 1), min_size=len(rows), max_size=len(rows)))
        index = (np.array(rows), np.array(cols))
    elif kind == "mask":
        index = draw(hnp.arrays(np.bool_, x.shape[:1]))
    elif kind == "newaxis":
        index = (None, slice(None))
    else:
        index = (Ellipsis, draw(st.integers(-x.shape[-1], x.shape[-1] - 1)))
    return Case((x,), {"index": index})


@st.composite
def reshape_case(draw: Any) -> Case:
    x = draw(arrays(SHAPES))
    dims = list(draw(st.permutations(x.shape))) + [1] * draw(st.integers(0, 1))
    if dims and x.size > 0 and draw(st.booleans()):
        dims[draw(st.integers(0, len(dims) - 1))] = -1
    return Case((x,), {"shape": tuple(dims)})


@st.composite
def transpose_case(draw: Any) -> Case:
    x = draw(arrays(SHAPES))
    if draw(st.booleans()):
        return Case((x,), {"axes": None})
    axes = draw(st.permutations(range(x.ndim)))
    return Case((x,), {"axes": tuple(a - x.ndim if draw(st.booleans()) else a for a in axes)})


@st.composite
def matmul_case(draw: Any) -> Case:
    """Vectors, matrices and stacks of them, the stacks broadcasting against each other."""
    n, m, k = (draw(st.integers(0, 3)) for _ in range(3))
    batch = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=1, min_side=1, max_side=2)).input_shapes
    left = draw(st.sampled_from([(m,), (n, m), batch[0] + (n, m)]))
    right = draw(st.sampled_from([(m,), (m, k), batch[1] + (m, k)]))
    return Case((draw(arrays(left)), draw(arrays(right))))


@st.composite
def linear_case(draw: Any) -> Case:
    n, d, k = draw(st.integers(0, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    x = draw(arrays(draw(st.sampled_from([(n, d), (d,)]))))
    w = draw(arrays(draw(st.sampled_from([(d,), (d, k)]))))
    b = draw(arrays(draw(st.sampled_from([(), w.shape[1:]]))))
    return Case((x, w, b))


@st.composite
def softmax_case(draw: Any) -> Case:
    x = draw(arrays(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=3), floats(-10, 10)))
    return Case((x,), {"axis": draw(st.integers(-x.ndim, x.ndim - 1))})


@st.composite
def loss_case(draw: Any, kind: str) -> Case:
    reduction = draw(st.sampled_from(["mean", "sum", "none"]))
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=4))
    if kind == "bce":
        pred = draw(arrays(shape, floats(0.05, 0.95)))
    elif kind == "softmax_cross_entropy":
        shape = (shape[0], draw(st.integers(1, 4)))
        pred = draw(arrays(shape, floats(-5, 5)))
        if draw(st.booleans()):
            target = draw(hnp.arrays(np.int64, shape[:1], elements=st.integers(0, shape[1] - 1)))
        else:
            raw = draw(arrays(shape, floats(0.1, 1.0)))
            target = raw / raw.sum(axis=1, keepdims=True)
        return Case((pred, target), {"reduction": reduction})
    else:
        pred = draw(arrays(shape))
    target = draw(arrays(shape, floats(0.0, 1.0) if kind != "mse" else floats()))
    return Case((pred, target), {"reduction": reduction})


@st.composite
def clip_case(draw: Any) -> Case:
    low = draw(st.one_of(st.none(), floats(-2, 0)))
    high = draw(floats(0.5, 2) if low is None else st.one_of(st.none(), floats(0.5, 2)))
    bounds = tuple(b for b in (low, high) if b is not None)
    x = draw(arrays(SHAPES, floats(away_from=bounds)))
    return Case((x,), {"low": low, "high": high})


@st.composite
def where_case(draw: Any) -> Case:
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, min_side=0, max_side=3))
    c, xs, ys = shapes.input_shapes
    return Case((draw(hnp.arrays(np.bool_, c)), draw(arrays(xs)), draw(arrays(ys))))


@st.composite
def concatenate_case(draw: Any) -> Case:
    base = list(draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=3)))
    axis = draw(st.integers(-len(base), len(base) - 1) | st.none())
    xs = []
    for _ in range(draw(st.integers(1, 3))):
        shape = list(base)
        if axis is not None:
            shape[axis] = draw(st.integers(0, 3))
        else:
            shape = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=3))
        xs.append(draw(arrays(tuple(shape))))
    return Case(tuple(xs), {"axis": axis})


@st.composite
def stack_case(draw: Any) -> Case:
    shape = draw(SHAPES)
    xs = tuple(draw(arrays(shape)) for _ in range(draw(st.integers(1, 3))))
    return Case(xs, {"axis": draw(st.integers(-len(shape) - 1, len(shape)))})


@st.composite
def squeeze_case(draw: Any) -> Case:
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=2))
    x = draw(arrays(shape))
    ones = [a for a, n in enumerate(shape) if n == 1]
    if not ones or draw(st.booleans()):
        return Case((x,), {"axis": None})
    chosen = draw(st.lists(st.sampled_from(ones), min_size=1, unique=True))
    axis = tuple(a - x.ndim if draw(st.booleans()) else a for a in chosen)
    return Case((x,), {"axis": axis[0] if len(axis) == 1 and draw(st.booleans()) else axis})


@st.composite
def expand_dims_case(draw: Any) -> Case:
    x = draw(arrays(SHAPES))
    new = draw(st.integers(1, 2))
    out_ndim = x.ndim + new
    axes = draw(st.lists(st.integers(0, out_ndim - 1), min_size=new, max_size=new, unique=True))
    axes = tuple(a - out_ndim if draw(st.booleans()) else a for a in axes)
    return Case((x,), {"axis": axes[0] if new == 1 else axes})


@st.composite
def flip_case(draw: Any) -> Case:
    x = draw(arrays(SHAPES))
    return Case((x,), {"axis": draw(axis_args(x.ndim))})


@st.composite
def broadcast_to_case(draw: Any) -> Case:
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, min_side=0, max_side=3))
    return Case((draw(arrays(shapes.input_shapes[0])),), {"shape": shapes.result_shape})


EINSUMS = [
    "ij,jk->ik", "ij,jk", "i,i->", "i,i", "i,j->ij", "ij,ij->i", "bij,bjk->bik", "ijk,k->ij",
    "ij,kj->ik", "ij->ji", "ij->", "ii->i", "ii", "iij,j->i", "i,ij,j->", "...ij,...jk->...ik",
    "...i,...i->...", "ij,jk->",
]  # fmt: skip


@st.composite
def einsum_case(draw: Any) -> Case:
    subscripts = draw(st.sampled_from(EINSUMS))
    sizes = {c: draw(st.integers(0, 3)) for c in "ijkb"}
    operands = subscripts.split("->")[0].split(",")
    batch = draw(hnp.mutually_broadcastable_shapes(num_shapes=len(operands), max_dims=2, min_side=1, max_side=2))
    xs = tuple(
        draw(arrays((batch.input_shapes[n] if "..." in s else ()) + tuple(sizes[c] for c in s.replace("...", ""))))
        for n, s in enumerate(operands)
    )
    return Case(xs, {"subscripts": subscripts})


@st.composite
def tensordot_case(draw: Any) -> Case:
    a = draw(arrays(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)))
    n = draw(st.integers(0, a.ndim))
    if draw(st.booleans()):  # an integer: the last n axes of a with the first n of b
        b = draw(arrays(a.shape[a.ndim - n :] + draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=3))))
        return Case((a, b), {"axes": n})
    pairs_a = draw(st.lists(st.integers(0, a.ndim - 1), min_size=n, max_size=n, unique=True)) if a.ndim else []
    b_ndim = len(pairs_a) + draw(st.integers(0, 1))
    pairs_b = list(draw(st.permutations(range(b_ndim))))[: len(pairs_a)]
    b_shape = [draw(st.integers(0, 3)) for _ in range(b_ndim)]
    for i, j in zip(pairs_a, pairs_b):
        b_shape[j] = a.shape[i]
    negative = draw(st.booleans())
    axes = ([i - a.ndim if negative else i for i in pairs_a], pairs_b)
    return Case((a, draw(arrays(tuple(b_shape)))), {"axes": axes})


# ----------------------------------------------------------------------------- NumPy references
def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + np.tanh(z / 2))  # another route than tinygraph's


def _softmax(x: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(x - (x.max(axis=axis, keepdims=True) if x.size else 0))
    return e / e.sum(axis=axis, keepdims=True)


def _logsumexp(x: np.ndarray, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    if x.size == 0 or _reduced(x.shape, axis) == 0:
        return np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))
    m = np.max(x, axis=axis, keepdims=True)
    out = m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)


def _reduce(losses: np.ndarray, reduction: str) -> np.ndarray:
    return {"mean": np.mean, "sum": np.sum, "none": np.asarray}[reduction](losses)


def _bce(p: np.ndarray, y: np.ndarray, reduction: str) -> np.ndarray:
    return _reduce(-(y * np.log(p) + (1 - y) * np.log(1 - p)), reduction)


def _bce_with_logits(z: np.ndarray, y: np.ndarray, reduction: str) -> np.ndarray:
    return _bce(_sigmoid(z), y, reduction)


def _softmax_cross_entropy(z: np.ndarray, y: np.ndarray, reduction: str) -> np.ndarray:
    log_a = np.log(_softmax(z, axis=1))
    if y.ndim == 1:
        return _reduce(-log_a[np.arange(len(y)), y], reduction)
    return _reduce(-(y * log_a).sum(axis=1), reduction)


def _not_tied(case: Case) -> bool:
    x, y = np.broadcast_arrays(*case.inputs)
    return bool((np.abs(x - y) > SEP).all())


# ----------------------------------------------------------------------------- PyTorch forms
def _dims(axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    return tuple(int(a) for a in (axis if isinstance(axis, tuple) else (axis,)))


def _torch_reduce(name: str) -> Callable[..., Any]:
    def reduce(torch: Any, x: Any, axis: Any = None, keepdims: bool = False, ddof: int | None = None) -> Any:
        dims = _dims(axis, x.ndim)
        if x.ndim == 0:
            return x.clone() if name not in ("var", "std") else getattr(torch, name)(x, correction=ddof)
        if name == "prod":  # one dim at a time
            for d in sorted((d % x.ndim for d in dims), reverse=True):
                x = torch.prod(x, dim=d, keepdim=True)
            return x if keepdims else x.squeeze(dims) if dims else x
        if name in ("var", "std"):
            with warnings.catch_warnings():  # torch warns about the degrees of freedom of an empty input
                warnings.simplefilter("ignore", UserWarning)
                return getattr(torch, name)(x, dim=dims, correction=ddof, keepdim=keepdims)
        return getattr(torch, name)(x, dim=dims, keepdim=keepdims)

    return reduce


def _torch_getitem(torch: Any, x: Any, index: Any) -> Any:
    def convert(i: Any) -> Any:
        return torch.as_tensor(i) if isinstance(i, np.ndarray) else i

    return x[tuple(convert(i) for i in index)] if isinstance(index, tuple) else x[convert(index)]


def _torch_loss(name: str) -> Callable[..., Any]:
    def loss(torch: Any, pred: Any, y: Any, reduction: str) -> Any:
        functional = torch.nn.functional
        if name == "bce":
            return functional.binary_cross_entropy(pred, y, reduction=reduction)
        if name == "bce_with_logits":
            return functional.binary_cross_entropy_with_logits(pred, y, reduction=reduction)
        if name == "mse":
            return functional.mse_loss(pred, y, reduction=reduction)
        return functional.cross_entropy(pred, y, reduction=reduction)

    return loss


def _torch_expand_dims(torch: Any, x: Any, axis: Any) -> Any:
    axes = axis if isinstance(axis, tuple) else (axis,)
    for a in sorted(a % (x.ndim + len(axes)) for a in axes):
        x = x.unsqueeze(a)
    return x


def _torch_squeeze(torch: Any, x: Any, axis: Any) -> Any:
    return x.squeeze() if axis is None else x.squeeze(_dims(axis, x.ndim))


def _torch_tensordot(torch: Any, a: Any, b: Any, axes: Any) -> Any:
    return torch.tensordot(a, b, dims=axes if isinstance(axes, int) else [list(axes[0]), list(axes[1])])


def _torch_concatenate(torch: Any, *xs: Any, axis: Any) -> Any:
    return torch.cat([x.reshape(-1) for x in xs]) if axis is None else torch.cat(xs, dim=axis)


# ----------------------------------------------------------------------------- the table
def _positive() -> st.SearchStrategy[float]:
    return floats(0.2, 3.0)


OPS: list[Op] = [
    # the operators
    Op("add", lambda x, y: x + y, np.add, binary(), (0, 1), lambda t, x, y: x + y, binary=True),
    Op("sub", lambda x, y: x - y, np.subtract, binary(), (0, 1), lambda t, x, y: x - y, binary=True),
    Op("mul", lambda x, y: x * y, np.multiply, binary(), (0, 1), lambda t, x, y: x * y, binary=True),
    Op("div", lambda x, y: x / y, np.divide, binary(second=floats(0.3, 3) | floats(-3, -0.3)), (0, 1),
       lambda t, x, y: x / y, binary=True),
    Op("pow", lambda x, p: x**p, np.power, binary(_positive(), floats(-2, 2)), (0, 1),
       lambda t, x, p: x**p, binary=True),
    Op("numbers", lambda x: (2.0 - x) * 3 / (x**2 + 1) - 1, lambda x: (2.0 - x) * 3 / (x**2 + 1) - 1, unary(), (0,),
       lambda t, x: (2.0 - x) * 3 / (x**2 + 1) - 1),  # Python numbers take the tensor's dtype
    Op("neg", lambda x: -x, np.negative, unary(), (0,), lambda t, x: -x),
    Op("matmul", tg.matmul, np.matmul, matmul_case(), (0, 1), lambda t, x, y: t.matmul(x, y)),
    Op("getitem", lambda x, index: x[index], lambda x, index: x[index], getitem_case(), (0,), _torch_getitem),
    Op("reshape", tg.reshape, lambda x, shape: np.reshape(x, shape), reshape_case(), (0,),
       lambda t, x, shape: x.reshape(shape)),
    Op("transpose", tg.transpose, lambda x, axes: np.transpose(x, axes), transpose_case(), (0,),
       lambda t, x, axes: x.permute(tuple(range(x.ndim - 1, -1, -1) if axes is None else axes))),
    # elementwise
    Op("exp", tg.exp, np.exp, unary(), (0,), lambda t, x: t.exp(x)),
    Op("log", tg.log, np.log, unary(_positive()), (0,), lambda t, x: t.log(x)),
    Op("sigmoid", tg.sigmoid, _sigmoid, unary(floats(-10, 10)), (0,), lambda t, x: t.sigmoid(x)),
    Op("logit", tg.logit, lambda p: np.log(p / (1 - p)), unary(floats(0.05, 0.95)), (0,), lambda t, p: t.logit(p)),
    Op("tanh", tg.tanh, np.tanh, unary(), (0,), lambda t, x: t.tanh(x)),
    Op("relu", tg.relu, lambda x: x * (x > 0), unary(floats(away_from=(0,))), (0,), lambda t, x: t.relu(x)),
    Op("abs", tg.abs, np.abs, unary(floats(away_from=(0,))), (0,), lambda t, x: t.abs(x)),
    Op("sqrt", tg.sqrt, np.sqrt, unary(_positive()), (0,), lambda t, x: t.sqrt(x)),
    Op("log1p", tg.log1p, np.log1p, unary(floats(-0.8, 3)), (0,), lambda t, x: t.log1p(x)),
    Op("expm1", tg.expm1, np.expm1, unary(), (0,), lambda t, x: t.expm1(x)),
    Op("softplus", tg.softplus, lambda x: np.logaddexp(0, x), unary(floats(-10, 10)), (0,),
       lambda t, x: t.nn.functional.softplus(x)),
    Op("sin", tg.sin, np.sin, unary(), (0,), lambda t, x: t.sin(x)),
    Op("cos", tg.cos, np.cos, unary(), (0,), lambda t, x: t.cos(x)),
    Op("clip", tg.clip, lambda x, low, high: np.clip(x, low, high), clip_case(), (0,),
       lambda t, x, low, high: t.clamp(x, low, high)),
    Op("maximum", tg.maximum, np.maximum, binary().filter(_not_tied), (0, 1), lambda t, x, y: t.maximum(x, y),
       binary=True),
    Op("minimum", tg.minimum, np.minimum, binary().filter(_not_tied), (0, 1), lambda t, x, y: t.minimum(x, y),
       binary=True),
    Op("where", tg.where, np.where, where_case(), (1, 2), lambda t, c, x, y: t.where(c, x, y)),
    # reductions
    Op("sum", tg.sum, np.sum, reduction(), (0,), _torch_reduce("sum")),
    Op("mean", tg.mean, np.mean, reduction(min_count=1), (0,), _torch_reduce("mean")),
    Op("max", tg.max, np.max, reduction(min_count=1, distinct=True), (0,), _torch_reduce("amax")),
    Op("min", tg.min, np.min, reduction(min_count=1, distinct=True), (0,), _torch_reduce("amin")),
    Op("prod", tg.prod, np.prod, reduction(st.just(0.0) | floats(-2, 2)), (0,), _torch_reduce("prod")),
    Op("var", tg.var, np.var, reduction(ddof=True), (0,), _torch_reduce("var")),
    Op("std", tg.std, np.std, reduction(ddof=True, distinct=True), (0,), _torch_reduce("std")),
    Op("logsumexp", tg.logsumexp, _logsumexp, reduction(min_count=1, elements=floats(-10, 10)), (0,),
       _torch_reduce("logsumexp")),
    Op("argmax", tg.argmax, np.argmax, reduction(min_count=1).filter(lambda c: not isinstance(c.kwargs["axis"], tuple)),
       (), lambda t, x, axis, keepdims: t.argmax(x, dim=None if axis is None else int(axis), keepdim=keepdims)),
    Op("argmin", tg.argmin, np.argmin, reduction(min_count=1).filter(lambda c: not isinstance(c.kwargs["axis"], tuple)),
       (), lambda t, x, axis, keepdims: t.argmin(x, dim=None if axis is None else int(axis), keepdim=keepdims)),
    # activations and losses
    Op("softmax", tg.softmax, _softmax, softmax_case(), (0,), lambda t, x, axis: t.softmax(x, dim=axis)),
    Op("log_softmax", tg.log_softmax, lambda x, axis: np.log(_softmax(x, axis)), softmax_case(), (0,),
       lambda t, x, axis: t.log_softmax(x, dim=axis)),
    Op("log_of_softmax", lambda x, axis: tg.log(tg.softmax(x, axis)), lambda x, axis: np.log(_softmax(x, axis)),
       softmax_case(), (0,), lambda t, x, axis: t.log(t.softmax(x, dim=axis))),  # its own node, SoftmaxLog
    Op("l2_penalty", lambda *ws, lam: tg.l2_penalty(lam, *ws), lambda *ws, lam: lam / 2 * sum(np.sum(w**2) for w in ws),
       stack_case().map(lambda c: Case(c.inputs, {"lam": 0.3})), (0, 1, 2),
       lambda t, *ws, lam: lam / 2 * sum((w**2).sum() for w in ws)),
    Op("linear", tg.linear, lambda x, w, b: x @ w + b, linear_case(), (0, 1, 2), lambda t, x, w, b: x @ w + b),
    Op("bce", tg.bce, _bce, loss_case("bce"), (0,), _torch_loss("bce")),
    Op("bce_with_logits", tg.bce_with_logits, _bce_with_logits, loss_case("bce_with_logits"), (0,),
       _torch_loss("bce_with_logits")),
    Op("softmax_cross_entropy", tg.softmax_cross_entropy, _softmax_cross_entropy, loss_case("softmax_cross_entropy"),
       (0,), _torch_loss("softmax_cross_entropy")),
    Op("bce_after_sigmoid", lambda z, y, reduction: tg.bce(tg.sigmoid(z), y, reduction),
       lambda z, y, reduction: _bce(_sigmoid(z), y, reduction), loss_case("bce_with_logits"), (0,),
       lambda t, z, y, reduction: _torch_loss("bce")(t, t.sigmoid(z), y, reduction)),
    Op("mse", tg.mse, lambda p, y, reduction: _reduce((p - y) ** 2, reduction), loss_case("mse"), (0,),
       _torch_loss("mse")),
    # shapes
    Op("concatenate", lambda *xs, axis: tg.concatenate(xs, axis), lambda *xs, axis: np.concatenate(xs, axis),
       concatenate_case(), (0, 1, 2), _torch_concatenate),
    Op("stack", lambda *xs, axis: tg.stack(xs, axis), lambda *xs, axis: np.stack(xs, axis), stack_case(), (0, 1, 2),
       lambda t, *xs, axis: t.stack(xs, dim=axis)),
    Op("squeeze", tg.squeeze, lambda x, axis: np.squeeze(x, axis), squeeze_case(), (0,), _torch_squeeze),
    Op("expand_dims", tg.expand_dims, lambda x, axis: np.expand_dims(x, axis), expand_dims_case(), (0,),
       _torch_expand_dims),
    Op("flip", tg.flip, lambda x, axis: np.flip(x, axis), flip_case(), (0,),
       lambda t, x, axis: t.flip(x, dims=_dims(axis, x.ndim))),
    Op("broadcast_to", tg.broadcast_to, np.broadcast_to, broadcast_to_case(), (0,),
       lambda t, x, shape: t.broadcast_to(x, shape)),
    # linear algebra
    Op("einsum", lambda *xs, subscripts: tg.einsum(subscripts, *xs), lambda *xs, subscripts: np.einsum(subscripts, *xs),
       einsum_case(), (0, 1, 2), lambda t, *xs, subscripts: t.einsum(subscripts, *xs)),
    Op("tensordot", tg.tensordot, lambda a, b, axes: np.tensordot(a, b, axes), tensordot_case(), (0, 1),
       _torch_tensordot),
]  # fmt: skip

BY_NAME = {op.name: op for op in OPS}
