"""check_node proves a right node and catches each kind of wrong one, naming the check that failed."""

import numpy as np
import pytest
from hypothesis import strategies as st

import tinygraph as tg
from tinygraph.testing import CHECKS, GradcheckError, check_node
from tinygraph.testing import strategies as tst


class Cube(tg.Node):
    """a = x³;  da/dx = 3x², ȧ = 3x² ẋ."""

    def forward(self, x):
        self.x = x
        return x**3

    def backward(self, grad):
        return (grad * 3 * self.x**2,)

    def jvp(self, dx):
        return 3 * self.x**2 * dx


# ----------------------------------------------------------------------------- five planted bugs
class WrongDerivative(Cube):
    def backward(self, grad):
        return (grad * 2 * self.x**2,)  # 2x² instead of 3x²


class SignErrorInOneElement(Cube):
    def backward(self, grad):
        g = grad * 3 * self.x**2
        g.flat[0] *= -1  # only the first element has the wrong sign
        return (g,)


class BackwardModifiesItsInput(Cube):
    def backward(self, grad):
        self.x *= 3  # in place: the caller's array changes
        return (grad * self.x**2,)


class Float64Gradient(Cube):
    def backward(self, grad):
        return (grad * 3 * self.x.astype(np.float64) ** 2,)  # float32 in, float64 out


class JvpInconsistentWithBackward(Cube):
    def jvp(self, dx):
        return 3 * self.x * dx  # 3x ẋ: forgets a power of x


PLANTED = [
    (WrongDerivative, "backward vs finite differences"),
    (SignErrorInOneElement, "backward vs finite differences"),
    (BackwardModifiesItsInput, "backward leaves its inputs unchanged"),
    (Float64Gradient, "output and gradient dtypes"),
    (JvpInconsistentWithBackward, "jvp vs backward"),
]


def test_a_right_node_passes_with_drawn_inputs_or_given_strategies():
    check_node(Cube, max_examples=20)
    check_node(Cube, tst.arrays(shape=(3,), elements=tst.floats(-5, 5)), max_examples=10)
    check_node(lambda: tg.nodes.Softmax(axis=0), max_examples=10)


@pytest.mark.parametrize(("node", "check"), PLANTED, ids=[node.__name__ for node, _ in PLANTED])
def test_each_planted_bug_is_caught_by_its_check(node, check):
    assert check in CHECKS
    with pytest.raises(GradcheckError, match=f"check_node: {check} failed for {node.__name__}: ") as caught:
        check_node(node, max_examples=30)
    assert caught.value.check == check and caught.value.node == node.__name__
    assert "; inputs [array(" in str(caught.value)


def test_the_failing_input_is_shrunk_and_the_message_gives_both_values():
    with pytest.raises(GradcheckError) as caught:
        check_node(SignErrorInOneElement, max_examples=30)
    (x,) = caught.value.inputs
    assert x.size <= 2  # hypothesis shrinks an elementwise node's failure to a tiny input
    message = str(caught.value)
    assert "input 0, element (0" in message and "output element (0" in message
    assert "backward " in message and "finite differences " in message


class ForgetsTheIncomingGradient(Cube):
    def backward(self, grad):
        return (3 * self.x**2 + 0 * grad,)


def test_a_forgotten_chain_rule_factor_is_caught_even_for_a_scalar_output():
    # seeded with e_j = 1 the Jacobian looks right; the random incoming gradient v shows the mistake
    with pytest.raises(GradcheckError, match="does not scale with its incoming gradient"):
        check_node(ForgetsTheIncomingGradient, tst.arrays(()), max_examples=20)


class ScaledMul(tg.Node):
    """z = x · y, with a backward that also computes y's gradient when it is not needed."""

    def forward(self, x, y):
        self.x, self.y = x, y
        return x * y

    def backward(self, grad):
        return grad * self.y, grad * self.x


class TwoGradientsForOneInput(Cube):
    def backward(self, grad):
        return grad * 3 * self.x**2, None


class GradientOfTheWrongShape(Cube):
    def backward(self, grad):
        return ((grad * 3 * self.x**2).sum(),)


class ForwardModifiesItsInput(Cube):
    def forward(self, x):
        x += 0.0 * x + 1  # in place
        self.x = x
        return x**3


class Overflows(Cube):
    def forward(self, x):
        self.x = x
        with np.errstate(over="ignore"):
            return np.exp(1000 * x**2)


@pytest.mark.parametrize(
    ("node", "args", "check"),
    [
        (ScaledMul, {}, "no gradient for inputs that need none"),
        (TwoGradientsForOneInput, {}, "one gradient per input"),
        (GradientOfTheWrongShape, {}, "gradient shapes"),
        (ForwardModifiesItsInput, {}, "forward leaves its inputs unchanged"),
        (Overflows, {}, "output is finite"),
    ],
    ids=lambda p: p.__name__ if isinstance(p, type) else "",
)
def test_the_other_contract_checks(node, args, check):
    with pytest.raises(GradcheckError, match=check) as caught:
        check_node(node, max_examples=20, **args)
    assert caught.value.check == check


def test_constants_and_inputs_drawn_together():
    # labels must agree with the logits' rows: one strategy draws both; only the logits are checked
    rows = st.integers(1, 3).flatmap(
        lambda n: st.tuples(tst.arrays((n, 3), min_value=-5, max_value=5), tst.class_labels(n, 3))
    )
    check_node(tg.nodes.SoftmaxCrossEntropy, inputs=rows, max_examples=10)
    with pytest.raises(ValueError, match="not both"):
        check_node(Cube, tst.arrays((2,)), inputs=rows)


class ShowsTwiceDlDa(tg.nodes.SigmoidBCE):
    def backward(self, grad):
        ga, gy, gz = super().backward(grad)
        return (None if ga is None else 2 * ga), gy, gz


def test_a_wrong_shown_gradient_is_caught_through_the_node_that_makes_it():
    after_sigmoid = tst.arrays((2,), min_value=-5, max_value=5).map(
        lambda z: (1 / (1 + np.exp(-z)), np.array([1.0, 0.0]), z)
    )
    check_node(ShowsTwiceDlDa, inputs=after_sigmoid, wrt=(2,), max_examples=5)  # without made_from: not checked
    with pytest.raises(GradcheckError, match=r"shown input 0 \(dL/da, as the loss as a function of a alone"):
        check_node(ShowsTwiceDlDa, inputs=after_sigmoid, wrt=(2,), made_from={0: tg.nodes.Sigmoid}, max_examples=10)
