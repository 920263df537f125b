"""Every operation against an independent reference: NumPy for values, central differences for gradients.

The op table (``reference_ops.py``) gives each operation a NumPy function computing the same value;
the gradient reference is the central difference of that NumPy function, element by element, in
float64. Inputs are drawn by hypothesis: every rank up to 3, size-0 and size-1 axes, negative,
tuple and NumPy-integer axes, keepdims, broadcasting, repeated indices, float32 and float64.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from reference_ops import OPS, Case, Op

import tinygraph as tg

EPS = 1e-6


def numeric_gradient(op: Op, case: Case, i: int, v: np.ndarray) -> np.ndarray:
    """d⟨v, reference(inputs)⟩ / d inputs[i] by central differences, in float64."""
    inputs = [np.array(x, dtype=np.float64) if x.dtype.kind == "f" else x for x in case.inputs]
    x = inputs[i]
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + EPS
        plus = np.sum(v * op.reference(*inputs, **case.kwargs))
        x[index] = original - EPS
        minus = np.sum(v * op.reference(*inputs, **case.kwargs))
        x[index] = original
        grad[index] = (plus - minus) / (2 * EPS)
    return grad


def check(op: Op, case: Case, dtype: type, shared: bool = True) -> None:
    """Value, dtype and gradient of ``op`` on ``case`` against NumPy and central differences.

    With ``shared``, every checked input also feeds a second node (t · u), so its gradient is the
    sum of two paths: the op's and u.
    """
    inputs = [x.astype(dtype) if x.dtype.kind == "f" else x for x in case.inputs]
    exact = Case(tuple(x.astype(np.float64) if x.dtype.kind == "f" else x for x in inputs), case.kwargs)
    expected = np.asarray(op.reference(*exact.inputs, **case.kwargs))
    checked = [i for i in op.grad if i < len(inputs)]
    tensors = [tg.tensor(x, requires_grad=i in checked) for i, x in enumerate(inputs)]
    out = op.fn(*tensors, **case.kwargs)

    assert out.shape == expected.shape
    single = dtype == np.float32
    if expected.dtype.kind == "f":
        assert out.dtype == dtype
    scale = 1 + (np.abs(expected).max() if expected.size else 0)
    rtol, atol = (1e-4, 1e-5 * scale) if single else (1e-9, 1e-12 * scale)
    np.testing.assert_allclose(out.data, expected, rtol=rtol, atol=atol)
    if not checked:
        return

    rng = np.random.default_rng(out.size)
    v = rng.standard_normal(out.shape).astype(dtype)
    others = {i: rng.standard_normal(inputs[i].shape).astype(dtype) if shared else 0 for i in checked}
    loss = (out * v).sum()
    for i in checked:
        loss = loss + (tensors[i] * others[i]).sum()
    loss.backward()
    for i in checked:
        grad = tensors[i].grad
        numeric = numeric_gradient(op, exact, i, v.astype(np.float64)) + others[i]
        assert grad.dtype == dtype and grad.shape == inputs[i].shape, f"input {i}"
        scale = 1 + (np.abs(numeric).max() if numeric.size else 0)
        rtol, atol = (1e-3, 1e-3 * scale) if single else (1e-5, 1e-6 * scale)
        np.testing.assert_allclose(grad, numeric, rtol=rtol, atol=atol, err_msg=f"gradient of input {i}")


@pytest.mark.parametrize("op", OPS, ids=str)
@given(data=st.data())
def test_value_and_gradient_match_numpy_and_finite_differences(op, data):
    case = data.draw(op.cases, label="case")
    dtype = data.draw(st.sampled_from([np.float64, np.float32]), label="dtype")
    check(op, case, dtype)


def _shapes_up_to_3d(sides: tuple[int, ...]) -> list[tuple[int, ...]]:
    return [shape for ndim in range(4) for shape in itertools.product(sides, repeat=ndim)]


def _broadcastable(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    return all(m == n or 1 in (m, n) for m, n in zip(a[::-1], b[::-1]))


PAIRS = [(a, b) for a in _shapes_up_to_3d((0, 1, 2)) for b in _shapes_up_to_3d((0, 1, 2)) if _broadcastable(a, b)]
BINARY = [op for op in OPS if op.binary]


@pytest.mark.parametrize("op", BINARY, ids=str)
def test_broadcasting_between_every_pair_of_shapes_up_to_3d(op):
    rng = np.random.default_rng(0)
    for a, b in PAIRS:  # values in [0.5, 2]: inside every binary op's domain; ties have probability 0
        x, y = rng.uniform(0.5, 2.0, a), rng.uniform(0.5, 2.0, b)
        check(op, Case((x, y)), np.float64, shared=False)


@pytest.mark.parametrize("op", BINARY, ids=str)
def test_one_tensor_as_both_operands(op):
    rng = np.random.default_rng(1)
    for shape in _shapes_up_to_3d((1, 2)):
        x = rng.uniform(0.5, 2.0, shape)
        t = tg.tensor(x, requires_grad=True)
        op.fn(t, t).sum().backward()
        both = Op(op.name, op.fn, lambda u: op.reference(u, u), op.cases)
        np.testing.assert_allclose(t.grad, numeric_gradient(both, Case((x,)), 0, np.ones(shape)), rtol=1e-6, atol=1e-7)


def test_pairs_cover_size_zero_size_one_and_every_rank():
    assert len(PAIRS) > 500
    assert ((0, 2), (1,)) in PAIRS and ((2, 1, 2), (0, 1)) in PAIRS and ((), (2, 0, 1)) in PAIRS
