"""Node: one operation of the graph, with the forward/backward contract every operation follows.

A subclass writes the math of one slide: ``forward(*arrays)`` computes the output from input
arrays and saves what the derivative needs; ``backward(grad_output)`` returns one gradient per
input (the chain rule's local step), ``None`` for an input that needs none. Optionally,
``jvp(*tangents)`` pushes a direction forward instead (forward mode, ``tg.jvp``). Calling an
instance on tensors, ``Cube()(x)``, runs forward and records the node in the graph.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from tinygraph import _array
from tinygraph._types import Grads

if TYPE_CHECKING:
    from tinygraph.tensor import Tensor


class Node:
    """Base class of every operation: built-in nodes and user-defined ones alike.

    Attributes
    ----------
    inputs : tuple of Tensor or None
        The tensors the node was called on, in order (set by the call); None before the call.
    needs_grad : tuple of bool
        For each input, whether backward must compute its gradient: skip the others (empty
        before the call).
    cancels : dict of int to int
        The cancellation rule, declared on the class: ``{shown: receiver}`` says that the gradient
        for input ``shown`` is only shown (kept in ``.grad`` when that tensor keeps its gradient,
        never sent further back), while the chain-rule product that cancels through it goes to
        input ``receiver`` instead (``SigmoidBCE``: dL/da is shown, (a − y)/N goes to z). The
        engine asks for a shown gradient (``needs_grad``) only when its tensor keeps it. Empty for
        most nodes.
    title : str
        The name a diagram writes on the node's box, and a tensor's repr after ``node=``; empty
        means the class name (``SigmoidBCE`` is titled "BCE", the loss it computes).
    scope : str or None
        The ``name_scope`` the node was created in (diagrams draw a cluster per scope).
    formula : str
        The forward math as a slide writes it, shown in diagrams (``"a = σ(z)"``); optional.
    local_derivatives : tuple of str or None
        For each input, its local derivative as a slide writes it (``("a(1 − a)",)``), shown on
        the edges of diagrams; optional, None for an input without one.
    symbols : tuple of str
        For each input, the letter the formula and the local derivatives call it (Linear:
        ``("x", "w", "b")``). Diagrams write the names of the actual tensors in their place, and
        the output's name for the formula's left side: ``z₂ = a₁ @ W2 + b2``, ∂z₂/∂W2 = a₁.
        Optional: without it the formula is shown as written.

    Notes
    -----
    In grad mode, the array ``forward`` returns is made read-only once the call returns, since a
    later backward may use it (a node that returns an input array itself gets a read-only view of
    it, so a user's leaf stays writable). ``forward`` may fill the arrays it creates in place
    before returning them, but never change its inputs.

    Examples
    --------
    A user-defined node, x³, with its derivative 3x²:

    >>> import numpy as np
    >>> import tinygraph as tg
    >>> class Cube(tg.Node):
    ...     def forward(self, x):
    ...         self.x = x
    ...         return x ** 3
    ...     def backward(self, grad):
    ...         return (grad * 3 * self.x ** 2,)
    >>> x = tg.tensor([1.0, 2.0], requires_grad=True)
    >>> Cube()(x).sum().backward()
    >>> x.grad
    array([ 3., 12.])
    """

    # The inputs of a call with one or two, the common case, are kept as attributes, and any
    # other number as a tuple: a graph then holds two objects per node (the node and its output
    # tensor) for Python's cyclic collector to walk, not three. Class-level defaults, so that a
    # node not called yet reads them as None without a per-instance attribute or a hasattr.
    _input_0: Tensor | None = None  # the first of one or two inputs
    _input_1: Tensor | None = None  # the second of two
    _input_tuple: tuple[Tensor, ...] | None = None  # every input, of a call with none or more than two
    needs_grad: tuple[bool, ...] = ()
    cancels: ClassVar[dict[int, int]] = {}
    title: ClassVar[str] = ""
    scope: str | None = None
    formula: ClassVar[str] | str = ""
    local_derivatives: ClassVar[tuple[str | None, ...]] | tuple[str | None, ...] = ()
    symbols: ClassVar[tuple[str, ...]] | tuple[str, ...] = ()
    _record: ClassVar[Callable[[Node, tuple[Any, ...]], Tensor]]  # tinygraph.tensor.record

    @property
    def inputs(self) -> tuple[Tensor, ...] | None:
        """The tensors the node was called on, in order; None before the call."""
        x = self._input_0
        if x is None:
            return self._input_tuple
        y = self._input_1
        return (x,) if y is None else (x, y)

    @inputs.setter
    def inputs(self, inputs: tuple[Tensor, ...]) -> None:
        inputs = tuple(inputs)
        if 1 <= len(inputs) <= 2:
            self._input_0 = inputs[0]
            self._input_1 = inputs[1] if len(inputs) == 2 else None
            self._input_tuple = None
        else:
            self._input_0 = self._input_1 = None
            self._input_tuple = inputs

    def forward(self, *arrays: Any) -> _array.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must define forward(self, *arrays)")

    def backward(self, grad_output: _array.ndarray) -> Grads:
        raise NotImplementedError(f"{type(self).__name__} must define backward(self, grad_output)")

    def jvp(self, *tangents: _array.ndarray | None) -> _array.ndarray:
        """Forward mode: the output's tangent J·ṫ for one tangent per input (optional to define).

        Called after forward ran, so it may use what forward saved. Each tangent is an array shaped
        like its input, or None for no tangent (zero: skip its term, it costs nothing). Returns the
        tangent of the output, shaped like the output: for a = x³, ȧ = 3x² ẋ. A node whose class
        declares ``cancels`` ignores the tangents of the shown inputs (their path is the receiver's).
        """
        name = type(self).__name__
        raise NotImplementedError(
            f"{name} has no jvp, which forward mode (tg.jvp) needs: define jvp(self, *tangents) on {name}, "
            "returning the output's tangent, the sum over inputs of ∂output/∂input · tangent "
            "(skip an input whose tangent is None)"
        )

    def __call__(self, *inputs: Any) -> Tensor:
        """Run forward on ``inputs`` (tensors, arrays or numbers) and record the call in the graph.

        Recording wraps values in tensors, so it is done where Tensor lives, by
        ``tinygraph.tensor.record``. That module sets it as ``Node._record`` when it defines
        Tensor: the one link from nodes to tensors is made there, at run time, so that this module
        and every node work on arrays and import no Tensor (Tensor's operators import the nodes).
        """
        return self._record(inputs)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
