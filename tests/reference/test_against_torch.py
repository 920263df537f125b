"""Optional: every operation of the op table against PyTorch, values and gradients, in float64.

Skipped when PyTorch is not installed; tinygraph never needs it (``pip install torch==2.13.0``
installs a CPU build for this comparison). The always-on reference is ``test_against_numpy.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference_ops import OPS

import tinygraph as tg

try:
    import torch
except ImportError:  # a broken install skips too, not only a missing one
    pytest.skip("PyTorch is not installed (pip install torch==2.13.0 for this comparison)", allow_module_level=True)


def _to_torch(x: np.ndarray, requires_grad: bool):
    return torch.tensor(x, dtype=torch.float64 if x.dtype.kind == "f" else None, requires_grad=requires_grad)


@pytest.mark.parametrize("op", [op for op in OPS if op.torch is not None], ids=str)
@settings(max_examples=max(10, settings.default.max_examples // 2))  # a second opinion: half the examples
@given(data=st.data())
def test_value_and_gradient_match_torch(op, data):
    case = data.draw(op.cases, label="case")
    checked = [i for i in op.grad if i < len(case.inputs)]
    tensors = [tg.tensor(x, requires_grad=i in checked) for i, x in enumerate(case.inputs)]
    theirs = [_to_torch(x, i in checked) for i, x in enumerate(case.inputs)]
    out = op.fn(*tensors, **case.kwargs)
    expected = op.torch(torch, *theirs, **case.kwargs)
    assert out.shape == tuple(expected.shape)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-9, atol=1e-12)
    if not checked or out.size == 0:
        return
    v = np.random.default_rng(out.size).standard_normal(out.shape)
    (out * v).sum().backward()
    (expected * torch.tensor(v)).sum().backward()
    for i in checked:
        reference = theirs[i].grad
        reference = np.zeros(case.inputs[i].shape) if reference is None else reference.numpy()
        np.testing.assert_allclose(tensors[i].grad, reference, rtol=1e-9, atol=1e-12, err_msg=f"input {i}")


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_ties_split_like_torch(name):
    x, y = np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 3.0])
    a, b = tg.tensor(x, requires_grad=True), tg.tensor(y, requires_grad=True)
    ta, tb = torch.tensor(x, requires_grad=True), torch.tensor(y, requires_grad=True)
    getattr(tg, name)(a, b).sum().backward()
    getattr(torch, name)(ta, tb).sum().backward()
    np.testing.assert_array_equal(a.grad, ta.grad.numpy())
    np.testing.assert_array_equal(b.grad, tb.grad.numpy())
