"""What every model shares: the checks on X and y, the penalized loss, prediction, fit, save and load.

A model is a few parameter tensors and a recipe for the graph from X to the loss. Subclasses write
the recipe (``_net_input``, ``_activation``, ``_data_loss``) and the label rules; this class turns
them into the public methods, so every model is used the same way.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

import tinygraph as tg
from tinygraph.functional import l2_penalty
from tinygraph.tensor import Tensor

if TYPE_CHECKING:
    from tinygraph.models.training import History

FORMAT = "tinygraph-model-1"


class Model:
    """Base class of the models. Subclasses set ``params`` (name → Tensor) and ``n_features``.

    Attributes
    ----------
    params : dict of str to Tensor
        The parameters, each a tensor with ``requires_grad=True``, in a fixed order.
    l2 : float
        Strength λ of the penalty (λ/2)‖W‖² on the weights (not the biases).
    history : History or None
        What the last ``fit`` recorded.
    """

    params: dict[str, Tensor]
    n_features: int
    l2: float

    def __init__(self, *, l2: float = 0.0, seed: int | None = None) -> None:
        if not (isinstance(l2, (int, float, np.integer, np.floating)) and np.isfinite(l2) and l2 >= 0):
            raise ValueError(f"l2 must be a finite number >= 0, got {l2!r}")
        self.l2 = float(l2)
        self.seed = seed
        self.history: History | None = None

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
        return self._net_input(tg.tensor(self._check_X(X), name="x"))

    def forward(self, X: Any) -> Tensor:
        """The activation a: P(y = 1 | x) of shape (N,), or class probabilities of shape (N, K)."""
        return self._activation(self.net_input(X))

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
        with tg.no_grad():
            return self.forward(X).data

    def predict(self, X: Any) -> np.ndarray:
        """Predicted class labels, shape (N,), integers, computed from the net input alone."""
        with tg.no_grad():
            return self._classes(self.net_input(X).data)

    def score(self, X: Any, y: Any) -> float:
        """Accuracy: the fraction of examples whose predicted label equals y."""
        X, y = self._check_data(X, y)
        return float(np.mean(self.predict(X) == y))

    def log_loss(self, X: Any, y: Any) -> float:
        """The mean negative log-likelihood (cross-entropy), without the penalty."""
        X, y = self._check_data(X, y)
        with tg.no_grad():
            z = self._net_input(tg.tensor(X, name="x"))
            return self._data_loss(z, tg.tensor(y, name="y")).item()

    def fit(
        self,
        X: Any,
        y: Any,
        *,
        epochs: int = 100,
        lr: float = 0.1,
        batch_size: int | None = None,
        optimizer: str = "sgd",
        shuffle: bool = True,
        seed: int | None = None,
        progress: bool = True,
        validation: tuple[Any, Any] | None = None,
    ) -> History:
        """Train the parameters on (X, y), one epoch after another, and return the ``History``.

        Parameters
        ----------
        X : array_like, shape (N, d)
        y : array_like, shape (N,)
            Labels: 0/1 for binary models, class indices in [0, K) otherwise.
        epochs : int
            Passes over the training data (for "lbfgs": the maximum number of iterations).
        lr : float
            Learning rate η (not used by "lbfgs").
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
        """
        from tinygraph.models import training

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
        )
        return self.history

    # ----------------------------------------------------------------- the graph
    def _objective(self, X: np.ndarray, y: np.ndarray) -> tuple[Tensor, Tensor]:
        """Net input z and the objective L (+ R) for checked arrays X and y."""
        z = self._net_input(tg.tensor(X, name="x"))
        loss = self._data_loss(z, tg.tensor(y, name="y"))
        if self.l2 > 0:
            with tg.name_scope("L2 penalty: (λ/2)‖W‖²"):
                penalty = l2_penalty(self.l2, *self._weights())
            loss = loss + penalty
            loss.name = "J"  # the objective J = L + R
        return z, loss

    # ----------------------------------------------------------------- checks
    def _check_X(self, X: Any, what: str = "X") -> np.ndarray:
        X = _float_array(X, what)
        if X.ndim != 2:
            raise ValueError(f"{what} must be 2-D (examples × features), got shape {X.shape}")
        if X.shape[1] != self.n_features:
            raise ValueError(f"{what} has {X.shape[1]} features but the model expects {self.n_features}")
        bad = ~np.isfinite(X)
        if bad.any():
            row, col = np.argwhere(bad)[0]
            raise ValueError(f"{what} contains NaN or inf (first at row {row}, column {col}): clean the data first")
        return X

    def _check_data(self, X: Any, y: Any, what: str = "") -> tuple[np.ndarray, np.ndarray]:
        """X as float64 (N, d) and y as checked labels (N,); ValueError naming the problem."""
        X = self._check_X(X, what + "X")
        y = np.asarray(y.data if isinstance(y, Tensor) else y)
        if y.ndim != 1:
            raise ValueError(f"{what}y must be 1-D (one label per example), got shape {y.shape}")
        if len(y) != len(X):
            raise ValueError(f"{what}X has {len(X)} examples but {what}y has {len(y)} labels")
        if len(y) == 0:
            raise ValueError(f"{what}X and {what}y are empty")
        return X, self._check_labels(y)

    # ----------------------------------------------------------------- save and load
    def save(self, path: str | Path) -> Path:
        """Write the parameters and the shapes' configuration to a ``.npz`` file; returns the path."""
        path = Path(path)
        header = {"format": FORMAT, "model": type(self).__name__, "config": self._config()}
        arrays = {f"param:{name}": p.data for name, p in self.params.items()}
        with path.open("wb") as f:
            np.savez(f, __header__=np.array(json.dumps(header)), **arrays)
        return path

    @classmethod
    def load(cls, path: str | Path) -> Model:
        """A model rebuilt from a file ``save`` wrote; ``Model.load`` accepts any model class."""
        from tinygraph import models

        header, arrays = _read(Path(path))
        kind = getattr(models, header["model"], None)
        if not (isinstance(kind, type) and issubclass(kind, Model)):
            raise ValueError(f"{path}: unknown model class {header['model']!r}")
        if cls is not Model and kind is not cls:
            raise ValueError(f"{path} holds a {kind.__name__}, not a {cls.__name__}: use {kind.__name__}.load")
        model = kind(**header["config"])
        for name, p in model.params.items():
            value = arrays.get(name)
            if value is None or value.shape != p.shape:
                raise ValueError(f"{path}: parameter {name!r} is missing or has the wrong shape")
            p.data = value.astype(p.dtype)
        return model

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._config().items())
        return f"{type(self).__name__}({args})"


def _float_array(X: Any, what: str) -> np.ndarray:
    try:
        return np.asarray(X.data if isinstance(X, Tensor) else X, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{what} must be numeric: {error}") from None


def _read(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    if not path.is_file():
        raise FileNotFoundError(f"no such model file: {path}")
    try:
        with np.load(path, allow_pickle=False) as f:
            header = json.loads(str(f["__header__"]))
            arrays = {k.removeprefix("param:"): f[k] for k in f.files if k.startswith("param:")}
    except (OSError, ValueError, KeyError) as error:
        raise ValueError(f"{path} is not a tinygraph model file ({error})") from None
    if header.get("format") != FORMAT:
        raise ValueError(f"{path} is not a tinygraph model file (format {header.get('format')!r})")
    return header, arrays


def binary_labels(y: np.ndarray, model: str) -> np.ndarray:
    """y as float64 0/1 labels, or a ValueError naming the first other value."""
    y = _float_array(y, "y")
    bad = (y != 0) & (y != 1)
    if bad.any():
        raise ValueError(
            f"{model} needs labels 0 or 1, found {y[bad][0]:g}: for more classes use SoftmaxRegression or an MLP"
        )
    return y


def class_labels(y: np.ndarray, n_classes: int, model: str) -> np.ndarray:
    """y as integer class indices in [0, K), or a ValueError naming the first other value."""
    y = _float_array(y, "y")
    bad = (y != np.round(y)) | (y < 0) | (y >= n_classes) | ~np.isfinite(y)
    if bad.any():
        raise ValueError(f"{model} needs class labels 0, 1, ..., {n_classes - 1}; found {y[bad][0]:g}")
    return y.astype(np.int64)


def check_count(value: Any, what: str, minimum: int = 1) -> int:
    """``value`` as an int >= ``minimum``, or a ValueError naming ``what``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{what} must be an integer >= {minimum}, got {value!r}")
    return int(value)
