"""The L2 penalty (λ/2)‖w‖² as one node of the graph, so diagrams show it beside the data loss.

The models add it to their mean loss when ``l2 > 0``; ``tg.l2_penalty(lam, *weights)`` is its
functional form.
"""

from __future__ import annotations

from tinygraph._array import namespace, ndarray
from tinygraph._types import Grads
from tinygraph.node import Node

_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


class L2Penalty(Node):
    """R = (λ/2) Σ_i ‖w_i‖² over the weight tensors it is called on (biases are not penalized).

    Its inputs are the weight tensors w_i, of any shapes; its output R is a scalar.

    Parameters
    ----------
    lam : float
        The strength λ ≥ 0.

    Notes
    -----
    dR/dw = λ w, so gradient descent on L + R shrinks every weight by the factor (1 − η λ) before
    the data's step: w := w − η (Xᵀ(a − y) / N + λ w). With λ = 1 / (C N) the objective
    mean loss + R is scikit-learn's ½‖w‖² + C Σ loss divided by C N. Forward mode:
    Ṙ = λ Σ_i ⟨w_i, ẇ_i⟩.

    Examples
    --------
    >>> import numpy as np
    >>> import tinygraph as tg
    >>> from tinygraph.nodes import L2Penalty
    >>> w = tg.tensor(np.array([3.0, 4.0]), requires_grad=True)
    >>> r = L2Penalty(0.1)(w)
    >>> r.item()
    1.25
    >>> r.backward(); w.grad
    array([0.3, 0.4])
    """

    formula = "R = (λ/2)‖w‖²"

    def __init__(self, lam: float) -> None:
        self.lam = float(lam)

    def forward(self, *weights: ndarray) -> ndarray:
        self.weights = weights
        # One symbol per weight, so that a diagram writes each in its tensor's name: (‖W1‖² + ‖W2‖²).
        self.symbols = (
            ("w",)
            if len(weights) == 1
            else tuple(f"w{k}".translate(_SUBSCRIPTS) for k in range(1, len(weights) + 1))
        )
        if len(weights) > 1:
            self.formula = "R = (λ/2)(" + " + ".join(f"‖{w}‖²" for w in self.symbols) + ")"
        self.local_derivatives = tuple(f"λ{w}" for w in self.symbols)
        return 0.5 * self.lam * sum(namespace(w).sum(w * w) for w in weights)

    def backward(self, grad: ndarray) -> Grads:
        return tuple(grad * self.lam * w if need else None for w, need in zip(self.weights, self.needs_grad))

    def jvp(self, *tangents: ndarray | None) -> ndarray:
        """Ṙ = λ Σ_i ⟨w_i, ẇ_i⟩."""
        terms = [namespace(w).sum(w * t) for w, t in zip(self.weights, tangents) if t is not None]
        if not terms:
            return namespace(self.weights[0]).zeros((), dtype=self.weights[0].dtype)
        return self.lam * sum(terms[1:], terms[0])
