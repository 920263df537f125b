"""Logistic regression, exactly the lecture's graph: Linear (net input z) → Sigmoid (a) → BCE (NLL)."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygraph._checks import count
from tinygraph.functional import bce, linear, sigmoid
from tinygraph.models.base import Model
from tinygraph.models.checks import Pending, binary_labels
from tinygraph.tensor import Tensor, tensor


class LogisticRegression(Model):
    """Binary logistic regression: a = σ(wᵀx + b) = P(y = 1 | x).

    Parameters
    ----------
    n_features : int
        d, the number of inputs.
    l2 : float
        λ ≥ 0: the loss becomes mean NLL + (λ/2)‖w‖² (the bias is not penalized).
    seed : int, optional
        Seeds the initial weights w ~ N(0, 0.01²) (b = 0) and, by default, the shuffling in ``fit``.

    Attributes
    ----------
    w : Tensor, shape (d,)
    b : Tensor, shape ()

    Notes
    -----
    The graph of ``loss(X, y)`` is Linear → Sigmoid → BCE inside the name scope
    "LogisticRegression: net input → sigmoid → NLL", plus an ``L2Penalty`` node when l2 > 0. Its
    gradient is the lecture's: dL/dw = Xᵀ(a − y) / N + λw, dL/db = mean(a − y).
    ``predict`` thresholds the net input, ŷ = 1 if z > 0, with no sigmoid: σ(0) = 0.5.

    Against scikit-learn (tests/models/test_logistic.py): on standardized breast cancer,
    ``LogisticRegression(C=1)`` is this model with l2 = 1 / (C·N). ``fit(optimizer="lbfgs")`` reaches
    its optimum to 1e-6 (relative objective) in about 50 iterations; plain full-batch gradient
    descent (``batch_size=None``, lr = 1) gets within 1e-3 of it in 700 epochs.

    Examples
    --------
    >>> import numpy as np
    >>> from tinygraph.models import LogisticRegression
    >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]]); y = np.array([0, 0, 1, 1])
    >>> model = LogisticRegression(1, seed=0)
    >>> history = model.fit(X, y, epochs=50, lr=0.5, progress=False)
    >>> model.predict(X)
    array([0, 0, 1, 1])
    """

    scope = "LogisticRegression: net input → sigmoid → NLL"

    def __init__(self, n_features: int, *, l2: float = 0.0, seed: int | None = None) -> None:
        super().__init__(l2=l2, seed=seed)
        self.n_features = count(n_features, "n_features")
        rng = np.random.default_rng(self.seed)
        self.w = tensor(rng.normal(0.0, 0.01, self.n_features), requires_grad=True, name="w")
        self.b = tensor(0.0, requires_grad=True, name="b")
        self.params = {"w": self.w, "b": self.b}

    def _net_input(self, x: Tensor) -> Tensor:
        return linear(x, self.w, self.b)

    def _activation(self, z: Tensor) -> Tensor:
        return sigmoid(z)

    def _data_loss(self, z: Tensor, y: Tensor) -> Tensor:
        return bce(sigmoid(z), y)

    def _classes(self, z: np.ndarray) -> np.ndarray:
        return (z > 0).astype(np.int64)

    def _check_labels(self, y: np.ndarray, pending: list[Pending] | None = None) -> np.ndarray:
        return binary_labels(y, "LogisticRegression", pending)

    def _weights(self) -> list[Tensor]:
        return [self.w]

    def _config(self) -> dict[str, Any]:
        return {"n_features": self.n_features, "l2": self.l2}

    @staticmethod
    def _shapes(n_features: Any, l2: Any) -> dict[str, tuple[int, ...]]:
        return {"w": (count(n_features, "n_features"),), "b": ()}
