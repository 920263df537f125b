"""BCE, BCEWithLogits, SoftmaxCrossEntropy, MSE: gradients, reductions, numerics, input errors."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygraph as tg
from tinygraph.nodes import BCE, SigmoidBCE, losses
from tinygraph.testing import gradcheck
from tinygraph.testing import strategies as tst

REDUCTIONS = ["mean", "sum", "none"]
EXTREMES = np.array([-1e4, -1000.0, -745.0, -40.0, 0.0, 40.0, 745.0, 1000.0, 1e4])


# ------------------------------------------------------------------ gradients
@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(n=st.integers(1, 6), data=st.data())
def test_bce_gradients_in_prediction_and_soft_target(reduction, n, data):
    p = tg.tensor(data.draw(tst.probabilities((n,), margin=0.02)), requires_grad=True)
    y = tg.tensor(data.draw(tst.probabilities((n,), margin=0.01)), requires_grad=True)
    assert gradcheck(lambda a, t: tg.bce(a, t, reduction), [p, y])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(n=st.integers(1, 6), data=st.data())
def test_bce_on_a_sigmoid_output_gradients(reduction, n, data):
    z = tg.tensor(data.draw(tst.arrays((n,), min_value=-20, max_value=20)), requires_grad=True)
    y = tg.tensor(data.draw(tst.probabilities((n,), margin=0.01)), requires_grad=True)
    assert gradcheck(lambda v, t: tg.bce(tg.sigmoid(v), t, reduction), [z, y])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(shape=tst.shapes(min_dims=1), data=st.data())
def test_bce_with_logits_gradients(reduction, shape, data):
    z = tg.tensor(data.draw(tst.arrays(shape, min_value=-20, max_value=20)), requires_grad=True)
    y = tg.tensor(data.draw(tst.probabilities(shape, margin=0.01)), requires_grad=True)
    assert gradcheck(lambda v, t: tg.bce_with_logits(v, t, reduction), [z, y])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(n=st.integers(1, 5), k=st.integers(2, 4), data=st.data())
def test_softmax_cross_entropy_gradients_for_indices_and_rows(reduction, n, k, data):
    logits = tg.tensor(data.draw(tst.arrays((n, k), min_value=-20, max_value=20)), requires_grad=True)
    labels = data.draw(tst.class_labels(n, k))
    rows = data.draw(tst.probabilities((n, k), margin=0.01))
    rows = tg.tensor(rows / rows.sum(axis=1, keepdims=True), requires_grad=True)
    assert gradcheck(lambda v: tg.softmax_cross_entropy(v, labels, reduction), [logits])
    assert gradcheck(lambda v, t: tg.softmax_cross_entropy(v, t, reduction), [logits, rows])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(shape=tst.shapes(min_dims=1), data=st.data())
def test_mse_gradients(reduction, shape, data):
    pred = tg.tensor(data.draw(tst.arrays(shape)), requires_grad=True)
    y = tg.tensor(data.draw(tst.arrays(shape)), requires_grad=True)
    assert gradcheck(lambda a, b: tg.mse(a, b, reduction), [pred, y])


# ------------------------------------------------------------------ closed forms
def test_reductions():
    p, y = np.array([0.9, 0.2, 0.6]), np.array([1.0, 0.0, 0.0])
    per_example = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    np.testing.assert_allclose(tg.bce(p, y, "none").data, per_example)
    np.testing.assert_allclose(tg.bce(p, y, "sum").data, per_example.sum())
    np.testing.assert_allclose(tg.bce(p, y).data, per_example.mean())
    with pytest.raises(ValueError, match=r"BCE: reduction must be one of .* got 'avg'"):
        tg.bce(p, y, "avg")


def test_bce_with_logits_backward_is_a_minus_y_over_n():
    z = tg.tensor(np.array([-2.0, 0.5, 3.0, 0.0]), requires_grad=True)
    y = np.array([0.0, 1.0, 1.0, 0.0])
    tg.bce_with_logits(z, y).backward()
    np.testing.assert_allclose(z.grad, (1 / (1 + np.exp(-z.data)) - y) / 4)


def test_softmax_cross_entropy_backward_is_softmax_minus_onehot_over_n():
    logits = tg.tensor(np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]]), requires_grad=True)
    y = np.array([2, 0])
    loss = tg.softmax_cross_entropy(logits, y)
    loss.backward()
    a = np.exp(logits.data) / np.exp(logits.data).sum(axis=1, keepdims=True)
    onehot = np.eye(3)[y]
    np.testing.assert_allclose(loss.item(), -np.log(a[[0, 1], y]).mean())
    np.testing.assert_allclose(logits.grad, (a - onehot) / 2)


def test_softmax_cross_entropy_indices_equal_one_hot_rows():
    logits = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0], [0.2, 0.2, 0.2]])
    y = np.array([1, 2, 0])
    np.testing.assert_allclose(
        tg.softmax_cross_entropy(logits, y, "none").data, tg.softmax_cross_entropy(logits, np.eye(3)[y], "none").data
    )
    float_indices = tg.softmax_cross_entropy(logits, y.astype(float)).data
    np.testing.assert_allclose(float_indices, tg.softmax_cross_entropy(logits, y).data)


def test_mse_value_and_gradient():
    pred = tg.tensor(np.array([1.0, 2.0, 4.0]), requires_grad=True)
    y = np.array([1.5, 2.0, 3.0])
    loss = tg.mse(pred, y)
    loss.backward()
    assert loss.item() == pytest.approx((0.25 + 0 + 1) / 3)
    np.testing.assert_allclose(pred.grad, 2 * (pred.data - y) / 3)


# ------------------------------------------------------------------ numerics
def test_stable_losses_are_exact_and_finite_at_the_extremes():
    y = (np.arange(len(EXTREMES)) % 2).astype(float)
    z = tg.tensor(EXTREMES, requires_grad=True)
    loss = tg.bce_with_logits(z, y, "none")
    loss.sum().backward()
    # −log σ(z) = log(1 + e^(−z)) for y = 1 and −log(1 − σ(z)) = log(1 + e^z) for y = 0 (NumPy's logaddexp)
    expected = np.where(y == 1, np.logaddexp(0, -EXTREMES), np.logaddexp(0, EXTREMES))
    np.testing.assert_allclose(loss.data, expected, rtol=1e-15)
    assert loss.data[5] == pytest.approx(4.248354255291589e-18, rel=1e-15)  # z = 40, y = 1: not rounded to 0
    assert np.all(np.isfinite(z.grad))

    logits = tg.tensor(np.stack([EXTREMES, EXTREMES[::-1]]).T, requires_grad=True)  # (9, 2)
    labels = (np.arange(len(EXTREMES)) % 2)
    ce = tg.softmax_cross_entropy(logits, labels, "none")
    ce.sum().backward()
    margin = logits.data[np.arange(9), 1 - labels] - logits.data[np.arange(9), labels]
    np.testing.assert_allclose(ce.data, np.logaddexp(0, margin), rtol=1e-15)
    assert np.all(np.isfinite(logits.grad))


def test_bce_on_probabilities_of_exactly_zero_and_one_is_finite():
    p = tg.tensor(np.array([0.0, 1.0, 0.0, 1.0]), requires_grad=True)
    y = np.array([1.0, 0.0, 0.0, 1.0])
    loss = tg.bce(p, y, "none")
    loss.sum().backward()
    assert np.all(np.isfinite(loss.data)) and np.all(np.isfinite(p.grad))
    np.testing.assert_array_equal(loss.data[2:], [0.0, 0.0])  # right and certain: no loss
    assert loss.data[0] > 700  # certain and wrong: log(0) floored at log(tiny) ≈ −708
    np.testing.assert_allclose(p.grad[2:], [1.0, -1.0])  # dl/dp = (1 − y)/(1 − p) − y/p


def test_soft_targets_keep_their_value_when_the_prediction_is_an_integer_array():
    y = np.array([0.25, 0.75])
    for ints, floats, loss in (
        (np.array([1, 0]), np.array([1.0, 0.0]), tg.bce),
        (np.array([2, -1]), np.array([2.0, -1.0]), tg.bce_with_logits),
    ):
        assert loss(ints, y).item() == pytest.approx(loss(floats, y).item())  # y was cast to int: 0, 0


@given(z=tst.arrays(st.integers(1, 8).map(lambda n: (n,)), min_value=-1000, max_value=1000), data=st.data())
def test_the_lecture_graph_equals_bce_with_logits_for_net_inputs_up_to_1000(z, data):
    y = data.draw(tst.binary_labels(len(z)))
    x = np.linspace(0.5, 2.0, len(z))[:, None]  # z = x · w with w = 1 gives the drawn net inputs
    results = []
    for loss_of in (lambda z_: tg.bce(tg.sigmoid(z_), y), lambda z_: tg.bce_with_logits(z_, y)):
        w = tg.tensor(np.array([1.0]), requires_grad=True)
        b = tg.tensor(0.0, requires_grad=True)
        loss = loss_of(tg.linear(x, w, b) * 0 + z)  # net input exactly z, still depending on w, b
        loss = loss + (tg.linear(x, w, b) * 0).sum()
        loss.backward()
        results.append((loss.item(), w.grad.copy(), b.grad.copy()))
    (l1, w1, b1), (l2, w2, b2) = results
    assert np.isfinite(l1) and np.all(np.isfinite(w1)) and np.isfinite(b1)
    np.testing.assert_allclose(l1, l2, rtol=1e-9)
    np.testing.assert_allclose(w1, w2, rtol=1e-9, atol=1e-300)
    np.testing.assert_allclose(b1, b2, rtol=1e-9, atol=1e-300)


def test_the_lecture_graph_gradients_match_at_net_inputs_of_1000():
    x = np.array([[1000.0], [-1000.0], [500.0], [-500.0], [1.0]])
    y = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    grads = []
    for fused in (True, False):
        w = tg.tensor(np.array([1.0]), requires_grad=True)
        b = tg.tensor(0.0, requires_grad=True)
        z = tg.linear(x, w, b)
        loss = tg.bce(tg.sigmoid(z), y) if fused else tg.bce_with_logits(z, y)
        loss.backward()
        grads.append((loss.item(), w.grad[0], b.grad.item()))
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-9)
    assert grads[0][0] == pytest.approx((1000 + 1000 + 0 + 0 + np.log1p(np.exp(-1.0))) / 5, rel=1e-9)


# ------------------------------------------------------------------ BCE after a sigmoid
def test_bce_picks_sigmoid_bce_only_for_a_sigmoid_output_and_passes_it_the_net_input():
    z = tg.tensor(np.array([0.5, -2.0]), requires_grad=True)
    fed = tg.bce(tg.sigmoid(z), [1.0, 0.0])
    assert type(fed.node) is SigmoidBCE and fed.node.inputs[2] is z
    assert (SigmoidBCE.cancels, SigmoidBCE.title) == ({0: 2}, "BCE")  # a shown, (a − y)/N to z
    assert type(tg.bce(tg.tensor([0.3, 0.6]), [1.0, 0.0]).node) is BCE and BCE.cancels == {}


def test_sigmoid_bce_computes_from_its_own_inputs_alone():
    z = np.array([40.0, -3.0, 0.2])
    y = np.array([0.0, 1.0, 1.0])
    a = tg.tensor(tg.sigmoid(z).data, requires_grad=True)  # a leaf: no Sigmoid node behind it
    zt = tg.tensor(z, requires_grad=True)
    loss = SigmoidBCE()(a, y, zt)
    loss.backward()
    np.testing.assert_allclose(loss.item(), np.mean(np.logaddexp(0, z) - y * z), rtol=1e-15)
    np.testing.assert_allclose(zt.grad, (a.data - y) / 3)
    one_minus_a = 1 / (1 + np.exp(z))  # σ(−z): not 0 where a rounds to 1
    np.testing.assert_allclose(a.grad, ((1 - y) / one_minus_a - y / a.data) / 3)  # a leaf keeps it


def test_sigmoid_bce_computes_dl_da_only_when_a_keeps_its_gradient():
    z = tg.tensor(np.array([800.0, -2.0]), requires_grad=True)
    a = tg.sigmoid(z)
    loss = tg.bce(a, [0.0, 0.0])
    loss.backward()
    assert loss.node.needs_grad == (False, False, True) and a.grad is None
    loss.backward(retain_grads=True)
    assert loss.node.needs_grad == (True, False, True)
    assert a.grad[0] == np.inf and np.all(np.isfinite(z.grad))  # shown as it is, never propagated
    np.testing.assert_allclose(z.grad, 2 * (a.data - [0.0, 0.0]) / 2)  # twice (a − y)/N, not more


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize("loss", [tg.bce, tg.bce_with_logits, tg.mse])
def test_target_of_shape_n_by_1_is_an_error_not_a_broadcast(loss):
    with pytest.raises(ValueError, match=r"target y has shape \(4, 1\) but the .* has shape \(4,\)"):
        loss(np.full(4, 0.5), np.zeros((4, 1)))


@pytest.mark.parametrize("loss", [tg.bce, tg.bce_with_logits])
def test_binary_targets_outside_zero_one_are_named(loss):
    with pytest.raises(ValueError, match=r"targets y must lie in \[0, 1\]; found 2.0"):
        loss(np.full(3, 0.5), np.array([0.0, 2.0, 1.0]))
    with pytest.raises(ValueError, match=r"found nan"):
        loss(np.full(2, 0.5), np.array([0.0, np.nan]))


def test_bce_probabilities_outside_zero_one_point_to_bce_with_logits():
    with pytest.raises(ValueError, match=r"BCE: probabilities p .*bce_with_logits.*found 3.0"):
        tg.bce(np.array([0.5, 3.0]), np.array([0.0, 1.0]))


def test_class_index_errors_name_the_value():
    logits = np.zeros((3, 4))
    with pytest.raises(ValueError, match=r"class indices must lie in \[0, 4\); found 4"):
        tg.softmax_cross_entropy(logits, np.array([0, 4, 1]))
    with pytest.raises(ValueError, match=r"class indices must lie in \[0, 4\); found -1"):
        tg.softmax_cross_entropy(logits, np.array([0, -1, 1]))
    with pytest.raises(ValueError, match=r"class indices must be integers; found 1.5"):
        tg.softmax_cross_entropy(logits, np.array([0.0, 1.5, 1.0]))
    with pytest.raises(ValueError, match=r"target y has shape \(2,\) but logits have shape \(3, 4\)"):
        tg.softmax_cross_entropy(logits, np.array([0, 1]))
    with pytest.raises(ValueError, match=r"target row 1 sums to 0.5, not 1"):
        tg.softmax_cross_entropy(logits, np.array([[1.0, 0, 0, 0], [0.5, 0, 0, 0], [0, 0, 0, 1.0]]))
    with pytest.raises(ValueError, match=r"logits must have shape \(N, K\)"):
        tg.softmax_cross_entropy(np.zeros(4), np.array([1]))


# ------------------------------------------------------------------ the sigmoid's e^(−z), shared
def _logistic_loss_reference(z, y):
    """log(1 + e^z) − y z in extended precision (x86's 80-bit long double, 64-bit mantissa)."""
    z, y = z.astype(np.longdouble), y.astype(np.longdouble)
    return np.maximum(z, 0) - y * z + np.log1p(np.exp(-np.abs(z)))


def _lecture_graph(z, y, reduction):
    """tg.bce(tg.sigmoid(z)) with z a node's output (read-only), as Linear gives it; and z's tensor."""
    leaf = tg.tensor(z, requires_grad=True)
    net_input = leaf * 1.0
    return tg.bce(tg.sigmoid(net_input), y, reduction), leaf


@given(z=tst.arrays(st.integers(1, 40), min_value=-1e4, max_value=1e4), data=st.data())
def test_the_loss_from_the_sigmoids_exponential_is_exact_for_hard_labels_over_net_inputs_to_1e4(z, data):
    z = np.concatenate([z, EXTREMES, [-709.5, -37.0, 37.0, 709.5]])  # where e^(−z) or 1/e^(−z) overflows
    y = data.draw(tst.arrays((len(z),), elements=st.sampled_from([0.0, 1.0])))
    loss, _ = _lecture_graph(z, y, "none")
    assert loss.node.sigmoid is loss.node.inputs[0].node  # tg.bce gave it the sigmoid
    expected = _logistic_loss_reference(z, y)
    # max(z, 0) − y z is exactly 0 or |z|: every digit of a tiny loss (y = 1, z = 40: 4.2e−18) is kept
    np.testing.assert_allclose(loss.data, expected.astype(np.float64), rtol=4 * np.finfo(float).eps, atol=0)
    for reduction, scale in (("mean", len(z)), ("sum", 1)):
        total, _ = _lecture_graph(z, y, reduction)
        np.testing.assert_allclose(total.item(), float(expected.sum() / scale), rtol=1e-14)


@given(z=tst.arrays(st.integers(1, 40), min_value=-1e4, max_value=1e4), data=st.data())
def test_the_loss_from_the_sigmoids_exponential_for_soft_labels_is_bce_with_logits_to_rounding(z, data):
    y = data.draw(tst.probabilities(z.shape))
    expected = _logistic_loss_reference(z, y)
    scale = (np.maximum(z, 0) + np.abs(y * z) + np.log1p(np.exp(-np.abs(z)))).astype(np.longdouble)
    for reduction in REDUCTIONS:
        loss, leaf = _lecture_graph(z, y, reduction)
        reduced = {"mean": np.mean, "sum": np.sum, "none": lambda v: v}[reduction]
        # the error bound of the terms' sum, as for BCEWithLogits: a few roundings of each term
        bound = reduced(8 * np.finfo(float).eps * scale) + 1e-300
        assert np.all(np.abs(loss.data - reduced(expected)) <= bound)
        loss.sum().backward()
        np.testing.assert_allclose(leaf.grad, (tg.sigmoid(z).data - y) / (len(z) if reduction == "mean" else 1))


def test_a_net_input_changed_in_place_after_the_sigmoid_gives_the_loss_of_its_new_values():
    z = tg.tensor(np.array([3.0, -2.0, 40.0]))  # a user's writable array
    y = np.array([1.0, 0.0, 1.0])
    a = tg.sigmoid(z)
    z.data[:] = [-5.0, 4.0, -40.0]  # the loss is computed from z, so it reads the values it is given
    np.testing.assert_allclose(tg.bce(a, y, "none").data, np.logaddexp(0, z.data) - y * z.data, rtol=1e-15)


def test_an_empty_batch_has_the_mean_of_no_losses():
    with np.errstate(invalid="ignore"), pytest.warns(RuntimeWarning, match="Mean of empty slice"):  # NumPy's mean
        loss, _ = _lecture_graph(np.zeros(0), np.zeros(0), "mean")
    assert np.isnan(loss.item())
    assert _lecture_graph(np.zeros(0), np.zeros(0), "sum")[0].item() == 0.0


# ------------------------------------------------------------------ the targets' check in one pass
FLOATS = st.sampled_from([np.float16, np.float32, np.float64, np.dtype(">f8")])


@given(dtype=FLOATS, data=st.data())
def test_the_one_pass_range_check_agrees_with_a_min_and_a_max(dtype, data):
    special = st.sampled_from([0.0, -0.0, 1.0, np.nextafter(1.0, 2.0), -1e-300, 5e-324, 1e4, np.inf, -np.inf, np.nan])
    drawn = data.draw(tst.arrays(tst.shapes(min_dims=1), elements=st.one_of(special, st.floats(-2, 2))))
    with np.errstate(over="ignore"):  # float16 rounds 1e4 to inf, which the check must refuse too
        values = drawn.astype(dtype)
    step = data.draw(st.sampled_from([1, 2, -1]))  # contiguous, strided and reversed views
    values = values[..., ::step]
    expected = values.size == 0 or bool(np.all((values >= 0) & (values <= 1)))
    assert (values.size == 0 or losses._all_in_unit_interval(values)) == expected
    if not expected:
        with pytest.raises(ValueError, match=r"BCEWithLogits: targets y must lie in \[0, 1\]; found"):
            tg.bce_with_logits(np.zeros(values.shape), values)


def test_negative_zero_is_a_target_in_zero_one():
    y = np.array([-0.0, 1.0])
    assert tg.bce_with_logits(np.zeros(2), y).item() == pytest.approx(np.log(2.0))


# ------------------------------------------------------------------ softmax from the forward's e^(z − max z)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@given(n=st.integers(1, 8), k=st.integers(1, 6), data=st.data())
def test_softmax_cross_entropy_gradient_from_the_forwards_exponentials_is_exact(reduction, n, k, data):
    z = data.draw(tst.arrays((n, k), elements=st.one_of(st.floats(-50, 50), st.sampled_from([-1e4, -745.0, 0.0, 745.0, 1e4]))))
    labels = data.draw(tst.class_labels(n, k))
    logits = tg.tensor(z, requires_grad=True)
    loss = tg.softmax_cross_entropy(logits, labels, reduction)
    loss.sum().backward()
    wide = z.astype(np.longdouble)  # x86's extended precision as the reference
    top = wide.max(axis=1, keepdims=True)
    e = np.exp(wide - top)
    a, one_hot = e / e.sum(axis=1, keepdims=True), np.eye(k)[labels]
    scale = 1.0 / n if reduction == "mean" else 1.0
    rest = np.sort(e, axis=1)[:, :-1].sum(axis=1)  # all but the maximum's e^0 = 1, not lost in 1 + rest
    expected_loss = (top[:, 0] - wide[np.arange(n), labels]) + np.log1p(rest)
    reduced = {"mean": np.mean, "sum": np.sum, "none": lambda v: v}[reduction](expected_loss)
    np.testing.assert_allclose(loss.data, reduced.astype(np.float64), rtol=16 * np.finfo(float).eps, atol=1e-300)
    error = np.abs(logits.grad - (a - one_hot) * scale)
    # a_k to a few roundings of z_k − max z (as e^(log a) before), a_y − 1 to the rounding of 1
    assert np.all(error <= 8 * np.finfo(float).eps * (a * (1 + np.abs(wide - top)) + one_hot) * scale + 1e-320)


def test_softmax_cross_entropy_keeps_float32_logits_in_float32():
    logits = tg.tensor(np.array([[1.0, 2.0, -1.0], [0.5, 0.5, 3.0]], dtype=np.float32), requires_grad=True)
    loss = tg.softmax_cross_entropy(logits, np.array([1, 2]))
    loss.backward()
    z = logits.data.astype(np.float64)
    a = np.exp(z - np.log(np.exp(z).sum(axis=1, keepdims=True)))
    assert logits.grad.dtype == np.float32 and loss.data.dtype == np.float32
    np.testing.assert_allclose(logits.grad, (a - np.eye(3)[[1, 2]]) / 2, rtol=1e-6, atol=1e-7)
