"""The Node contract: user-defined nodes work like built-in ones, and broken backwards are named."""

import numpy as np
import pytest

import tinygraph as tg
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
