"""The Node contract: user-defined nodes work like built-in ones, and broken backwards are named."""

import numpy as np
import pytest

import tinygraph as tg
from tinygraph.tensor import record
from tinygraph.testing import gradcheck


class Cube(tg.Node):
    """y = x³;  dy/dx = 3x²."""

    def forward(self, x):
        self.x = x
        return x**3

    def backward(self, grad):
        return (grad * 3 * self.x**2,)


class WrongCount(tg.Node):
    def forward(self, x, y):
        return x * y

    def backward(self, grad):
        return (grad,)


class WrongShape(tg.Node):
    def forward(self, x):
        return x.sum()

    def backward(self, grad):
        return (np.ones(7),)


def test_user_node_backward_matches_its_derivative():
    x = tg.tensor(np.array([1.0, -2.0, 0.5]), requires_grad=True)
    Cube()(x).sum().backward()
    np.testing.assert_allclose(x.grad, 3 * x.data**2)


def test_user_node_passes_gradcheck_inside_a_larger_graph():
    x = tg.tensor(np.array([[0.3, -0.7], [1.1, 0.2]]), requires_grad=True)
    assert gradcheck(lambda t: tg.sigmoid(Cube()(t) @ t).sum(), [x])


def test_user_node_accepts_arrays_and_numbers():
    out = Cube()(2.0)
    assert out.item() == 8.0 and out.node.inputs[0].item() == 2.0


def test_wrong_number_of_gradients_names_the_node():
    a = tg.tensor(1.0, requires_grad=True)
    with pytest.raises(TypeError, match=r"WrongCount\.backward returned 1 gradient\(s\) but the node has 2 input"):
        WrongCount()(a, a).backward()


def test_wrong_gradient_shape_names_node_input_and_both_shapes():
    x = tg.tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(ValueError, match=r"WrongShape\.backward: gradient for input 0 has shape \(7,\) but the input has shape \(2, 3\)"):
        WrongShape()(x).backward()


def test_a_node_instance_records_one_call():
    node = Cube()
    node(tg.tensor(1.0))
    with pytest.raises(RuntimeError, match=r"already called.*Cube\(\)\(x\)"):
        node(tg.tensor(2.0))


def test_shape_errors_from_numpy_are_prefixed_with_the_node():
    with pytest.raises(ValueError, match=r"^Add: .*input shapes \(3,\), \(4,\)"):
        tg.tensor(np.ones(3)) + np.ones(4)


def test_a_node_without_backward_says_what_to_define():
    class NoBackward(tg.Node):
        def forward(self, x):
            return x

    x = tg.tensor(1.0, requires_grad=True)
    with pytest.raises(NotImplementedError, match="NoBackward must define backward"):
        NoBackward()(x).backward()


def test_needs_grad_tells_backward_which_inputs_to_skip():
    seen = {}

    class Spy(tg.Node):
        def forward(self, x, y):
            return x * y

        def backward(self, grad):
            seen["needs"] = self.needs_grad
            return grad * self.inputs[1].data, None

    w = tg.tensor(2.0, requires_grad=True)
    Spy()(w, tg.tensor(5.0)).backward()
    assert seen["needs"] == (True, False) and w.grad == 5.0


def test_backward_may_return_a_bare_array_for_a_single_input():
    class Double(tg.Node):
        def forward(self, x):
            return 2 * x

        def backward(self, grad):
            return 2 * grad

    x = tg.tensor(np.ones(2), requires_grad=True)
    Double()(x).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])


# ----------------------------------------------------------------------------- read-only outputs
class Identity(tg.Node):
    """y = x, returning the very input array."""

    def forward(self, x):
        return x

    def backward(self, grad):
        return (grad,)


def test_writing_into_a_recorded_output_raises_instead_of_corrupting_the_gradient():
    z = tg.tensor([0.0, 1.0], requires_grad=True)
    a = tg.sigmoid(z)
    L = a.sum()
    with pytest.raises(ValueError, match="assignment destination is read-only"):
        a.data[...] = 0.9  # Sigmoid's backward uses a: this once gave z.grad = [0.45, 0.242]
    with pytest.raises(ValueError, match="output array is read-only"):
        a.numpy()[:] += 1
    L.backward()
    np.testing.assert_allclose(z.grad, [0.25, 0.19661193324148185])


@pytest.mark.parametrize(
    "op",
    [
        lambda x: x * 2,
        lambda x: x + 1,
        lambda x: x.sum(),
        lambda x: x.reshape(3, 2),
        lambda x: x[0],
        lambda x: x.T,
        lambda x: x.exp(),
        lambda x: tg.linear(x, tg.tensor(np.ones(3))),
        lambda x: Identity()(x),
    ],
    ids=["mul", "add", "sum", "reshape", "getitem", "transpose", "exp", "linear", "identity"],
)
def test_every_output_is_read_only_while_the_leaves_stay_writable(op):
    w = tg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    out = op(w)
    assert not out.data.flags.writeable
    assert w.data.flags.writeable  # also when the output is a view of the leaf, or the leaf itself
    out.sum().backward()
    w.data -= 0.1 * w.grad  # the lecture's update, in place on the leaf
    w.data[0, 0] = 5.0


def test_an_output_that_needs_no_gradient_is_read_only_too_as_a_later_node_may_save_it():
    a = tg.sigmoid(tg.tensor([0.0, 1.0]))  # data only: no gradient for a itself
    w = tg.tensor([1.0, 1.0], requires_grad=True)
    (a * w).sum().backward()  # Mul saved a for dL/dw
    assert not a.requires_grad and not a.data.flags.writeable
    np.testing.assert_allclose(w.grad, a.data)


def test_under_no_grad_outputs_are_plain_writable_arrays():
    z = tg.tensor([0.0, 1.0], requires_grad=True)
    with tg.no_grad():
        a = tg.sigmoid(z)
    a.data[0] = 1.0  # nothing was recorded that could use it
    assert a.data[0] == 1.0


def test_a_copy_of_a_recorded_output_is_an_ordinary_array():
    a = tg.sigmoid(tg.tensor([0.0, 1.0], requires_grad=True))
    values = a.numpy().copy()
    values[0] = 1.0
    assert a.data[0] == 0.5


class Weighted(tg.Node):
    """z = Σ_k (k + 1) x_k over any number of inputs;  dz/dx_k = k + 1."""

    def forward(self, *xs):
        return sum((k + 1) * x for k, x in enumerate(xs))

    def backward(self, grad):
        return tuple(grad * (k + 1) if need else None for k, need in enumerate(self.needs_grad))


class Constant(tg.Node):
    """z = 1, a node of no inputs."""

    def forward(self):
        return np.ones(2)

    def backward(self, grad):
        return ()


@pytest.mark.parametrize("arity", [0, 1, 2, 3])
def test_a_node_called_on_any_number_of_inputs_is_called_once(arity):
    node = Weighted() if arity else Constant()
    inputs = [tg.tensor(np.ones(2), requires_grad=True) for _ in range(arity)]
    node(*inputs)
    assert node.inputs == tuple(inputs) and all(a is b for a, b in zip(node.inputs, inputs))
    for other in range(4):  # a second call, on any number of inputs, is refused
        with pytest.raises(RuntimeError, match=rf"this {type(node).__name__} instance was already called"):
            node(*[tg.tensor(np.ones(2)) for _ in range(other)])


@pytest.mark.parametrize("arity", [0, 1, 2, 3])
def test_inputs_set_by_hand_read_back_as_the_same_tuple(arity):
    node = Weighted()
    inputs = tuple(tg.tensor(np.full(2, k)) for k in range(arity))
    node.inputs = (tg.tensor(0.0),) * (3 - arity)  # replaced whole by the next assignment
    node.inputs = list(inputs)
    assert type(node.inputs) is tuple and len(node.inputs) == arity
    assert all(a is b for a, b in zip(node.inputs, inputs))


def test_a_node_not_yet_called_has_no_inputs():
    node = Cube()
    assert node.inputs is None and node.needs_grad == ()
    assert "inputs" not in vars(node)  # read from the class until the call


@pytest.mark.parametrize("arity", [1, 2, 3])
@pytest.mark.parametrize("pattern", range(8))
def test_every_call_records_its_tensors_and_which_need_a_gradient(arity, pattern):
    requires = [bool(pattern >> k & 1) for k in range(arity)]
    values = [np.array([1.0, -2.0]) * (k + 1) for k in range(arity)]
    inputs = [tg.tensor(v, requires_grad=r) for v, r in zip(values, requires)]
    inputs[-1] = inputs[-1] if requires[-1] else values[-1]  # an array: wrapped as a constant leaf
    node = Weighted()
    z = node(*inputs)
    assert type(node.inputs) is tuple and len(node.inputs) == arity
    assert all(isinstance(t, tg.Tensor) for t in node.inputs)
    assert all(a is b for a, b in zip(node.inputs, inputs[:-1]))
    assert node.needs_grad == tuple(requires)
    assert z.requires_grad is any(requires) and z.node is node and z.grad is None and z.name is None
    np.testing.assert_array_equal(z.data, sum((k + 1) * v for k, v in enumerate(values)))
    if any(requires):
        z.sum().backward()
        for k, (t, r) in enumerate(zip(node.inputs, requires)):
            if r:
                np.testing.assert_array_equal(t.grad, np.full(2, k + 1.0))
            else:
                assert t.grad is None


def test_record_takes_a_list_of_inputs_as_a_tuple():
    x = tg.tensor(2.0, requires_grad=True)
    node = Cube()
    y = record(node, [x])
    assert type(node.inputs) is tuple and len(node.inputs) == 1 and node.inputs[0] is x
    assert y.item() == 8.0
