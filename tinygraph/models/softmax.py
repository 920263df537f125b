"""Softmax (multinomial logistic) regression: Linear (logits z) → softmax cross-entropy, K classes."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygraph._checks import count
from tinygraph.functional import linear, softmax, softmax_cross_entropy
from tinygraph.models.base import Model
from tinygraph.models.checks import Pending, class_labels
from tinygraph.tensor import Tensor, tensor


class SoftmaxRegression(Model):
    """Multinomial logistic regression: a = softmax(xW + b), a_k = P(y = k | x).

    Parameters
    ----------
    n_features : int
        d, the number of inputs.
    n_classes : int
        K ≥ 2, the number of classes.
    l2 : float
        λ ≥ 0: the loss becomes mean cross-entropy + (λ/2)‖W‖² (the bias is not penalized).
    seed : int, optional
        Seeds the initial weights W ~ N(0, 0.01²) (b = 0) and, by default, the shuffling in ``fit``.

    Attributes
    ----------
    W : Tensor, shape (d, K)
    b : Tensor, shape (K,)

    Notes
    -----
    L = −(1/N) Σ_n log softmax(z_n)_{y_n} with z = XW + b; dL/dz = (a − onehot(y)) / N, the same
    (a − y) as logistic regression. ``predict`` is argmax_k z_k: the softmax keeps the order.
    """

    scope = "SoftmaxRegression: net input → softmax cross-entropy"

    def __init__(self, n_features: int, n_classes: int, *, l2: float = 0.0, seed: int | None = None) -> None:
        super().__init__(l2=l2, seed=seed)
        self.n_features = count(n_features, "n_features")
        self.n_classes = count(n_classes, "n_classes", minimum=2)
        rng = np.random.default_rng(self.seed)
        self.W = tensor(rng.normal(0.0, 0.01, (self.n_features, self.n_classes)), requires_grad=True, name="W")
        self.b = tensor(np.zeros(self.n_classes), requires_grad=True, name="b")
        self.params = {"W": self.W, "b": self.b}

    def _net_input(self, x: Tensor) -> Tensor:
        return linear(x, self.W, self.b)

    def _activation(self, z: Tensor) -> Tensor:
        return softmax(z)

    def _data_loss(self, z: Tensor, y: Tensor) -> Tensor:
        return softmax_cross_entropy(z, y)

    def _classes(self, z: np.ndarray) -> np.ndarray:
        return np.argmax(z, axis=1)

    def _check_labels(self, y: np.ndarray, pending: list[Pending] | None = None) -> np.ndarray:
        return class_labels(y, self.n_classes, "SoftmaxRegression", pending)

    def _weights(self) -> list[Tensor]:
        return [self.W]

    def _config(self) -> dict[str, Any]:
        return {"n_features": self.n_features, "n_classes": self.n_classes, "l2": self.l2}

    @staticmethod
    def _shapes(n_features: Any, n_classes: Any, l2: Any) -> dict[str, tuple[int, ...]]:
        d, k = count(n_features, "n_features"), count(n_classes, "n_classes", minimum=2)
        return {"W": (d, k), "b": (k,)}
