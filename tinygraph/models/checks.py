"""The checks on a model's data, in one place: X, y, the label rules and the validation pair.

``Model`` runs them on what a user passes, before any graph is built; the training loop then works
only with the checked arrays. Every problem is a ValueError that names it, e.g.
``X has 4 features but the model expects 3``.

A lazy array (Dask) is checked without computing it: its shape and dtype are known already, and
the checks of its values (finite, labels in range) become ``Pending`` checks, lazy booleans that
the caller computes together with its own results, in the same pass over the data
(``tinygraph._lazy.settle``).
``fit`` folds them into its first step, so a fit reads the data for its checks once, never per
node or per step; a failed check raises the same ValueError as on NumPy. The checks are written
with NumPy's functions, which hand a Dask array to Dask and return a lazy result.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tinygraph._lazy import Pending, compute, is_lazy, settle
from tinygraph.tensor import Tensor


def _check(pending: list[Pending] | None, ok: Any, message: Callable[[], str]) -> None:
    """Raise ValueError(message()) unless ``ok``; for a lazy ``ok``, append the check to ``pending``.

    Without a ``pending`` list a lazy check is computed at once (one pass, for this check alone).
    """
    if is_lazy(ok) and pending is not None:
        pending.append(Pending(ok, message))
    elif not bool(compute(ok)[0]):
        raise ValueError(message())


def _first(mask: Any) -> int:
    """The index of the first True of a 1-D boolean array (computed, for an error message)."""
    return int(compute(mask.argmax())[0])


def _own(array: Any) -> Any:
    """``array`` as it is when it is an array of its own library (NumPy, Dask, CuPy...), else as an ndarray."""
    if is_lazy(array) or hasattr(array, "__array_namespace__"):
        return array
    return np.asarray(array)


def float_array(X: Any, what: str) -> np.ndarray:
    """``X`` (an array, a nested list or a Tensor) as a float64 ndarray, or a ValueError naming ``what``.

    Complex numbers are refused rather than cast: the cast would silently drop the imaginary part.
    """
    try:
        X = _own(X.data if isinstance(X, Tensor) else X)
        if X.dtype.kind != "c":
            return X.astype(np.float64, copy=False)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{what} must be numeric: {error}") from None
    raise ValueError(f"{what} holds complex numbers, but the models need real ones (take .real or abs())")


def check_X(X: Any, n_features: int, what: str = "X", pending: list[Pending] | None = None) -> np.ndarray:
    """X as float64 of shape (N, n_features) with finite values (a lazy X's values: see ``_check``)."""
    X = float_array(X, what)
    if X.ndim != 2:
        raise ValueError(f"{what} must be 2-D (examples × features), got shape {X.shape}")
    if np.isnan(X.shape[0]):  # a Dask array cut from a data frame, whose chunks' lengths are unknown
        raise ValueError(
            f"{what} has an unknown number of rows: make it with to_dask_array(lengths=True) "
            "or call compute_chunk_sizes() on it"
        )
    if X.shape[1] != n_features:
        raise ValueError(f"{what} has {X.shape[1]} features but the model expects {n_features}")
    bad = ~np.isfinite(X)

    def where() -> str:
        row = _first(bad.any(axis=1))
        col = _first(bad[row])
        return f"{what} contains NaN or inf (first at row {row}, column {col}): clean the data first"

    _check(pending, ~bad.any(), where)
    return X


def check_y(y: Any, n_examples: int, what: str = "") -> np.ndarray:
    """y as a 1-D array with one label per example of X (the labels themselves are the model's rule)."""
    y = _own(y.data if isinstance(y, Tensor) else y)
    if y.ndim != 1:
        raise ValueError(f"{what}y must be 1-D (one label per example), got shape {y.shape}")
    if len(y) != n_examples:
        raise ValueError(f"{what}X has {n_examples} examples but {what}y has {len(y)} labels")
    if len(y) == 0:
        raise ValueError(f"{what}X and {what}y are empty")
    return y


def binary_labels(y: np.ndarray, model: str, pending: list[Pending] | None = None) -> np.ndarray:
    """y as float64 0/1 labels, or a ValueError naming the first other value (a lazy y's: see ``_check``)."""
    y = float_array(y, "y")
    bad = (y != 0) & (y != 1)

    def found() -> str:
        value = float(compute(y[_first(bad)])[0])
        return f"{model} needs labels 0 or 1, found {value:g}: for more classes use SoftmaxRegression or an MLP"

    _check(pending, ~bad.any(), found)
    return y


def class_labels(y: np.ndarray, n_classes: int, model: str, pending: list[Pending] | None = None) -> np.ndarray:
    """y as integer class indices in [0, K), or a ValueError naming the first other value (lazy y: ``_check``)."""
    y = float_array(y, "y")
    bad = (y != np.round(y)) | (y < 0) | (y >= n_classes) | ~np.isfinite(y)

    def found() -> str:
        value = float(compute(y[_first(bad)])[0])
        return f"{model} needs class labels 0, 1, ..., {n_classes - 1}; found {value:g}"

    _check(pending, ~bad.any(), found)
    return y.astype(np.int64)


def validation_pair(validation: Any) -> tuple[Any, Any]:
    """``validation`` as (X_val, y_val), or a ValueError if it is not a pair."""
    if not (isinstance(validation, (tuple, list)) and len(validation) == 2):
        raise ValueError("validation must be a pair (X_val, y_val)")
    return validation[0], validation[1]
