"""The exact forms on every back end: sigmoid, logistic loss and log-softmax for inputs in [−1e4, 1e4].

NumPy takes its fast path with an overflow fallback read from ``errstate``; the other back ends
never see that flag, so they always compute the branch-free form. Both must agree with NumPy's
float64 result to a few ulp, stay finite, and keep the tiny values (σ(−30) = 9.4e−14, a
log-probability of −1.8e−35) that naive forms round away.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygraph as tg
from tinygraph import _array

ULPS = 8e-16  # a few units in the last place of float64
GRID = np.concatenate([np.linspace(-1e4, 1e4, 41), [-745.0, -709.5, -40.0, -30.0, -1e-8, 0.0, 1e-8, 30.0, 37.5, 800.0]])
wide = hnp.arrays(np.float64, st.integers(1, 12), elements=st.floats(-1e4, 1e4))
fast = settings(max_examples=4, suppress_health_check=[HealthCheck.function_scoped_fixture])


def values(fn, backend, *arrays):
    out = fn(*[tg.tensor(backend(a)) for a in arrays])
    return _array.to_numpy(out.data)


def test_sigmoid_on_the_grid_equals_numpy_and_the_hand_formula(backend):
    got = values(tg.sigmoid, backend, GRID)
    positive = 1 / (1 + np.exp(-np.abs(GRID)))  # σ(|z|), then σ(−|z|) = e^(−|z|) σ(|z|)
    by_hand = np.where(GRID >= 0, positive, np.exp(-np.abs(GRID)) * positive)
    np.testing.assert_allclose(got, by_hand, rtol=ULPS, atol=0)
    np.testing.assert_allclose(got[GRID == -30.0], np.exp(-30.0) / (1 + np.exp(-30.0)), rtol=ULPS)  # 1 − σ(30) keeps ~3 digits


@fast
@given(z=wide)
def test_sigmoid_and_its_gradient_equal_numpys(backend, z):
    np.testing.assert_allclose(values(tg.sigmoid, backend, z), values(tg.sigmoid, lambda a: a, z), rtol=ULPS, atol=0)
    t = tg.tensor(backend(z), requires_grad=True)
    tg.sigmoid(t).sum().backward()
    numpy_t = tg.tensor(z, requires_grad=True)
    tg.sigmoid(numpy_t).sum().backward()
    grad = _array.to_numpy(t.grad)
    assert np.isfinite(grad).all()
    np.testing.assert_allclose(grad, numpy_t.grad, rtol=4 * ULPS, atol=0)


@fast
@given(z=wide, seed=st.integers(0, 2**16))
def test_logistic_loss_equals_numpys_and_is_finite(backend, z, seed):
    y = (np.random.default_rng(seed).random(z.shape) > 0.5).astype(np.float64)
    loss = lambda zt, yt: tg.bce_with_logits(zt, yt, reduction="none")
    got = values(loss, backend, z, y)
    assert np.isfinite(got).all() and (got >= 0).all()
    by_hand = np.logaddexp(0, z) - y * z  # log(1 + e^z) − y z: NumPy's own exact log-add-exp
    np.testing.assert_allclose(got, values(loss, lambda a: a, z, y), rtol=ULPS, atol=0)
    np.testing.assert_allclose(got, by_hand, rtol=1e-12, atol=1e-12)


def test_a_confident_right_answer_keeps_every_digit(backend):
    got = values(lambda zt, yt: tg.bce_with_logits(zt, yt, reduction="none"), backend, np.array([15.0, -15.0]), np.array([1.0, 0.0]))
    np.testing.assert_allclose(got, np.log1p(np.exp(-15.0)), rtol=ULPS)


@fast
@given(x=hnp.arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 5)), elements=st.floats(-1e4, 1e4)), axis=st.sampled_from([0, 1, -1]))
def test_log_softmax_equals_numpys_and_is_finite(backend, x, axis):
    got = values(lambda t: tg.log_softmax(t, axis), backend, x)
    assert np.isfinite(got).all() and (got <= 0).all()
    np.testing.assert_allclose(got, values(lambda t: tg.log_softmax(t, axis), lambda a: a, x), rtol=ULPS, atol=1e-300)


def test_log_softmax_keeps_a_tiny_remainder_and_ties(backend):
    x = np.array([[0.0, -80.0], [3.0, 3.0]])
    got = values(lambda t: tg.log_softmax(t, 1), backend, x)
    np.testing.assert_allclose(got[0, 0], -np.exp(-80.0), rtol=ULPS)  # log(1 − tiny) ≈ −1.8e−35, not 0
    np.testing.assert_allclose(got[1], [-np.log(2.0)] * 2, rtol=ULPS)
