"""Tensor: creation and dtypes, attributes, operators with any mix of operands, shapes, reductions."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygraph as tg
from tinygraph.testing import gradcheck
from tinygraph.testing import strategies as tst


# ------------------------------------------------------------------ creation and dtypes
def test_python_numbers_and_lists_become_float64():
    assert tg.tensor(3).dtype == np.float64
    assert tg.tensor([1, 2, 3]).dtype == np.float64
    assert tg.tensor([[1.5]]).shape == (1, 1)


def test_ndarrays_keep_their_dtype_and_dtype_converts():
    assert tg.tensor(np.zeros(2, dtype=np.float32)).dtype == np.float32
    assert tg.tensor(np.arange(3)).dtype == np.arange(3).dtype  # integer labels stay integers
    assert tg.tensor([1, 2], dtype=np.float32).dtype == np.float32


def test_requires_grad_on_integer_data_is_a_type_error():
    with pytest.raises(TypeError, match="only floating-point tensors can require grad.*int64"):
        tg.tensor(np.arange(3), requires_grad=True)


def test_float32_in_stays_float32_out_gradients_included():
    x = tg.tensor(np.array([[0.5, -1.0], [2.0, 0.1]], dtype=np.float32))
    w = tg.tensor(np.array([0.3, -0.2], dtype=np.float32), requires_grad=True)
    b = tg.tensor(np.float32(0.1), requires_grad=True)
    loss = tg.bce(tg.sigmoid(tg.linear(x, w, b)), np.array([1.0, 0.0]))
    loss = loss * 2 + 1  # Python numbers take the tensor's dtype
    loss.backward()
    assert loss.dtype == np.float32
    assert w.grad.dtype == np.float32 and b.grad.dtype == np.float32


def test_attributes():
    t = tg.tensor(np.zeros((2, 3)), requires_grad=True, name="w")
    assert (t.shape, t.ndim, t.size, t.dtype, t.name, t.grad) == ((2, 3), 2, 6, np.float64, "w", None)
    assert t.requires_grad and t.is_leaf and len(t) == 2


def test_item_numpy_and_detach():
    t = tg.tensor([2.5], requires_grad=True)
    assert t.item() == 2.5 and isinstance(t.item(), float)
    assert t.numpy() is t.data
    d = (t * 2).detach()
    assert d.node is None and not d.requires_grad and d.item() == 5.0
    with pytest.raises(ValueError, match="one element"):
        tg.tensor([1.0, 2.0]).item()


def test_repr_shows_value_name_and_node():
    assert repr(tg.tensor([1.0, 2.0], requires_grad=True, name="w")) == "tensor([1., 2.], name='w', requires_grad=True)"
    assert repr(tg.tensor([1.0]) + 1) == "tensor([2.], node=Add)"


# ------------------------------------------------------------------ operators
OPERATORS = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "**": lambda a, b: a**b,
}


KINDS = ["tensor", "array", "number"]
MIXES = [(left, right) for left in KINDS for right in KINDS if "tensor" in (left, right)]


@pytest.mark.parametrize("op", OPERATORS)
@pytest.mark.parametrize(("left_kind", "right_kind"), MIXES)
def test_operators_accept_any_mix_on_either_side(op, left_kind, right_kind):
    values = {"left": np.array([1.5, 2.0]), "right": np.array([0.5, 3.0])}
    make = {
        "tensor": lambda v: tg.tensor(v),
        "array": lambda v: v,
        "number": lambda v: float(v[0]),
    }
    left, right = make[left_kind](values["left"]), make[right_kind](values["right"])
    out = OPERATORS[op](left, right)
    plain = OPERATORS[op](
        values["left"] if left_kind != "number" else values["left"][0],
        values["right"] if right_kind != "number" else values["right"][0],
    )
    assert isinstance(out, tg.Tensor)
    np.testing.assert_allclose(out.data, plain)


def test_matmul_and_negation_with_arrays_on_either_side():
    m = np.array([[1.0, 2.0], [3.0, 4.0]])
    t = tg.tensor(m)
    np.testing.assert_allclose((m @ t).data, m @ m)
    np.testing.assert_allclose((t @ m).data, m @ m)
    np.testing.assert_allclose((-t).data, -m)


@given(shapes=tst.broadcastable_shapes(), op=st.sampled_from(["+", "-", "*", "/"]), data=st.data())
def test_broadcast_gradients_sum_back_to_each_input_shape(shapes, op, data):
    a = data.draw(tst.arrays(shapes[0], min_value=-3, max_value=3))
    b = data.draw(tst.arrays(shapes[1], min_value=0.5, max_value=3))
    ta, tb = tg.tensor(a, requires_grad=True), tg.tensor(b, requires_grad=True)
    assert gradcheck(lambda x, y: OPERATORS[op](x, y), [ta, tb])
    out = OPERATORS[op](ta, tb)
    out.backward(np.ones(out.shape))
    assert ta.grad.shape == a.shape and tb.grad.shape == b.shape


@given(x=tst.arrays(tst.shapes(min_dims=1), min_value=0.5, max_value=2), p=st.floats(-2, 3))
def test_power_gradient_in_base_and_exponent(x, p):
    assert gradcheck(lambda t, e: t**e, [tg.tensor(x, requires_grad=True), tg.tensor(p, requires_grad=True)])


@given(a=tst.arrays((3, 4)), b=tst.arrays((4,)), c=tst.arrays((2, 4, 3)))
def test_matmul_gradients_for_matrix_vector_and_batched_shapes(a, b, c):
    ta, tb, tc = (tg.tensor(v, requires_grad=True) for v in (a, b, c))
    assert gradcheck(lambda x, y: x @ y, [ta, tb])  # (3, 4) @ (4,)
    assert gradcheck(lambda y, x: y @ x.T, [tb, ta])  # (4,) @ (4, 3)
    assert gradcheck(lambda y: y @ y, [tb])  # (4,) @ (4,)
    assert gradcheck(lambda x, z: z @ x, [ta, tc])  # (2, 4, 3) @ (3, 4), broadcast batch


# ------------------------------------------------------------------ indexing
def test_indexing_with_repeated_indices_scatters_back_and_adds():
    x = tg.tensor(np.array([10.0, 20.0, 30.0]), requires_grad=True)
    x[[0, 2, 0, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 0.0, 1.0])


@pytest.mark.parametrize(
    "index",
    [1, slice(1, None), (slice(None), 0), (Ellipsis, slice(None, None, -1)), ([0, 1, 1], [2, 0, 2]), np.array([True, False, True])],
    ids=["int", "slice", "row-col", "ellipsis-reverse", "pairs", "mask"],
)
def test_indexing_gradients(index):
    x = tg.tensor(np.arange(12.0).reshape(3, 4) / 7, requires_grad=True)
    assert gradcheck(lambda t: t[index], [x])
    np.testing.assert_array_equal(x[index].data, x.data[index])


def test_indexing_with_a_tensor_of_indices():
    x = tg.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    x[tg.tensor(np.array([2, 2]))].sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 2.0])


# ------------------------------------------------------------------ shapes and reductions
def test_reshape_and_transpose_take_numpys_signatures():
    x = tg.tensor(np.arange(24.0).reshape(2, 3, 4))
    assert x.reshape(6, 4).shape == (6, 4)
    assert x.reshape((4, -1)).shape == (4, 6)
    assert x.transpose(1, 0, 2).shape == (3, 2, 4)
    assert x.transpose((2, 0, 1)).shape == (4, 2, 3)
    assert x.transpose().shape == x.T.shape == (4, 3, 2)


def test_shape_gradients():
    x = tg.tensor(np.random.default_rng(0).standard_normal((2, 3, 4)), requires_grad=True)
    w = np.random.default_rng(1).standard_normal(24)
    assert gradcheck(lambda t: t.reshape(6, 4).reshape(-1) * w, [x])
    assert gradcheck(lambda t: t.transpose(2, 0, 1).reshape(-1) * w, [x])
    assert gradcheck(lambda t: t.T.reshape(-1) * w, [x])


AXES = [None, 0, -1, (0, 2), (1,)]


@pytest.mark.parametrize("reduction", ["sum", "mean", "max"])
@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions_match_numpy_and_their_gradients(reduction, axis, keepdims):
    data = np.random.default_rng(2).standard_normal((2, 3, 4))
    x = tg.tensor(data, requires_grad=True)
    out = getattr(x, reduction)(axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(out.data, getattr(data, reduction)(axis=axis, keepdims=keepdims))
    assert gradcheck(lambda t: getattr(t, reduction)(axis=axis, keepdims=keepdims), [x])


def test_max_splits_the_gradient_between_ties():
    x = tg.tensor(np.array([[1.0, 3.0, 3.0], [2.0, 0.0, 1.0]]), requires_grad=True)
    x.max(axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]])


def test_bad_axis_is_named():
    with pytest.raises(ValueError, match="axis 3 is out of bounds for a tensor with 2 dimension"):
        tg.tensor(np.ones((2, 2))).sum(axis=3)


@pytest.mark.parametrize("fn", ["exp", "log", "sigmoid", "tanh", "relu"])
def test_elementwise_methods_match_numpy(fn):
    data = np.array([0.25, 1.0, 3.0, -0.5])[: 3 if fn == "log" else 4]
    reference = {
        "exp": np.exp,
        "log": np.log,
        "sigmoid": lambda v: 1 / (1 + np.exp(-v)),
        "tanh": np.tanh,
        "relu": lambda v: np.maximum(v, 0),
    }[fn]
    x = tg.tensor(data, requires_grad=True)
    np.testing.assert_allclose(getattr(x, fn)().data, reference(data))
    assert gradcheck(lambda t: getattr(t, fn)(), [x])


def test_a_tensor_with_a_gradient_pickles_and_copies_with_its_values_and_gradient():
    import copy
    import pickle

    w = tg.tensor([1.0, -2.0], requires_grad=True, name="w")
    (w * w).sum().backward()
    for clone in (pickle.loads(pickle.dumps(w)), copy.deepcopy(w)):
        np.testing.assert_array_equal(clone.data, w.data)
        np.testing.assert_array_equal(clone.grad, [2.0, -4.0])
        assert clone.requires_grad and clone.name == "w" and clone.is_leaf


@given(
    st.sampled_from([np.float16, np.float32, np.float64, np.int64]),
    st.one_of(st.floats(-4.0, -0.25), st.floats(0.25, 4.0)),  # no division by zero
    st.sampled_from(["__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__"]),
)
def test_a_python_float_operand_is_a_constant_leaf_of_numpys_result_dtype(dtype, c, op):
    # NumPy's rule for a Python number: it takes the array's float dtype; an integer array
    # becomes float64.
    data = np.array([1.5, -2.0, 3.0]).astype(dtype)
    x = tg.tensor(data, requires_grad=np.issubdtype(dtype, np.floating))
    z = getattr(x, op)(c)
    expected = getattr(data, op)(c)
    assert z.dtype == expected.dtype
    np.testing.assert_array_equal(z.data, expected)
    constant = next(t for t in z.node.inputs if t is not x)
    assert constant.node is None and not constant.requires_grad and constant.grad is None
    assert type(constant.data) is np.ndarray and constant.data.shape == ()
    assert constant.data.flags.writeable  # a leaf's array, as for any constant
