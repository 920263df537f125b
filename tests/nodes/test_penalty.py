"""L2Penalty and tg.l2_penalty: R = (λ/2) Σ‖w‖² and dR/dw = λw, for one or several weight tensors."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import tinygraph as tg
from tinygraph import models
from tinygraph.nodes import L2Penalty
from tinygraph.testing import gradcheck
from tinygraph.testing import strategies as tst


@given(w=tst.arrays(tst.shapes(1, 2)), v=tst.arrays((3,)), lam=st.floats(0, 5))
def test_value_and_gradient(w, v, lam):
    tw, tv = tg.tensor(w, requires_grad=True), tg.tensor(v, requires_grad=True)
    r = L2Penalty(lam)(tw, tv)
    np.testing.assert_allclose(r.item(), lam / 2 * (np.sum(w**2) + np.sum(v**2)), rtol=1e-12, atol=1e-300)
    r.backward()
    np.testing.assert_allclose(tw.grad, lam * w, rtol=1e-15)
    np.testing.assert_allclose(tv.grad, lam * v, rtol=1e-15)
    assert gradcheck(lambda a, b: L2Penalty(lam)(a, b), [tw, tv])


def test_it_shows_its_formula_and_the_local_derivative_on_each_edge():
    node = L2Penalty(0.1)
    node(tg.tensor(np.ones(2), requires_grad=True), tg.tensor(np.ones((2, 2)), requires_grad=True))
    assert node.formula == "R = (λ/2)(‖w₁‖² + ‖w₂‖²)" and node.symbols == ("w₁", "w₂")
    assert node.local_derivatives == ("λw₁", "λw₂")
    one = L2Penalty(0.1)
    one(tg.tensor(np.ones(2), requires_grad=True))
    assert (one.formula, one.local_derivatives) == ("R = (λ/2)‖w‖²", ("λw",))


@given(w=tst.arrays(tst.shapes(1, 2), min_value=-10, max_value=10), lam=st.floats(0, 5))
def test_the_function_is_one_node_with_the_hand_formula_and_finite_difference_gradients(w, lam):
    tw = tg.tensor(w, requires_grad=True)
    r = tg.l2_penalty(lam, tw)
    assert type(r.node) is L2Penalty and len(r.node.inputs) == 1 and r.node.inputs[0] is tw and r.shape == ()
    np.testing.assert_allclose(r.item(), lam / 2 * np.sum(w * w), rtol=1e-12, atol=1e-300)
    r.backward()
    np.testing.assert_allclose(tw.grad, lam * w, rtol=1e-15)  # dR/dw = λw
    assert gradcheck(lambda a: tg.l2_penalty(lam, a), [tw])


def test_the_models_name_the_same_class():
    assert models.L2Penalty is L2Penalty
