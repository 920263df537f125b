"""The training loop behind ``Model.fit``: epochs of (mini)batch gradient steps, or L-BFGS.

Each step is the lecture's: build the graph from the batch to the loss, ``backward()`` for the
gradients, let the optimizer move the parameters. After every epoch the loss and accuracy on the
whole training set (and on the validation set, if given) go into the ``History``.

The loop gets arrays the model has already checked (``Model.fit`` runs the checks of
``tinygraph.models.checks``) and talks to the model through three methods only:

- ``model.parameters()``: the tensors to train, in a fixed order;
- ``model._objective(X, y)``: for checked arrays, the net input z and the scalar objective
  J = L (+ R), a fresh graph ready for ``backward()``;
- ``model._classes(z)``: the predicted labels from the values of the net input (for the accuracy);

and reads ``model._training_scope``: the name scope of every node of the objective, which the
loop enters once per epoch (the steps inside it then enter none), or None.
"""

from __future__ import annotations

import importlib.util
import math
import operator
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from itertools import chain
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

# In Jupyter, tqdm.auto draws a widget, which needs ipywidgets: without it, it would warn
# (TqdmWarning: IProgress not found) and print text anyway. So take the text bar from the start.
if importlib.util.find_spec("ipywidgets") is None:
    from tqdm.std import tqdm
else:
    from tqdm.auto import tqdm

from tinygraph import optim
from tinygraph._checks import count, random_seed
from tinygraph._lazy import Pending, is_lazy, settle
from tinygraph.modes import name_scope, no_grad

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
    checks: Sequence[Pending] = (),
) -> History:
    """Train ``model`` on the checked arrays (X, y) and return the History.

    ``Model.fit`` documents the options; X, y and the validation pair are what the model's checks
    returned, and ``checks`` what they left pending on lazy arrays (computed with the first step). ``lr=None`` is ``default_lr(optimizer)``. However it ends, every parameter's ``.grad``
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
    if is_lazy(X):
        _refuse_minibatches(X, batch_size)
    else:
        start = _evaluate(model, X, y)[0]
    try:
        with tqdm(total=epochs, desc=type(model).__name__, unit="epoch", disable=not progress) as bar:
            if is_lazy(X):  # Dask: the loops of the section "lazy arrays" below, one pass per step
                start = _train_lazy(model, X, y, epochs, optimizer, lr, history, validation, bar, checks)
            elif optimizer == "lbfgs":
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


def _full_batch(n: int, batch_size: int | None, rng: np.random.Generator | None) -> bool:
    """Whether an epoch is one step on all n examples: no batch size, or one at least n without shuffling."""
    return batch_size is None or (batch_size >= n and rng is None)


def _batches(
    X: np.ndarray, y: np.ndarray, batch_size: int | None, rng: np.random.Generator | None
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The (X, y) batches of one epoch: everything at once, or consecutive slices of a (shuffled) order."""
    n = len(X)
    if _full_batch(n, batch_size, rng):
        return iter([(X, y)])
    order = rng.permutation(n) if rng is not None else np.arange(n)
    if batch_size == 1 and type(X) is np.ndarray and X.flags.c_contiguous:
        blocks = (order[start : start + ROWS] for start in range(0, n, ROWS))
        return chain.from_iterable(_rows(X, y, block) for block in blocks)
    if batch_size == 1:  # one example: a slice takes a view of its row, where an index array copies it
        return ((X[i : i + 1], y[i : i + 1]) for i in order.tolist())
    assert batch_size is not None  # (not a full batch)
    return ((X[b], y[b]) for b in (order[start : start + batch_size] for start in range(0, n, batch_size)))


ROWS = 256
"""Examples gathered at once for per-example SGD on a C-ordered X (``_rows``)."""


def _rows(X: np.ndarray, y: np.ndarray, block: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The batches of one example each for the rows ``block`` of a C-ordered X, gathered in one copy.

    Each is a view of shape (1, d) and (1,), laid out as the slice ``X[i : i + 1]`` is (the same
    strides, so the same arithmetic to the bit), and taken by NumPy's iteration rather than by a
    Python slice per step.
    """
    m = len(block)
    return zip(X[block].reshape(m, 1, X.shape[1]), y[block].reshape(m, 1))


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
    data_of = operator.attrgetter("data")  # in C: a list comprehension would cost a frame per step
    isfinite = math.isfinite  # of the 0-d loss array, as a Python float: math's test, not a NumPy call
    scope = model._training_scope  # entered once per epoch: then a step enters no scope itself
    count = 1 if _full_batch(len(X), batch_size, rng) else -(-len(X) // batch_size)
    for epoch in range(1, epochs + 1):
        # Overflow shows up as a non-finite loss, reported below.
        with np.errstate(all="ignore"), nullcontext() if scope is None else name_scope(scope):
            for k, (xb, yb) in enumerate(_batches(X, y, batch_size, rng), start=1):
                zero_grad()
                _, loss = objective(xb, yb)
                if not isfinite(loss.data):
                    where = f"({float(loss.data)}) in step {k} of {count}, at epoch {epoch}"
                    _diverged(params, finite, where, steps.lr)
                finite = list(map(data_of, params))
                loss.backward()
                step()
        _record(model, X, y, val, history)
        if not np.isfinite(history.loss[-1]):
            _diverged(params, finite, f"({history.loss[-1]}) on the training set at epoch {epoch}", steps.lr)
        _show(bar, history)


def _diverged(params: list[Tensor], finite: list[np.ndarray], where: str, lr: float) -> None:
    """Put back the parameters of the last finite loss and raise DivergedError saying ``where`` it was not."""
    for p, data in zip(params, finite):
        p.data = data
    raise DivergedError(
        f"the loss became non-finite {where} with lr={lr:g}: try a smaller lr; "
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

    _minimize(params, epochs, loss_and_gradient, end_of_iteration, history, bar)


def _minimize(
    params: list[Tensor],
    epochs: int,
    loss_and_gradient: Callable[[np.ndarray], tuple[float, np.ndarray]],
    end_of_iteration: Callable[[np.ndarray], None],
    history: History,
    bar: Any,
) -> None:
    """scipy's L-BFGS-B from the parameters' values, which it leaves at the optimum it found."""
    from scipy.optimize import minimize

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


# ----------------------------------------------------------------------------- lazy arrays (Dask)
# Full-batch steps only (``_refuse_minibatches``). Each step is one pass over the data: the
# loss, the accuracy, the validation figures and the gradients at the current parameters are
# computed together (``_evaluate_lazy``), the gradients come back as small NumPy arrays and the
# optimizer moves the parameters, which stay in memory. A step's figures are the History's entry
# of the epoch before it (the same parameters), so E epochs cost E + 1 passes, not 2E + 1.
def _train_lazy(
    model: Model,
    X: Any,
    y: Any,
    epochs: int,
    optimizer: str,
    lr: float,
    history: History,
    val: tuple[Any, Any] | None,
    bar: Any,
    checks: Sequence[Pending],
) -> float:
    """Train on lazy arrays with ``optimizer``; returns the starting loss (for ``_diverging``)."""
    if optimizer == "lbfgs":
        return _lbfgs_lazy(model, X, y, epochs, history, val, bar, checks)
    params = model.parameters()
    steps = _make_optimizer(optimizer, params, lr)
    now = _evaluate_lazy(model, X, y, val, checks, gradients=True)
    start = now.loss
    for epoch in range(1, epochs + 1):
        if not np.isfinite(now.loss):  # the parameters are still those of the last finite loss
            _diverged(params, [p.data for p in params], f"({now.loss}) at epoch {epoch}", lr)
        finite = [p.data for p in params]
        _set_gradients(params, now.gradients)
        steps.step()
        now = _evaluate_lazy(model, X, y, val, gradients=epoch < epochs)
        _record_lazy(history, now)
        if not np.isfinite(now.loss):
            _diverged(params, finite, f"({now.loss}) at epoch {epoch}", lr)
        _show(bar, history)
    return start


def _lbfgs_lazy(
    model: Model,
    X: Any,
    y: Any,
    epochs: int,
    history: History,
    val: tuple[Any, Any] | None,
    bar: Any,
    checks: Sequence[Pending],
) -> float:
    """``_lbfgs`` on lazy arrays: one pass per evaluation, whose figures the iteration's record reuses."""
    params = model.parameters()
    last: dict[str, Any] = {"checks": checks}

    def loss_and_gradient(theta: np.ndarray) -> tuple[float, np.ndarray]:
        _assign(params, theta)
        now = _evaluate_lazy(model, X, y, val, last.pop("checks", ()), gradients=True)
        last.update(theta=theta.copy(), now=now)
        last.setdefault("start", now.loss)
        return now.loss, np.concatenate([np.ravel(g) for g in now.gradients])

    def end_of_iteration(theta: np.ndarray) -> None:
        _assign(params, theta)
        seen = "theta" in last and np.array_equal(last["theta"], theta)
        _record_lazy(history, last["now"] if seen else _evaluate_lazy(model, X, y, val, gradients=False))
        _show(bar, history)

    _minimize(params, epochs, loss_and_gradient, end_of_iteration, history, bar)
    return last["start"]


class Figures(NamedTuple):
    """What one pass computed at the current parameters: the History's figures and the gradients."""

    loss: float
    accuracy: float
    val_loss: float | None
    val_accuracy: float | None
    gradients: list[np.ndarray]


def _refuse_minibatches(X: Any, batch_size: int | None) -> None:
    """A ValueError, saying why, for minibatches of a lazy X (a batch as large as X is the full batch)."""
    if batch_size is not None and batch_size < X.shape[0]:
        raise ValueError(
            f"batch_size={batch_size} with a Dask X of {X.shape[0]} rows: minibatch SGD is not supported on "
            "lazy arrays, because each shuffled minibatch gathers rows from every chunk and so reads all the "
            "data for one small step; use batch_size=None (full-batch gradient descent, one pass per step) "
            "or optimizer='lbfgs', or X.compute() when X fits in memory"
        )


def _evaluate_lazy(
    model: Model,
    X: Any,
    y: Any,
    val: tuple[Any, Any] | None,
    checks: Sequence[Pending] = (),
    *,
    gradients: bool,
) -> Figures:
    """The figures at the current parameters, with the gradients if asked, from one pass over the data.

    The parameters' ``.grad`` are cleared first; the gradients are returned, not stored.
    """
    params = model.parameters()
    for p in params:
        p.grad = None
    z, objective = model._objective(X, y)
    if gradients:
        objective.backward()
    lazy = [objective.data, _accuracy(model, z.data, y)]
    if val is not None:
        with no_grad():
            z_val, val_objective = model._objective(*val)
        lazy += [val_objective.data, _accuracy(model, z_val.data, val[1])]
    grads = [p.grad for p in params] if gradients else []
    for p in params:
        p.grad = None  # the lazy graph is not kept past this pass
    values = settle(checks, *lazy, *grads)
    figures = [float(v) for v in values[: len(lazy)]]
    val_figures = figures[2:] if val is not None else [None, None]
    return Figures(figures[0], figures[1], *val_figures, gradients=values[len(lazy) :])


def _accuracy(model: Model, z: Any, y: Any) -> Any:
    """The fraction of correct labels predicted from the net input z (lazy for a lazy z)."""
    return (model._classes(z) == y).mean()


def _set_gradients(params: list[Tensor], gradients: list[np.ndarray]) -> None:
    """Give each parameter its computed gradient, in its dtype and shape, for the optimizer's step."""
    for p, g in zip(params, gradients):
        p.grad = np.asarray(g, dtype=p.dtype).reshape(p.shape)


def _record_lazy(history: History, figures: Figures) -> None:
    """Append one epoch's figures to the History."""
    history.loss.append(figures.loss)
    history.accuracy.append(figures.accuracy)
    if figures.val_loss is not None:
        history.val_loss.append(figures.val_loss)
        history.val_accuracy.append(figures.val_accuracy)
