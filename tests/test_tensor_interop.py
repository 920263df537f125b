"""PyTorch's everyday API and NumPy's ufuncs on tensors: conversions, comparisons, PyTorch's names,
``dim=``, ``requires_grad_`` and ``__array_ufunc__``, each with PyTorch's (or NumPy's) semantics.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygraph as tg
from tinygraph.nodes import (
    Abs,
    Add,
    Clip,
    Div,
    Exp,
    ExpandDims,
    Log,
    MatMul,
    Max,
    Maximum,
    Min,
    Minimum,
    Mul,
    Neg,
    Pow,
    Sqrt,
    Square,
    Sub,
    Tanh,
    Transpose,
)
from tinygraph.testing import gradcheck
from tinygraph.testing import strategies as tst


def _param(x):
    return tg.tensor(np.asarray(x, dtype=float), requires_grad=True)


# ----------------------------------------------------------------------------- float(), int(), bool()
@pytest.mark.parametrize("shape", [(), (1,), (1, 1)])
def test_one_element_tensors_convert_to_python_numbers(shape):
    t = tg.tensor(np.full(shape, 2.75), requires_grad=True)
    assert float(t) == 2.75 and type(float(t)) is float
    assert int(t) == 2  # truncated toward zero, as int(2.75) and PyTorch
    assert int(-t) == -2
    assert bool(t) is True and bool(t * 0) is False


@pytest.mark.parametrize("convert", [float, int, bool])
def test_converting_a_tensor_of_several_elements_is_a_clear_error(convert):
    with pytest.raises(
        ValueError, match=rf"{convert.__name__}\(\) needs a tensor with one element.*shape \(3,\)"
    ):
        convert(tg.tensor([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="shape \\(0,\\)"):
        convert(tg.tensor(np.zeros(0)))


def test_an_integer_tensor_of_one_element_is_an_index():
    items = ["a", "b", "c"]
    assert items[tg.tensor([0.2, 0.9, 0.1]).argmax()] == "b"
    with pytest.raises(TypeError, match="only an integer tensor"):
        items[tg.tensor(1.0)]


# ----------------------------------------------------------------------------- comparisons
OPS = {
    "<": (lambda a, b: a < b, np.less),
    "<=": (lambda a, b: a <= b, np.less_equal),
    ">": (lambda a, b: a > b, np.greater),
    ">=": (lambda a, b: a >= b, np.greater_equal),
    "==": (lambda a, b: a == b, np.equal),
    "!=": (lambda a, b: a != b, np.not_equal),
}


@pytest.mark.parametrize("op", OPS)
def test_comparisons_give_boolean_tensors_outside_the_graph(op):
    compare, reference = OPS[op]
    x = np.array([[-1.0, 0.0, 1.0], [2.0, 1.0, 0.5]])
    other = np.array([0.0, 1.0, 0.5])
    t = tg.tensor(x, requires_grad=True)
    for left, right, expected in [
        (t, 1.0, reference(x, 1.0)),  # a Python number
        (t, tg.tensor(other, requires_grad=True), reference(x, other)),  # a tensor, broadcast
        (t, other, reference(x, other)),  # an ndarray on the right
        (other, t, reference(other, x)),  # an ndarray on the left: through __array_ufunc__
        (1.0, t, reference(1.0, x)),  # a number on the left: Python's reflected comparison
    ]:
        result = compare(left, right)
        assert isinstance(result, tg.Tensor) and result.dtype == np.bool_
        assert not result.requires_grad and result.node is None
        np.testing.assert_array_equal(result.data, expected)


def test_comparing_with_something_that_is_not_a_number_is_pythons_rule():
    t = tg.tensor([1.0, 2.0])
    assert (t == None) is False and (t != None) is True
    with pytest.raises(TypeError):
        t < "a"  # noqa: B015


def test_tensors_stay_hashable_by_identity():
    a, b = tg.tensor([1.0, 2.0]), tg.tensor([1.0, 2.0])
    assert len({a, b}) == 2 and {a: 1}[a] == 1
    assert a in [a] and bool((a == b).all())


def test_a_mask_from_a_comparison_selects_and_its_sum_counts():
    t = tg.tensor([-2.0, 3.0, 0.5], requires_grad=True)
    mask = t > 0
    assert int(mask.sum()) == 2
    assert bool((t > -5).all()) and not bool((t > 5).any())
    t[mask.data].sum().backward()
    np.testing.assert_array_equal(t.grad, [0.0, 1.0, 1.0])


# ----------------------------------------------------------------------------- PyTorch's names
def test_abs_of_a_tensor_records_the_abs_node():
    t = _param([-2.0, 0.5])
    a = abs(t)
    assert type(a.node) is Abs
    a.sum().backward()
    np.testing.assert_array_equal(t.grad, [-1.0, 1.0])


@given(x=tst.arrays(tst.shapes(), min_value=-3, max_value=3))
def test_square_gradient(x):
    assert gradcheck(lambda t: t.square(), [tg.tensor(x, requires_grad=True)])
    assert gradcheck(tg.square, [tg.tensor(x, requires_grad=True)])


def test_square_closed_form_and_node():
    t = _param([-3.0, 0.0, 2.0])
    a = t.square()
    assert type(a.node) is Square
    a.sum().backward()
    np.testing.assert_array_equal(a.data, [9.0, 0.0, 4.0])
    np.testing.assert_array_equal(t.grad, [-6.0, 0.0, 4.0])  # 2x


# Inputs away from the bounds and ties, where the derivative jumps.
AWAY = st.floats(-3, 3).filter(lambda v: min(abs(v - 0.5), abs(v + 0.5)) > 1e-3)


@given(x=st.lists(AWAY, min_size=1, max_size=6))
def test_clamp_gradient(x):
    t = tg.tensor(np.array(x), requires_grad=True)
    assert gradcheck(lambda v: v.clamp(min=-0.5, max=0.5), [t])
    assert gradcheck(lambda v: tg.clamp(v, -0.5), [t])
    assert type(t.clamp(max=0.5).node) is Clip


@given(x=tst.arrays(tst.shapes(min_dims=1), min_value=-3, max_value=3), data=st.data())
def test_amax_and_amin_gradient_on_any_dim(x, data):
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    keepdim = data.draw(st.booleans())
    flat = np.sort(x.ravel())
    if np.any(np.diff(flat) < 1e-3):  # ties split the gradient: a kink for central differences
        x = x + np.arange(x.size).reshape(x.shape) * 1e-2
    for name, node in (("amax", Max), ("amin", Min)):
        t = tg.tensor(x, requires_grad=True)
        assert gradcheck(lambda v, name=name: getattr(v, name)(dim=dim, keepdim=keepdim), [t])
        out = getattr(t, name)(dim=dim, keepdim=keepdim)
        assert type(out.node) is node
        reference = np.max if name == "amax" else np.min
        np.testing.assert_array_equal(out.data, reference(x, axis=dim, keepdims=keepdim))
        np.testing.assert_array_equal(getattr(tg, name)(x, dim=dim).data, reference(x, axis=dim))


@given(shapes=tst.broadcastable_shapes(), data=st.data())
def test_maximum_and_minimum_methods_gradient(shapes, data):
    x = data.draw(tst.arrays(shapes[0], min_value=-3, max_value=3))
    y = data.draw(tst.arrays(shapes[1], min_value=-3, max_value=3))
    if np.any(np.abs(np.subtract(x, y)) < 1e-3):
        y = y + 0.01
    tx, ty = tg.tensor(x, requires_grad=True), tg.tensor(y, requires_grad=True)
    assert gradcheck(lambda a, b: a.maximum(b), [tx, ty])
    assert gradcheck(lambda a, b: a.minimum(b), [tx, ty])


@given(x=tst.arrays(tst.shapes(max_dims=2), min_value=-3, max_value=3), data=st.data())
def test_unsqueeze_and_permute_gradient(x, data):
    dim = data.draw(st.integers(-x.ndim - 1, x.ndim))
    t = tg.tensor(x, requires_grad=True)
    assert gradcheck(lambda v: v.unsqueeze(dim), [t])
    assert (
        t.unsqueeze(dim).shape == np.expand_dims(x, dim).shape and type(t.unsqueeze(dim).node) is ExpandDims
    )
    dims = data.draw(st.permutations(range(x.ndim)))
    assert gradcheck(lambda v: v.permute(*dims), [t])
    assert t.permute(*dims).shape == np.transpose(x, dims).shape and type(t.permute(*dims).node) is Transpose


def test_small_pytorch_names():
    t = tg.tensor(np.arange(6.0).reshape(2, 3))
    assert t.dim() == 2 and t.numel() == 6 and t.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]


# ----------------------------------------------------------------------------- dim= and keepdim=
REDUCTIONS = [
    "sum",
    "mean",
    "max",
    "min",
    "prod",
    "var",
    "std",
    "logsumexp",
    "amax",
    "amin",
    "argmax",
    "argmin",
]


@pytest.mark.parametrize("name", REDUCTIONS)
def test_dim_and_keepdim_are_axis_and_keepdims(name):
    x = np.arange(1.0, 7.0).reshape(2, 3)
    t = tg.tensor(x)
    for axis in (0, 1, -1):
        expected = getattr(t, name)(axis=axis, keepdims=True)
        got = getattr(t, name)(dim=axis, keepdim=True)
        assert got.shape == expected.shape
        np.testing.assert_array_equal(got.data, expected.data)
    with pytest.raises(TypeError, match="both dim= and axis="):
        getattr(t, name)(0, dim=0)
    with pytest.raises(TypeError, match="both keepdim= and keepdims="):
        getattr(t, name)(axis=0, keepdims=True, keepdim=True)


@pytest.mark.parametrize("fn", [tg.sum, tg.mean, tg.max, tg.min, tg.prod, tg.var, tg.std, tg.logsumexp])
def test_the_functional_reductions_take_dim_too(fn):
    x = np.arange(1.0, 7.0).reshape(2, 3)
    np.testing.assert_array_equal(fn(x, dim=1, keepdim=True).data, fn(x, axis=1, keepdims=True).data)


def test_softmax_squeeze_and_concatenate_take_dim():
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(tg.softmax(x, dim=0).data, tg.softmax(x, axis=0).data)
    np.testing.assert_array_equal(tg.log_softmax(x, dim=0).data, tg.log_softmax(x, axis=0).data)
    assert tg.tensor(np.zeros((2, 1))).squeeze(dim=1).shape == (2,)
    assert tg.concatenate([x, x], dim=1).shape == (2, 6) and tg.stack([x, x], dim=2).shape == (2, 3, 2)


# ----------------------------------------------------------------------------- requires_grad_()
def test_requires_grad_in_place_on_a_leaf_returns_the_tensor():
    w = tg.tensor([1.0, 2.0])
    assert w.requires_grad_() is w and w.requires_grad
    (w * w).sum().backward()
    np.testing.assert_array_equal(w.grad, [2.0, 4.0])
    assert not w.requires_grad_(False).requires_grad


def test_requires_grad_refuses_integers_and_computed_tensors():
    with pytest.raises(TypeError, match="only floating-point tensors"):
        tg.tensor(np.arange(3)).requires_grad_()
    z = _param([1.0]) * 2
    assert z.requires_grad_() is z  # already true: nothing changes, as in PyTorch
    with pytest.raises(RuntimeError, match="only a leaf's requires_grad can be changed.*Mul.*detach"):
        z.requires_grad_(False)


# ----------------------------------------------------------------------------- NumPy's ufuncs
UNARY = [
    (np.exp, Exp, -3, 3),
    (np.log, Log, 0.1, 5),
    (np.tanh, Tanh, -3, 3),
    (np.sqrt, Sqrt, 0.1, 5),
    (np.square, Square, -3, 3),
    (np.abs, Abs, 0.1, 3),
    (np.negative, Neg, -3, 3),
]


@pytest.mark.parametrize("ufunc, node, low, high", UNARY, ids=[u[0].__name__ for u in UNARY])
@given(data=st.data())
def test_a_unary_ufunc_records_tinygraphs_node_and_its_gradient(ufunc, node, low, high, data):
    x = data.draw(tst.arrays(tst.shapes(), min_value=low, max_value=high))
    t = tg.tensor(x, requires_grad=True)
    out = ufunc(t)
    assert isinstance(out, tg.Tensor) and type(out.node) is node and out.requires_grad
    np.testing.assert_allclose(out.data, ufunc(x), rtol=1e-15)
    assert gradcheck(ufunc, [tg.tensor(x, requires_grad=True)])


BINARY = [
    (np.add, Add),
    (np.subtract, Sub),
    (np.multiply, Mul),
    (np.divide, Div),
    (np.power, Pow),
    (np.maximum, Maximum),
    (np.minimum, Minimum),
]


@pytest.mark.parametrize("ufunc, node", BINARY, ids=[u[0].__name__ for u in BINARY])
def test_a_binary_ufunc_records_the_node_with_an_array_on_either_side(ufunc, node):
    x = np.array([0.5, 1.5, 2.5])
    c = np.array([1.2, 0.7, 3.0])
    for left_is_tensor in (True, False):
        t = tg.tensor(x, requires_grad=True)
        out = ufunc(t, c) if left_is_tensor else ufunc(c, t)
        assert type(out.node) is node
        np.testing.assert_allclose(out.data, ufunc(x, c) if left_is_tensor else ufunc(c, x))
        assert gradcheck(lambda v, left=left_is_tensor: ufunc(v, c) if left else ufunc(c, v), [t])


def test_np_maximum_with_zero_is_a_relu_with_its_gradient():
    t = _param([-1.0, 2.0])
    np.maximum(t, 0).sum().backward()
    np.testing.assert_array_equal(t.grad, [0.0, 1.0])


def test_ndarray_operators_on_the_left_still_record_the_reflected_node():
    X = np.array([[1.0, 2.0], [3.0, 4.0]])
    w = _param([0.5, -1.0])
    z = X @ w
    assert type(z.node) is MatMul and z.node.inputs[1] is w
    np.testing.assert_array_equal(z.data, X @ w.data)
    y = np.array([1.0, 0.0])
    for out, node in [(y - z, Sub), (y + z, Add), (y * z, Mul), (y / (z + 5), Div), (2.0**z, Pow)]:
        assert isinstance(out, tg.Tensor) and type(out.node) is node
    (y - z).sum().backward()
    np.testing.assert_array_equal(w.grad, -X.sum(axis=0))


def test_a_python_number_on_the_left_takes_the_tensors_dtype_through_numpy_too():
    t = tg.tensor(np.ones(2, dtype=np.float32))
    assert np.add(np.float64(1.0), t).dtype == np.float32 and (np.float64(2.0) * t).dtype == np.float32


@pytest.mark.parametrize("ufunc", [np.isfinite, np.isnan, np.signbit])
def test_a_boolean_ufunc_gives_a_boolean_tensor(ufunc):
    x = np.array([-1.0, np.inf, np.nan])
    out = ufunc(tg.tensor(x))
    assert out.dtype == np.bool_ and not out.requires_grad
    np.testing.assert_array_equal(out.data, ufunc(x))


def test_a_ufunc_without_a_node_is_a_type_error_naming_it_and_what_to_use():
    t = _param([1.0, 2.0])
    with pytest.raises(
        TypeError, match=r"no node for np\.arctan: use a Tensor method, or a Node of your own"
    ):
        np.arctan(t)
    with pytest.raises(TypeError, match=r"no node for np\.log2: use t\.log\(\) / math\.log\(2\)"):
        np.log2(t)
    with pytest.raises(TypeError, match=r"no node for np\.add\.reduce: use t\.sum\(axis\)"):
        np.add.reduce(t)
    with pytest.raises(TypeError, match=r"np\.exp on a tensor takes no keyword arguments \(out\)"):
        np.exp(t, out=np.zeros(2))


# ----------------------------------------------------------------------------- diagrams
def test_diagrams_show_the_formula_and_local_derivative_of_each_new_name():
    x = tg.tensor(np.array([-1.0, 0.5, 2.0]), requires_grad=True, name="x")
    cases = {
        "a = x²": (x.square(), "2x"),
        "a = clip(x, low, high)": (x.clamp(min=0.0), "1 inside [low, high], else 0"),
        "m = max(x)": (x.amax(dim=0), "1 at the max"),
        "m = min(x)": (x.amin(dim=0), "1 at the min"),
        "y = expand_dims(x)": (x.unsqueeze(0), "reshape back"),
    }
    for formula, (out, derivative) in cases.items():
        out.sum().backward()
        source = tg.draw(out.sum()).source
        assert formula in source and derivative in source
        x.grad = None


def test_numpy_reads_a_tensors_values_not_a_sequence_of_one_element_tensors():
    t = tg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    values = np.array(t)
    assert values.dtype == np.float64 and values.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert np.asarray(t, dtype=np.float32).dtype == np.float32
    assert np.shape(t) == (2, 2) and np.allclose(t, t.data)


@pytest.mark.parametrize(
    ("call", "hint"),
    [(lambda t: np.sum(t, axis=0), "t.sum"), (lambda t: np.reshape(t, 4), "t.reshape"),
     (lambda t: np.concatenate([t, t]), "tg.concatenate"), (lambda t: np.cumsum(t), "tg.cumsum")],
)
def test_a_numpy_function_on_a_tensor_is_a_type_error_not_an_array_outside_the_graph(call, hint):
    t = tg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    with pytest.raises(TypeError, match=rf"np\.\w+ on a tensor: use {hint}"):
        call(t)


@given(
    x=tst.arrays(st.tuples(st.integers(0, 3), st.integers(1, 3))),
    low=st.floats(-2, 0),
    width=st.floats(0, 2),
    spelling=st.sampled_from(["positional", "a_min", "min"]),
)
def test_np_clip_on_a_tensor_records_clip_with_numpys_values_and_the_indicator_gradient(x, low, width, spelling):
    t = _param(x)
    high = low + width
    bounds = {"positional": ((low, high), {}), "a_min": ((), {"a_min": low, "a_max": high}), "min": ((), {"min": low, "max": high})}
    args, kwargs = bounds[spelling]
    out = np.clip(t, *args, **kwargs)
    assert isinstance(out, tg.Tensor) and isinstance(out.node, Clip)
    np.testing.assert_array_equal(out.data, np.clip(x, low, high))
    out.sum().backward()
    np.testing.assert_array_equal(t.grad, ((x >= low) & (x <= high)).astype(float))  # 1 inside, bounds included


def test_np_clip_refuses_what_clip_cannot_record_and_says_what_to_use():
    t = _param([-1.0, 0.5, 2.0])
    with pytest.raises(TypeError, match=r"takes only the bounds, not out: use t\.clip\(low, high\)"):
        np.clip(t, 0, 1, out=np.zeros(3))
    with pytest.raises(TypeError, match=r"tg\.minimum\(tg\.maximum\(x, low\), high\)"):
        np.clip(np.ones(3), t, 2.0)
    np.testing.assert_array_equal(np.clip(t, None, 1.0).data, [-1.0, 0.5, 1.0])  # None: no bound, as NumPy
