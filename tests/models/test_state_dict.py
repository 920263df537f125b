"""PyTorch's names on models and optimizers: model(X), named_parameters, state_dict, load_state_dict.

The point of state_dict: training resumed from one, after k epochs, ends where an unbroken run
ends, bit for bit.
"""

import numpy as np
import pytest

import tinygraph as tg
from tinygraph.models import MLP, LogisticRegression, SoftmaxRegression


def _data(n=40, d=3, k=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = (X[:, 0] + X[:, 1] > 0).astype(int) if k == 2 else rng.integers(0, k, n)
    return X, y


MODELS = {
    "logistic": lambda: (LogisticRegression(3, l2=0.01, seed=1), 2),
    "softmax": lambda: (SoftmaxRegression(3, 3, seed=1), 3),
    "mlp": lambda: (MLP((3, 5, 3), activation="tanh", l2=0.001, seed=1), 3),
}


@pytest.mark.parametrize("kind", MODELS)
def test_a_model_called_on_X_is_its_forward(kind):
    model, k = MODELS[kind]()
    X, _ = _data(k=k)
    a = model(X)
    assert isinstance(a, tg.Tensor) and a.requires_grad
    np.testing.assert_array_equal(a.data, model.forward(X).data)


@pytest.mark.parametrize("kind", MODELS)
def test_named_parameters_are_the_parameters_with_their_names(kind):
    model, _ = MODELS[kind]()
    named = list(model.named_parameters())
    assert len(named) == len(model.parameters())
    assert all(p is q for (_, p), q in zip(named, model.parameters()))
    assert [name for name, _ in named] == list(model.params) and all(p.name == name for name, p in named)


def test_state_dict_is_a_copy_and_load_state_dict_copies_too():
    model = LogisticRegression(3, seed=0)
    state = model.state_dict()
    assert set(state) == {"w", "b"}
    state["w"][0] = 99.0
    assert model.w.data[0] != 99.0
    other = LogisticRegression(3, seed=5)
    other.load_state_dict(state)
    np.testing.assert_array_equal(other.w.data, state["w"])
    state["w"][1] = -7.0
    assert other.w.data[1] != -7.0


def test_load_state_dict_names_what_does_not_fit_and_changes_nothing():
    model = SoftmaxRegression(3, 2, seed=0)
    before = model.state_dict()
    with pytest.raises(ValueError, match=r"missing \['b'\], unexpected \['bias'\]"):
        model.load_state_dict({"W": before["W"], "bias": before["b"]})
    with pytest.raises(ValueError, match=r"'b' has shape \(3,\), the model's has \(2,\)"):
        model.load_state_dict({"W": before["W"] + 1, "b": np.zeros(3)})
    np.testing.assert_array_equal(model.W.data, before["W"])


def _epochs(model, opt, X, y, epochs, rng):
    for _ in range(epochs):
        for batch in np.array_split(rng.permutation(len(X)), 4):
            opt.zero_grad()
            model.loss(X[batch], y[batch]).backward()
            opt.step()


OPTIMIZERS = {
    "sgd": lambda ps: tg.optim.SGD(ps, lr=0.1),
    "momentum": lambda ps: tg.optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=0.01),
    "adam": lambda ps: tg.optim.Adam(ps, lr=0.01),
}


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("kind", MODELS)
def test_resuming_after_k_epochs_gives_the_unbroken_runs_parameters_bit_for_bit(kind, optimizer):
    make_optimizer = OPTIMIZERS[optimizer]
    model, k = MODELS[kind]()
    X, y = _data(k=k)
    opt = make_optimizer(model.parameters())
    _epochs(model, opt, X, y, 6, np.random.default_rng(3))
    unbroken = model.state_dict()

    first, _ = MODELS[kind]()
    opt = make_optimizer(first.parameters())
    rng = np.random.default_rng(3)
    _epochs(first, opt, X, y, 2, rng)
    saved_model, saved_opt = first.state_dict(), opt.state_dict()
    del first, opt

    resumed, _ = MODELS[kind]()  # fresh parameters, fresh optimizer: everything comes from the dicts
    opt = OPTIMIZERS[optimizer](resumed.parameters())
    resumed.load_state_dict(saved_model)
    opt.load_state_dict(saved_opt)
    _epochs(resumed, opt, X, y, 4, rng)
    for name, value in resumed.state_dict().items():
        np.testing.assert_array_equal(value, unbroken[name])


def test_an_optimizers_state_dict_holds_its_hyperparameters_and_copies_of_its_state():
    w = tg.tensor(np.ones(2), requires_grad=True)
    opt = tg.optim.Adam([w], lr=0.1, betas=(0.8, 0.9))
    (w * w).sum().backward()
    opt.step()
    state = opt.state_dict()
    assert (
        state["lr"] == 0.1 and (state["beta1"], state["beta2"]) == (0.8, 0.9) and state["state"][0]["t"] == 1
    )
    state["state"][0]["m"][0] = 123.0
    assert opt.state[0]["m"][0] != 123.0
    other = tg.optim.Adam([tg.tensor(np.ones(2), requires_grad=True)])
    other.load_state_dict(state)
    assert other.lr == 0.1 and other.beta1 == 0.8 and other.state[0]["m"][0] == 123.0
    state["state"][0]["m"][0] = 0.0
    assert other.state[0]["m"][0] == 123.0


def test_an_optimizer_refuses_a_state_dict_that_does_not_fit():
    w = tg.tensor(np.ones(2), requires_grad=True)
    with pytest.raises(ValueError, match="holds 2 parameter states, the optimizer has 1"):
        tg.optim.SGD([w], lr=0.1).load_state_dict({"lr": 0.1, "state": [{}, {}]})
    with pytest.raises(
        ValueError, match=r"does not fit this SGD: unknown entries \['beta1', 'beta2', 'eps'\]"
    ):
        tg.optim.SGD([w], lr=0.1).load_state_dict(tg.optim.Adam([w]).state_dict())


def test_an_optimizer_refuses_state_shaped_for_other_parameters_and_changes_nothing():
    w = tg.tensor(np.ones(3), requires_grad=True)
    opt = tg.optim.Adam([w], lr=0.1)
    (w * w).sum().backward()
    opt.step()
    other = tg.optim.Adam([tg.tensor(np.ones(2), requires_grad=True)], lr=0.5)
    with pytest.raises(ValueError, match=r"'m' of parameter 0 has shape \(3,\), the parameter \(2,\)"):
        other.load_state_dict(opt.state_dict())
    assert other.lr == 0.5 and other.state == [{}]


@pytest.mark.parametrize(
    "entries, message",
    [({"lr": -1.0}, "lr must be a finite number > 0"), ({"momentum": 1.5}, r"momentum must be in \[0, 1\)")],
)
def test_an_optimizer_checks_the_hyperparameters_it_loads_and_changes_nothing(entries, message):
    w = tg.tensor(np.ones(2), requires_grad=True)
    opt = tg.optim.SGD([w], lr=0.1, momentum=0.5)
    with pytest.raises(ValueError, match=message):
        opt.load_state_dict({**opt.state_dict(), **entries})
    assert (opt.lr, opt.momentum) == (0.1, 0.5)


def test_load_state_dict_refuses_complex_or_non_numeric_values_and_changes_nothing():
    model = LogisticRegression(3, seed=0)
    before = model.state_dict()
    with pytest.raises(ValueError, match=r"state_dict\['w'\] holds complex numbers"):
        model.load_state_dict({"w": before["w"] + 1j, "b": 0.0})
    with pytest.raises(ValueError, match=r"state_dict\['w'\] must be numeric"):
        model.load_state_dict({"w": ["a", "b", "c"], "b": 0.0})
    np.testing.assert_array_equal(model.w.data, before["w"])
