"""What every model shares: the penalized loss, prediction, fit, save and load.

A model is a few parameter tensors and a recipe for the graph from X to the loss. Subclasses write
the recipe (``_net_input``, ``_activation``, ``_data_loss``) and their label rule; this class
checks the data (``tinygraph.models.checks``), builds the recipe inside the model's name scope and
turns it into the public methods, so every model is used the same way. ``fit`` hands the checked
arrays to the training loop (``tinygraph.models.training``) and keeps the History it returns.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from tinygraph import _array
from tinygraph._checks import number, random_seed
from tinygraph._lazy import is_lazy
from tinygraph.functional import l2_penalty
from tinygraph.models import files, training
from tinygraph.models.checks import Pending, check_X, check_y, float_array, settle, validation_pair
from tinygraph.modes import name_scope, no_grad
from tinygraph.tensor import Tensor, tensor


class Model:
    """Base class of the models. Subclasses set ``params`` (name → Tensor), ``n_features`` and ``scope``.

    Attributes
    ----------
    params : dict of str to Tensor
        The parameters, each a tensor with ``requires_grad=True``, in a fixed order.
    l2 : float
        Strength λ of the penalty (λ/2)‖W‖² on the weights (not the biases).
    scope : str
        The name scope of the model's nodes: diagrams draw them in one cluster with this label.
    history : History or None
        What the last ``fit`` recorded.

    Notes
    -----
    A subclass writes the recipe: ``_net_input(x)`` (z), ``_activation(z)`` (a) and
    ``_data_loss(z, y)`` (the mean loss L), which this class builds inside ``scope``; the label
    rule ``_check_labels(y)``; ``_classes(z)``, the predicted labels from net inputs; and
    ``_weights()``, the tensors the penalty applies to. For ``save`` and ``load`` it writes
    ``_config()``, the constructor's arguments that fix the shapes, and ``_shapes(**config)``,
    the parameters' shapes those arguments give, computed without building anything.

    ``fit`` checks X and y, then gives the arrays to the training loop
    (``tinygraph.models.training``), which talks to the model through three methods only:
    ``parameters()``, ``_objective(X, y)`` (net input z and objective J for checked arrays) and
    ``_classes(z)``.
    """

    params: dict[str, Tensor]
    n_features: int
    l2: float
    scope: str

    def __init__(self, *, l2: float = 0.0, seed: int | None = None) -> None:
        self.l2 = number(l2, "l2", ">= 0")
        self.seed = random_seed(seed)
        self.history: training.History | None = None

    # ----------------------------------------------------------------- the recipe (subclasses)
    def _net_input(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def _activation(self, z: Tensor) -> Tensor:
        raise NotImplementedError

    def _data_loss(self, z: Tensor, y: Tensor) -> Tensor:
        raise NotImplementedError

    def _classes(self, z: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _check_labels(self, y: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _weights(self) -> list[Tensor]:
        """The tensors the L2 penalty applies to."""
        raise NotImplementedError

    def _config(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this model's shapes (saved with the parameters)."""
        raise NotImplementedError

    # ----------------------------------------------------------------- public methods
    def parameters(self) -> list[Tensor]:
        """The parameter tensors, in a fixed order (what an optimizer updates)."""
        return list(self.params.values())

    def net_input(self, X: Any) -> Tensor:
        """The net input (logits) z: shape (N,) for a binary model, (N, K) for K classes."""
        X = self._place(self._check_X(X))
        return self._in_scope(self._net_input, tensor(X, name="x"))

    def forward(self, X: Any) -> Tensor:
        """The activation a: P(y = 1 | x) of shape (N,), or class probabilities of shape (N, K)."""
        return self._in_scope(self._activation, self.net_input(X))

    def loss(self, X: Any, y: Any) -> Tensor:
        """The training objective as a scalar tensor: the mean loss L, plus R = (λ/2)‖W‖² when l2 > 0.

        Its graph is the model's (draw it with ``tg.draw``); with a penalty the sum is named J = L + R.

        Parameters
        ----------
        X : array_like, shape (N, d)
        y : array_like, shape (N,)
            Labels: 0/1 for a binary model, class indices in [0, K) otherwise.
        """
        X, y = self._check_data(X, y)
        return self._objective(X, y)[1]

    def predict_proba(self, X: Any) -> np.ndarray:
        """P(y = 1 | x) of shape (N,) for a binary model; class probabilities (N, K) otherwise."""
        with no_grad():
            return self.forward(X).data

    def predict(self, X: Any) -> np.ndarray:
        """Predicted class labels, shape (N,), integers, computed from the net input alone."""
        with no_grad():
            return self._classes(self.net_input(X).data)

    def score(self, X: Any, y: Any) -> float:
        """Accuracy: the fraction of examples whose predicted label equals y."""
        pending: list[Pending] = []  # a lazy array's checks, computed with the accuracy
        X, y = self._check_data(X, y, pending=pending)
        with no_grad():
            z = self._in_scope(self._net_input, tensor(X, name="x"))  # X is checked: not predict(X)
        return float(settle(pending, (self._classes(z.data) == y).mean())[0])

    def log_loss(self, X: Any, y: Any) -> float:
        """The mean negative log-likelihood (cross-entropy), without the penalty."""
        pending: list[Pending] = []  # a lazy array's checks, computed with the loss
        X, y = self._check_data(X, y, pending=pending)
        with no_grad():
            return float(settle(pending, self._data_graph(X, y)[1].data)[0])

    def fit(
        self,
        X: Any,
        y: Any,
        *,
        epochs: int = 100,
        lr: float | None = None,
        batch_size: int | None = None,
        optimizer: str = "sgd",
        shuffle: bool = True,
        seed: int | None = None,
        progress: bool = True,
        validation: tuple[Any, Any] | None = None,
    ) -> training.History:
        """Train the parameters on (X, y), one epoch after another, and return the ``History``.

        Parameters
        ----------
        X : array_like, shape (N, d)
        y : array_like, shape (N,)
            Labels: 0/1 for binary models, class indices in [0, K) otherwise.
        epochs : int
            Passes over the training data (for "lbfgs": the maximum number of iterations).
        lr : float or None
            Learning rate η (not used by "lbfgs"); None is 0.1, or 0.01 with "adam"
            (``tinygraph.models.default_lr``).
        batch_size : int or None
            1: per-example SGD, as in the lecture; n: minibatches of n; None: full-batch gradient descent.
        optimizer : {"sgd", "momentum", "adam", "lbfgs"}
            Plain SGD, SGD with momentum 0.9, Adam, or scipy's L-BFGS-B on the full batch, which runs
            until converged (or ``epochs`` iterations).
        shuffle : bool
            Visit the examples in a new random order every epoch (minibatches only).
        seed : int or None
            Seeds the shuffling (default: the model's seed): the same seed and initial parameters
            give the same result bit for bit.
        progress : bool
            Show a progress bar over the epochs with the current loss.
        validation : (X_val, y_val), optional
            Data on which the loss and accuracy are also recorded after every epoch.

        Raises
        ------
        ValueError
            For bad data or options, before any training.
        DivergedError
            When the loss becomes NaN or inf; the parameters are those of the last finite loss.

        Warns
        -----
        DivergingWarning
            When the final loss is far above the starting one (more than twice it, and more than 1
            above): the steps were too large.

        Notes
        -----
        However it ends, ``fit`` leaves every parameter's ``.grad`` cleared (None), so a diagram
        drawn afterwards never shows the last minibatch's gradient as the drawn loss's.
        """
        pending: list[Pending] = []  # a lazy array's checks: computed in the first step's pass
        X, y = self._check_data(X, y, pending=pending)
        if validation is not None:
            validation = self._check_data(*validation_pair(validation), what="validation ", pending=pending)
        self.history = training.fit(
            self,
            X,
            y,
            epochs=epochs,
            lr=lr,
            batch_size=batch_size,
            optimizer=optimizer,
            shuffle=shuffle,
            seed=self.seed if seed is None else seed,
            progress=progress,
            validation=validation,
            checks=pending,
        )
        return self.history

    # ----------------------------------------------------------------- PyTorch's names
    def __call__(self, X: Any) -> Tensor:
        """``model(X)`` is ``model.forward(X)``: the activation a, as a tensor in the graph."""
        return self.forward(X)

    def named_parameters(self) -> Iterator[tuple[str, Tensor]]:
        """(name, tensor) for each parameter, in the order of ``parameters()``."""
        yield from self.params.items()

    def state_dict(self) -> dict[str, np.ndarray]:
        """A copy of every parameter's value, by name: what ``load_state_dict`` puts back."""
        return {name: _array.to_numpy(p.data).copy() for name, p in self.params.items()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Set the parameters to the values of ``state`` (from ``state_dict``), copied.

        Raises
        ------
        ValueError
            When a parameter is missing, one is unknown, a value is not real numbers or a shape
            differs; nothing is changed then.
        """
        missing, unexpected = set(self.params) - set(state), set(state) - set(self.params)
        if missing or unexpected:
            raise ValueError(
                f"state_dict does not fit this {type(self).__name__}: missing {sorted(missing)}, "
                f"unexpected {sorted(unexpected)}"
            )
        values = {
            name: float_array(state[name], f"state_dict[{name!r}]").astype(p.dtype)
            for name, p in self.params.items()
        }
        for name, p in self.params.items():
            if values[name].shape != p.shape:
                raise ValueError(f"state_dict: {name!r} has shape {values[name].shape}, the model's has {p.shape}")
        for name, p in self.params.items():
            p.data = values[name]

    # ----------------------------------------------------------------- the graph
    def _in_scope(self, step: Callable[..., Tensor], *inputs: Tensor) -> Tensor:
        """``step(*inputs)``, one step of the subclass's recipe, its nodes in the model's name scope."""
        with name_scope(self.scope):
            return step(*inputs)

    def _data_graph(self, X: np.ndarray, y: np.ndarray) -> tuple[Tensor, Tensor]:
        """Net input z and the mean data loss L for checked arrays X and y."""
        z = self._in_scope(self._net_input, tensor(X, name="x"))
        return z, self._in_scope(self._data_loss, z, tensor(y, name="y"))

    def _objective(self, X: np.ndarray, y: np.ndarray) -> tuple[Tensor, Tensor]:
        """Net input z and the objective L (+ R) for checked arrays X and y (what the training loop calls)."""
        z, loss = self._data_graph(X, y)
        if self.l2 > 0:
            with name_scope("L2 penalty: (λ/2)‖W‖²"):
                penalty = l2_penalty(self.l2, *self._weights())
            loss = loss + penalty
            loss.name = "J"  # the objective J = L + R
        return z, loss

    # ----------------------------------------------------------------- checks
    def _check_X(self, X: Any, what: str = "X") -> np.ndarray:
        """X as float64 (N, d) for this model's d; ValueError naming the problem."""
        return check_X(X, self.n_features, what)

    def _check_data(
        self, X: Any, y: Any, what: str = "", pending: list[Pending] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """X as float64 (N, d) and y as checked labels (N,); ValueError naming the problem.

        The checks of lazy arrays' values go into ``pending`` when it is given (see ``checks._check``).
        """
        X = self._place(check_X(X, self.n_features, what + "X", pending))
        return X, self._check_labels(check_y(y, X.shape[0], what), pending)

    def _place(self, X: Any) -> Any:
        """Move the parameters to where ``X`` computes, and return ``X``.

        NumPy or Dask data: NumPy parameters (a Dask array takes NumPy operands, and the small
        parameters stay in memory); any other library's array (CuPy: on its GPU): that library's.
        """
        target = np if is_lazy(X) or _array.is_numpy(X) else _array.namespace(X)
        for p in self.params.values():
            if _array.namespace(p.data) is not target:
                p.data = _array.to_numpy(p.data) if target is np else target.asarray(p.data)
        return X

    # ----------------------------------------------------------------- save and load
    def save(self, path: str | Path) -> Path:
        """Write the parameters and the shapes' configuration to a ``.npz`` file; returns the path.

        The file is written beside ``path`` and moved over it once complete, so an error or a
        kill during ``save`` leaves the previous file as it was (``tinygraph.models.files``).
        """
        path = Path(path)
        header = {"format": files.FORMAT, "model": type(self).__name__, "config": self._config()}
        files.write(path, header, {name: _array.to_numpy(p.data) for name, p in self.params.items()})
        return path

    @classmethod
    def load(cls, path: str | Path) -> Model:
        """A model rebuilt from a file ``save`` wrote; ``Model.load`` accepts any model class.

        The header's configuration is checked against the arrays the file holds before any model
        is built, so a file allocates no more memory than its own size.

        Raises
        ------
        FileNotFoundError
            If there is no file at ``path``.
        ModelFileError
            (a ValueError) For a file that is damaged, not a model file, or holds another model
            class than ``cls``; the message names the file and the problem.
        """
        path = Path(path)
        name, config, arrays = files.read(path, cls._shapes_in_file)
        kind = _model_class(name, cls)
        try:
            model = kind(**config)
        except (TypeError, ValueError) as error:
            problem = f"the header's config does not build a {name}: {error}"
            raise files.ModelFileError(path, problem) from None
        for key, p in model.params.items():
            p.data = arrays[key]
        return model

    @classmethod
    def _shapes_in_file(cls, name: str, config: dict[str, Any]) -> dict[str, tuple[int, ...]]:
        """The parameter shapes a file's header implies, for a model of class ``cls`` (what load checks)."""
        kind = _model_class(name, cls)
        if cls is not Model and kind is not cls:
            raise ValueError(f"holds a {kind.__name__}, not a {cls.__name__}: use {kind.__name__}.load")
        keys = list(inspect.signature(kind._shapes).parameters)
        if sorted(config) != sorted(keys):
            raise ValueError(f"the header's config has the keys {sorted(config)}, a {name}'s {sorted(keys)}")
        return kind._shapes(**config)

    @staticmethod
    def _shapes(**config: Any) -> dict[str, tuple[int, ...]]:
        """Parameter name → shape for the settings ``_config`` returns, computed without building anything."""
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._config().items())
        return f"{type(self).__name__}({args})"


def _model_class(name: str, requested: type[Model] = Model) -> type[Model]:
    """The model class called ``name`` when ``requested.load`` reads a file (``files.model_class``)."""
    return files.model_class(name, requested, Model)
