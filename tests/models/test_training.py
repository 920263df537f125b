"""fit: the lecture's SGD against a NumPy loop, reproducibility, history, divergence and bad input."""

import re
import warnings

import numpy as np
import pytest
from scipy.special import expit

import tinygraph as tg
from tinygraph.models import (
    MLP,
    DivergedError,
    DivergingWarning,
    LogisticRegression,
    SoftmaxRegression,
    default_lr,
)


def problem(seed: int = 0, n: int = 30, d: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = (X @ np.arange(1.0, d + 1) + rng.standard_normal(n) > 0).astype(float)
    return X, y


def numpy_sgd(X, y, w, b, lr, epochs, batch_size):
    """The lecture's loop in NumPy: w := w − η Xᵀ(a − y)/n, b := b − η mean(a − y), batches in order."""
    for _ in range(epochs):
        for start in range(0, len(y), batch_size):
            xb, yb = X[start : start + batch_size], y[start : start + batch_size]
            a = expit(xb @ w + b)
            w = w - lr * xb.T @ (a - yb) / len(yb)
            b = b - lr * np.mean(a - yb)
    return w, b


@pytest.mark.parametrize("batch_size", [1, 7])
def test_sgd_without_shuffling_is_the_lectures_loop(batch_size):
    X, y = problem()
    model = LogisticRegression(3, seed=1)
    w, b = numpy_sgd(X, y, model.w.data, model.b.item(), lr=0.3, epochs=5, batch_size=batch_size)
    model.fit(X, y, epochs=5, lr=0.3, batch_size=batch_size, shuffle=False, progress=False)
    np.testing.assert_allclose(model.w.data, w, rtol=1e-12)
    np.testing.assert_allclose(model.b.item(), b, rtol=1e-12)


def test_the_same_seed_gives_the_same_result_bit_for_bit():
    X, y = problem(n=50)

    def train(seed):
        model = MLP((3, 5, 1), seed=7)
        history = model.fit(X, y, epochs=4, lr=0.2, batch_size=8, optimizer="momentum", seed=seed, progress=False)
        return [p.data for p in model.parameters()], history

    (first, h1), (second, h2), (other, _) = train(0), train(0), train(1)
    assert all(np.array_equal(p, q) for p, q in zip(first, second))
    assert h1 == h2
    assert not all(np.array_equal(p, q) for p, q in zip(first, other))


def test_the_models_seed_is_the_default_shuffling_seed():
    X, y = problem(n=40)
    runs = []
    for _ in range(2):
        model = LogisticRegression(3, seed=5)
        model.fit(X, y, epochs=3, lr=0.5, batch_size=4, progress=False)
        runs.append(model.w.data)
    np.testing.assert_array_equal(runs[0], runs[1])


def test_history_records_each_epoch_on_training_and_validation_data():
    X, y = problem(n=40)
    X_val, y_val = problem(seed=1, n=20)
    model = LogisticRegression(3, l2=0.01, seed=0)
    history = model.fit(X, y, epochs=6, lr=0.5, batch_size=10, validation=(X_val, y_val), progress=False)
    assert len(history) == len(history.accuracy) == len(history.val_loss) == len(history.val_accuracy) == 6
    assert history.loss[-1] == model.loss(X, y).item()
    assert history.val_loss[-1] == model.loss(X_val, y_val).item()
    assert history.accuracy[-1] == model.score(X, y)
    assert history.val_accuracy[-1] == model.score(X_val, y_val)
    assert model.history is history


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam", "lbfgs"])
def test_every_optimizer_lowers_the_loss(optimizer, breast_cancer):
    X, y = breast_cancer
    model = SoftmaxRegression(X.shape[1], 2, seed=0)
    start = model.loss(X, y).item()
    history = model.fit(X, y, epochs=20, lr=0.05, batch_size=64, optimizer=optimizer, seed=0, progress=False)
    assert 1 <= len(history) <= 20
    assert history.loss[-1] < 0.3 * start
    assert model.score(X, y) > 0.95


@pytest.mark.parametrize("optimizer, lr", [("sgd", 0.1), ("momentum", 0.1), ("adam", 0.01)])
def test_without_a_learning_rate_fit_uses_0_1_or_0_01_with_adam(optimizer, lr):
    X, y = problem()
    default, given = LogisticRegression(3, seed=0), LogisticRegression(3, seed=0)
    default.fit(X, y, epochs=3, batch_size=8, optimizer=optimizer, progress=False)
    given.fit(X, y, epochs=3, lr=lr, batch_size=8, optimizer=optimizer, progress=False)
    np.testing.assert_array_equal(default.w.data, given.w.data)
    assert default_lr(optimizer) == lr


def test_a_batch_larger_than_the_data_is_one_full_batch():
    X, y = problem()
    full, big = LogisticRegression(3, seed=0), LogisticRegression(3, seed=0)
    full.fit(X, y, epochs=3, lr=0.5, batch_size=None, progress=False)
    big.fit(X, y, epochs=3, lr=0.5, batch_size=1000, shuffle=False, progress=False)
    np.testing.assert_array_equal(full.w.data, big.w.data)


def test_divergence_stops_at_the_first_non_finite_loss_and_keeps_finite_parameters():
    X, y = problem()

    def train(epochs):  # with lr·λ = 10 every step multiplies w by about −9
        model = LogisticRegression(3, l2=1.0, seed=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DivergingWarning)  # the loss is huge, but still finite
            model.fit(X, y, epochs=epochs, lr=10.0, progress=False)
        return model

    with pytest.raises(DivergedError, match=r"non-finite .* at epoch \d+ with lr=10: try a smaller lr") as caught:
        train(1000)
    epoch = int(re.search(r"epoch (\d+)", str(caught.value)).group(1))
    kept = train(epoch - 1)  # the epoch named is the first whose loss is not finite
    assert np.isfinite(kept.loss(X, y).item())
    model = LogisticRegression(3, l2=1.0, seed=0)
    with pytest.raises(DivergedError):
        model.fit(X, y, epochs=epoch, lr=10.0, progress=False)
    assert np.all(np.isfinite(model.w.data)) and np.isfinite(model.loss(X, y).item())
    np.testing.assert_array_equal(model.w.data, kept.w.data)


def test_diverging_minibatch_training_keeps_the_parameters_of_the_last_finite_loss():
    X, y = problem(n=64)
    model = MLP((3, 16, 1), activation="relu", l2=1.0, seed=0)
    with pytest.raises(DivergedError, match="smaller lr"):
        model.fit(X, y, epochs=500, lr=50.0, batch_size=8, progress=False)
    assert all(np.all(np.isfinite(p.data)) for p in model.parameters())


X_OK, Y_OK = problem(n=4)


@pytest.mark.parametrize(
    "X, y, message",
    [
        (np.zeros(3), [0.0], "X must be 2-D"),
        (np.zeros((4, 3, 1)), Y_OK, "X must be 2-D"),
        (np.zeros((4, 2)), Y_OK, "X has 2 features but the model expects 3"),
        (X_OK, Y_OK[:3], "X has 4 examples but y has 3 labels"),
        (X_OK, Y_OK[:, None], "y must be 1-D"),
        (X_OK, [0, 1, 2, 1], "needs labels 0 or 1, found 2"),
        (X_OK, [0, 1, -1, 1], "needs labels 0 or 1, found -1"),
        (X_OK, [0, 1, 0.5, 1], "found 0.5"),
        (X_OK, ["a", "b", "a", "b"], "y must be numeric"),
        (X_OK + 1j, Y_OK, "X holds complex numbers, but the models need real ones"),
        (X_OK.astype(complex), Y_OK, "X holds complex numbers"),  # even with no imaginary part
        ([[1 + 2j, 0, 0]] * 4, Y_OK, "X holds complex numbers"),
        (X_OK, np.array(Y_OK) + 0j, "y holds complex numbers"),
        (np.where(np.eye(4, 3) == 1, np.nan, X_OK), Y_OK, r"X contains NaN or inf \(first at row 0, column 0\)"),
        (np.where(np.eye(4, 3, k=1) == 1, np.inf, X_OK), Y_OK, "NaN or inf"),
        ([["a", "b", "c"]], [0], "X must be numeric"),
        (np.zeros((0, 3)), [], "empty"),
    ],
)
def test_bad_data_is_refused_before_training(X, y, message):
    model = LogisticRegression(3, seed=0)
    w = model.w.data
    with pytest.raises(ValueError, match=message):
        model.fit(X, y, epochs=1, progress=False)
    assert model.w.data is w


@pytest.mark.parametrize(
    "options, message",
    [
        ({"epochs": 0}, "epochs must be an integer >= 1"),
        ({"epochs": 2.5}, "epochs must be an integer"),
        ({"lr": 0.0}, "lr must be a finite number > 0"),
        ({"lr": -0.1}, "lr must be"),
        ({"lr": float("nan")}, "lr must be"),
        ({"batch_size": 0}, "batch_size must be an integer >= 1"),
        ({"optimizer": "rmsprop"}, "optimizer must be one of sgd, momentum, adam, lbfgs"),
        ({"seed": 1.5}, r"seed must be an integer >= 0, got 1\.5"),
        ({"seed": "0"}, "seed must be an integer >= 0, got '0'"),
        ({"seed": -1}, "seed must be an integer >= 0, got -1"),
        ({"seed": np.array([1, 2])}, "seed must be an integer >= 0"),
        ({"validation": (X_OK,)}, r"validation must be a pair"),
        ({"validation": (X_OK, [0, 1, 2, 0])}, "needs labels 0 or 1"),
        ({"validation": (X_OK[:, :2], Y_OK)}, "validation X has 2 features"),
        ({"shuffle": "no"}, "shuffle must be True or False, got 'no'"),
        ({"progress": "False"}, "progress must be True or False, got 'False'"),
    ],
)
def test_bad_options_are_refused_before_training(options, message):
    model = LogisticRegression(3, seed=0)
    w = model.w.data
    with pytest.raises(ValueError, match=message):
        model.fit(X_OK, Y_OK, **{"epochs": 1, "progress": False, **options})
    assert model.w.data is w


@pytest.mark.parametrize("y, found", [([0, 1, 3, 2], "3"), ([0, 1, -1, 2], "-1"), ([0, 1, 0.5, 2], "0.5")])
def test_softmax_labels_must_be_class_indices(y, found):
    with pytest.raises(ValueError, match=rf"SoftmaxRegression needs class labels 0, 1, \.\.\., 2; found {found}"):
        SoftmaxRegression(3, 3).fit(X_OK, y, epochs=1, progress=False)


@pytest.mark.parametrize("make", [lambda: LogisticRegression(0), lambda: SoftmaxRegression(3, 1), lambda: LogisticRegression(3, l2=-1)])
def test_bad_model_arguments(make):
    with pytest.raises(ValueError):
        make()


@pytest.mark.parametrize("seed", [1.5, "0", -1, np.array([1, 2]), True])
@pytest.mark.parametrize("make", [
    lambda seed: LogisticRegression(3, seed=seed),
    lambda seed: SoftmaxRegression(3, 2, seed=seed),
    lambda seed: MLP((3, 2, 1), seed=seed),
], ids=["logreg", "softmax", "mlp"])
def test_a_bad_seed_is_refused_by_name(make, seed):
    with pytest.raises(ValueError, match=r"^seed must be an integer >= 0, got "):
        make(seed)


def test_a_numpy_integer_seed_is_a_seed():
    same = LogisticRegression(3, seed=4).w.data
    np.testing.assert_array_equal(LogisticRegression(3, seed=np.int64(4)).w.data, same)


def test_a_loss_that_ends_far_above_where_it_started_warns():
    X, y = problem()
    model = LogisticRegression(3, seed=0)
    rose = r"the training loss rose from 0\.69\d* to .*e\+\d+ with lr=1e\+200"
    with pytest.warns(DivergingWarning, match=rose):
        history = model.fit(X, y, epochs=3, lr=1e200, batch_size=None, progress=False)
    assert np.isfinite(history.loss[-1]) and history.loss[-1] > 1e100
    assert issubclass(DivergingWarning, UserWarning)


def test_a_loss_that_falls_or_stays_near_its_start_does_not_warn():
    X, y = problem()
    with warnings.catch_warnings():
        warnings.simplefilter("error", DivergingWarning)
        LogisticRegression(3, seed=0).fit(X, y, epochs=20, lr=0.1, progress=False)
        LogisticRegression(3, seed=0).fit(X, y, epochs=2, lr=1e-9, progress=False)


@pytest.mark.parametrize("optimizer, batch_size", [("sgd", 8), ("adam", None), ("lbfgs", None)])
def test_fit_leaves_every_parameters_gradient_cleared(optimizer, batch_size):
    """A gradient left from the last minibatch would be drawn as the gradient of whatever loss comes next."""
    X, y = problem()
    model = MLP((3, 4, 1), l2=0.1, seed=0)
    model.fit(X, y, epochs=3, optimizer=optimizer, batch_size=batch_size, progress=False)
    assert [p.grad for p in model.parameters()] == [None] * 4


def test_fit_clears_the_gradients_when_it_stops_on_a_diverged_loss():
    X, y = problem(n=64)
    model = MLP((3, 16, 1), activation="relu", l2=1.0, seed=0)
    with pytest.raises(DivergedError):
        model.fit(X, y, epochs=500, lr=50.0, batch_size=8, progress=False)
    assert all(p.grad is None for p in model.parameters())


def test_the_progress_bar_shows_the_loss(capsys):
    X, y = problem()
    LogisticRegression(3, seed=0).fit(X, y, epochs=3, lr=0.1, progress=True)
    err = capsys.readouterr().err
    assert "LogisticRegression" in err and "3/3" in err and "loss=" in err


def test_lbfgs_at_an_optimum_already_records_one_entry():
    X, y = problem()
    model = LogisticRegression(3, l2=0.1, seed=0)
    model.fit(X, y, epochs=500, optimizer="lbfgs", progress=False)
    w = model.w.data
    history = model.fit(X, y, epochs=500, optimizer="lbfgs", progress=False)
    assert 1 <= len(history) <= 2 and history.loss[-1] == model.loss(X, y).item()
    np.testing.assert_allclose(model.w.data, w, rtol=1e-8)


@pytest.mark.parametrize("seed", [0, 3])
def test_shuffled_sgd_one_example_at_a_time_visits_the_seeded_order(seed):
    # A batch of one is taken as a slice of its row: the same updates as the loop over the order.
    X, y = problem(seed=1, n=23)
    model = LogisticRegression(3, seed=0)
    w, b = model.w.data, model.b.item()
    rng = np.random.default_rng(seed)
    for _ in range(2):
        order = rng.permutation(len(y))
        w, b = numpy_sgd(X[order], y[order], w, b, lr=0.4, epochs=1, batch_size=1)
    model.fit(X, y, epochs=2, lr=0.4, batch_size=1, seed=seed, progress=False)
    np.testing.assert_allclose(model.w.data, w, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(model.b.item(), b, rtol=1e-12, atol=1e-14)


def tinygraph_loop(model, X, y, *, epochs, lr, batch_size, seed, optimizer=None):
    """The lecture's loop written out over tinygraph's nodes: a fresh graph per batch, backward, update.

    The batches are consecutive slices of ``rng.permutation(n)`` (one per epoch), a batch of one a
    row slice. With an optimizer it makes the update; without, ``w := w − η dL/dw`` by rebinding.
    Stops at the first non-finite loss and returns the parameters of the step before it, with the
    (epoch, step) where it stopped, or None.
    """
    params = model.parameters()
    rng = np.random.default_rng(seed)
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(y))
        starts = range(0, len(y), batch_size)
        for step, start in enumerate(starts, start=1):
            rows = slice(order[start], order[start] + 1) if batch_size == 1 else order[start : start + batch_size]
            for p in params:
                p.grad = None
            loss = tg.bce(tg.sigmoid(tg.linear(X[rows], model.w, model.b)), y[rows])
            if not np.isfinite(loss.item()):
                return [p.data for p in previous], (epoch, step)
            previous = [tg.tensor(p.data) for p in params]
            loss.backward()
            if optimizer is not None:
                optimizer.step()
            else:
                for p in params:
                    p.data = p.data - lr * p.grad
    return [p.data for p in params], None


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("n", [23, 300])  # 300: past the first block of rows that fit gathers at once
def test_per_example_fit_makes_the_plain_loops_updates_bit_for_bit(n, order):
    X, y = problem(seed=2, n=n)
    X = np.asarray(X, order=order)
    by_hand, model = LogisticRegression(3, seed=4), LogisticRegression(3, seed=4)
    expected, stopped = tinygraph_loop(by_hand, X, y, epochs=2, lr=0.3, batch_size=1, seed=5)
    model.fit(X, y, epochs=2, lr=0.3, batch_size=1, seed=5, progress=False)
    assert stopped is None
    for p, q in zip(model.parameters(), expected):
        np.testing.assert_array_equal(p.data, q)
    np.testing.assert_allclose(model.w.data, expected[0], rtol=1e-12)  # the brief's tolerance, met exactly


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_minibatch_fit_with_a_short_last_batch_makes_the_plain_loops_updates(optimizer):
    X, y = problem(seed=3, n=30)  # batches of 7: four full ones and one of 2
    by_hand, model = LogisticRegression(3, seed=1), LogisticRegression(3, seed=1)
    make = {"sgd": lambda p: tg.optim.SGD(p, 0.2), "momentum": lambda p: tg.optim.SGD(p, 0.2, momentum=0.9),
            "adam": lambda p: tg.optim.Adam(p, 0.2)}[optimizer]
    expected, _ = tinygraph_loop(by_hand, X, y, epochs=3, lr=0.2, batch_size=7, seed=6,
                                 optimizer=make(by_hand.parameters()))
    model.fit(X, y, epochs=3, lr=0.2, batch_size=7, seed=6, optimizer=optimizer, progress=False)
    for p, q in zip(model.parameters(), expected):
        np.testing.assert_array_equal(p.data, q)


def test_a_diverging_per_example_fit_names_the_step_and_keeps_the_parameters_before_it():
    X, y = problem(seed=1, n=40)
    X = X * 1e150  # the net input overflows within a few steps at this learning rate
    by_hand, model = LogisticRegression(3, seed=0), LogisticRegression(3, seed=0)
    with np.errstate(all="ignore"):
        kept, (epoch, step) = tinygraph_loop(by_hand, X, y, epochs=3, lr=1e160, batch_size=1, seed=2)
    with pytest.raises(DivergedError) as caught:
        model.fit(X, y, epochs=3, lr=1e160, batch_size=1, seed=2, progress=False)
    message = str(caught.value)
    assert re.search(rf"non-finite \((nan|inf)\) in step {step} of 40, at epoch {epoch} with lr=1e\+160", message)
    for p, q in zip(model.parameters(), kept):
        np.testing.assert_array_equal(p.data, q)
    assert all(p.grad is None for p in model.parameters())


class Recorded(LogisticRegression):
    """LogisticRegression keeping every objective the training loop builds, to look at its graph."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.graphs = []

    def _objective(self, X, y):
        z, loss = super()._objective(X, y)
        if tg.is_grad_enabled():  # a training step's, not the History's evaluation
            self.graphs.append(loss)
        return z, loss


def scopes(loss) -> dict[str, str | None]:
    """Node class name → its scope, for every node of the graph of ``loss``."""
    found, stack = {}, [loss]
    while stack:
        t = stack.pop()
        if t.node is not None:
            found[type(t.node).__name__] = t.node.scope
            stack.extend(t.node.inputs)
    return found


@pytest.mark.parametrize("batch_size", [1, 5, None])
def test_every_node_of_a_training_step_is_in_the_models_scope(batch_size):
    X, y = problem(n=10)
    model = Recorded(3, seed=0)
    model.fit(X, y, epochs=2, lr=0.1, batch_size=batch_size, progress=False)
    assert len(model.graphs) == 2 * {1: 10, 5: 2, None: 1}[batch_size]
    for loss in model.graphs:
        assert scopes(loss) == dict.fromkeys(["SigmoidBCE", "Sigmoid", "Linear"], LogisticRegression.scope)
    assert tg.modes.mode.scope is None  # entered per epoch, and left


def test_with_a_penalty_the_objectives_sum_stays_in_the_callers_scope():
    X, y = problem(n=10)
    model = Recorded(3, l2=0.1, seed=0)
    with tg.name_scope("experiment"):
        model.fit(X, y, epochs=1, lr=0.1, batch_size=5, progress=False)
    expected = {"Add": "experiment", "L2Penalty": "L2 penalty: (λ/2)‖W‖²"}
    expected |= dict.fromkeys(["SigmoidBCE", "Sigmoid", "Linear"], LogisticRegression.scope)
    assert [scopes(loss) for loss in model.graphs] == [expected, expected]
    assert model.loss(X, y).node.scope is None and model.graphs[0].name == "J"


def test_an_mlps_training_step_keeps_the_hidden_layers_scopes():
    X, y = problem(n=8)
    model = MLP((3, 4, 1), seed=0)
    graphs = []
    objective = model._objective

    def recording(X, y):
        z, loss = objective(X, y)
        graphs.append(loss)
        return z, loss

    model._objective = recording  # the instance's own attribute, as the training loop looks it up
    model.fit(X, y, epochs=1, lr=0.1, batch_size=1, progress=False)
    del model._objective
    hidden, output = "MLP layer 1: net input → sigmoid", model.scope
    found, seen, stack = {}, set(), [graphs[0]]
    while stack:
        t = stack.pop()
        if t.node is not None and id(t.node) not in seen:
            seen.add(id(t.node))
            found.setdefault(t.node.scope, []).append(type(t.node).__name__)
            stack.extend(t.node.inputs)
    assert sorted(found) == sorted([hidden, output])
    assert sorted(found[hidden]) == ["Linear", "Sigmoid"]
    assert sorted(found[output]) == ["Linear", "Sigmoid", "SigmoidBCE"]
