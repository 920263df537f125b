"""The checks on a model's data, in one place: X, y, the label rules and the validation pair.

``Model`` runs them on what a user passes, before any graph is built; the training loop then works
only with the checked arrays. Every problem is a ValueError that names it, e.g.
``X has 4 features but the model expects 3``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygraph.tensor import Tensor


def float_array(X: Any, what: str) -> np.ndarray:
    """``X`` (an array, a nested list or a Tensor) as a float64 ndarray, or a ValueError naming ``what``.

    Complex numbers are refused rather than cast: the cast would silently drop the imaginary part.
    """
    try:
        X = np.asarray(X.data if isinstance(X, Tensor) else X)
        if X.dtype.kind != "c":
            return X.astype(np.float64, copy=False)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{what} must be numeric: {error}") from None
    raise ValueError(f"{what} holds complex numbers, but the models need real ones (take .real or abs())")


def check_X(X: Any, n_features: int, what: str = "X") -> np.ndarray:
    """X as float64 of shape (N, n_features) with finite values."""
    X = float_array(X, what)
    if X.ndim != 2:
        raise ValueError(f"{what} must be 2-D (examples × features), got shape {X.shape}")
    if X.shape[1] != n_features:
        raise ValueError(f"{what} has {X.shape[1]} features but the model expects {n_features}")
    bad = ~np.isfinite(X)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise ValueError(f"{what} contains NaN or inf (first at row {row}, column {col}): clean the data first")
    return X


def check_y(y: Any, n_examples: int, what: str = "") -> np.ndarray:
    """y as a 1-D array with one label per example of X (the labels themselves are the model's rule)."""
    y = np.asarray(y.data if isinstance(y, Tensor) else y)
    if y.ndim != 1:
        raise ValueError(f"{what}y must be 1-D (one label per example), got shape {y.shape}")
    if len(y) != n_examples:
        raise ValueError(f"{what}X has {n_examples} examples but {what}y has {len(y)} labels")
    if len(y) == 0:
        raise ValueError(f"{what}X and {what}y are empty")
    return y


def binary_labels(y: np.ndarray, model: str) -> np.ndarray:
    """y as float64 0/1 labels, or a ValueError naming the first other value."""
    y = float_array(y, "y")
    bad = (y != 0) & (y != 1)
    if bad.any():
        raise ValueError(
            f"{model} needs labels 0 or 1, found {y[bad][0]:g}: for more classes use SoftmaxRegression or an MLP"
        )
    return y


def class_labels(y: np.ndarray, n_classes: int, model: str) -> np.ndarray:
    """y as integer class indices in [0, K), or a ValueError naming the first other value."""
    y = float_array(y, "y")
    bad = (y != np.round(y)) | (y < 0) | (y >= n_classes) | ~np.isfinite(y)
    if bad.any():
        raise ValueError(f"{model} needs class labels 0, 1, ..., {n_classes - 1}; found {y[bad][0]:g}")
    return y.astype(np.int64)


def validation_pair(validation: Any) -> tuple[Any, Any]:
    """``validation`` as (X_val, y_val), or a ValueError if it is not a pair."""
    if not (isinstance(validation, (tuple, list)) and len(validation) == 2):
        raise ValueError("validation must be a pair (X_val, y_val)")
    return validation[0], validation[1]
