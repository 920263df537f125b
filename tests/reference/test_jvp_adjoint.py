"""Forward mode agrees with reverse mode: ⟨v, J t⟩ = ⟨Jᵀ v, t⟩ for each node that defines ``jvp``.

``jvp(t)`` applies the Jacobian J of the node's last forward call to tangents t; ``backward(v)``
applies Jᵀ to v. Both are linear, so for random v and t the two inner products must agree; the
inputs come from the op table, with all its axes, shapes and dtypes.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from reference_ops import BY_NAME

import tinygraph as tg
from tinygraph import _array

WITH_JVP = [
    "abs", "sqrt", "log1p", "expm1", "softplus", "sin", "cos", "clip", "maximum", "minimum", "where",
    "min", "prod", "var", "std", "logsumexp",
    "concatenate", "stack", "squeeze", "expand_dims", "flip", "broadcast_to",
    "einsum", "tensordot",
]  # fmt: skip


@pytest.mark.parametrize("name", WITH_JVP)
@given(data=st.data())
def test_jvp_is_the_adjoint_of_backward(name, data):
    op = BY_NAME[name]
    case = data.draw(op.cases, label="case")
    tensors = [tg.tensor(x, requires_grad=i in op.grad and x.dtype.kind == "f") for i, x in enumerate(case.inputs)]
    out = op.fn(*tensors, **case.kwargs)
    node = out.node
    assert type(node).jvp is not tg.Node.__dict__.get("jvp"), f"{type(node).__name__} defines jvp"
    rng = np.random.default_rng(out.size)
    tangents = [rng.standard_normal(t.shape) if t.requires_grad else None for t in tensors]
    v = rng.standard_normal(out.shape)
    forward = np.sum(v * node.jvp(*tangents))
    backward = sum(
        np.sum(_array.unbroadcast(np.asarray(g), t.shape) * tangent)
        for g, t, tangent in zip(node.backward(v), tensors, tangents)
        if tangent is not None
    )
    np.testing.assert_allclose(forward, backward, rtol=1e-9, atol=1e-9)


def test_a_missing_tangent_means_zero():
    x = tg.tensor(np.array([1.0, -2.0]), requires_grad=True)
    node = tg.maximum(x, np.array([0.0, 0.0])).node
    np.testing.assert_array_equal(node.jvp(np.ones(2), None), [1.0, 0.0])
    np.testing.assert_array_equal(node.jvp(None, None), [0.0, 0.0])
