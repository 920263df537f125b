"""L2Penalty: R = (λ/2) Σ‖w‖² and dR/dw = λw, for one or several weight tensors."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import tinygraph as tg
from tinygraph.models import L2Penalty
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
    assert node.formula == "R = (λ/2)‖w‖²"
    assert node.local_derivatives == ("λw", "λw")
