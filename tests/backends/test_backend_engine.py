"""The engine on every back end: chains, diamonds, accumulation, broadcasting, the logistic step.

Each graph is built twice, on NumPy and on the back end, and every gradient must match NumPy's
to 1e-12 while staying an array of the back end. Dask graphs are checked to stay lazy: nothing is
computed until the test asks for a value.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tinygraph as tg
from tinygraph import _array

RNG = np.random.default_rng(0)
X = RNG.standard_normal((10, 4))
Y = (RNG.random(10) > 0.5).astype(np.float64)
W = RNG.standard_normal(4)


def same(value, expected, backend) -> None:
    assert isinstance(value, backend.array_type) or np.ndim(expected) == 0
    np.testing.assert_allclose(_array.to_numpy(value), expected, rtol=1e-12, atol=1e-12)


def logistic_step(x, y, w, b):
    """The lecture's graph, x → Linear → Sigmoid → BCE, and its gradients for w and b."""
    w, b = tg.tensor(w, requires_grad=True, name="w"), tg.tensor(b, requires_grad=True, name="b")
    loss = tg.bce(tg.sigmoid(tg.linear(tg.tensor(x), w, b)), tg.tensor(y))
    loss.backward()
    return loss.data, w.grad, b.grad


def test_logistic_regression_step_equals_numpys(backend):
    expected = logistic_step(X, Y, W, np.array(0.3))
    for value, reference in zip(logistic_step(backend(X), backend(Y), backend(W), backend(np.array(0.3))), expected):
        same(value, reference, backend)


def test_gradient_equals_the_lectures_closed_form(backend):
    _, gw, gb = logistic_step(backend(X), backend(Y), backend(W), backend(np.array(0.0)))
    a = 1 / (1 + np.exp(-(X @ W)))
    same(gw, X.T @ (a - Y) / len(Y), backend)
    same(gb, np.mean(a - Y), backend)


def test_numpy_parameters_with_dask_data_give_dask_gradients():
    da = pytest.importorskip("dask.array")
    x, y = da.from_array(X, chunks=3), da.from_array(Y, chunks=3)
    loss, gw, gb = logistic_step(x, y, W, np.array(0.3))
    expected = logistic_step(X, Y, W, np.array(0.3))
    assert isinstance(loss, da.Array) and isinstance(gw, da.Array)  # lazy, for one compute per step
    for value, reference in zip(da.compute(loss, gw, gb, scheduler="synchronous"), expected):
        np.testing.assert_allclose(value, reference, rtol=1e-12, atol=1e-15)


def test_chain_and_diamond(backend):
    def graph(data):
        x = tg.tensor(data, requires_grad=True)
        h = x
        for _ in range(20):  # a chain
            h = tg.tanh(h) * 0.9 + 0.1
        shared = tg.exp(h * 0.1)  # a diamond: one tensor feeds two nodes
        (tg.sin(shared) * tg.cos(shared)).sum().backward()
        return x.grad

    same(graph(backend(X)), graph(X), backend)


def test_gradients_accumulate_over_backward_calls(backend):
    def twice(data):
        x = tg.tensor(data, requires_grad=True)
        for _ in range(2):
            (x * x).sum().backward()
        return x.grad

    same(twice(backend(W)), 4 * W, backend)


def test_broadcast_gradients_are_summed_back(backend):
    def graph(x, row, scalar):
        tensors = [tg.tensor(a, requires_grad=True) for a in (x, row, scalar)]
        ((tensors[0] + tensors[1]) * tensors[2]).sum().backward()
        return [t.grad for t in tensors]

    args = (X, RNG.standard_normal((1, 4)), np.array(1.5))
    for value, reference in zip(graph(*map(backend, args)), graph(*args)):
        same(value, reference, backend)
    assert tuple(graph(*map(backend, args))[1].shape) == (1, 4)


def test_a_dask_graph_is_not_computed_until_asked():
    da = pytest.importorskip("dask.array")
    computed = []

    def counted(block):
        if block.size:  # Dask calls it once on an empty block to learn the result's type
            computed.append(block.shape)
        return block

    x = da.from_array(X, chunks=3).map_blocks(counted, dtype=X.dtype)
    _, gw, _ = logistic_step(x, da.from_array(Y, chunks=3), W, np.array(0.3))
    text = repr(tg.tensor(x))
    assert computed == [] and "dask.array" in text and "chunksize" in text
    gw.compute(scheduler="synchronous")
    assert len(computed) == x.npartitions == 8  # each of X's blocks (3 × 3 and smaller) once


def test_numpy_and_item_compute_a_dask_tensor():
    da = pytest.importorskip("dask.array")
    t = tg.tensor(da.from_array(X, chunks=3))
    assert type(t.numpy()) is np.ndarray and np.array_equal(t.numpy(), X)
    assert np.array_equal(np.asarray(t), X)
    assert t.sum().item() == pytest.approx(X.sum())


def test_a_range_check_on_dask_fails_when_computed_with_the_same_message():
    da = pytest.importorskip("dask.array")
    bad = Y.copy()
    bad[7] = 2.0
    with pytest.raises(ValueError) as eager:
        tg.bce(tg.sigmoid(tg.tensor(X @ W)), tg.tensor(bad))
    loss = tg.bce(tg.sigmoid(tg.tensor(da.from_array(X, chunks=3) @ W)), tg.tensor(da.from_array(bad, chunks=3)))
    with pytest.raises(ValueError) as lazy:
        loss.data.compute(scheduler="synchronous")
    assert str(lazy.value) == str(eager.value) == "SigmoidBCE: targets y must lie in [0, 1]; found 2.0"


def test_array_api_strict_with_numpy_is_an_error_naming_both():
    strict = pytest.importorskip("array_api_strict")
    with pytest.raises(TypeError, match=r"Linear: cannot combine array_api_strict\.Array \(shape \(10, 4\)\) with numpy\.ndarray \(shape \(4,\)\)"):
        tg.linear(tg.tensor(strict.asarray(X)), tg.tensor(W))


def test_python_numbers_join_any_back_end(backend):
    t = tg.tensor(backend(W), requires_grad=True)
    out = (2.0 - t) * 3 / (t * t + 1)
    out.sum().backward()
    same(out.data, (2.0 - W) * 3 / (W * W + 1), backend)
    same(t.grad, (-3 * (W * W + 1) - (2.0 - W) * 3 * 2 * W) / (W * W + 1) ** 2, backend)


def test_namespace_of_numpy_is_numpy_itself_and_plain_numpy_imports_no_compat():
    assert _array.namespace(X) is np
    code = (
        "import sys, numpy as np, tinygraph as tg\n"
        "w = tg.tensor(np.ones(3), requires_grad=True)\n"
        "tg.bce(tg.sigmoid(tg.linear(np.ones((4, 3)), w, 0.0)), np.ones(4)).backward()\n"
        "assert 'array_api_compat' not in sys.modules, 'imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[2])


def test_detect_anomaly_leaves_a_dask_graph_lazy_and_raises_numpys_error_when_computed():
    da = pytest.importorskip("dask.array")
    computed = []

    def counted(block):
        if block.size:
            computed.append(block.shape)
        return block

    negative, zero = np.abs(X) + 0.1, np.abs(X) + 0.1
    negative[7, 2], zero[4, 1] = -1.0, 0.0  # log: nan at (7, 2); √x: an infinite slope at (4, 1)
    lazy = [da.from_array(a, chunks=3).map_blocks(counted, dtype=a.dtype) for a in (negative, zero)]
    messages = []
    with tg.detect_anomaly():
        for build, (eager, dask_array) in ((_log_forward, (negative, lazy[0])), (_sqrt_backward, (zero, lazy[1]))):
            with pytest.raises(FloatingPointError) as error:
                build(eager)
            result = build(dask_array)  # the same graph on Dask: built, checked later
            assert computed == []
            with np.errstate(all="ignore"), pytest.raises(FloatingPointError) as later:
                result.compute(scheduler="synchronous")
            messages.append(str(later.value))
            computed.clear()
            assert str(later.value) == str(error.value)
    assert messages == [
        "Log produced nan at index (7, 2) of shape (10, 4) in forward",
        "Pow.backward produced inf at index (4, 1) of shape (10, 4) in the gradient for input 0",
    ]


def _log_forward(x):
    return tg.log(tg.tensor(x)).data


def _sqrt_backward(x):
    t = tg.tensor(x, requires_grad=True)
    (t**0.5).sum().backward()
    return t.grad
