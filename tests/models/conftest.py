"""Shared data for the model tests: standardized real datasets and a finite-difference gradient."""

from collections.abc import Callable

import numpy as np
import pytest

from tinygraph import data
from tinygraph.models import Model


def _standardized(name: str) -> tuple[np.ndarray, np.ndarray]:
    ds = data.load_dataset(name)
    return (ds.X - ds.X.mean(axis=0)) / ds.X.std(axis=0), ds.y


@pytest.fixture(scope="session")
def breast_cancer() -> tuple[np.ndarray, np.ndarray]:
    """All 569 examples, each feature standardized: linearly separable, 2 classes."""
    return _standardized("breast_cancer")


@pytest.fixture(scope="session")
def iris() -> tuple[np.ndarray, np.ndarray]:
    """All 150 examples, standardized, 3 classes."""
    return _standardized("iris")


def central_differences(model: Model, X: np.ndarray, y: np.ndarray, eps: float = 1e-6) -> dict[str, np.ndarray]:
    """dL/dθ for every parameter θ of ``model`` by (L(θ + ε) − L(θ − ε)) / 2ε, element by element."""
    grads = {}
    for name, p in model.params.items():
        original, grad = p.data, np.zeros(p.shape)
        for index in np.ndindex(p.shape):
            values = []
            for step in (eps, -eps):
                moved = original.copy()
                moved[index] += step
                p.data = moved
                values.append(model.loss(X, y).item())
            grad[index] = (values[0] - values[1]) / (2 * eps)
        p.data = original
        grads[name] = grad
    return grads


@pytest.fixture
def numeric_gradient() -> Callable[..., dict[str, np.ndarray]]:
    return central_differences


def backprop_gradient(model: Model, X: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    for p in model.parameters():
        p.grad = None
    model.loss(X, y).backward()
    return {name: p.grad for name, p in model.params.items()}


@pytest.fixture
def analytic_gradient() -> Callable[..., dict[str, np.ndarray]]:
    return backprop_gradient
