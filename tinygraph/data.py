"""Data to train on: scikit-learn's bundled datasets, your own CSV files, seeded splits, standardizing.

Nothing here downloads anything: breast cancer, iris and digits ship with scikit-learn
(``pip install "tinygraph[train]"``). This is data handling, plain NumPy; the training math
happens in the graph.

Examples
--------
>>> from tinygraph import data
>>> ds = data.load("iris")
>>> X_train, X_test, y_train, y_test = data.train_test_split(ds.X, ds.y, seed=0)
>>> X_train, X_test = data.standardize(X_train, X_test)
>>> X_train.shape, ds.n_classes
((112, 4), 3)
"""

from __future__ import annotations

import csv
import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

DATASETS = ("breast_cancer", "iris", "digits")


@dataclass(frozen=True)
class Dataset:
    """Examples and labels, with names for both.

    Attributes
    ----------
    name : str
    X : ndarray, shape (N, d), float64
    y : ndarray, shape (N,), int64
        Class indices 0, ..., K − 1.
    feature_names : tuple of str, length d
    target_names : tuple of str, length K
        The name of each class: ``target_names[k]`` is class k.
    """

    name: str
    X: np.ndarray
    y: np.ndarray
    feature_names: tuple[str, ...]
    target_names: tuple[str, ...]

    @property
    def n_classes(self) -> int:
        return len(self.target_names)

    def __repr__(self) -> str:
        n, d = self.X.shape
        return f"Dataset({self.name!r}: {n} examples, {d} features, {self.n_classes} classes)"


def load(source: str | Path, target: str | None = None) -> Dataset:
    """A bundled dataset by name, or a CSV file by path (then ``target`` names the label column).

    Raises
    ------
    ValueError
        For an unknown name, or a CSV file without ``target``; see ``load_csv`` for the rest.
    FileNotFoundError
        For a path that does not exist.
    """
    if str(source) in DATASETS:
        if target is not None:
            raise ValueError(f"--target/target is only for CSV files, not for the bundled {source} dataset")
        return load_dataset(str(source))
    path = Path(source)
    if path.suffix.lower() != ".csv" and not path.exists():
        raise ValueError(f"unknown dataset {str(source)!r}: choose {', '.join(DATASETS)} or a path to a .csv file")
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    if target is None:
        raise ValueError(f"{path} is a CSV file: name its label column with --target/target")
    return load_csv(path, target)


def load_dataset(name: str) -> Dataset:
    """One of scikit-learn's bundled datasets: "breast_cancer" (2 classes), "iris" (3) or "digits" (10)."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}: choose one of {', '.join(DATASETS)}")
    datasets = _sklearn("datasets")
    bunch = getattr(datasets, f"load_{name}")()
    return Dataset(
        name=name,
        X=np.asarray(bunch.data, dtype=np.float64),
        y=np.asarray(bunch.target, dtype=np.int64),
        feature_names=tuple(str(f) for f in bunch.feature_names),
        target_names=tuple(str(t) for t in bunch.target_names),
    )


def load_csv(path: str | Path, target: str) -> Dataset:
    """A CSV file with a header row: column ``target`` holds the labels, every other column a number.

    The labels may be anything (numbers or words); their distinct values, sorted, become the
    classes 0, ..., K − 1 (``target_names`` keeps them).

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    ValueError
        For an empty file, a missing target column, a non-numeric, empty or non-finite feature value,
        rows of the wrong length, or fewer than two classes. The message names the column and row.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    header, rows = _read_rows(path)
    if target not in header:
        raise ValueError(f"{path}: no column {target!r}; the columns are {', '.join(header)}")
    features = [name for name in header if name != target]
    if not features:
        raise ValueError(f"{path}: besides the target {target!r} there are no feature columns")
    if not rows:
        raise ValueError(f"{path}: the file has a header but no rows")
    X = np.array([[_number(row[name], name, i, path) for name in features] for i, row in rows])
    names, y = _classes([row[target] for _, row in rows])
    if len(names) < 2:
        raise ValueError(f"{path}: the target column {target!r} has only one class ({names[0]!r}); need two or more")
    return Dataset(path.stem, X, y, tuple(features), names)


def _read_rows(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """The header and the rows (with their line numbers) of a CSV file, each row checked for length."""
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header = [name.strip() for name in next(reader, [])]
        if not header:
            raise ValueError(f"{path} is empty: expected a header row naming the columns")
        rows = []
        for line, values in enumerate(reader, start=2):
            if not values:  # blank line
                continue
            if len(values) != len(header):
                raise ValueError(f"{path}: row {line} has {len(values)} values but the header has {len(header)} columns")
            rows.append((line, {name: value.strip() for name, value in zip(header, values)}))
    return header, rows


def _number(value: str, column: str, line: int, path: Path) -> float:
    try:
        number = float(value)
    except ValueError:
        what = "an empty value" if value == "" else f"the non-numeric value {value!r}"
        raise ValueError(f"{path}: column {column!r} has {what} in row {line}; feature columns must be numbers") from None
    if not np.isfinite(number):
        raise ValueError(f"{path}: column {column!r} has the value {value!r} in row {line}; features must be finite")
    return number


def _classes(labels: list[str]) -> tuple[tuple[str, ...], np.ndarray]:
    """The distinct labels (sorted as numbers when they all are numbers) and each label's index."""
    try:
        keys: list[Any] = [float(label) for label in labels]
    except ValueError:
        keys = labels
    distinct = sorted(set(keys))
    index = {key: k for k, key in enumerate(distinct)}
    names: dict[Any, str] = {}
    for key, label in zip(keys, labels):
        names.setdefault(key, label)  # a class is named as it is first written
    return tuple(names[key] for key in distinct), np.array([index[key] for key in keys], dtype=np.int64)


def train_test_split(
    X: np.ndarray, y: np.ndarray, *, test_size: float = 0.25, seed: int | None = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A seeded, stratified split (each class in the same proportion on both sides).

    Returns
    -------
    X_train, X_test, y_train, y_test
    """
    if not (isinstance(test_size, float) and 0 < test_size < 1):
        raise ValueError(f"test_size must be a fraction strictly between 0 and 1, got {test_size!r}")
    model_selection = _sklearn("model_selection")
    return tuple(model_selection.train_test_split(X, y, test_size=test_size, random_state=seed, stratify=y))


def standardize(X_train: np.ndarray, *others: np.ndarray) -> tuple[np.ndarray, ...]:
    """Each feature shifted to mean 0 and scaled to standard deviation 1, with the training set's statistics.

    The same shift and scale (from ``X_train`` only) apply to ``others`` (a test set), so nothing
    about the held-out data leaks into training. A constant feature is only shifted.
    """
    scaler = _sklearn("preprocessing").StandardScaler().fit(X_train)
    return tuple(scaler.transform(X) for X in (X_train, *others))


def _sklearn(module: str) -> Any:
    try:
        return importlib.import_module(f"sklearn.{module}")
    except ImportError:
        raise ImportError(
            'the datasets, splits and scaling need scikit-learn: pip install "tinygraph[train]"'
        ) from None
