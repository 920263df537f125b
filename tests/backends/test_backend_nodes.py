"""Every operation of the op table on every back end: value and gradients equal NumPy's to 1e-12.

NumPy's own result through tinygraph is the reference (itself checked against finite differences
in ``tests/reference``). The same inputs, converted to the back end, must give the same value and
the same gradient of ⟨v, op(inputs)⟩ for every input that takes one, in float64, with arrays of
the back end's type all along (a Dask result is computed only here, by the test).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference_ops import OPS, Case, Op

import tinygraph as tg
from tinygraph import _array

# Not in the array API standard, so not on array_api_strict.
NO_STANDARD = {"einsum": "einsum"}


def run(op: Op, case: Case, convert, convert_index=None) -> tuple[object, list[object]]:
    """The op's value and the gradients of ⟨v, value⟩ for its checked inputs, all converted by ``convert``."""
    checked = [i for i in op.grad if i < len(case.inputs)]
    tensors = [tg.tensor(convert(x), requires_grad=i in checked) for i, x in enumerate(case.inputs)]
    kwargs = {k: (convert_index or convert)(v) if k == "index" else v for k, v in case.kwargs.items()}
    out = op.fn(*tensors, **kwargs)
    if checked:
        v = np.random.default_rng(3).standard_normal(out.shape)
        (out * tg.tensor(convert(v))).sum().backward()
    return out.data, [tensors[i].grad for i in checked]


def _skip_unsupported(op: Op, name: str) -> None:
    if name == "array_api_strict" and op.name in NO_STANDARD:
        pytest.skip(f"{op.name} needs {NO_STANDARD[op.name]}, which the array API standard does not define")


@pytest.mark.parametrize("op", OPS, ids=str)
@settings(max_examples=3, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_value_and_gradients_equal_numpys(op, other_backend, data):
    case = data.draw(op.cases, label="case")
    _skip_unsupported(op, other_backend.name)
    expected, expected_grads = run(op, case, lambda a: a)
    # Dask indexes with NumPy index arrays, its natural use; the others with arrays of their own
    value, grads = run(op, case, other_backend, (lambda i: i) if other_backend.name == "dask" else None)
    assert isinstance(value, other_backend.array_type) or np.ndim(expected) == 0
    np.testing.assert_allclose(_array.to_numpy(value), expected, rtol=1e-12, atol=1e-12)
    for i, (grad, reference) in enumerate(zip(grads, expected_grads)):
        assert isinstance(grad, other_backend.array_type), f"gradient {i} left the back end"
        np.testing.assert_allclose(_array.to_numpy(grad), reference, rtol=1e-12, atol=1e-12, err_msg=f"gradient {i}")


def test_a_repeated_index_puts_its_gradient_on_the_diagonal(backend):
    if backend.name == "array_api_strict":
        pytest.skip("the array API standard defines no einsum")
    rng = np.random.default_rng(5)
    x, w, v = rng.standard_normal((3, 3, 2)), rng.standard_normal(2), rng.standard_normal(3)
    tx, tw = tg.tensor(backend(x), requires_grad=True), tg.tensor(backend(w), requires_grad=True)
    (tg.einsum("iij,j->i", tx, tw) * tg.tensor(backend(v))).sum().backward()  # L = Σ_i v_i Σ_j x_iij w_j
    assert isinstance(tx.grad, backend.array_type)
    by_hand = np.eye(3)[:, :, None] * v[:, None, None] * w  # dL/dx_abj = δ_ab v_a w_j
    np.testing.assert_allclose(_array.to_numpy(tx.grad), by_hand, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(_array.to_numpy(tw.grad), np.einsum("i,iij->j", v, x), rtol=1e-12)


EMPTY = [((0, 3), 1), ((3, 0, 2), (0, 2)), ((2, 0), 0), ((0, 3), 0), ((2, 0), 1), ((0, 0), 0), ((0,), None), ((0, 0, 1), 2)]
REDUCTIONS = {"max": np.max, "min": np.min, "logsumexp": lambda x, axis: np.log(np.sum(np.exp(x), axis=axis))}


@pytest.mark.parametrize("name", REDUCTIONS)
def test_reductions_of_an_empty_array_are_numpys(backend, name):
    for shape, axis in EMPTY:
        x = np.zeros(shape)
        try:
            with np.errstate(divide="ignore"):  # log of an empty sum: −inf
                expected = REDUCTIONS[name](x, axis=axis)
        except ValueError as error:  # max or min over no elements: no identity, so no result
            with pytest.raises(ValueError, match=rf"{name.title()}: {error}"):
                getattr(tg, name)(tg.tensor(backend(x)), axis=axis)
            continue
        t = tg.tensor(backend(x), requires_grad=True)
        out = getattr(tg, name)(t, axis=axis)  # over no rows: an empty result
        out.sum().backward()
        assert isinstance(out.data, backend.array_type) and isinstance(t.grad, backend.array_type)
        np.testing.assert_array_equal(_array.to_numpy(out.data), expected, err_msg=f"{shape}, axis {axis}")
        np.testing.assert_array_equal(_array.to_numpy(t.grad), np.zeros(shape))
