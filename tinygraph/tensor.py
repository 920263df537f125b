"""Tensor: a value in the graph, with the node that produced it and the operators that record nodes.

A tensor wraps an ndarray. A leaf tensor is one the user made (data or a parameter); every other
tensor remembers the node that computed it, which is how backward finds its way from the loss to
the parameters. ``record`` is how that happens: it calls a node on tensors and records the call
(``node(x)`` and every operator go through it), so that the nodes themselves need no Tensor.
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar, NoReturn

from tinygraph import _array, engine
from tinygraph._array import ndarray
from tinygraph._keywords import accepts_dim
from tinygraph._types import Axis
from tinygraph.modes import current_mode
from tinygraph.node import Node
from tinygraph.nodes import activations, basic as ops
from tinygraph.nodes import elementwise, reductions, shape as shapes


class Tensor:
    """A value in the computation graph.

    Parameters
    ----------
    data : array_like
        The value. Python numbers and lists become float64; ndarrays keep their dtype. An array
        of another library (Dask, CuPy, array_api_strict) stays in it, a Dask array uncomputed:
        every node then computes with that library, and ``numpy()`` computes a NumPy copy.
    requires_grad : bool
        Whether backward computes ``grad`` for this tensor (parameters do, data does not).
        Only floating-point tensors can require grad.
    name : str, optional
        A readable name (``"w"``, ``"b"``), shown in diagrams and error messages.
    dtype : dtype, optional
        Convert ``data`` to this dtype.

    Attributes
    ----------
    data : ndarray
        The value. A tensor that a node produced while grad mode was on has a read-only array
        (a later backward may need it unchanged): writing into it raises NumPy's ValueError
        "assignment destination is read-only"; take ``t.data.copy()`` to change the values.
        A leaf's array is yours, and stays writable.
    grad : ndarray or None
        dL/d(this tensor), shaped like ``data``, after ``backward`` (accumulated across calls).
        The engine notes which calls wrote it, and from which root (``engine.grad_source``): a
        diagram of another root does not show it.
    node : Node or None
        The node that produced this tensor; None for a leaf.

    Examples
    --------
    >>> import tinygraph as tg
    >>> w = tg.tensor([1.0, -2.0], requires_grad=True, name="w")
    >>> loss = (w * w).sum()
    >>> loss.backward()
    >>> w.grad
    array([ 2., -4.])
    """

    __slots__ = ("data", "grad", "requires_grad", "name", "node", "retains_grad", "_grad_source", "__weakref__")

    def __init__(self, data: Any, requires_grad: bool = False, name: str | None = None, dtype: Any = None) -> None:
        array = _array.as_array(data.data if isinstance(data, Tensor) else data, dtype)
        if requires_grad and not _array.is_float(array):
            raise TypeError(
                f"only floating-point tensors can require grad, but {name or 'this tensor'} has "
                f"dtype {array.dtype}: pass float data or dtype=float"
            )
        self.data = array
        self.grad: _array.ndarray | None = None
        self.requires_grad = bool(requires_grad)
        self.name = name
        self.node: Node | None = None
        self.retains_grad = False
        self._grad_source: tuple[Any, Any, int] | None = None  # written by the engine with .grad

    # The engine's record of which backward wrote .grad holds weak references, which cannot be
    # pickled or copied: a pickled tensor keeps its gradient, but not where it came from.
    _UNPICKLED = ("_grad_source", "__weakref__")

    def __getstate__(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__ if name not in self._UNPICKLED}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            setattr(self, name, value)
        self._grad_source = None

    # ----------------------------------------------------------------- array attributes
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def dtype(self) -> Any:
        return self.data.dtype

    @property
    def is_leaf(self) -> bool:
        return self.node is None

    def __len__(self) -> int:
        return len(self.data)

    def numpy(self) -> _array.ndarray:
        """The value as an ndarray: the same array, not a copy (read-only if a node produced it in grad mode).

        Use ``t.numpy().copy()`` for an array you may change. A tensor of another array library
        gives a NumPy copy of its values: a Dask tensor is computed (all of it, into memory), a
        CuPy tensor copied from the GPU.
        """
        return self.data if type(self.data) is _array.ndarray else _array.to_numpy(self.data)

    def item(self) -> float:
        """The value of a one-element tensor as a Python number."""
        if self.size != 1:
            raise ValueError(f"item() needs a tensor with one element, this one has shape {self.shape}")
        data = self.data
        return data.item() if isinstance(data, _array.ndarray) else _array.to_numpy(data).item()  # Dask: computes

    def detach(self) -> Tensor:
        """The same value as a new leaf that does not require grad: the graph stops here.

        The leaf shares this tensor's array (read-only if a node produced it): copy it to change it.
        """
        return Tensor(self.data, name=self.name)

    def __repr__(self) -> str:
        if isinstance(self.data, _array.ndarray):
            body = _array.xp.array2string(self.data, separator=", ", prefix="tensor(")
            extras = [f"dtype={self.dtype}"] if self.dtype != _array.xp.float64 else []
        else:  # the library's own repr, which computes nothing (Dask shows shape and chunks)
            body, extras = repr(self.data), []
        if self.name:
            extras.append(f"name={self.name!r}")
        if self.node is not None:
            extras.append(f"node={type(self.node).title or type(self.node).__name__}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return f"tensor({', '.join([body, *extras])})"

    # ----------------------------------------------------------------- backward
    def backward(self, grad: Any = None, retain_grads: bool = False) -> None:
        """Compute dself/dt for every tensor t this one depends on, accumulating into ``t.grad``.

        Parameters
        ----------
        grad : array_like, optional
            dL/d(self), shaped like self. May be omitted only for a scalar, where it is 1.
        retain_grads : bool
            Keep ``.grad`` on every intermediate tensor too (dL/da, dL/dz of the lecture).
        """
        engine.backward(self, self._seed(grad), retain_grads)

    def _seed(self, grad: Any) -> _array.ndarray:
        """The gradient backward starts from: ``grad`` checked against this tensor, or 1 for a scalar."""
        if not self.requires_grad:
            raise RuntimeError(
                "backward() called on a tensor that does not require grad: no input of its graph "
                "has requires_grad=True (or it was computed under no_grad())"
            )
        if grad is None:
            if self.size != 1:
                raise ValueError(
                    f"backward() without grad= needs a scalar, but this tensor has shape {self.shape}: "
                    "reduce it first (e.g. .sum() or .mean()) or pass grad= shaped like it"
                )
            return _array.namespace(self.data).ones(self.shape, dtype=self.dtype)
        seed = _array.as_array(grad, self.dtype)
        if seed.shape != self.shape:
            raise ValueError(f"backward(grad=...) has shape {seed.shape} but the tensor has shape {self.shape}")
        return seed

    def retain_grad(self) -> None:
        """Keep this intermediate tensor's gradient in ``.grad`` at the next backward."""
        self.retains_grad = True

    # ----------------------------------------------------------------- PyTorch's and NumPy's habits
    # Python's conversions and comparisons, PyTorch's names where they differ from NumPy's, and
    # NumPy's ufuncs: np.exp(t) records the same node as t.exp(). Names of the same operation map
    # onto the same node, so a diagram shows one formula whichever spelling built the graph.
    def _one_element(self, conversion: str) -> Any:
        if self.size != 1:
            raise ValueError(
                f"{conversion}() needs a tensor with one element, this one has shape {self.shape}: "
                "reduce it first (.sum(), .any(), .all()) or index one element"
            )
        data = self.data
        return data.item() if isinstance(data, _array.ndarray) else _array.to_numpy(data).item()  # Dask: computes

    def __float__(self) -> float:
        return float(self._one_element("float"))

    def __int__(self) -> int:
        return int(self._one_element("int"))

    def __bool__(self) -> bool:
        return bool(self._one_element("bool"))

    def __index__(self) -> int:
        if self.dtype.kind not in "iub":
            raise TypeError(f"only an integer tensor can be used as an index, this one has dtype {self.dtype}")
        return int(self._one_element("index"))

    def _compare(self, compare: Any, other: object) -> Any:
        """``compare(self, other)`` elementwise as a boolean tensor outside the graph (no gradient)."""
        other = other.data if isinstance(other, Tensor) else other
        if other is None or _array.xp.asarray(other).dtype.kind not in "biuf":
            return NotImplemented  # t == None is False, t < "a" a TypeError, as for Python objects
        return Tensor(_array.xp.asarray(compare(self.data, other)))

    def __lt__(self, other: Any) -> Tensor:
        return self._compare(_array.xp.less, other)

    def __le__(self, other: Any) -> Tensor:
        return self._compare(_array.xp.less_equal, other)

    def __gt__(self, other: Any) -> Tensor:
        return self._compare(_array.xp.greater, other)

    def __ge__(self, other: Any) -> Tensor:
        return self._compare(_array.xp.greater_equal, other)

    def __eq__(self, other: object) -> Tensor:  # type: ignore[override]
        return self._compare(_array.xp.equal, other)

    def __ne__(self, other: object) -> Tensor:  # type: ignore[override]
        return self._compare(_array.xp.not_equal, other)

    __hash__ = object.__hash__  # a tensor is hashed by identity, as the engine and PyTorch do

    def any(self) -> Tensor:
        """Whether any element is nonzero, as a boolean tensor (no gradient)."""
        return Tensor(_array.xp.asarray(self.data.any()))

    def all(self) -> Tensor:
        """Whether every element is nonzero, as a boolean tensor (no gradient)."""
        return Tensor(_array.xp.asarray(self.data.all()))

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` of this leaf in place and return it (PyTorch's ``requires_grad_``)."""
        if self.node is not None and bool(requires_grad) != self.requires_grad:
            raise RuntimeError(
                "only a leaf's requires_grad can be changed (this tensor was computed by "
                f"{type(self.node).__name__}): use .detach() for a new leaf"
            )
        if requires_grad and not _array.is_float(self.data):
            raise TypeError(f"only floating-point tensors can require grad, this one has dtype {self.dtype}")
        self.requires_grad = bool(requires_grad)
        return self

    def dim(self) -> int:
        """The number of axes (PyTorch's name for ``ndim``)."""
        return self.ndim

    def numel(self) -> int:
        """The number of elements (PyTorch's name for ``size``)."""
        return self.size

    def tolist(self) -> Any:
        """The value as nested Python lists of numbers."""
        return self.data.tolist()

    def clamp(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002 (PyTorch's names)
        """x limited to [min, max]: PyTorch's name for ``clip`` (the ``Clip`` node).

        The derivative is 1 where min ≤ x ≤ max, bounds included, and 0 outside.
        """
        return self.clip(min, max)

    @accepts_dim
    def amax(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """The maximum over ``dim`` (PyTorch's ``amax``; the ``Max`` node, NumPy's ``max``).

        The derivative is 1 at the maximum and 0 elsewhere, split evenly between ties.
        """
        return self.max(axis, keepdims)

    @accepts_dim
    def amin(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """The minimum over ``dim`` (PyTorch's ``amin``; the ``Min`` node, NumPy's ``min``).

        The derivative is 1 at the minimum and 0 elsewhere, split evenly between ties.
        """
        return self.min(axis, keepdims)

    def square(self) -> Tensor:
        """x², elementwise (the ``Square`` node); its derivative is 2x."""
        return elementwise.Square()(self)

    def maximum(self, other: Any) -> Tensor:
        """max(x, y) elementwise (the ``Maximum`` node); dz/dx is 1 where x > y, ½ at a tie, else 0."""
        return elementwise.Maximum()(self, self._lift(other))

    def minimum(self, other: Any) -> Tensor:
        """min(x, y) elementwise (the ``Minimum`` node); dz/dx is 1 where x < y, ½ at a tie, else 0."""
        return elementwise.Minimum()(self, self._lift(other))

    def unsqueeze(self, dim: int) -> Tensor:
        """x with a new length-1 axis at ``dim`` (PyTorch's name for ``expand_dims``); the gradient is reshaped back."""
        return shapes.ExpandDims(dim)(self)

    def permute(self, *dims: Any) -> Tensor:
        """x with its axes in the order ``dims`` (PyTorch's name for ``transpose(axes)``); the gradient is permuted back."""
        return self.transpose(*dims)

    # NumPy's ufunc → the Tensor method that records tinygraph's node for it (one line each).
    _UFUNC_METHODS: ClassVar[dict[str, str]] = {
        "add": "__add__",
        "subtract": "__sub__",
        "multiply": "__mul__",
        "divide": "__truediv__",
        "power": "__pow__",
        "matmul": "__matmul__",
        "negative": "__neg__",
        "exp": "exp",
        "log": "log",
        "tanh": "tanh",
        "sqrt": "sqrt",
        "square": "square",
        "absolute": "abs",
        "log1p": "log1p",
        "expm1": "expm1",
        "sin": "sin",
        "cos": "cos",
        "maximum": "maximum",
        "minimum": "minimum",
    }
    _BOOLEAN_UFUNCS: ClassVar[frozenset[str]] = frozenset(
        {
            "less", "less_equal", "greater", "greater_equal", "equal", "not_equal",
            "isfinite", "isnan", "isinf", "signbit",
            "logical_and", "logical_or", "logical_xor", "logical_not",
        }
    )
    _UFUNC_HINTS: ClassVar[dict[str, str]] = {
        "exp2": "2 ** t",
        "log2": "t.log() / math.log(2)",
        "log10": "t.log() / math.log(10)",
        "reciprocal": "1 / t",
        "fmax": "t.maximum(other)",
        "fmin": "t.minimum(other)",
        "positive": "t itself",
        "sign": "t.data (a sign has derivative 0 almost everywhere: np.sign(t.data))",
        "floor": "np.floor(t.data) (no gradient)",
        "ceil": "np.ceil(t.data) (no gradient)",
        "rint": "np.rint(t.data) (no gradient)",
    }
    _REDUCE_HINTS: ClassVar[dict[str, str]] = {
        "add": "t.sum(axis)",
        "multiply": "t.prod(axis)",
        "maximum": "t.max(axis) (or t.amax(dim))",
        "minimum": "t.min(axis) (or t.amin(dim))",
    }

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """NumPy's ufuncs on tensors: ``np.exp(t)`` records the node of ``t.exp()``.

        ``ndarray <op> Tensor`` (``X @ w``, ``y - a``) also arrives here, as ``np.matmul(X, w)``,
        and records what ``w.__rmatmul__(X)`` would. A ufunc with a boolean result (comparisons,
        ``np.isfinite``) gives a boolean tensor without gradient. A ufunc tinygraph has no node for,
        ``out=`` and methods such as ``np.add.reduce`` raise TypeError naming what to use instead.
        """
        name = ufunc.__name__
        if method != "__call__":
            hint = self._REDUCE_HINTS.get(name, "the tensor's methods")
            raise TypeError(f"tinygraph has no node for np.{name}.{method}: use {hint}")
        if kwargs:
            raise TypeError(
                f"np.{name} on a tensor takes no keyword arguments ({', '.join(kwargs)}): "
                "a node never writes into an existing array (out=)"
            )
        if name in self._BOOLEAN_UFUNCS:
            return Tensor(_array.xp.asarray(ufunc(*[x.data if isinstance(x, Tensor) else x for x in inputs])))
        method_name = self._UFUNC_METHODS.get(name)
        if method_name is None:
            hint = self._UFUNC_HINTS.get(name, "a Tensor method, or a Node of your own (see 'Write your own node')")
            raise TypeError(f"tinygraph has no node for np.{name}: use {hint}")
        first, *rest = inputs
        if not isinstance(first, Tensor):  # a constant first: wrap it as the reflected operator does
            first = rest[0]._lift(first)
        return getattr(first, method_name)(*rest)

    # NumPy's functions that only read values (no array of floats a gradient could flow into).
    _VALUE_FUNCTIONS: ClassVar[frozenset[str]] = frozenset(
        {"shape", "ndim", "size", "allclose", "isclose", "array_equal", "array_equiv", "result_type"}
    )

    def __array__(self, dtype: Any = None, copy: Any = None) -> _array.ndarray:
        """``np.asarray(t)``, ``np.array(t)``: the values as an ndarray, outside the graph (as ``t.numpy()``).

        Without it NumPy would read a tensor as a sequence and build an array of one-element
        tensors, each recording a GetItem node.
        """
        data = self.numpy() if dtype is None else self.numpy().astype(dtype)
        return data.copy() if copy else data

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        """NumPy's functions (``np.sum(t)``, ``np.reshape(t, 4)``): a TypeError that names tinygraph's own.

        Run on the values, such a function would return an array outside the graph and drop the
        gradient silently; functions that only read values (``np.shape``, ``np.allclose``) do run,
        and ``np.clip``, elementwise like a ufunc, records Clip.
        """
        name = func.__name__
        if name == "clip":  # elementwise, like a ufunc: it records its node as np.exp(t) does
            return _numpy_clip(func, args, kwargs)
        if name in self._VALUE_FUNCTIONS:
            unwrap = lambda a: a.data if isinstance(a, Tensor) else a  # noqa: E731
            return func(*[unwrap(a) for a in args], **{k: unwrap(v) for k, v in kwargs.items()})
        hint = f"t.{name}(...) or tg.{name}(t, ...)" if hasattr(Tensor, name) else f"tg.{name}(...) where tinygraph has it"
        raise TypeError(
            f"tinygraph records no node for np.{name} on a tensor: use {hint}, or np.{name}(t.data) "
            "for plain values outside the graph"
        )

    # ----------------------------------------------------------------- operators
    def _lift(self, other: Any) -> Tensor:
        """Wrap a constant operand; Python numbers take this tensor's dtype, as NumPy does."""
        if isinstance(other, Tensor):
            return other
        data = self.data
        if type(other) is float and type(data) is _array.ndarray and data.dtype.kind == "f":
            return _constant(_array.xp.array(other, data.dtype))  # the common x * 0.5: no checks to make
        if isinstance(other, (int, float, bool)) and _array.is_float(data):
            return Tensor(other, dtype=self.dtype)
        return Tensor(other)

    # Each operator passes a Tensor operand as it is, without calling _lift: a call per node saved.
    def __add__(self, other: Any) -> Tensor:
        return record(ops.Add(), (self, other if type(other) is Tensor else self._lift(other)))

    def __radd__(self, other: Any) -> Tensor:
        return record(ops.Add(), (self._lift(other), self))

    def __sub__(self, other: Any) -> Tensor:
        return record(ops.Sub(), (self, other if type(other) is Tensor else self._lift(other)))

    def __rsub__(self, other: Any) -> Tensor:
        return record(ops.Sub(), (self._lift(other), self))

    def __mul__(self, other: Any) -> Tensor:
        return record(ops.Mul(), (self, other if type(other) is Tensor else self._lift(other)))

    def __rmul__(self, other: Any) -> Tensor:
        return record(ops.Mul(), (self._lift(other), self))

    def __truediv__(self, other: Any) -> Tensor:
        return record(ops.Div(), (self, other if type(other) is Tensor else self._lift(other)))

    def __rtruediv__(self, other: Any) -> Tensor:
        return record(ops.Div(), (self._lift(other), self))

    def __pow__(self, other: Any) -> Tensor:
        return record(ops.Pow(), (self, other if type(other) is Tensor else self._lift(other)))

    def __rpow__(self, other: Any) -> Tensor:
        return record(ops.Pow(), (self._lift(other), self))

    def __matmul__(self, other: Any) -> Tensor:
        return record(ops.MatMul(), (self, other if type(other) is Tensor else self._lift(other)))

    def __rmatmul__(self, other: Any) -> Tensor:
        return record(ops.MatMul(), (self._lift(other), self))

    def __neg__(self) -> Tensor:
        return record(ops.Neg(), (self,))

    def __getitem__(self, index: Any) -> Tensor:
        return record(ops.GetItem(_plain_index(index)), (self,))

    # ----------------------------------------------------------------- shape and reductions
    def reshape(self, *shape: Any) -> Tensor:
        """Like ``ndarray.reshape``: ``x.reshape(6, 4)`` or ``x.reshape((6, 4))``."""
        return record(ops.Reshape(shape[0] if len(shape) == 1 else shape), (self,))

    def transpose(self, *axes: Any) -> Tensor:
        """Like ``ndarray.transpose``: reverse the axes, or permute them as given."""
        return record(ops.Transpose(axes[0] if len(axes) == 1 else (axes or None)), (self,))

    @property
    def T(self) -> Tensor:  # noqa: N802 (NumPy's name)
        return self.transpose()

    @accepts_dim
    def sum(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return record(ops.Sum(axis, keepdims), (self,))

    @accepts_dim
    def mean(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return record(ops.Mean(axis, keepdims), (self,))

    @accepts_dim
    def max(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return record(ops.Max(axis, keepdims), (self,))

    # ----------------------------------------------------------------- elementwise functions
    def exp(self) -> Tensor:
        return record(ops.Exp(), (self,))

    def log(self) -> Tensor:
        """Natural logarithm; of a softmax's output, computed from its input (``SoftmaxLog``): exact."""
        if isinstance(self.node, activations.Softmax):
            return record(activations.SoftmaxLog(self.node.axis), (self, self.node.inputs[0]))
        return record(ops.Log(), (self,))

    def sigmoid(self) -> Tensor:
        return record(activations.Sigmoid(), (self,))

    def tanh(self) -> Tensor:
        return record(activations.Tanh(), (self,))

    def relu(self) -> Tensor:
        return record(activations.ReLU(), (self,))

    # ----------------------------------------------------------------- more of NumPy's methods
    def __abs__(self) -> Tensor:
        return record(elementwise.Abs(), (self,))

    def abs(self) -> Tensor:
        return record(elementwise.Abs(), (self,))

    def sqrt(self) -> Tensor:
        return record(elementwise.Sqrt(), (self,))

    def log1p(self) -> Tensor:
        return record(elementwise.Log1p(), (self,))

    def expm1(self) -> Tensor:
        return record(elementwise.Expm1(), (self,))

    def softplus(self) -> Tensor:
        return record(elementwise.Softplus(), (self,))

    def sin(self) -> Tensor:
        return record(elementwise.Sin(), (self,))

    def cos(self) -> Tensor:
        return record(elementwise.Cos(), (self,))

    def clip(self, low: Any = None, high: Any = None) -> Tensor:
        return record(elementwise.Clip(low, high), (self,))

    @accepts_dim
    def min(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return record(reductions.Min(axis, keepdims), (self,))

    @accepts_dim
    def prod(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return record(reductions.Prod(axis, keepdims), (self,))

    @accepts_dim
    def var(self, axis: Axis = None, keepdims: bool = False, ddof: float = 0) -> Tensor:
        return record(reductions.Var(axis, keepdims, ddof), (self,))

    @accepts_dim
    def std(self, axis: Axis = None, keepdims: bool = False, ddof: float = 0) -> Tensor:
        return record(reductions.Std(axis, keepdims, ddof), (self,))

    @accepts_dim
    def logsumexp(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return record(reductions.LogSumExp(axis, keepdims), (self,))

    @accepts_dim
    def argmax(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        """Index of the maximum, as NumPy's: an integer tensor with no gradient."""
        return Tensor(_array.namespace(self.data).argmax(self.data, axis=axis, keepdims=keepdims))

    @accepts_dim
    def argmin(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        """Index of the minimum, as NumPy's: an integer tensor with no gradient."""
        return Tensor(_array.namespace(self.data).argmin(self.data, axis=axis, keepdims=keepdims))

    @accepts_dim
    def squeeze(self, axis: Axis = None) -> Tensor:
        return record(shapes.Squeeze(axis), (self,))

    def flip(self, axis: Axis = None) -> Tensor:
        return record(shapes.Flip(axis), (self,))


def tensor(data: Any, requires_grad: bool = False, name: str | None = None, dtype: Any = None) -> Tensor:
    """Create a tensor (see ``Tensor``): ``tg.tensor(np.zeros(3), requires_grad=True, name="w")``."""
    return Tensor(data, requires_grad=requires_grad, name=name, dtype=dtype)


def as_tensor(value: Any) -> Tensor:
    """``value`` itself if it is a Tensor, else a constant leaf wrapping it."""
    return value if isinstance(value, Tensor) else Tensor(value)


def record(node: Node, inputs: tuple[Any, ...]) -> Tensor:
    """Call ``node`` on ``inputs``: run its forward on their arrays and record the call in the graph.

    This is what ``node(*inputs)`` does, and what Tensor's operators do: each input becomes a
    tensor (``as_tensor``), the node remembers them and which of them need a gradient, and the
    output is a tensor that remembers the node. It requires a gradient when an input does, unless
    recording is off (``no_grad``). In grad mode its array is made read-only, as a later backward
    may use it; a node that returns an input array itself gets a read-only view of it instead, so a
    user's leaf stays writable.
    """
    # The hot path of every forward pass, spelled out for one and two inputs: the node keeps
    # them as attributes rather than a tuple (Node.inputs), needs_grad is a constant tuple
    # (shared, never allocated), forward is called on NumPy arrays directly (_forward, which names the node in
    # errors, is the way of every other case) and the output is built here, not by a method.
    if node._input_0 is not None or node._input_tuple is not None:
        _already_called(node)
    mode = current_mode()  # the calling thread's modes, read once
    if mode.scope is not None:
        node.scope = mode.scope
    arity = len(inputs)
    if arity == 1:
        x = inputs[0]
        if type(x) is not Tensor:
            x = as_tensor(x)
            inputs = (x,)
        node._input_0 = x  # node.inputs gives it back as (x,): no tuple is kept (see Node)
        node.needs_grad = needs = (True,) if x.requires_grad else (False,)  # constants: nothing allocated
        wanted = needs[0]
        a = x.data
        if type(a) is ndarray and not mode.detect_anomaly:
            try:
                out = node.forward(a)
            except ValueError as error:
                _forward_failed(node, inputs, error)
            if type(out) is not ndarray:
                out = _array.as_array(out)
        else:
            out = _checked_forward(node, inputs, mode.detect_anomaly)
        b = None
    elif arity == 2:
        x, y = inputs
        if type(x) is not Tensor or type(y) is not Tensor:
            x, y = as_tensor(x), as_tensor(y)
            inputs = (x, y)
        if x.requires_grad:
            needs = (True, True) if y.requires_grad else (True, False)
        else:
            needs = (False, True) if y.requires_grad else (False, False)
        node._input_0 = x
        node._input_1 = y
        node.needs_grad = needs
        wanted = needs[0] or needs[1]
        a, b = x.data, y.data
        if type(a) is ndarray and type(b) is ndarray and not mode.detect_anomaly:
            try:
                out = node.forward(a, b)
            except ValueError as error:
                _forward_failed(node, inputs, error)
            if type(out) is not ndarray:
                out = _array.as_array(out)
        else:
            out = _checked_forward(node, inputs, mode.detect_anomaly)
    else:
        inputs = tuple([as_tensor(t) for t in inputs])
        node._input_tuple = inputs
        node.needs_grad = needs = tuple([bool(t.requires_grad) for t in inputs])
        wanted = True in needs
        out = _checked_forward(node, inputs, mode.detect_anomaly)
        a = b = None
    if not mode.grad_enabled:
        wanted = False
    elif type(out) is ndarray:  # a later backward may read it: freeze it (NumPy's flag)
        if out is a or out is b or (arity > 2 and any(out is t.data for t in inputs)):
            out = out.view()  # the input itself (an identity node): a view, not the user's array
        out.setflags(False)  # write=False; passed by position, which costs half as much
    result = _new_tensor(Tensor)  # a node's output, its slots set here rather than by a method call
    result.data = out
    result.grad = None
    result.requires_grad = wanted
    result.name = None
    result.node = node
    result.retains_grad = False
    result._grad_source = None
    return result


_new_tensor = object.__new__


def _constant(array: _array.ndarray) -> Tensor:
    """A leaf holding ``array``, which needs no gradient and no checks (``Tensor._lift``'s fast path)."""
    leaf = _new_tensor(Tensor)
    leaf.data = array
    leaf.grad = None
    leaf.requires_grad = False
    leaf.name = None
    leaf.node = None
    leaf.retains_grad = False
    leaf._grad_source = None
    return leaf


def _already_called(node: Node) -> None:
    name = type(node).__name__
    raise RuntimeError(
        f"this {name} instance was already called: a node records one call of the "
        f"graph, so create a new one for each call, e.g. {name}()(x)"
    )


def _checked_forward(node: Node, tensors: tuple[Tensor, ...], detect_anomaly: bool) -> ndarray:
    """``_forward``, and under ``detect_anomaly`` its output checked for NaN and inf, named by the node."""
    if not detect_anomaly:
        return _forward(node, tensors)
    with _array.xp.errstate(all="ignore"):
        out = _forward(node, tensors)
    if _array.is_float(out):  # on Dask, checked when computed
        out = _array.checked_finite(out, f"{type(node).__name__} produced {{}} in forward")
    return out


def _forward(node: Node, tensors: tuple[Tensor, ...]) -> ndarray:
    """``node.forward`` on the tensors' arrays, its output an ndarray; errors name the node and the shapes."""
    arrays = [t.data for t in tensors]
    for array in arrays:
        if type(array) is not ndarray:  # another library, or a NumPy scalar: one namespace
            arrays = _array.conform_inputs(arrays, type(node).__name__) if _array.any_foreign(arrays) else arrays
            break
    try:
        out = node.forward(*arrays)
    except ValueError as error:
        _forward_failed(node, tensors, error)
    return out if type(out) is ndarray else _array.as_array(out)


def _forward_failed(node: Node, tensors: tuple[Tensor, ...], error: ValueError) -> NoReturn:
    """Raise ``error``, from ``node.forward``, as a ValueError that names the node and the input shapes.

    Called while ``error`` is being handled: an error that names the node already is raised again as it is.
    """
    name = type(node).__name__
    if str(error).startswith(name):
        raise error
    shapes = ", ".join(str(t.shape) for t in tensors)
    raise ValueError(f"{name}: {error} (input shapes {shapes})") from error


def _plain_index(index: Any) -> Any:
    """An index with any Tensor inside replaced by its array: ``GetItem`` takes arrays."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    return index


# Calling a node records the call here, where Tensor lives (see Node.__call__).
Node._record = record


def _numpy_clip(func: Any, args: Any, kwargs: Any) -> Tensor:
    """``np.clip(t, low, high)`` as ``t.clip(low, high)``; NumPy's bounds are a_min, a_max or min, max.

    Anything else NumPy's clip takes (``out=``, a dtype), or a tensor as a bound (Clip's bounds
    are constants), is a TypeError that says what to use.
    """
    given = dict(inspect.signature(func).bind(*args, **kwargs).arguments)
    given.update(given.pop("kwargs", {}))
    x = given.pop("a")
    extra = [k for k, v in given.items() if k not in ("a_min", "a_max", "min", "max") and not (k == "out" and v is None)]
    if extra:
        raise TypeError(f"np.clip on a tensor takes only the bounds, not {', '.join(extra)}: use t.clip(low, high)")
    low, high = given.get("a_min", given.get("min")), given.get("a_max", given.get("max"))
    if not isinstance(x, Tensor) or isinstance(low, Tensor) or isinstance(high, Tensor):
        raise TypeError(
            "np.clip records a node for a tensor between constant bounds; with a tensor as a bound use "
            "tg.minimum(tg.maximum(x, low), high)"
        )
    return x.clip(low, high)
