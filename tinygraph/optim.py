"""Optimizers: the update rule that turns each parameter's gradient into its next value.

Each keeps a list of parameter tensors. ``zero_grad()`` clears their gradients before a backward
pass, ``step()`` moves every parameter that has a gradient. Parameters are updated by rebinding
(``p.data = p.data - lr * g``), never in place: a recorded graph keeps references to the old
arrays, and an update in place would change them behind its back.

Examples
--------
The lecture's loop, written by hand over the graph:

>>> import numpy as np
>>> import tinygraph as tg
>>> X = np.array([[0.0, 1.0], [1.0, 0.0]]); y = np.array([1.0, 0.0])
>>> w = tg.tensor(np.zeros(2), requires_grad=True, name="w")
>>> b = tg.tensor(0.0, requires_grad=True, name="b")
>>> opt = tg.optim.SGD([w, b], lr=0.5)
>>> for epoch in range(100):
...     opt.zero_grad()
...     loss = tg.bce(tg.sigmoid(tg.linear(X, w, b)), y)
...     loss.backward()
...     opt.step()
>>> bool(loss.item() < 0.1)
True
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from typing import Any

import numpy as np

from tinygraph._array import xp
from tinygraph._checks import is_number, number
from tinygraph._lazy import compute, is_lazy
from tinygraph.tensor import Tensor


class Optimizer:
    """Base class: holds the parameters, clears their gradients, applies ``_update`` to each.

    Parameters
    ----------
    params : iterable of Tensor
        Tensors with ``requires_grad=True`` (``model.parameters()``).
    lr : float
        The learning rate η > 0.
    """

    def __init__(self, params: Iterable[Tensor], lr: float) -> None:
        self.params = list(params)
        if not self.params:
            raise ValueError("the optimizer got no parameters: pass a list of tensors, e.g. model.parameters()")
        for i, p in enumerate(self.params):
            if not isinstance(p, Tensor) or not p.requires_grad:
                raise ValueError(f"parameter {i} must be a Tensor with requires_grad=True, got {p!r}")
        self.lr = number(lr, "lr", "> 0")
        self.state: list[dict[str, Any]] = [{} for _ in self.params]

    def _check_hyperparameters(self) -> None:
        """Check the hyperparameters (as ``__init__`` and ``load_state_dict`` set them), as floats."""
        self.lr = number(self.lr, "lr", "> 0")

    def zero_grad(self) -> None:
        """Forget the gradients (backward accumulates into ``.grad``, so clear it before each pass)."""
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        """Update every parameter that has a gradient; the others stay as they are.

        Lazy gradients (of a graph on Dask data) are computed first, all in one pass over the
        data, so that the parameters stay small arrays in memory rather than growing graphs.
        """
        for p, g, state in zip(self.params, _computed(self.params), self.state):
            if g is not None:
                w = p.data
                p.data = _in_dtype(self._update(w, g, state), w.dtype)

    def _update(self, w: np.ndarray, g: np.ndarray, state: dict[str, Any]) -> np.ndarray:
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """A copy of what the next steps depend on: the hyperparameters and each parameter's state.

        With the model's ``state_dict``, it resumes training exactly: loading both after k steps
        and taking the remaining steps gives the parameters of an unbroken run, bit for bit.
        """
        hyperparameters = {k: v for k, v in vars(self).items() if k not in ("params", "state")}
        return {**hyperparameters, "state": [_copy_state(s) for s in self.state]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what ``state_dict`` returned (copied); the parameter list stays this optimizer's own.

        Raises
        ------
        ValueError
            When the states do not fit the parameters (their number, an array's shape), an entry is
            unknown, or a hyperparameter is out of range; nothing is changed then.
        """
        saved = state.get("state")
        if not isinstance(saved, list) or len(saved) != len(self.params):
            count = len(saved) if isinstance(saved, list) else "no"
            raise ValueError(f"state_dict holds {count} parameter states, the optimizer has {len(self.params)}")
        unknown = set(state) - set(vars(self)) - {"state"}
        if unknown:
            raise ValueError(f"state_dict does not fit this {type(self).__name__}: unknown entries {sorted(unknown)}")
        for i, (p, s) in enumerate(zip(self.params, saved)):
            if not isinstance(s, dict):  # noqa: TRY004 (like every misfit here: ValueError, as documented)
                raise ValueError(f"state_dict: the state of parameter {i} must be a dict, got {s!r}")
            for key, value in s.items():
                if isinstance(value, np.ndarray) and value.shape != p.shape:
                    raise ValueError(
                        f"state_dict: {key!r} of parameter {i} has shape {value.shape}, the parameter {p.shape}"
                    )
        before = dict(vars(self))
        try:
            for key, value in state.items():
                if key != "state":
                    setattr(self, key, value)
            self._check_hyperparameters()
        except ValueError as error:
            vars(self).update(before)  # nothing is changed
            raise ValueError(f"state_dict: {error}") from None
        self.state = [_copy_state(s) for s in saved]


class SGD(Optimizer):
    """(Stochastic) gradient descent, optionally with momentum and weight decay.

    Parameters
    ----------
    params : iterable of Tensor
    lr : float
        η > 0.
    momentum : float
        μ in [0, 1); 0 is plain gradient descent.
    weight_decay : float
        λ ≥ 0, added to the gradient as λw (the same as an L2 penalty (λ/2)‖w‖² in the loss).

    Notes
    -----
    g = ∂L/∂w + λw;  v := μv + g (v starts at the first g);  w := w − η v.
    With μ = 0 this is the lecture's rule w := w − η ∂L/∂w.
    """

    def __init__(self, params: Iterable[Tensor], lr: float, momentum: float = 0.0, weight_decay: float = 0.0) -> None:
        super().__init__(params, lr)
        self.momentum, self.weight_decay = momentum, weight_decay
        self._check_hyperparameters()

    def _check_hyperparameters(self) -> None:
        super()._check_hyperparameters()
        if not (is_number(self.momentum) and 0 <= self.momentum < 1):
            raise ValueError(f"momentum must be in [0, 1), got {self.momentum!r}")
        self.momentum = float(self.momentum)
        self.weight_decay = number(self.weight_decay, "weight_decay", ">= 0")

    def step(self) -> None:
        """Update every parameter that has a gradient: w := w − η g, or with momentum and weight decay."""
        if self.momentum or self.weight_decay or type(self)._update is not SGD._update:  # a subclass's rule
            super().step()
            return
        lr = self.lr  # the lecture's rule, with no state to keep: one pass, the fewest Python steps
        for p in self.params:
            g = p.grad
            if g is None:
                continue
            if type(g) is not np.ndarray and is_lazy(g):
                _computed(self.params)  # this one and every later one, in one pass
                g = p.grad
            w = p.data
            new = w - lr * g
            p.data = new if new.dtype is w.dtype else new.astype(w.dtype)  # as _in_dtype, without a call

    def _update(self, w: np.ndarray, g: np.ndarray, state: dict[str, Any]) -> np.ndarray:
        if self.weight_decay:
            g = g + self.weight_decay * w
        if self.momentum:
            g = state["v"] = self.momentum * state["v"] + g if "v" in state else g
        return w - self.lr * g


class Adam(Optimizer):
    """Adam: gradient descent with per-parameter step sizes from running moments of the gradient.

    Parameters
    ----------
    params : iterable of Tensor
    lr : float
        η > 0 (0.001 to 0.01 is typical).
    betas : (float, float)
        β₁, β₂ in [0, 1): decay rates of the first and second moment estimates.
    eps : float
        ε > 0, keeps the step finite where the second moment is 0.

    Notes
    -----
    m := β₁m + (1 − β₁)g;  v := β₂v + (1 − β₂)g²;  m̂ = m / (1 − β₁ᵗ);  v̂ = v / (1 − β₂ᵗ);
    w := w − η m̂ / (√v̂ + ε), with t the number of updates of that parameter so far.
    """

    def __init__(
        self, params: Iterable[Tensor], lr: float = 0.001, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8
    ) -> None:
        super().__init__(params, lr)
        if len(betas) != 2:
            raise ValueError(f"betas must be two numbers in [0, 1), got {betas!r}")
        self.beta1, self.beta2 = betas
        self.eps = eps
        self._check_hyperparameters()

    def _check_hyperparameters(self) -> None:
        super()._check_hyperparameters()
        if not all(is_number(beta) and 0 <= beta < 1 for beta in (self.beta1, self.beta2)):
            raise ValueError(f"betas must be two numbers in [0, 1), got {(self.beta1, self.beta2)!r}")
        self.beta1, self.beta2 = float(self.beta1), float(self.beta2)
        self.eps = number(self.eps, "eps", "> 0")

    def _update(self, w: np.ndarray, g: np.ndarray, state: dict[str, Any]) -> np.ndarray:
        t = state["t"] = state.get("t", 0) + 1
        m = state["m"] = self.beta1 * state.get("m", 0.0) + (1 - self.beta1) * g
        v = state["v"] = self.beta2 * state.get("v", 0.0) + (1 - self.beta2) * g * g
        m_hat = m / (1 - self.beta1**t)
        v_hat = v / (1 - self.beta2**t)
        return w - self.lr * m_hat / (xp.sqrt(v_hat) + self.eps)


def _computed(params: list[Tensor]) -> list[Any]:
    """The parameters' gradients, lazy ones (of a graph on Dask data) computed and stored, all in one pass."""
    grads = list(map(_grad_of, params))
    for g in grads:
        if type(g) is not np.ndarray and is_lazy(g):  # an ndarray, the common case, is never lazy
            values = compute(*grads)
            for p, value in zip(params, values):
                p.grad = value
            return values
    return grads


_grad_of = operator.attrgetter("grad")


def _in_dtype(new: Any, dtype: Any) -> Any:
    """The updated value ``new`` in the parameter's dtype (a float64 gradient must not widen float32 w)."""
    return new if new.dtype is dtype else new.astype(dtype, copy=False)


def _copy_state(state: dict[str, Any]) -> dict[str, Any]:
    """One parameter's optimizer state, its arrays copied (the optimizer never shares them)."""
    return {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in state.items()}
