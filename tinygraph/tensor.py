"""Tensor: a value in the graph, with the node that produced it and the operators that record nodes.

A tensor wraps an ndarray. A leaf tensor is one the user made (data or a parameter); every other
tensor remembers the node that computed it, which is how backward finds its way from the loss to
the parameters. ``record`` is how that happens: it calls a node on tensors and records the call
(``node(x)`` and every operator go through it), so that the nodes themselves need no Tensor.
"""

from __future__ import annotations

from typing import Any

from tinygraph import _array, engine
from tinygraph._types import Axis
from tinygraph.modes import current_mode
from tinygraph.node import Node
from tinygraph.nodes import activations, basic as ops


class Tensor:
    """A value in the computation graph.

    Parameters
    ----------
    data : array_like
        The value. Python numbers and lists become float64; ndarrays keep their dtype.
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
    __array_ufunc__ = None  # ndarray <op> Tensor defers to Tensor's reflected operator

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

    @classmethod
    def _from_node(cls, data: _array.ndarray, node: Node, requires_grad: bool) -> Tensor:
        out = cls.__new__(cls)
        out.data = data
        out.grad = None
        out.requires_grad = requires_grad
        out.name = None
        out.node = node
        out.retains_grad = False
        out._grad_source = None
        return out

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

        Use ``t.numpy().copy()`` for an array you may change.
        """
        return self.data

    def item(self) -> float:
        """The value of a one-element tensor as a Python number."""
        if self.size != 1:
            raise ValueError(f"item() needs a tensor with one element, this one has shape {self.shape}")
        return self.data.item()

    def detach(self) -> Tensor:
        """The same value as a new leaf that does not require grad: the graph stops here.

        The leaf shares this tensor's array (read-only if a node produced it): copy it to change it.
        """
        return Tensor(self.data, name=self.name)

    def __repr__(self) -> str:
        body = _array.xp.array2string(self.data, separator=", ", prefix="tensor(")
        extras = [f"dtype={self.dtype}"] if self.dtype != _array.xp.float64 else []
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
            return _array.xp.ones(self.shape, dtype=self.dtype)
        seed = _array.as_array(grad, self.dtype)
        if seed.shape != self.shape:
            raise ValueError(f"backward(grad=...) has shape {seed.shape} but the tensor has shape {self.shape}")
        return seed

    def retain_grad(self) -> None:
        """Keep this intermediate tensor's gradient in ``.grad`` at the next backward."""
        self.retains_grad = True

    # ----------------------------------------------------------------- operators
    def _lift(self, other: Any) -> Tensor:
        """Wrap a constant operand; Python numbers take this tensor's dtype, as NumPy does."""
        if isinstance(other, Tensor):
            return other
        if isinstance(other, (int, float, bool)) and _array.is_float(self.data):
            return Tensor(other, dtype=self.dtype)
        return Tensor(other)

    def __add__(self, other: Any) -> Tensor:
        return record(ops.Add(), (self, self._lift(other)))

    def __radd__(self, other: Any) -> Tensor:
        return record(ops.Add(), (self._lift(other), self))

    def __sub__(self, other: Any) -> Tensor:
        return record(ops.Sub(), (self, self._lift(other)))

    def __rsub__(self, other: Any) -> Tensor:
        return record(ops.Sub(), (self._lift(other), self))

    def __mul__(self, other: Any) -> Tensor:
        return record(ops.Mul(), (self, self._lift(other)))

    def __rmul__(self, other: Any) -> Tensor:
        return record(ops.Mul(), (self._lift(other), self))

    def __truediv__(self, other: Any) -> Tensor:
        return record(ops.Div(), (self, self._lift(other)))

    def __rtruediv__(self, other: Any) -> Tensor:
        return record(ops.Div(), (self._lift(other), self))

    def __pow__(self, other: Any) -> Tensor:
        return record(ops.Pow(), (self, self._lift(other)))

    def __rpow__(self, other: Any) -> Tensor:
        return record(ops.Pow(), (self._lift(other), self))

    def __matmul__(self, other: Any) -> Tensor:
        return record(ops.MatMul(), (self, self._lift(other)))

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

    def sum(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return record(ops.Sum(axis, keepdims), (self,))

    def mean(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return record(ops.Mean(axis, keepdims), (self,))

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
    # The hot path of every forward pass: lists rather than generators, names only for errors,
    # and hasattr rather than node.__dict__, which would give every node a dict of its own.
    if hasattr(node, "inputs"):
        name = type(node).__name__
        raise RuntimeError(
            f"this {name} instance was already called: a node records one call of the "
            f"graph, so create a new one for each call, e.g. {name}()(x)"
        )
    mode = current_mode()  # the calling thread's modes, read once
    tensors = tuple([as_tensor(x) for x in inputs])
    node.inputs = tensors
    node.needs_grad = tuple([t.requires_grad for t in tensors])
    if mode.scope is not None:
        node.scope = mode.scope
    if mode.detect_anomaly:
        with _array.xp.errstate(all="ignore"):
            out = _forward(node, tensors)
        if _array.is_float(out) and not _array.all_finite(out):
            name = type(node).__name__
            raise FloatingPointError(f"{name} produced {_array.first_non_finite(out)} in forward")
    else:
        out = _forward(node, tensors)
    if mode.grad_enabled:  # a later node may save this output for its backward: freeze it
        for t in tensors:
            if out is t.data:  # the input itself (an identity node): a view, not the user's array
                out = out.view()
                break
        out.setflags(False)  # write=False; passed by position, which costs half as much
    return Tensor._from_node(out, node, mode.grad_enabled and any(node.needs_grad))


def _forward(node: Node, tensors: tuple[Tensor, ...]) -> _array.ndarray:
    """``node.forward`` on the tensors' arrays, its output an ndarray; errors name the node and the shapes."""
    try:
        out = node.forward(*[t.data for t in tensors])
    except ValueError as error:
        name = type(node).__name__
        if str(error).startswith(name):
            raise
        shapes = ", ".join(str(t.shape) for t in tensors)
        raise ValueError(f"{name}: {error} (input shapes {shapes})") from error
    return out if type(out) is _array.ndarray else _array.as_array(out)


def _plain_index(index: Any) -> Any:
    """An index with any Tensor inside replaced by its array: ``GetItem`` takes arrays."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    return index


# Calling a node records the call here, where Tensor lives (see Node.__call__).
Node._record = record
