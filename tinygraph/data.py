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

import glob
import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tinygraph import _csvfile

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

    @property
    def shape(self) -> tuple[int, int]:
        """(N, d): the examples and the features."""
        return self.X.shape

    def __repr__(self) -> str:
        n, d = self.X.shape
        return f"Dataset({self.name!r}: {n} examples, {d} features, {self.n_classes} classes)"


def load(source: str | Path, target: str | None = None) -> Dataset:
    """A bundled dataset by name, or a CSV file by path (then ``target`` names the label column).

    Raises
    ------
    ValueError
        For an unknown name, a folder, or a CSV file without ``target``; see ``load_csv`` for the rest.
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
    _check_file(path)
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

    The delimiter may be a comma, a semicolon or a tab (``csv.Sniffer`` tells which); fields may
    be quoted as the csv module writes them. The labels may be anything (numbers or words); their
    distinct values, sorted, become the classes 0, ..., K − 1 (``target_names`` keeps them).
    The file is read in chunks by the standard library's csv module, each number column parsed
    into a NumPy array, so memory stays a small multiple of the array's.

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    ValueError
        For a folder, an empty file or one that is not UTF-8 text; a header with a repeated or empty name or
        without the target column; rows of the wrong length; a malformed or oversized field
        (over ``csv.field_size_limit()``); a non-numeric, empty or non-finite feature value; an
        empty or NaN label; or fewer than two classes. The message names the file, the column and
        the row, as the line number a text editor shows (the header is line 1).
    """
    path = Path(path)
    _check_file(path)
    table = _csvfile.read(path, target)
    names, classes = _classes(table.labels)
    if len(names) < 2:
        raise ValueError(
            f"{path}: the target column {target!r} has only one class ({names[0]!r}); need two or more"
        )
    y = np.take(classes, table.codes, out=table.codes)  # in place: the codes are not needed after
    return Dataset(path.stem, table.X, y, table.feature_names, names)


def _check_file(path: Path) -> None:
    """FileNotFoundError if nothing is at ``path``, ValueError if a folder is."""
    if path.is_dir():
        raise ValueError(f"{path} is a folder, not a CSV file")
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")


def _classes(labels: list[str]) -> tuple[tuple[str, ...], np.ndarray]:
    """The classes of the distinct labels, and each label's class index.

    Labels are compared stripped, as numbers when they all are numbers (so "9" and "9.0" are one
    class), and sorted the same way; a class is named as it is first written.
    """
    written = [label.strip() for label in labels]
    try:
        keys: list[Any] = [float(label) for label in written]
    except ValueError:
        keys = written
    distinct = sorted(set(keys))
    index = {key: k for k, key in enumerate(distinct)}
    names: dict[Any, str] = {}
    for key, label in zip(keys, written):
        names.setdefault(key, label)
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


# ----------------------------------------------------------------------------- bigger than memory
LAZY_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
"""The file types ``load_lazy`` reads, by suffix."""


@dataclass(frozen=True)
class LazySplit:
    """Files read lazily with Dask, split and standardized: each array is computed when a step needs it.

    Attributes
    ----------
    name : str
    X_train, X_test : dask.array.Array, shape (N_train, d) and (N_test, d), float64
        Standardized with the training rows' mean and standard deviation.
    y_train, y_test : dask.array.Array, int64
        Class indices 0, ..., K − 1.
    feature_names, target_names : tuple of str
    """

    name: str
    X_train: Any
    X_test: Any
    y_train: Any
    y_test: Any
    feature_names: tuple[str, ...]
    target_names: tuple[str, ...]

    @property
    def n_classes(self) -> int:
        return len(self.target_names)

    @property
    def shape(self) -> tuple[int, int]:
        """(N, d) of the whole data, both sides of the split."""
        return self.X_train.shape[0] + self.X_test.shape[0], self.X_train.shape[1]


def load_lazy(
    source: str | Path, target: str, *, test_size: float = 0.25, seed: int = 0, blocksize: str = "64MB"
) -> LazySplit:
    """CSV or Parquet files (a file, a folder or a pattern such as ``big/*.csv``) as lazy Dask arrays.

    Two passes over the files, before any training, find what the arrays need to be known. The
    first reads the target column alone: its distinct labels (sorted, they become the classes
    0, ..., K − 1, as in ``load_csv``) and the split, which is ``train_test_split``'s for the rows
    in file order (seeded and stratified: each class in the same proportion on both sides, as on
    NumPy). The second takes the training rows' mean and standard deviation. X is never computed
    here; the labels (one per row) and which side each row is on are kept in memory.
    ``blocksize`` is how much of a CSV file one partition reads.

    Raises
    ------
    FileNotFoundError
        When nothing matches ``source``.
    ValueError
        For files that are neither all CSV nor all Parquet, a missing target column, a non-numeric
        feature column, fewer than two classes, or an empty side of the split.
    ImportError
        Without Dask (``pip install "tinygraph[dask]"``).
    """
    if not (isinstance(test_size, float) and 0 < test_size < 1):
        raise ValueError(f"test_size must be a fraction strictly between 0 and 1, got {test_size!r}")
    frame = _read_lazy(_lazy_files(source), blocksize)
    features = _feature_columns(frame, target, str(source))
    dask = importlib.import_module("dask")
    labels = dask.compute(*frame[target].to_delayed())  # one pandas Series per partition
    distinct = dict.fromkeys(value for part in labels for value in part.unique())
    names, index = _lazy_classes(list(distinct), str(source), target)
    sides = _stratified_sides(labels, index, test_size, seed, str(source))
    side = frame.map_partitions(_test_side, sides, meta=(None, bool))
    train, test = frame[~side], frame[side]
    test_rows = [int(s.sum()) for s in sides]
    train_rows = [len(s) - n for s, n in zip(sides, test_rows)]
    mean, std = dask.compute(train[features].mean(), train[features].std(ddof=0))
    scale = np.where(np.asarray(std) > 0, np.asarray(std), 1.0)  # a constant feature is only shifted

    def arrays(part: Any, rows: Any) -> tuple[Any, Any]:
        X = part[features].to_dask_array(lengths=list(rows)).astype(np.float64)
        y = part[target].map_partitions(_class_indices, index, meta=(target, "int64")).to_dask_array(lengths=list(rows))
        return (X - np.asarray(mean)) / scale, y

    (X_train, y_train), (X_test, y_test) = arrays(train, train_rows), arrays(test, test_rows)
    name = Path(str(source)).stem.replace("*", "") or str(source)
    return LazySplit(name, X_train, X_test, y_train, y_test, tuple(features), names)


def _lazy_files(source: str | Path) -> list[str]:
    """The files a path, a folder or a glob pattern names, sorted; FileNotFoundError for none."""
    path = Path(source)
    found = sorted(str(p) for p in path.iterdir() if p.is_file()) if path.is_dir() else sorted(glob.glob(str(source)))
    if not found:
        raise FileNotFoundError(f"no files match {str(source)!r}")
    return found


def _read_lazy(files: list[str], blocksize: str) -> Any:
    """The files as one lazy Dask data frame, read by the reader their common suffix names."""
    kinds = {LAZY_SUFFIXES.get(Path(f).suffix.lower()) for f in files}
    if len(kinds) != 1 or None in kinds:
        suffixes = sorted({Path(f).suffix or "(none)" for f in files})
        raise ValueError(f"the files must all be .csv or all .parquet, found {', '.join(suffixes)}")
    try:
        dd = importlib.import_module("dask.dataframe")
    except ImportError:
        raise ImportError('reading files lazily needs Dask: pip install "tinygraph[dask]"') from None
    if kinds == {"csv"}:
        return dd.read_csv(files, blocksize=blocksize)
    # One partition per file, whichever columns a computation reads (read_parquet fuses partitions
    # when few columns are read, and the two sides of the split would no longer align).
    return dd.from_map(importlib.import_module("pandas").read_parquet, files)


def _feature_columns(frame: Any, target: str, source: str) -> list[str]:
    """Every column but ``target``, each checked to be numeric from the frame's metadata (nothing read)."""
    columns = [str(c) for c in frame.columns]
    if target not in columns:
        raise ValueError(f"{source}: no column {target!r}; the columns are {', '.join(columns)}")
    features = [c for c in columns if c != target]
    words = [c for c in features if frame[c].dtype.kind not in "biuf"]
    if words:
        raise ValueError(f"{source}: the feature column {words[0]!r} is not numeric ({frame[words[0]].dtype})")
    return features


def _stratified_sides(
    labels: list[Any], index: dict[Any, int], test_size: float, seed: int, source: str
) -> list[np.ndarray]:
    """For each partition, True for its rows on the test side of ``train_test_split`` (stratified, seeded)."""
    classes = np.concatenate([_class_indices(part, index).to_numpy() for part in labels])
    try:
        _, test_rows, _, _ = train_test_split(np.arange(len(classes)), classes, test_size=test_size, seed=seed)
    except ValueError as error:  # too few rows, or a class too small to be on both sides
        raise ValueError(f"{source}: cannot split {len(classes)} rows with test_size={test_size:g}: {error}") from None
    is_test = np.zeros(len(classes), dtype=bool)
    is_test[test_rows] = True
    return np.split(is_test, np.cumsum([len(part) for part in labels])[:-1])


def _class_indices(labels: Any, index: dict[Any, int]) -> Any:
    """The class index of each label, as int64 (mapping Dask's pyarrow strings gives objects)."""
    return labels.map(index).astype(np.int64)


def _test_side(part: Any, sides: list[np.ndarray], partition_info: dict | None = None) -> Any:
    """True for the rows of one partition that go to the test side, as ``_stratified_sides`` chose them."""
    number = 0 if partition_info is None else partition_info["number"]
    if len(sides[number]) != len(part):  # the partitions are not those the labels were read from
        raise ValueError(f"partition {number} has {len(part)} rows but had {len(sides[number])}: did the files change?")
    return part.assign(_test_side=sides[number])["_test_side"]


def _lazy_classes(labels: list[Any], source: str, target: str) -> tuple[tuple[str, ...], dict[Any, int]]:
    """The class names of the distinct labels (sorted as numbers when all are) and label → class index."""
    try:
        keyed = sorted(labels, key=float)
    except (TypeError, ValueError):
        keyed = sorted(labels, key=str)
    if len(keyed) < 2:
        raise ValueError(f"{source}: the target column {target!r} has only one class; need two or more")
    return tuple(str(label) for label in keyed), {label: k for k, label in enumerate(keyed)}


def _sklearn(module: str) -> Any:
    try:
        return importlib.import_module(f"sklearn.{module}")
    except ImportError:
        raise ImportError(
            'the datasets, splits and scaling need scikit-learn: pip install "tinygraph[train]"'
        ) from None
