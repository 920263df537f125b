"""The multi-layer perceptron: dense layers with an activation between them, logits out.

Layer l computes the net input z⁽ˡ⁾ = a⁽ˡ⁻¹⁾ W⁽ˡ⁾ + b⁽ˡ⁾ and, except for the last layer, the
activation a⁽ˡ⁾ = f(z⁽ˡ⁾). The last layer's net inputs are the logits: one output is binary
classification (sigmoid → BCE, as in logistic regression), K ≥ 2 outputs are softmax cross-entropy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import Any

import numpy as np

from tinygraph._checks import count
from tinygraph.functional import bce, linear, relu, sigmoid, softmax, softmax_cross_entropy, tanh
from tinygraph.models.base import Model
from tinygraph.models.checks import Pending, binary_labels, class_labels
from tinygraph.modes import name_scope
from tinygraph.tensor import Tensor, tensor

ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {"sigmoid": sigmoid, "relu": relu, "tanh": tanh}
"""The activations f an MLP can put between its layers, by name."""


class MLP(Model):
    """A fully connected network for classification.

    Parameters
    ----------
    sizes : sequence of int
        (d, h₁, ..., h_m, K): the inputs, the hidden layers' widths and the outputs. K = 1 is binary
        classification (labels 0/1); K ≥ 2 is K classes (labels 0, ..., K − 1). ``MLP((d, 1))``
        is logistic regression.
    activation : {"sigmoid", "relu", "tanh"}
        f, applied after every layer but the last.
    l2 : float
        λ ≥ 0: adds (λ/2) Σ_l ‖W⁽ˡ⁾‖² to the mean loss (biases are not penalized).
    seed : int, optional
        Seeds the initial weights and, by default, the shuffling in ``fit``.

    Attributes
    ----------
    weights, biases : list of Tensor
        W⁽ˡ⁾ of shape (h_{l−1}, h_l) and b⁽ˡ⁾ of shape (h_l,); for K = 1 the last layer is a vector
        w of shape (h_m,) with a scalar bias, so the logits have shape (N,).

    Notes
    -----
    Weights start as N(0, s²/fan_in) with s² = 2 for ReLU and 1 otherwise, biases at 0, so the net
    inputs start with roughly unit variance and the sigmoid's derivative (at most 0.25) is far from 0.
    """

    def __init__(
        self,
        sizes: Sequence[int],
        *,
        activation: str = "sigmoid",
        l2: float = 0.0,
        seed: int | None = None,
    ) -> None:
        super().__init__(l2=l2, seed=seed)
        self.sizes = _widths(sizes)
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
        self.activation = activation
        self.n_features = self.sizes[0]
        self.n_outputs = self.sizes[-1]
        loss = "sigmoid → NLL" if self.binary else "softmax cross-entropy"
        self.scope = f"MLP output: logits → {loss}"  # the output layer's; each hidden layer has its own
        self._init_layers(np.random.default_rng(self.seed))

    def _init_layers(self, rng: np.random.Generator) -> None:
        gain = 2.0 if self.activation == "relu" else 1.0
        self.weights, self.biases = [], []
        for layer, (w_shape, b_shape) in enumerate(_layer_shapes(self.sizes), start=1):
            w = rng.normal(0.0, np.sqrt(gain / w_shape[0]), w_shape)
            self.weights.append(tensor(w, requires_grad=True, name=f"W{layer}"))
            self.biases.append(tensor(np.zeros(b_shape), requires_grad=True, name=f"b{layer}"))
        self.params = {}
        for w, b in zip(self.weights, self.biases):
            self.params[w.name], self.params[b.name] = w, b

    @property
    def binary(self) -> bool:
        return self.n_outputs == 1

    def _net_input(self, x: Tensor) -> Tensor:
        f = ACTIVATIONS[self.activation]
        a = x
        for layer, (w, b) in enumerate(zip(self.weights[:-1], self.biases[:-1]), start=1):
            with name_scope(f"MLP layer {layer}: net input → {self.activation}"):
                a = f(linear(a, w, b))
        return linear(a, self.weights[-1], self.biases[-1])

    def _activation(self, z: Tensor) -> Tensor:
        return sigmoid(z) if self.binary else softmax(z)

    def _data_loss(self, z: Tensor, y: Tensor) -> Tensor:
        return bce(sigmoid(z), y) if self.binary else softmax_cross_entropy(z, y)

    def _classes(self, z: np.ndarray) -> np.ndarray:
        return (z > 0).astype(np.int64) if self.binary else np.argmax(z, axis=1)

    def _check_labels(self, y: np.ndarray, pending: list[Pending] | None = None) -> np.ndarray:
        if self.binary:
            return binary_labels(y, "MLP with one output", pending)
        return class_labels(y, self.n_outputs, f"MLP with {self.n_outputs} outputs", pending)

    def _weights(self) -> list[Tensor]:
        return list(self.weights)

    def _config(self) -> dict[str, Any]:
        return {"sizes": list(self.sizes), "activation": self.activation, "l2": self.l2}

    @staticmethod
    def _shapes(sizes: Any, activation: Any, l2: Any) -> dict[str, tuple[int, ...]]:
        shapes = {}
        for layer, (w_shape, b_shape) in enumerate(_layer_shapes(_widths(sizes)), start=1):
            shapes[f"W{layer}"], shapes[f"b{layer}"] = w_shape, b_shape
        return shapes


def _widths(sizes: Any) -> list[int]:
    """``sizes`` as a list of at least two layer widths, each an int >= 1, or a ValueError saying what is off."""
    if isinstance(sizes, (str, bytes)) or np.ndim(sizes) != 1:
        raise ValueError(f"sizes must be a sequence of layer widths, e.g. (4, 16, 3); got {sizes!r}")
    widths = [count(n, "every entry of sizes") for n in sizes]
    if len(widths) < 2:
        raise ValueError(f"sizes needs at least the inputs and the outputs, e.g. (4, 16, 3); got {widths}")
    return widths


def _layer_shapes(sizes: list[int]) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """(shape of W⁽ˡ⁾, shape of b⁽ˡ⁾) per layer; a last layer with one output is a vector w, a scalar b."""
    pairs = list(pairwise(sizes))
    last = len(pairs) - 1
    return [
        ((fan_in,), ()) if layer == last and fan_out == 1 else ((fan_in, fan_out), (fan_out,))
        for layer, (fan_in, fan_out) in enumerate(pairs)
    ]
