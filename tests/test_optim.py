"""SGD and Adam: each update against its formula, rebinding instead of mutation, and bad arguments."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygraph as tg
from tinygraph.models import L2Penalty
from tinygraph.optim import SGD, Adam
from tinygraph.testing import strategies as tst


def parameter(values) -> tg.Tensor:
    return tg.tensor(np.asarray(values, dtype=float), requires_grad=True, name="w")


@given(w=tst.arrays((4,)), g=tst.arrays((4,)), lr=st.floats(1e-4, 10))
def test_a_plain_sgd_step_is_w_minus_lr_times_the_gradient(w, g, lr):
    p = parameter(w)
    p.grad = g
    SGD([p], lr=lr).step()
    np.testing.assert_array_equal(p.data, w - lr * g)


def test_momentum_accumulates_the_gradients():
    p = parameter([1.0, -2.0])
    opt = SGD([p], lr=0.1, momentum=0.9)
    g1, g2 = np.array([0.5, 1.0]), np.array([-1.0, 2.0])
    p.grad = g1
    opt.step()
    np.testing.assert_allclose(p.data, [1.0, -2.0] - 0.1 * g1)  # v₁ = g₁
    p.grad = g2
    opt.step()
    np.testing.assert_allclose(p.data, [1.0, -2.0] - 0.1 * g1 - 0.1 * (0.9 * g1 + g2))  # v₂ = μv₁ + g₂


def test_weight_decay_is_an_l2_penalty_in_the_loss():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((10, 3)), (rng.random(10) < 0.5).astype(float)
    w_decay, w_penalty = parameter(rng.standard_normal(3)), parameter(np.zeros(3))
    w_penalty.data = w_decay.data
    decay, penalized = SGD([w_decay], lr=0.3, weight_decay=0.2), SGD([w_penalty], lr=0.3)
    for _ in range(5):
        for opt, w, lam in ((decay, w_decay, 0.0), (penalized, w_penalty, 0.2)):
            opt.zero_grad()
            loss = tg.bce(tg.sigmoid(tg.linear(X, w)), y)
            (loss + L2Penalty(lam)(w) if lam else loss).backward()
            opt.step()
    np.testing.assert_allclose(w_decay.data, w_penalty.data, rtol=1e-13)


def adam_reference(w, grads, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    """Adam as written in Kingma & Ba (2015), Algorithm 1."""
    m = v = np.zeros_like(w)
    for t, g in enumerate(grads, start=1):
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        w = w - lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)
    return w


def test_adam_follows_the_papers_algorithm():
    rng = np.random.default_rng(1)
    grads = [rng.standard_normal(3) for _ in range(6)]
    p = parameter([0.5, -0.5, 2.0])
    opt = Adam([p], lr=0.01, betas=(0.8, 0.99), eps=1e-6)
    for g in grads:
        p.grad = g
        opt.step()
    np.testing.assert_allclose(p.data, adam_reference(np.array([0.5, -0.5, 2.0]), grads, 0.01, 0.8, 0.99, 1e-6), rtol=1e-13)


def test_adams_first_step_has_length_lr_in_every_coordinate():
    p = parameter([0.0, 0.0, 0.0])
    p.grad = np.array([1e-3, -5.0, 200.0])
    Adam([p], lr=0.1).step()
    np.testing.assert_allclose(p.data, [-0.1, 0.1, -0.1], rtol=1e-4)


def test_step_rebinds_and_never_changes_the_old_array():
    p = parameter([1.0, 2.0])
    old = p.data
    p.grad = np.array([1.0, 1.0])
    SGD([p], lr=0.5, momentum=0.5).step()
    assert p.data is not old
    np.testing.assert_array_equal(old, [1.0, 2.0])


def test_zero_grad_clears_and_parameters_without_a_gradient_stay():
    p, q = parameter([1.0]), parameter([2.0])
    p.grad = np.array([3.0])
    opt = Adam([p, q], lr=0.1)
    opt.step()
    assert q.data[0] == 2.0 and p.data[0] != 1.0
    opt.zero_grad()
    assert p.grad is None and q.grad is None


def test_a_hand_written_loop_trains_logistic_regression():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((40, 2))
    y = (X[:, 0] - X[:, 1] > 0).astype(float)
    w, b = parameter(np.zeros(2)), tg.tensor(0.0, requires_grad=True, name="b")
    opt = SGD([w, b], lr=1.0)
    for _ in range(100):
        opt.zero_grad()
        loss = tg.bce(tg.sigmoid(tg.linear(X, w, b)), y)
        loss.backward()
        opt.step()
    assert loss.item() < 0.15
    assert w.data[0] > 0 > w.data[1]


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: SGD([], lr=0.1), "no parameters"),
        (lambda p: SGD([np.zeros(2)], lr=0.1), "must be a Tensor with requires_grad=True"),
        (lambda p: SGD([tg.tensor([1.0])], lr=0.1), "requires_grad=True"),
        (lambda p: SGD([p], lr=0), "lr must be a finite number > 0"),
        (lambda p: SGD([p], lr="0.1"), "lr must be"),
        (lambda p: SGD([p], lr=float("inf")), "lr must be"),
        (lambda p: SGD([p], lr=0.1, momentum=1.0), r"momentum must be in \[0, 1\)"),
        (lambda p: SGD([p], lr=0.1, weight_decay=-1), "weight_decay must be"),
        (lambda p: Adam([p], lr=0.1, betas=(0.9,)), "betas must be two numbers"),
        (lambda p: Adam([p], lr=0.1, betas=(0.9, 1.0)), "betas must be"),
        (lambda p: Adam([p], lr=0.1, eps=0), "eps must be"),
    ],
)
def test_bad_arguments_are_named(make, message):
    with pytest.raises(ValueError, match=message):
        make(parameter([1.0]))


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_an_update_keeps_the_parameters_dtype(momentum):
    p = tg.tensor(np.array([1.0, -2.0], dtype=np.float32), requires_grad=True)
    g = np.array([0.1, 0.3])  # float64: w − ηg alone would widen w
    p.grad = g
    SGD([p], lr=0.5, momentum=momentum).step()
    assert p.data.dtype == np.float32
    np.testing.assert_array_equal(p.data, (np.float32([1.0, -2.0]) - 0.5 * g).astype(np.float32))


def test_a_subclass_of_sgd_updates_with_its_own_rule():
    class SignSGD(SGD):
        def _update(self, w, g, state):
            return w - self.lr * np.sign(g)

    p = parameter([1.0, 2.0])
    p.grad = np.array([0.25, -4.0])
    SignSGD([p], lr=0.5).step()
    np.testing.assert_array_equal(p.data, [0.5, 2.5])
