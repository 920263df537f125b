"""gradcheck itself: it passes right gradients and catches wrong ones, naming input and element."""

import numpy as np
import pytest

import tinygraph as tg
from tinygraph.testing import GradcheckError, gradcheck


class SquareWithWrongBackward(tg.Node):
    """y = x², but backward returns 3x instead of 2x: the mistake gradcheck must catch."""

    def forward(self, x):
        self.x = x
        return x**2

    def backward(self, grad):
        return (grad * 3 * self.x,)


class ForgetsOneInput(tg.Node):
    """z = x · y, but backward gives nothing for y."""

    def forward(self, x, y):
        self.x, self.y = x, y
        return x * y

    def backward(self, grad):
        return grad * self.y, None


def test_a_wrong_backward_is_caught_with_input_element_and_both_values():
    x = tg.tensor(np.array([1.0, 2.0]), requires_grad=True, name="x")
    with pytest.raises(GradcheckError, match=r"input 0 \(x\) of shape \(2,\), element \(0,\): analytic 3.0, numeric 2.0\d*"):
        gradcheck(lambda t: SquareWithWrongBackward()(t).sum(), [x])


def test_a_missing_gradient_is_caught():
    x = tg.tensor(np.array([1.0]), requires_grad=True)
    y = tg.tensor(np.array([5.0]), requires_grad=True)
    with pytest.raises(GradcheckError, match=r"input 1 of shape \(1,\), element \(0,\): analytic 0.0, numeric 1.0"):
        gradcheck(lambda a, b: ForgetsOneInput()(a, b).sum(), [x, y])


def test_non_scalar_outputs_are_checked_through_the_jacobian_or_random_projections():
    x = tg.tensor(np.array([[0.5, -1.0], [2.0, 0.3]]), requires_grad=True)
    for jacobian in ("auto", "full", "projections"):
        assert gradcheck(lambda t: t @ t, [x], jacobian=jacobian)
        with pytest.raises(GradcheckError, match="full Jacobian" if jacobian != "projections" else "random projection"):
            gradcheck(lambda t: SquareWithWrongBackward()(t), [x], jacobian=jacobian)


def test_only_inputs_that_require_grad_are_checked_and_constants_stay_constant():
    y = np.array([1.0, 0.0])
    p = tg.tensor(np.array([0.3, 0.6]), requires_grad=True)
    assert gradcheck(lambda a, t: tg.bce(a, t), [p, y])
    with pytest.raises(ValueError, match="no input requires grad"):
        gradcheck(lambda a: a * 2, [np.ones(2)])


def test_float32_inputs_are_checked_in_float64_and_left_untouched():
    x = tg.tensor(np.array([0.1, 0.2], dtype=np.float32), requires_grad=True)
    before = x.data.copy()
    assert gradcheck(tg.sigmoid, [x])
    assert x.data.dtype == np.float32 and x.grad is None
    np.testing.assert_array_equal(x.data, before)


def test_tolerances_are_used():
    x = tg.tensor(np.array([1.0]), requires_grad=True)
    # the wrong derivative 3x vs 2x passes only with a tolerance wide enough to hide it
    assert gradcheck(lambda t: SquareWithWrongBackward()(t).sum(), [x], atol=1.01, rtol=0)


class SoftmaxWithOneWrongEntry(tg.Node):
    """softmax of two logits, whose backward gets ∂a_1/∂z_0 wrong (+ instead of −)."""

    def forward(self, z):
        self.a = np.exp(z) / np.exp(z).sum()
        return self.a

    def backward(self, grad):
        a = self.a
        jacobian = np.diag(a) - np.outer(a, a)
        jacobian[1, 0] *= -1
        return (jacobian.T @ grad,)


def test_a_small_non_scalar_output_is_checked_entry_by_entry_naming_the_output_element():
    z = tg.tensor(np.array([2.0, 0.0]), requires_grad=True)
    with pytest.raises(GradcheckError) as caught:
        gradcheck(lambda t: SoftmaxWithOneWrongEntry()(t), [z])
    message = str(caught.value)
    assert "input 0 of shape (2,), element (0,): analytic 0.1049935854035065, numeric -0.104993585" in message
    assert message.endswith("compared: full Jacobian, output element (1,) of shape (2,)")


def test_a_large_output_is_checked_along_projections_and_the_report_says_so_per_element():
    x = tg.tensor(np.linspace(-1, 1, 20), requires_grad=True)
    with pytest.raises(GradcheckError) as caught:
        gradcheck(lambda t: SquareWithWrongBackward()(t), [x])
    message = str(caught.value)
    assert "compared: random projection 1 of 2: ⟨v, f⟩ for f of shape (20,)" in message
    assert "per output element j, ∂f_j/∂x[0] of input 0:" in message
    assert "  output (0,): analytic -3, numeric -2  <- differs" in message
    assert "  output (1,): analytic 0, numeric 0\n" in message
    with pytest.raises(ValueError, match="jacobian must be"):
        gradcheck(tg.sigmoid, [x], jacobian="some")
