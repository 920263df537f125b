"""Node: one operation of the graph, with the forward/backward contract every operation follows.

A subclass writes the math of one slide: ``forward(*arrays)`` computes the output from input
arrays and saves what the derivative needs; ``backward(grad_output)`` returns one gradient per
input (the chain rule's local step), ``None`` for an input that needs none. Calling an instance on
tensors, ``Cube()(x)``, runs forward and records the node in the graph.
"""

from __future__ import annotations

from typing import Any, ClassVar

from tinygraph import _array
from tinygraph.modes import current_mode
from tinygraph.tensor import Tensor, as_tensor


class Node:
    """Base class of every operation: built-in nodes and user-defined ones alike.

    Attributes
    ----------
    inputs : tuple of Tensor
        The tensors the node was called on, in order (set by the call).
    needs_grad : tuple of bool
        For each input, whether backward must compute its gradient: skip the others.
    shortcut : set of int
        Indices of inputs whose gradient is shown but not propagated, because the node sends the
        combined chain-rule product to a further input instead (see ``BCE``). Empty for most nodes.
        Before calling backward, the engine sets ``needs_grad`` of such an input to whether its
        tensor will keep the gradient (a leaf, ``retain_grad()``, ``retain_grads=True``).
    cancels : dict of int to int
        The cancellation rule, declared on the class: ``{shown: receiver}`` says that the gradient
        for input ``shown`` is only shown (kept in ``.grad`` when that tensor keeps its gradient,
        never sent further back), while the chain-rule product that cancels through it goes to
        input ``receiver`` instead. Empty for most nodes.
    title : str
        The name a diagram writes on the node's box; empty means the class name.
    scope : str or None
        The ``name_scope`` the node was created in (diagrams draw a cluster per scope).
    formula : str
        The forward math as a slide writes it, shown in diagrams (``"a = σ(z)"``); optional.
    local_derivatives : tuple of str or None
        For each input, its local derivative as a slide writes it (``("a(1 − a)",)``), shown on
        the edges of diagrams; optional, None for an input without one.

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

    inputs: tuple[Tensor, ...]
    needs_grad: tuple[bool, ...]
    shortcut: ClassVar[frozenset[int]] | frozenset[int] = frozenset()
    cancels: ClassVar[dict[int, int]] = {}
    title: ClassVar[str] = ""
    scope: str | None = None
    formula: ClassVar[str] | str = ""
    local_derivatives: ClassVar[tuple[str | None, ...]] | tuple[str | None, ...] = ()

    def forward(self, *arrays: Any) -> _array.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must define forward(self, *arrays)")

    def backward(self, grad_output: _array.ndarray) -> tuple[_array.ndarray | None, ...]:
        raise NotImplementedError(f"{type(self).__name__} must define backward(self, grad_output)")

    def __call__(self, *inputs: Any) -> Tensor:
        # The hot path of every forward pass: lists rather than generators, names only for errors,
        # and hasattr rather than self.__dict__, which would give every node a dict of its own.
        if hasattr(self, "inputs"):
            name = type(self).__name__
            raise RuntimeError(
                f"this {name} instance was already called: a node records one call of the "
                f"graph, so create a new one for each call, e.g. {name}()(x)"
            )
        mode = current_mode()  # the calling thread's modes, read once
        tensors = tuple([as_tensor(x) for x in inputs])
        self.inputs = tensors
        self.needs_grad = tuple([t.requires_grad for t in tensors])
        if mode.scope is not None:
            self.scope = mode.scope
        if mode.detect_anomaly:
            with _array.xp.errstate(all="ignore"):
                out = self._forward(tensors)
            if _array.is_float(out) and not _array.all_finite(out):
                name = type(self).__name__
                raise FloatingPointError(f"{name} produced {_array.first_non_finite(out)} in forward")
        else:
            out = self._forward(tensors)
        if mode.grad_enabled:  # a later node may save this output for its backward: freeze it
            for t in tensors:
                if out is t.data:  # the input itself (an identity node): freeze a view, not the user's array
                    out = out.view()
                    break
            out.setflags(False)  # write=False; passed by position, which costs half as much
        return Tensor._from_node(out, self, mode.grad_enabled and any(self.needs_grad))

    def _forward(self, tensors: tuple[Tensor, ...]) -> _array.ndarray:
        try:
            out = self.forward(*[t.data for t in tensors])
        except ValueError as error:
            name = type(self).__name__
            if str(error).startswith(name):
                raise
            shapes = ", ".join(str(t.shape) for t in tensors)
            raise ValueError(f"{name}: {error} (input shapes {shapes})") from error
        return out if type(out) is _array.ndarray else _array.as_array(out)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
