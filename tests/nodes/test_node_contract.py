"""Every built-in node keeps the whole node contract (check_node) on its domain, and forward mode
(tg.jvp) agrees with reverse mode on it, in float64 and float32."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygraph as tg
from tinygraph import nodes
from tinygraph.testing import check_node
from tinygraph.testing import strategies as tst

EXAMPLES = 15  # per node: about 60 nodes, each input also checked in float32 and against jvp


@dataclass
class Domain:
    """Where a node is checked: its factory, a strategy drawing all its inputs, the inputs with a gradient."""

    name: str
    factory: Callable[[], tg.Node]
    inputs: st.SearchStrategy[tuple[Any, ...]]
    wrt: tuple[int, ...] | None = None
    made_from: dict[int, Callable[[], tg.Node]] | None = None  # the maker of a shown input (cancels)


def same_shape(n: int, **bounds: float) -> st.SearchStrategy[tuple[np.ndarray, ...]]:
    return tst.shapes(min_dims=1, max_dims=2, max_side=3).flatmap(lambda s: st.tuples(*[tst.arrays(s, **bounds)] * n))


def broadcast_pair(y: dict | None = None, **x: float) -> st.SearchStrategy[tuple[np.ndarray, np.ndarray]]:
    return tst.broadcastable_shapes(max_dims=2, max_side=3).flatmap(
        lambda ab: st.tuples(tst.arrays(ab[0], **x), tst.arrays(ab[1], **(y or x)))
    )


def each(*strategies: st.SearchStrategy[Any]) -> st.SearchStrategy[tuple[Any, ...]]:
    return st.tuples(*strategies)


def rows(n_classes: int, targets: Callable[[int], st.SearchStrategy[np.ndarray]]) -> st.SearchStrategy[tuple[np.ndarray, ...]]:
    return st.integers(1, 3).flatmap(lambda n: st.tuples(tst.arrays((n, n_classes), min_value=-5, max_value=5), targets(n)))


def probability_rows(n: int) -> st.SearchStrategy[np.ndarray]:
    return tst.probabilities((n, 3), margin=0.05).map(lambda p: p / p.sum(axis=1, keepdims=True))


def _labelled(prediction):
    """(prediction, 0/1 labels) of one shape (N,)."""
    return st.integers(1, 4).flatmap(lambda n: st.tuples(prediction((n,)), tst.binary_labels(n)))


def _soft(prediction):
    """(prediction, soft targets in (0, 1)) of one shape: the targets get a gradient too."""
    return tst.shapes(min_dims=1, max_dims=2, max_side=3).flatmap(
        lambda s: st.tuples(prediction(s), tst.probabilities(s, margin=0.05))
    )


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _after_sigmoid(_soft_targets):
    """(a, y, z) with a = σ(z), as tg.bce gives SigmoidBCE."""
    targets = (lambda n: tst.probabilities((n,), margin=0.05)) if _soft_targets else tst.binary_labels
    return st.integers(1, 4).flatmap(
        lambda n: st.tuples(tst.arrays((n,), min_value=-10, max_value=10), targets(n))
    ).map(lambda zy: (_sigmoid(zy[0]), zy[1], zy[0]))


def _off_bounds(xs):
    return bool((np.abs(np.abs(xs[0]) - 1) > 1e-3).all())  # Clip(−1, 1) has kinks at ±1


def _untied(xy):
    x, y = np.broadcast_arrays(*xy)
    return bool((np.abs(x - y) > 1e-3).all())


# max's derivative jumps where two elements tie: draw elements at least 1 apart
distinct = st.permutations(list(range(6))).map(lambda p: np.reshape(np.array(p, float) - 2.5, (2, 3)))
moderate = {"min_value": -5, "max_value": 5}

DOMAINS = [
    # basic: the operators
    Domain("Add", nodes.Add, broadcast_pair(**moderate)),
    Domain("Sub", nodes.Sub, broadcast_pair(**moderate)),
    Domain("Mul", nodes.Mul, broadcast_pair(**moderate)),
    Domain("Div", nodes.Div, broadcast_pair(y={"min_value": -3, "max_value": 3, "avoid_zero": 0.5}, **moderate)),
    Domain("Neg", nodes.Neg, same_shape(1, **moderate)),
    Domain("Pow", nodes.Pow, each(tst.arrays((2, 2), min_value=0.5, max_value=3), tst.arrays((2,), min_value=-2, max_value=2))),
    Domain("MatMul matrix-vector", nodes.MatMul, each(tst.arrays((2, 3)), tst.arrays((3,)))),
    Domain("MatMul vector-vector", nodes.MatMul, each(tst.arrays((3,)), tst.arrays((3,)))),
    Domain("MatMul batched", nodes.MatMul, each(tst.arrays((2, 2, 3)), tst.arrays((3, 2)))),
    Domain("Exp", nodes.Exp, same_shape(1, **moderate)),
    Domain("Log", nodes.Log, same_shape(1, min_value=0.1, max_value=10)),
    Domain("Sum", lambda: nodes.Sum(axis=0), same_shape(1)),
    Domain("Sum keepdims", lambda: nodes.Sum(axis=-1, keepdims=True), same_shape(1)),
    Domain("Mean", nodes.Mean, same_shape(1)),
    Domain("Mean axis", lambda: nodes.Mean(axis=(0,)), same_shape(1)),
    Domain("Max", lambda: nodes.Max(axis=1), each(distinct)),
    Domain("Max keepdims", lambda: nodes.Max(keepdims=True), each(distinct)),
    Domain("Reshape", lambda: nodes.Reshape((3, 2)), each(tst.arrays((2, 3)))),
    Domain("Transpose", lambda: nodes.Transpose((1, 0, 2)), each(tst.arrays((2, 3, 1)))),
    Domain("GetItem", lambda: nodes.GetItem((np.array([0, 0, 1]), slice(1, None))), each(tst.arrays((2, 3)))),
    # linear
    Domain("Linear", nodes.Linear, each(tst.arrays((2, 3)), tst.arrays((3, 2)), tst.arrays((2,)))),
    Domain("Linear vector w", nodes.Linear, each(tst.arrays((4, 3)), tst.arrays((3,)), tst.arrays(()))),
    Domain("Linear no bias", nodes.Linear, each(tst.arrays((3,)), tst.arrays((3, 2)))),
    # activations
    Domain("Sigmoid", nodes.Sigmoid, same_shape(1, min_value=-30, max_value=30)),
    Domain("Logit", nodes.Logit, each(tst.probabilities(tst.shapes(min_dims=1, max_dims=2, max_side=3), margin=0.01))),
    Domain("Tanh", nodes.Tanh, same_shape(1, min_value=-10, max_value=10)),
    Domain("ReLU", nodes.ReLU, same_shape(1, avoid_zero=1e-3)),
    Domain("Softmax", lambda: nodes.Softmax(axis=0), same_shape(1, min_value=-20, max_value=20)),
    Domain("LogSoftmax", nodes.LogSoftmax, same_shape(1, min_value=-20, max_value=20)),
    Domain("SoftmaxLog", nodes.SoftmaxLog, tst.arrays((2, 3), min_value=-20, max_value=20).map(lambda z: (_softmax(z), z)),
           made_from={0: nodes.Softmax}),
    # losses: the targets are constants unless they are soft (probabilities), then checked too
    Domain("BCE", nodes.BCE, _labelled(lambda s: tst.probabilities(s, margin=0.05)), wrt=(0,)),
    Domain("BCE soft targets, sum", lambda: nodes.BCE("sum"), _soft(lambda s: tst.probabilities(s, margin=0.05))),
    Domain("SigmoidBCE", nodes.SigmoidBCE, _after_sigmoid(_soft_targets=False), wrt=(2,), made_from={0: nodes.Sigmoid}),
    Domain("SigmoidBCE soft targets, none", lambda: nodes.SigmoidBCE("none"), _after_sigmoid(_soft_targets=True)),
    Domain("BCEWithLogits", nodes.BCEWithLogits, _labelled(lambda s: tst.arrays(s, min_value=-10, max_value=10)), wrt=(0,)),
    Domain("BCEWithLogits soft targets", nodes.BCEWithLogits, _soft(lambda s: tst.arrays(s, min_value=-10, max_value=10))),
    Domain("SoftmaxCrossEntropy", nodes.SoftmaxCrossEntropy, rows(3, lambda n: tst.class_labels(n, 3))),
    Domain("SoftmaxCrossEntropy probability rows", lambda: nodes.SoftmaxCrossEntropy("sum"), rows(3, probability_rows)),
    Domain("MSE", nodes.MSE, same_shape(2, **moderate)),
    Domain("MSE none", lambda: nodes.MSE("none"), same_shape(2, **moderate)),
    # penalty
    Domain("L2Penalty", lambda: nodes.L2Penalty(0.3), each(tst.arrays((2, 3)), tst.arrays((3,)))),
    # elementwise: kinks and ties kept 1e-3 away
    Domain("Abs", nodes.Abs, same_shape(1, avoid_zero=1e-3)),
    Domain("Sqrt", nodes.Sqrt, same_shape(1, min_value=0.1, max_value=10)),
    Domain("Square", nodes.Square, same_shape(1)),
    Domain("Log1p", nodes.Log1p, same_shape(1, min_value=-0.5, max_value=5)),
    Domain("Expm1", nodes.Expm1, same_shape(1, **moderate)),
    Domain("Softplus", nodes.Softplus, same_shape(1, min_value=-30, max_value=30)),
    Domain("Sin", nodes.Sin, same_shape(1, **moderate)),
    Domain("Cos", nodes.Cos, same_shape(1, **moderate)),
    Domain("Clip", lambda: nodes.Clip(-1.0, 1.0), same_shape(1, min_value=-3, max_value=3).filter(_off_bounds)),
    Domain("Maximum", nodes.Maximum, broadcast_pair(**moderate).filter(_untied)),
    Domain("Minimum", nodes.Minimum, broadcast_pair(**moderate).filter(_untied)),
    Domain("Where", nodes.Where, each(hnp.arrays(np.bool_, (2, 3)), tst.arrays((2, 3)), tst.arrays((3,))), wrt=(1, 2)),
    # reductions
    Domain("Min", lambda: nodes.Min(axis=-1), each(distinct)),
    Domain("Prod", lambda: nodes.Prod(axis=(0, -1)), each(tst.arrays((2, 3), min_value=-2, max_value=2))),
    Domain("Var", lambda: nodes.Var(axis=0, ddof=1), each(tst.arrays((3, 2)))),
    Domain("Std", lambda: nodes.Std(axis=1, keepdims=True), each(distinct)),
    Domain("LogSumExp", lambda: nodes.LogSumExp(axis=(0, 1)), each(tst.arrays((2, 3), min_value=-20, max_value=20))),
    # shapes
    Domain("Concatenate", lambda: nodes.Concatenate(axis=-1), each(tst.arrays((2, 1)), tst.arrays((2, 3)))),
    Domain("Stack", lambda: nodes.Stack(axis=1), same_shape(2)),
    Domain("Squeeze", lambda: nodes.Squeeze(axis=1), each(tst.arrays((2, 1, 3)))),
    Domain("ExpandDims", lambda: nodes.ExpandDims((0, -1)), same_shape(1)),
    Domain("Flip", lambda: nodes.Flip(axis=-1), same_shape(1)),
    Domain("BroadcastTo", lambda: nodes.BroadcastTo((2, 3)), each(tst.arrays((3,)))),
    # linear algebra
    Domain("Einsum", lambda: nodes.Einsum("ij,jk->ik"), each(tst.arrays((2, 3)), tst.arrays((3, 2)))),
    Domain("Einsum diagonal", lambda: nodes.Einsum("ii->i"), each(tst.arrays((3, 3)))),
    Domain("Tensordot", lambda: nodes.Tensordot(([1], [0])), each(tst.arrays((2, 3)), tst.arrays((3, 2)))),
]
IDS = [d.name for d in DOMAINS]


@pytest.mark.parametrize("domain", DOMAINS, ids=IDS)
def test_every_built_in_node_keeps_the_node_contract(domain):
    # a shown input (SigmoidBCE's a = σ(z)) is checked as the loss as a function of a alone, through its maker
    check_node(domain.factory, inputs=domain.inputs, wrt=domain.wrt, made_from=domain.made_from, max_examples=EXAMPLES)


def _moving(arrays, domain):
    """The inputs given a tangent: the checked floats, but not a shown one, whose tangent jvp ignores."""
    shown = domain.factory().cancels
    return [i for i, a in enumerate(arrays) if a.dtype.kind == "f" and (domain.wrt is None or i in domain.wrt) and i not in shown]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("domain", DOMAINS, ids=IDS)
@settings(max_examples=EXAMPLES)
@given(data=st.data())
def test_forward_mode_agrees_with_reverse_mode(domain, dtype, data):
    arrays = [np.asarray(a) for a in data.draw(domain.inputs)]
    arrays = [a.astype(dtype) if a.dtype.kind == "f" else a for a in arrays]
    moving = _moving(arrays, domain)
    rng = np.random.default_rng(0)
    tangents = [rng.standard_normal(a.shape).astype(dtype) if i in moving else None for i, a in enumerate(arrays)]

    out, tangent = tg.jvp(lambda *ts: domain.factory()(*ts), arrays, tangents)
    assert tangent.shape == out.shape and tangent.dtype == dtype

    leaves = [tg.tensor(a, requires_grad=i in moving) for i, a in enumerate(arrays)]
    v = rng.standard_normal(out.shape).astype(dtype)
    domain.factory()(*leaves).backward(v)
    forward = np.sum(v.astype(np.float64) * tangent)
    reverse = sum(np.sum(leaves[i].grad.astype(np.float64) * tangents[i]) for i in moving)
    scale = np.sum(np.abs(v * tangent)) + sum(np.sum(np.abs(leaves[i].grad * tangents[i])) for i in moving)
    # ⟨v, J t⟩ = ⟨Jᵀ v, t⟩, up to rounding: relative to the terms, plus a floor where they cancel
    floor = 100 * np.finfo(dtype).eps * np.sum(np.abs(v)) * sum(np.sum(np.abs(tangents[i])) for i in moving)
    assert abs(forward - reverse) <= (1e-10 if dtype == np.float64 else 1e-4) * scale + floor


def test_the_table_covers_every_built_in_node():
    """A new node in tinygraph.nodes needs a domain here, so both tests above check it."""
    built_in = {getattr(nodes, name) for name in nodes.__all__} - {nodes.Loss}
    covered = {type(domain.factory()) for domain in DOMAINS}
    assert not built_in - covered, f"no domain for {sorted(c.__name__ for c in built_in - covered)}"
