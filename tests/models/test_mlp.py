"""MLP: layer shapes, a forward pass against NumPy, finite-difference gradients, and learning XOR."""

import numpy as np
import pytest
from scipy.special import expit, logsumexp

from tinygraph.models import MLP, LogisticRegression
from tinygraph.nodes import BCE, SoftmaxCrossEntropy

ACTIVATIONS = {"sigmoid": expit, "relu": lambda z: np.maximum(z, 0), "tanh": np.tanh}


def numpy_logits(model: MLP, X: np.ndarray) -> np.ndarray:
    """The forward pass written out in NumPy: an independent implementation."""
    f = ACTIVATIONS[model.activation]
    a = X
    for w, b in zip(model.weights[:-1], model.biases[:-1]):
        a = f(a @ w.data + b.data)
    return a @ model.weights[-1].data + model.biases[-1].data


def test_layer_shapes_and_parameter_names():
    model = MLP((4, 5, 6, 3), seed=0)
    assert [w.shape for w in model.weights] == [(4, 5), (5, 6), (6, 3)]
    assert [b.shape for b in model.biases] == [(5,), (6,), (3,)]
    assert list(model.params) == ["W1", "b1", "W2", "b2", "W3", "b3"]
    binary = MLP((4, 5, 1), seed=0)
    assert binary.weights[-1].shape == (5,) and binary.biases[-1].shape == ()


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("outputs", [1, 3])
def test_forward_and_loss_match_numpy(activation, outputs):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((7, 4))
    y = rng.integers(0, 2 if outputs == 1 else outputs, 7)
    model = MLP((4, 6, 5, outputs), activation=activation, seed=1)
    z = numpy_logits(model, X)
    np.testing.assert_allclose(model.net_input(X).data, z, rtol=1e-12, atol=1e-14)
    if outputs == 1:
        expected = np.mean(np.logaddexp(0, z) - y * z)
        np.testing.assert_array_equal(model.predict(X), (z > 0).astype(int))
        np.testing.assert_allclose(model.predict_proba(X), expit(z), rtol=1e-12)
    else:
        expected = np.mean(logsumexp(z, axis=1) - z[np.arange(7), y])
        np.testing.assert_array_equal(model.predict(X), np.argmax(z, axis=1))
    np.testing.assert_allclose(model.loss(X, y).item(), expected, rtol=1e-12)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("outputs", [1, 3])
def test_backprop_matches_central_differences(activation, outputs, numeric_gradient, analytic_gradient):
    rng = np.random.default_rng(2)
    X = rng.standard_normal((6, 3))
    y = rng.integers(0, 2 if outputs == 1 else outputs, 6)
    model = MLP((3, 4, outputs), activation=activation, l2=0.1, seed=3)
    analytic, numeric = analytic_gradient(model, X, y), numeric_gradient(model, X, y)
    for name in model.params:
        np.testing.assert_allclose(analytic[name], numeric[name], rtol=1e-5, atol=1e-8, err_msg=name)


def test_output_size_picks_the_loss():
    X = np.zeros((2, 3))
    assert isinstance(MLP((3, 4, 1)).loss(X, [0, 1]).node, BCE)
    assert isinstance(MLP((3, 4, 2)).loss(X, [0, 1]).node, SoftmaxCrossEntropy)


def test_without_hidden_layers_it_is_logistic_regression():
    rng = np.random.default_rng(4)
    X, y = rng.standard_normal((10, 3)), rng.integers(0, 2, 10)
    mlp, logreg = MLP((3, 1), l2=0.3), LogisticRegression(3, l2=0.3)
    mlp.weights[0].data = logreg.w.data = rng.standard_normal(3)
    mlp.biases[0].data = logreg.b.data = np.array(0.4)
    assert mlp.loss(X, y).item() == logreg.loss(X, y).item()
    mlp.loss(X, y).backward()
    logreg.loss(X, y).backward()
    np.testing.assert_array_equal(mlp.weights[0].grad, logreg.w.grad)


def test_a_hidden_layer_learns_xor_which_logistic_regression_cannot():
    rng = np.random.default_rng(5)
    X = rng.uniform(-1, 1, (200, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    mlp = MLP((2, 8, 1), activation="tanh", seed=0)
    mlp.fit(X, y, epochs=300, lr=0.05, batch_size=20, optimizer="adam", seed=0, progress=False)
    logreg = LogisticRegression(2, seed=0)
    logreg.fit(X, y, epochs=300, lr=0.05, batch_size=20, optimizer="adam", seed=0, progress=False)
    assert mlp.score(X, y) > 0.95
    assert logreg.score(X, y) < 0.75


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"sizes": 3}, r"sizes must be a sequence of layer widths, e.g. \(4, 16, 3\); got 3"),
        ({"sizes": (3,)}, "at least the inputs and the outputs"),
        ({"sizes": (3, 0, 1)}, "sizes"),
        ({"sizes": (3, 2.5, 1)}, "sizes"),
        ({"sizes": (3, 1), "activation": "softplus"}, "activation must be one of"),
        ({"sizes": (3, 1), "l2": -1.0}, "l2"),
    ],
)
def test_bad_construction_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MLP(**kwargs)


def test_labels_must_fit_the_outputs():
    X = np.zeros((2, 3))
    with pytest.raises(ValueError, match="labels 0 or 1"):
        MLP((3, 1)).loss(X, [0, 2])
    with pytest.raises(ValueError, match=r"class labels 0, 1, \.\.\., 2; found 3"):
        MLP((3, 3)).loss(X, [0, 3])
