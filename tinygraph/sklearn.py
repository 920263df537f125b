"""scikit-learn estimators around tinygraph's models: logistic regression, softmax regression, the MLP.

Each estimator is a thin wrapper in the manner of skorch: the hyperparameters are its ``__init__``
arguments, ``fit(X, y)`` learns the labels (``classes_``: any labels scikit-learn accepts), builds
the tinygraph model for the data's number of features and trains it, and returns the estimator. The
fitted model is ``model_`` and its ``History`` is ``history_``, so ``tg.draw(est.loss(X, y))`` still
shows the lecture's graph. They pass ``sklearn.utils.estimator_checks.check_estimator`` and work
with ``clone``, ``Pipeline``, ``cross_val_score`` and ``GridSearchCV``.

This module imports scikit-learn when it is imported, the only one that does (``tinygraph.data``
imports it only when a dataset, a split or scaling is asked for): ``import tinygraph`` works
without it (``pip install tinygraph[train]`` brings it).

Examples
--------
>>> from sklearn.datasets import load_iris
>>> from sklearn.pipeline import make_pipeline
>>> from sklearn.preprocessing import StandardScaler
>>> from tinygraph.sklearn import SoftmaxRegressionClassifier
>>> X, y = load_iris(return_X_y=True)
>>> clf = make_pipeline(StandardScaler(), SoftmaxRegressionClassifier(random_state=0)).fit(X, y)
>>> bool(clf.score(X, y) > 0.95)
True
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from tinygraph._checks import random_seed
from tinygraph.models import MLP, LogisticRegression, Model, SoftmaxRegression
from tinygraph.modes import no_grad
from tinygraph.tensor import Tensor

__all__ = [
    "EXPECTED_FAILED_CHECKS",
    "LogisticRegressionClassifier",
    "MLPClassifier",
    "SoftmaxRegressionClassifier",
]

EXPECTED_FAILED_CHECKS: dict[str, str] = {}
"""The checks of ``sklearn.utils.estimator_checks.check_estimator`` these estimators are expected to
fail, by name, with the reason: none, every check passes with the default hyperparameters. Pass it
on as ``check_estimator(est, expected_failed_checks=EXPECTED_FAILED_CHECKS)``."""


class _Classifier(ClassifierMixin, BaseEstimator):
    """What the three estimators share: label encoding, fitting the model, the prediction methods.

    A subclass stores its hyperparameters in ``__init__`` (and nothing else, as scikit-learn
    requires) and writes ``_make_model(n_features, n_classes, seed)``.
    """

    lr: float | None
    epochs: int
    batch_size: int | None
    optimizer: str
    l2: float
    random_state: Any
    progress: bool

    def _make_model(self, n_features: int, n_classes: int, seed: int | None) -> Model:
        raise NotImplementedError

    def fit(self, X: Any, y: Any) -> _Classifier:
        """Learn the classes of y, build the model for X's number of features and train it.

        Parameters
        ----------
        X : array_like, shape (N, d)
        y : array_like, shape (N,)
            Any labels scikit-learn accepts: strings, {−1, 1}, {3, 7}, ...

        Returns
        -------
        self
        """
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        self.classes_, index = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes, but the data contain only one class: "
                f"{self.classes_[0].item()!r}"
            )
        self.model_ = self._make_model(X.shape[1], len(self.classes_), _seed(self.random_state))
        self.history_ = self.model_.fit(
            X,
            index,
            epochs=self.epochs,
            lr=self.lr,
            batch_size=self.batch_size,
            optimizer=self.optimizer,
            progress=self.progress,
        )
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        """The net input z: shape (N,) for two classes (z > 0 predicts ``classes_[1]``), (N, K) for K.

        For two classes, a softmax model's z is z₁ − z₀, the log-odds, which is what the logistic
        model's single net input is too.
        """
        z = self._net_input(X)
        return z[:, 1] - z[:, 0] if z.ndim == 2 and z.shape[1] == 2 else z

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape (N, n_classes), columns in the order of ``classes_``."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        a = self.model_.predict_proba(X)
        return np.column_stack([1 - a, a]) if a.ndim == 1 else a

    def predict(self, X: Any) -> np.ndarray:
        """The predicted labels, shape (N,), from the net input alone (the lecture's rule)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return self.classes_[self.model_.predict(X)]

    def loss(self, X: Any, y: Any) -> Tensor:
        """The fitted model's training objective on (X, y) as a scalar tensor: ``tg.draw`` shows its graph."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        y = np.asarray(y)
        index = np.searchsorted(self.classes_, y)
        index = np.minimum(index, len(self.classes_) - 1)
        unknown = self.classes_[index] != y
        if unknown.any():
            raise ValueError(
                f"y contains labels the estimator was not fitted on, e.g. {y[unknown][0].item()!r}"
            )
        return self.model_.loss(X, index)

    def _net_input(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        with no_grad():
            return self.model_.net_input(X).data


class _LinearClassifier(_Classifier):
    """The hyperparameters the two linear models share (documented on ``LogisticRegressionClassifier``)."""

    def __init__(
        self,
        *,
        lr: float | None = 0.2,
        epochs: int = 100,
        batch_size: int | None = 32,
        optimizer: str = "sgd",
        l2: float = 1e-3,
        random_state: Any = None,
        progress: bool = False,
    ) -> None:
        self.lr = lr
        self.epochs = epochs
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.l2 = l2
        self.random_state = random_state
        self.progress = progress


class LogisticRegressionClassifier(_LinearClassifier):
    """Binary logistic regression, a = σ(wᵀx + b), as a scikit-learn classifier.

    Parameters
    ----------
    lr : float or None
        Learning rate η (not used by "lbfgs"); None is ``tinygraph.models.default_lr(optimizer)``,
        the default of whichever optimizer is chosen.
    epochs : int
        Passes over the data (for "lbfgs": the maximum number of iterations).
    batch_size : int or None
        Examples per gradient step; None is the full batch.
    optimizer : {"sgd", "momentum", "adam", "lbfgs"}
        How the parameters are trained (see ``Model.fit``).
    l2 : float
        λ ≥ 0 of the penalty (λ/2)‖w‖². scikit-learn's ``LogisticRegression(C=C)`` on N examples
        is l2 = 1 / (C·N) with ``optimizer="lbfgs"``.
    random_state : int, RandomState or None
        Seeds the initial weights and the shuffling; an int gives the same fit every time.
    progress : bool
        Show a progress bar over the epochs.

    Attributes
    ----------
    classes_ : ndarray, shape (2,)
        The labels; the model's class 1 is ``classes_[1]``.
    n_features_in_ : int
    model_ : tinygraph.models.LogisticRegression
        The fitted model.
    history_ : tinygraph.models.History
        What its ``fit`` recorded.

    Notes
    -----
    The defaults (SGD with minibatches of 32, η = 0.2, 100 epochs, λ = 10⁻³) are the lecture's
    training loop; on standardized breast cancer they score as scikit-learn's own
    ``LogisticRegression()`` does (docs: "tinygraph with scikit-learn"). With another optimizer,
    set lr too (None is that optimizer's default).
    """

    def _make_model(self, n_features: int, n_classes: int, seed: int | None) -> Model:
        if n_classes != 2:
            raise ValueError(
                f"Only binary classification is supported. LogisticRegressionClassifier got {n_classes} "
                "classes: use SoftmaxRegressionClassifier or MLPClassifier"
            )
        return LogisticRegression(n_features, l2=self.l2, seed=seed)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags


class SoftmaxRegressionClassifier(_LinearClassifier):
    """Softmax (multinomial logistic) regression, a = softmax(xW + b), as a scikit-learn classifier.

    Parameters are those of ``LogisticRegressionClassifier``; any number of classes K ≥ 2.

    Attributes
    ----------
    classes_ : ndarray, shape (K,)
    n_features_in_ : int
    model_ : tinygraph.models.SoftmaxRegression
    history_ : tinygraph.models.History
    """

    def _make_model(self, n_features: int, n_classes: int, seed: int | None) -> Model:
        return SoftmaxRegression(n_features, n_classes, l2=self.l2, seed=seed)


class MLPClassifier(_Classifier):
    """A multi-layer perceptron as a scikit-learn classifier: one sigmoid output for two classes, K softmax outputs for K.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int
        The hidden layers' widths h₁, ..., h_m (scikit-learn's name).
    activation : {"sigmoid", "relu", "tanh"}
        f, between the layers.
    lr, epochs, batch_size, optimizer, l2, random_state, progress
        As for ``LogisticRegressionClassifier``; the default optimizer is Adam (η = 0.01).

    Attributes
    ----------
    classes_ : ndarray, shape (K,)
    n_features_in_ : int
    model_ : tinygraph.models.MLP
        Sizes (d, h₁, ..., h_m, 1) for two classes, (d, h₁, ..., h_m, K) for K.
    history_ : tinygraph.models.History
    """

    def __init__(
        self,
        hidden_layer_sizes: tuple[int, ...] = (16,),
        *,
        activation: str = "tanh",
        lr: float | None = None,
        epochs: int = 100,
        batch_size: int | None = 32,
        optimizer: str = "adam",
        l2: float = 1e-4,
        random_state: Any = None,
        progress: bool = False,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.lr = lr
        self.epochs = epochs
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.l2 = l2
        self.random_state = random_state
        self.progress = progress

    def _make_model(self, n_features: int, n_classes: int, seed: int | None) -> Model:
        outputs = 1 if n_classes == 2 else n_classes
        hidden = self.hidden_layer_sizes
        sizes = (n_features, *([hidden] if isinstance(hidden, (int, np.integer)) else hidden), outputs)
        return MLP(sizes, activation=self.activation, l2=self.l2, seed=seed)


def _seed(random_state: Any) -> int | None:
    """scikit-learn's random_state (None, an int, a RandomState or a Generator) as the models' seed."""
    if random_state is None or isinstance(random_state, (int, np.integer)):
        return random_seed(random_state, "random_state")
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(2**31 - 1))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**31 - 1))
    raise ValueError(f"random_state must be None, an int, a RandomState or a Generator, got {random_state!r}")
