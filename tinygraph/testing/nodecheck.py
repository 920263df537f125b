"""``check_node``: a hypothesis property test of the whole node contract, for built-in and user nodes.

One call draws many inputs, runs the node on each, and checks every promise a node makes to the
engine: the count, shapes and dtypes of its gradients, ``None`` for inputs that need none, input
arrays left unchanged, a finite output, backward against central differences, and, where the node
defines ``jvp``, forward mode against reverse mode.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tinygraph import _array
from tinygraph.modes import no_grad
from tinygraph.node import Node
from tinygraph.tensor import Tensor
from tinygraph.testing import _local
from tinygraph.testing import strategies as tst
from tinygraph.testing.gradcheck import GradcheckError

CHECKS = (
    "forward leaves its inputs unchanged",
    "output is finite",
    "one gradient per input",
    "no gradient for inputs that need none",
    "gradient shapes",
    "backward leaves its inputs unchanged",
    "backward vs finite differences",
    "output and gradient dtypes",
    "jvp vs backward",
)
"""What ``check_node`` checks, by the names its messages use."""

FULL_JACOBIAN_UP_TO = 64
"""Outputs with at most this many elements get their full Jacobian compared, entry by entry."""


def check_node(
    node_factory: Callable[[], Node],
    *input_strategies: st.SearchStrategy[Any],
    inputs: st.SearchStrategy[tuple[Any, ...]] | None = None,
    wrt: Sequence[int] | None = None,
    made_from: dict[int, Callable[[], Node]] | None = None,
    max_examples: int | None = None,
    dtypes: Sequence[Any] = (np.float64, np.float32),
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> None:
    """Prove a node's contract on inputs hypothesis draws; raise ``GradcheckError`` at the first broken promise.

    Parameters
    ----------
    node_factory : Node class or callable
        Makes a fresh node for each call: ``Cube``, or ``lambda: tg.nodes.Softmax(axis=0)``.
    *input_strategies : hypothesis strategies
        One per input of ``forward``, each drawing an array (``tst.arrays(...)``). Without any,
        every input is a float array in [−5, 5], all of one random shape of 1 or 2 axes.
    inputs : strategy of tuples, optional
        Instead of ``input_strategies``, one strategy drawing all inputs at once, for inputs that
        must agree (logits and their labels).
    wrt : sequence of int, optional
        The inputs whose gradient is checked; the others are constants (labels, targets), which
        must get ``None``. Default: every floating-point input.
    made_from : dict of int to node factory, optional
        For a node whose class declares ``cancels = {shown: receiver}``: ``{shown: factory}``, the
        node that makes the shown input from the receiver (``{0: tg.nodes.Sigmoid}`` for
        ``SigmoidBCE``), so that its gradient dL/da can be checked as the loss as a function of a
        alone (see Notes). The strategy must draw the shown input made so, a = σ(z).
    max_examples : int, optional
        How many inputs to draw; default: the active hypothesis profile's.
    dtypes : sequence of dtypes
        The float dtypes in which the output, gradients and tangents must keep the inputs' dtype.
        Finite differences always run in float64.
    eps, atol, rtol : float
        Central-difference step and tolerances: |backward − numeric| <= atol + rtol · |numeric|.

    Raises
    ------
    GradcheckError
        Naming the check (one of ``CHECKS``), the node, where (input, element, output element),
        both values, and the input arrays: after hypothesis has shrunk them, the simplest failing ones.

    Notes
    -----
    For each drawn input, in float64: forward runs on the arrays (which must stay unchanged) and
    gives a finite output; backward with a random incoming gradient v returns a tuple of one
    gradient per input, ``None`` for each input that needs none (also each checked input in turn),
    shaped like its input or like the broadcast output; it changes neither its inputs nor v.
    Backward is compared with central differences of the node's own forward: entry by entry,
    ∂out_j/∂x_k (for outputs of up to 64 elements), then along v. Where the node defines ``jvp``,
    the two modes must satisfy the adjoint identity ⟨v, J t⟩ = ⟨Jᵀ v, t⟩ for random tangents t,
    one input at a time and all together. Then, for each dtype, output, gradients and tangent must
    have the inputs' dtype.

    An input a whose gradient is only shown (``cancels``) is not read by forward, which computes
    from the receiver z, so moving a alone changes nothing, and jvp ignores its tangent. Its
    gradient claims to be dL/da of the loss as a function of a alone: with ``made_from``, each
    z_k is moved by ±eps, a follows (a = σ(z) moves a_k alone), and dL/da_k is compared with
    ΔL / Δa_k. Without ``made_from`` that one value is left to ``gradcheck_nodes``, which finds
    the maker in the graph.

    Examples
    --------
    >>> import numpy as np
    >>> import tinygraph as tg
    >>> from tinygraph.testing import check_node, strategies as tst
    >>> class Cube(tg.Node):
    ...     def forward(self, x):
    ...         self.x = x
    ...         return x**3
    ...     def backward(self, grad):
    ...         return (grad * 3 * self.x**2,)
    ...     def jvp(self, dx):
    ...         return 3 * self.x**2 * dx
    >>> check_node(Cube, max_examples=20)
    >>> check_node(Cube, tst.arrays((3,), elements=tst.floats(-2, 2)), max_examples=10)
    """
    if inputs is not None and input_strategies:
        raise ValueError("check_node: give one strategy per input or inputs=, not both")
    if inputs is None:
        inputs = st.tuples(*input_strategies) if input_strategies else _default_inputs(node_factory)
    checker = _Checker(node_factory, wrt, made_from or {}, tuple(np.dtype(d) for d in dtypes), eps, atol, rtol)
    profile = settings.default
    chosen = settings(
        profile,
        max_examples=profile.max_examples if max_examples is None else max_examples,
        deadline=None,
        report_multiple_bugs=False,
        phases=[phase for phase in profile.phases if phase is not Phase.explain],  # the message explains
        suppress_health_check=[*profile.suppress_health_check, HealthCheck.too_slow],
    )

    def node_contract(arrays: tuple[Any, ...]) -> None:
        checker.check(tuple(_array.as_array(a) for a in arrays))

    # hypothesis keys its example database by the test's name: one key per node class
    node_contract.__name__ = node_contract.__qualname__ = f"check_node_{checker.name}"
    chosen(given(inputs)(node_contract))()


def _default_inputs(node_factory: Callable[[], Node]) -> st.SearchStrategy[tuple[np.ndarray, ...]]:
    """As many float arrays in [−5, 5] as forward has required inputs, all of one shape."""
    parameters = inspect.signature(node_factory().forward).parameters.values()
    count = sum(p.default is p.empty and p.kind is not p.VAR_KEYWORD for p in parameters)

    def arrays(shape: tuple[int, ...]) -> st.SearchStrategy[tuple[np.ndarray, ...]]:
        return st.tuples(*[tst.arrays(shape, min_value=-5, max_value=5)] * max(count, 1))

    return tst.shapes(min_dims=1, max_dims=2, max_side=3).flatmap(arrays)


class _Checker:
    """The checks of one ``check_node`` call, run on each drawn input."""

    def __init__(
        self, factory: Callable[[], Node], wrt: Sequence[int] | None, made_from: dict[int, Callable[[], Node]],
        dtypes: tuple[np.dtype, ...], eps: float, atol: float, rtol: float,
    ) -> None:
        self.factory, self.wrt, self.made_from, self.dtypes = factory, wrt, made_from, dtypes
        self.eps, self.atol, self.rtol = eps, atol, rtol
        self.name = type(factory()).__name__

    def fail(self, check: str, detail: str) -> None:
        raise GradcheckError(
            f"check_node: {check} failed for {self.name}: {detail}; inputs {_local.show(self.arrays)}",
            check=check, node=self.name, inputs=self.arrays,
        )

    # ----------------------------------------------------------------- running the node
    def run(self, arrays: Sequence[np.ndarray], needs: set[int]) -> tuple[Node, np.ndarray]:
        """A fresh node called on ``arrays`` (inputs in ``needs`` require grad); checks they stay unchanged."""
        before = [a.copy() for a in arrays]
        node = self.factory()
        tensors = [Tensor(a, requires_grad=i in needs) for i, a in enumerate(arrays)]
        out = node(*tensors).data
        self.unchanged(arrays, before, "forward leaves its inputs unchanged")
        return node, out

    def forward(self, arrays: Sequence[np.ndarray]) -> np.ndarray:
        with no_grad():
            return self.factory()(*arrays).data

    def backward(self, node: Node, arrays: Sequence[np.ndarray], grad: np.ndarray) -> tuple[Any, ...]:
        before = [a.copy() for a in arrays]
        incoming = grad.copy()
        grads = node.backward(grad)
        self.unchanged(arrays, before, "backward leaves its inputs unchanged")
        if not np.array_equal(grad, incoming):
            k = _local.first_mismatch(grad, incoming, 0, 0)
            self.fail("backward leaves its inputs unchanged",
                      f"the incoming gradient changed at element {k}: before {_local.value(incoming[k])}, after {_local.value(grad[k])}")
        if not isinstance(grads, tuple):
            grads = (grads,)
        if len(grads) != len(arrays):
            self.fail("one gradient per input", f"backward returned {len(grads)} gradient(s) for {len(arrays)} input(s)")
        return grads

    def unchanged(self, arrays: Sequence[np.ndarray], before: Sequence[np.ndarray], check: str) -> None:
        for i, (a, b) in enumerate(zip(arrays, before)):
            if not np.array_equal(a, b, equal_nan=True):
                k = _local.first_mismatch(a.astype(np.float64), b.astype(np.float64), 0, 0)
                self.fail(check, f"input {i} changed at element {k}: before {_local.value(b[k])}, after {_local.value(a[k])}")

    # ----------------------------------------------------------------- the checks
    def check(self, arrays: tuple[np.ndarray, ...]) -> None:
        self.arrays = arrays
        floats = [i for i, a in enumerate(arrays) if _array.is_float(a)]
        cancels = dict(getattr(self.factory(), "cancels", {}) or {})
        wrt = [i for i in (floats if self.wrt is None else self.wrt) if i not in cancels]
        x64 = [a.astype(np.float64) if _array.is_float(a) else a for a in arrays]
        rng = np.random.default_rng(0)

        node, out = self.run(x64, set(wrt))
        if _array.is_float(out) and not _array.all_finite(out):
            self.fail("output is finite", f"the output has {_array.first_non_finite(out)}")
        v = rng.standard_normal(out.shape)
        grads = self.backward(node, x64, v.copy())
        self.check_grads(grads, x64, set(wrt))
        for i in wrt if len(wrt) > 1 else []:
            other, _ = self.run(x64, set(wrt) - {i})
            self.check_grads(self.backward(other, x64, v.copy()), x64, set(wrt) - {i})

        self.check_finite_differences(x64, out, grads, v, wrt)
        for s, make in self.made_from.items():
            self.check_shown(x64, s, cancels, make, v)
        if type(node).jvp is not Node.jvp:
            self.check_jvp(node, x64, out, grads, v, wrt, rng)
        for dtype in self.dtypes:
            self.check_dtype(arrays, dtype, wrt, rng)

    def check_grads(self, grads: tuple[Any, ...], arrays: Sequence[np.ndarray], needs: set[int]) -> None:
        for i, (g, a) in enumerate(zip(grads, arrays)):
            if i not in needs:
                if g is not None:
                    self.fail("no gradient for inputs that need none",
                              f"input {i} needs no gradient but backward returned {type(g).__name__} instead of None")
                continue
            if g is None:
                self.fail("one gradient per input", f"backward returned None for input {i}, which needs a gradient")
            shape = np.shape(g)
            if shape != a.shape and not _array.broadcasts_to(a.shape, shape):
                self.fail("gradient shapes",
                          f"the gradient for input {i} has shape {shape}, the input has shape {a.shape} "
                          "(allowed: the input's shape, or one it broadcasts to)")

    def check_finite_differences(
        self, x64: Sequence[np.ndarray], out: np.ndarray, grads: tuple[Any, ...], v: np.ndarray, wrt: list[int]
    ) -> None:
        check = "backward vs finite differences"
        full = out.size <= FULL_JACOBIAN_UP_TO
        rows: list[tuple[Any, ...]] = []
        if full:  # one backward per output element j, seeded with the unit vector e_j
            for j in np.ndindex(out.shape):
                unit = np.zeros(out.shape)
                unit[j] = 1.0
                node, _ = self.run(x64, set(wrt))
                rows.append(self.backward(node, x64, unit))
        for i in wrt:
            numeric = _local.numeric_jacobian(self.forward, x64, i, self.eps)  # out.shape + x.shape
            shape = x64[i].shape
            if full:
                analytic = np.stack([_local.unbroadcast_to(r[i], shape) for r in rows]).reshape(numeric.shape)
                bad = _local.first_mismatch(analytic, numeric, self.atol, self.rtol)
                if bad is not None:
                    j, k = bad[: out.ndim], bad[out.ndim :]
                    self.fail(check, f"input {i}, element {k}, output element {j} (full Jacobian, backward seeded with e_j): "
                                     f"backward {_local.value(analytic[bad])}, finite differences {_local.value(numeric[bad])}")
            projected = np.tensordot(v, numeric, axes=out.ndim) if out.ndim else v * numeric
            given = _local.unbroadcast_to(grads[i], shape)
            k = _local.first_mismatch(given, projected, self.atol, self.rtol * 10)
            if k is not None:
                why = " (the full Jacobian agreed: backward does not scale with its incoming gradient)" if full else ""
                self.fail(check, f"input {i}, element {k}, along a random incoming gradient v: backward {_local.value(given[k])}, "
                                 f"finite differences of ⟨v, out⟩ {_local.value(projected[k])}{why}")

    def check_shown(
        self, x64: Sequence[np.ndarray], s: int, cancels: dict[int, int], make: Callable[[], Node], v: np.ndarray
    ) -> None:
        check = "backward vs finite differences"
        if s not in cancels:
            raise ValueError(f"check_node: made_from names input {s}, but {self.name}.cancels has no such shown input")
        r = cancels[s]
        node, _ = self.run(x64, {i for i, a in enumerate(x64) if _array.is_float(a)})  # a's gradient asked for too
        given = _local.unbroadcast_to(np.asarray(self.backward(node, x64, v.copy())[s], dtype=np.float64), x64[s].shape)
        found = _local.shown_mismatch(self.forward, lambda z: make().forward(z), x64, s, r, given, v, self.eps,
                                      self.atol, self.rtol)
        if found is not None:
            k, backward, numeric, _ = found
            self.fail(check, f"shown input {s} (dL/da, as the loss as a function of a alone, a moved through input {r}), "
                             f"element {k}: backward {_local.value(backward)}, finite differences {_local.value(numeric)}")

    def check_jvp(
        self, node: Node, x64: Sequence[np.ndarray], out: np.ndarray, grads: tuple[Any, ...], v: np.ndarray,
        wrt: list[int], rng: np.random.Generator,
    ) -> None:
        check = "jvp vs backward"
        tangents = {i: rng.standard_normal(x64[i].shape) for i in wrt}
        cases = [[i] for i in wrt] + ([wrt] if len(wrt) > 1 else [])
        for case in cases:
            args = [tangents[i] if i in case else None for i in range(len(x64))]
            jv = np.asarray(node.jvp(*args))
            which = f"input {case[0]}" if len(case) == 1 else "all inputs at once"
            if jv.shape != out.shape:
                self.fail(check, f"jvp with a tangent for {which} returned shape {jv.shape}, the output has shape {out.shape}")
            forward = float(np.sum(v * jv))
            reverse = float(sum(np.sum(_local.unbroadcast_to(grads[i], x64[i].shape) * tangents[i]) for i in case))
            scale = float(np.sum(np.abs(v * jv))) + sum(
                float(np.sum(np.abs(_local.unbroadcast_to(grads[i], x64[i].shape) * tangents[i]))) for i in case)
            floor = 1e-13 * float(np.sum(np.abs(v))) * sum(float(np.sum(np.abs(tangents[i]))) for i in case)
            if not abs(forward - reverse) <= 1e-7 * scale + floor:  # the floor: where the terms cancel
                self.fail(check, f"tangent for {which}, random v and t: ⟨v, jvp(t)⟩ {_local.value(forward)}, "
                                 f"⟨backward(v), t⟩ {_local.value(reverse)}")

    def check_dtype(self, arrays: Sequence[np.ndarray], dtype: np.dtype, wrt: list[int], rng: np.random.Generator) -> None:
        check = "output and gradient dtypes"
        cast = [a.astype(dtype) if _array.is_float(a) else a for a in arrays]
        node, out = self.run(cast, set(wrt))
        if out.dtype != dtype:
            self.fail(check, f"{dtype} inputs gave a {out.dtype} output, expected {dtype}")
        if _array.is_float(out) and not _array.all_finite(out):
            self.fail("output is finite", f"in {dtype}, the output has {_array.first_non_finite(out)}")
        grads = self.backward(node, cast, rng.standard_normal(out.shape).astype(dtype))
        for i in wrt:
            g = np.asarray(grads[i])
            if g.dtype != dtype:
                self.fail(check, f"the gradient for input {i} is {g.dtype}, but the input is {dtype}")
        if type(node).jvp is not Node.jvp and wrt:
            args = [rng.standard_normal(a.shape).astype(dtype) if i in wrt else None for i, a in enumerate(cast)]
            jv = np.asarray(node.jvp(*args))
            if jv.dtype != dtype:
                self.fail(check, f"jvp returned a {jv.dtype} tangent for {dtype} inputs and tangents")
