"""The training loop behind ``Model.fit``: epochs of (mini)batch gradient steps, or L-BFGS.

Each step is the lecture's: build the graph from the batch to the loss, ``backward()`` for the
gradients, let the optimizer move the parameters. After every epoch the loss and accuracy on the
whole training set (and on the validation set, if given) go into the ``History``.

The loop gets arrays the model has already checked (``Model.fit`` runs the checks of
``tinygraph.models.checks``) and talks to the model through three methods only:

- ``model.parameters()``: the tensors to train, in a fixed order;
- ``model._objective(X, y)``: for checked arrays, the net input z and the scalar objective
  J = L (+ R), a fresh graph ready for ``backward()``;
- ``model._classes(z)``: the predicted labels from the values of the net input (for the accuracy).
"""

from __future__ import annotations

import importlib.util
import math
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

# In Jupyter, tqdm.auto draws a widget, which needs ipywidgets: without it, it would warn
# (TqdmWarning: IProgress not found) and print text anyway. So take the text bar from the start.
if importlib.util.find_spec("ipywidgets") is None:
    from tqdm.std import tqdm
else:
    from tqdm.auto import tqdm

from tinygraph import optim
from tinygraph._checks import count, random_seed
from tinygraph.modes import no_grad

if TYPE_CHECKING:
    from tinygraph.models.base import Model
    from tinygraph.tensor import Tensor

OPTIMIZERS = ("sgd", "momentum", "adam", "lbfgs")
"""The optimizers ``fit`` knows, by name."""


def default_lr(optimizer: str) -> float:
    """The learning rate ``fit`` uses when it is given none: 0.01 for Adam, 0.1 for the others."""
    return 0.01 if optimizer == "adam" else 0.1


class DivergedError(FloatingPointError):
    """The training loss became NaN or inf; the model keeps its last parameters with a finite loss."""


class DivergingWarning(UserWarning):
    """Training ended with a finite loss far above the one it started from: the steps were too large.

    "Far above" is more than twice the starting loss and more than 1 above it (``_diverging``).
    """


@dataclass(repr=False)
class History:
    """What ``fit`` recorded, one entry per epoch (per iteration for L-BFGS).

    Attributes
    ----------
    loss, accuracy : list of float
        The objective (mean loss + penalty) and the accuracy on the whole training set after each epoch.
    val_loss, val_accuracy : list of float
        The same on the validation set (empty without one).
    """

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.loss)

    def __repr__(self) -> str:
        """One line: the epochs, and each curve from its first value to its last."""
        if not self.loss:
            return "History(0 epochs)"
        curves = [
            f"{name} {values[0]:.4g} → {values[-1]:.4g}"
            for name, values in (
                ("loss", self.loss),
                ("accuracy", self.accuracy),
                ("val_loss", self.val_loss),
                ("val_accuracy", self.val_accuracy),
            )
            if values
        ]
        epochs = len(self.loss)
        return f"History({epochs} epoch{'s' if epochs != 1 else ''}: {', '.join(curves)})"

    def plot(self, path: Any = None, *, title: str = "") -> Any:
        """The loss and accuracy curves: ``tinygraph.plots.plot_history(self, path, title=title)``.

        Returns the matplotlib Figure, which Jupyter displays; needs matplotlib (``tinygraph[train]``).
        """
        from tinygraph import plots  # matplotlib is optional: imported only when a plot is asked for

        return plots.plot_history(self, path, title=title)


def fit(
    model: Model,
    X: np.ndarray,
    y: np.ndarray,
    *,
    epochs: int,
    lr: float | None,
    batch_size: int | None,
    optimizer: str,
    shuffle: bool,
    seed: int | None,
    progress: bool,
    validation: tuple[np.ndarray, np.ndarray] | None,
) -> History:
    """Train ``model`` on the checked arrays (X, y) and return the History.

    ``Model.fit`` documents the options; X, y and the validation pair are what the model's checks
    returned. ``lr=None`` is ``default_lr(optimizer)``. However it ends, every parameter's ``.grad``
    is cleared: a gradient left from the last minibatch would be shown as the gradient of
    whatever loss is drawn next.

    Warns
    -----
    DivergingWarning
        When the final loss is far above the starting one (``_diverging``).
    """
    epochs = count(epochs, "epochs")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}; got {optimizer!r}")
    if batch_size is not None:
        batch_size = count(batch_size, "batch_size")
    for flag, value in (("shuffle", shuffle), ("progress", progress)):
        if not isinstance(value, (bool, np.bool_)):  # "no" or "False" would be taken as True
            raise ValueError(f"{flag} must be True or False, got {value!r}")
    seed = random_seed(seed)
    lr = default_lr(optimizer) if lr is None else lr
    history = History()
    start = _evaluate(model, X, y)[0]
    try:
        with tqdm(total=epochs, desc=type(model).__name__, unit="epoch", disable=not progress) as bar:
            if optimizer == "lbfgs":
                _lbfgs(model, X, y, epochs, history, validation, bar)
            else:
                steps = _make_optimizer(optimizer, model.parameters(), lr)
                rng = np.random.default_rng(seed) if shuffle else None
                _descend(model, X, y, epochs, steps, batch_size, rng, history, validation, bar)
    finally:
        for p in model.parameters():
            p.grad = None
    if _diverging(start, history.loss[-1]):
        step = "" if optimizer == "lbfgs" else f" with lr={lr:g}: try a smaller lr"
        message = f"the training loss rose from {start:.4g} to {history.loss[-1]:.4g}{step}"
        warnings.warn(DivergingWarning(message), stacklevel=3)  # at the caller of Model.fit
    return history


def _diverging(start: float, end: float) -> bool:
    """Whether a final loss ``end`` is far above the starting loss ``start``: above 2·start and start + 1."""
    return end > max(2 * start, start + 1)


def _make_optimizer(name: str, params: list[Tensor], lr: float) -> optim.Optimizer:
    if name == "adam":
        return optim.Adam(params, lr)
    return optim.SGD(params, lr, momentum=0.9 if name == "momentum" else 0.0)


def _batches(n: int, batch_size: int | None, rng: np.random.Generator | None) -> Iterator[Any]:
    """Index sets of one epoch: everything at once, or consecutive slices of a (shuffled) order."""
    if batch_size is None or (batch_size >= n and rng is None):
        yield slice(None)
        return
    order = rng.permutation(n) if rng is not None else np.arange(n)
    if batch_size == 1:  # one example: a slice takes a view of its row, where an index array copies it
        for i in order.tolist():
            yield slice(i, i + 1)
        return
    for start in range(0, n, batch_size):
        yield order[start : start + batch_size]


def _descend(
    model: Model,
    X: np.ndarray,
    y: np.ndarray,
    epochs: int,
    steps: optim.Optimizer,
    batch_size: int | None,
    rng: np.random.Generator | None,
    history: History,
    val: tuple[np.ndarray, np.ndarray] | None,
    bar: Any,
) -> None:
    """Epochs of gradient steps; stops with DivergedError at the first non-finite loss."""
    params = model.parameters()
    finite = [p.data for p in params]  # rebinding never changes these arrays: no copy needed
    objective, zero_grad, step = model._objective, steps.zero_grad, steps.step  # looked up once, not per step
    for epoch in range(1, epochs + 1):
        with np.errstate(all="ignore"):  # overflow shows up as a non-finite loss, reported below
            for batch in _batches(len(X), batch_size, rng):
                zero_grad()
                _, loss = objective(X[batch], y[batch])
                if not math.isfinite(loss.item()):  # a Python float: math's test, not a NumPy call
                    _diverged(params, finite, epoch, steps.lr)
                finite = [p.data for p in params]
                loss.backward()
                step()
        _record(model, X, y, val, history)
        if not np.isfinite(history.loss[-1]):
            _diverged(params, finite, epoch, steps.lr)
        _show(bar, history)


def _diverged(params: list[Tensor], finite: list[np.ndarray], epoch: int, lr: float) -> None:
    for p, data in zip(params, finite):
        p.data = data
    raise DivergedError(
        f"the loss became non-finite (NaN or inf) at epoch {epoch} with lr={lr:g}: try a smaller lr; "
        "the model keeps its last parameters with a finite loss"
    )


def _record(
    model: Model, X: np.ndarray, y: np.ndarray, val: tuple[np.ndarray, np.ndarray] | None, history: History
) -> None:
    loss, accuracy = _evaluate(model, X, y)
    history.loss.append(loss)
    history.accuracy.append(accuracy)
    if val is not None:
        loss, accuracy = _evaluate(model, *val)
        history.val_loss.append(loss)
        history.val_accuracy.append(accuracy)


def _evaluate(model: Model, X: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """The objective and the accuracy from one forward pass."""
    with no_grad(), np.errstate(all="ignore"):  # a diverging run is reported, not warned about
        z, loss = model._objective(X, y)
        return loss.item(), float(np.mean(model._classes(z.data) == y))


def _show(bar: Any, history: History) -> None:
    bar.update(1)
    bar.set_postfix_str(f"loss={history.loss[-1]:.4g}", refresh=False)


def _lbfgs(
    model: Model,
    X: np.ndarray,
    y: np.ndarray,
    epochs: int,
    history: History,
    val: tuple[np.ndarray, np.ndarray] | None,
    bar: Any,
) -> None:
    """Full-batch L-BFGS-B (scipy) on the graph's loss and gradient, one History entry per iteration."""
    from scipy.optimize import minimize

    params = model.parameters()

    def loss_and_gradient(theta: np.ndarray) -> tuple[float, np.ndarray]:
        _assign(params, theta)
        for p in params:
            p.grad = None
        _, loss = model._objective(X, y)
        loss.backward()
        return loss.item(), np.concatenate([p.grad.ravel() for p in params])

    def end_of_iteration(theta: np.ndarray) -> None:
        _assign(params, theta)
        _record(model, X, y, val, history)
        _show(bar, history)

    theta0 = np.concatenate([p.data.ravel() for p in params])
    options = {"maxiter": epochs, "ftol": 1e-15, "gtol": 1e-10}
    with np.errstate(all="ignore"):  # the line search may try steps where the loss overflows
        result = minimize(
            loss_and_gradient, theta0, jac=True, method="L-BFGS-B", callback=end_of_iteration, options=options
        )
    if not np.isfinite(result.fun):
        raise DivergedError("the loss became non-finite (NaN or inf) during L-BFGS")
    _assign(params, result.x)
    if len(history) == 0:  # already optimal at the start: no iteration ran
        end_of_iteration(result.x)
    bar.total = bar.n  # converged before the last allowed iteration: show the bar as complete
    bar.refresh()


def _assign(params: list[Tensor], theta: np.ndarray) -> None:
    """Rebind each parameter to its slice of the flat vector θ (a copy: scipy may reuse θ)."""
    start = 0
    for p in params:
        p.data = theta[start : start + p.size].reshape(p.shape).copy()
        start += p.size
