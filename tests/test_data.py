"""Datasets, CSV files, seeded stratified splits and standardization."""

import numpy as np
import pytest

from tinygraph import data


@pytest.mark.parametrize(
    "name, shape, n_classes", [("breast_cancer", (569, 30), 2), ("iris", (150, 4), 3), ("digits", (1797, 64), 10)]
)
def test_bundled_datasets(name, shape, n_classes):
    ds = data.load(name)
    assert ds.name == name and ds.X.shape == shape and ds.n_classes == n_classes
    assert ds.X.dtype == np.float64 and ds.y.dtype == np.int64
    np.testing.assert_array_equal(np.unique(ds.y), np.arange(n_classes))
    assert len(ds.feature_names) == shape[1]
    assert repr(ds) == f"Dataset({name!r}: {shape[0]} examples, {shape[1]} features, {n_classes} classes)"


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_csv_with_word_labels(tmp_path):
    path = write(tmp_path, "height, weight ,species\n1.5,3,cat\n2,4.5,dog\n\n3,1e1,cat\n")
    ds = data.load(path, target="species")
    np.testing.assert_array_equal(ds.X, [[1.5, 3.0], [2.0, 4.5], [3.0, 10.0]])
    np.testing.assert_array_equal(ds.y, [0, 1, 0])
    assert ds.feature_names == ("height", "weight") and ds.target_names == ("cat", "dog")
    assert ds.name == "data"


def test_numeric_labels_are_ordered_as_numbers(tmp_path):
    path = write(tmp_path, "label,x\n10,1\n9,2\n2,3\n9.0,4\n")
    ds = data.load_csv(path, "label")
    assert ds.target_names == ("2", "9", "10")
    np.testing.assert_array_equal(ds.y, [2, 1, 0, 1])


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "is empty"),
        ("a,b\n", "has a header but no rows"),
        ("a,b\n1,0\n1,0\n", "only one class"),
        ("b\n0\n1\n", "no feature columns"),
        ("a,b\n1,0\n2\n", "row 3 has 1 values but the header has 2 columns"),
        ("a,b\n1,0\nabc,1\n", "column 'a' has the non-numeric value 'abc' in row 3"),
        ("a,b\n1,0\n,1\n", "column 'a' has an empty value in row 3"),
        ("a,b\n1,0\nnan,1\n", "column 'a' has the value 'nan' in row 3; features must be finite"),
    ],
)
def test_bad_csv_files_are_named_with_column_and_row(tmp_path, text, message):
    with pytest.raises(ValueError, match=message):
        data.load_csv(write(tmp_path, text), "b")


def test_a_missing_target_column_lists_the_columns(tmp_path):
    with pytest.raises(ValueError, match="no column 'label'; the columns are a, b"):
        data.load(write(tmp_path, "a,b\n1,0\n"), target="label")


def test_load_refuses_what_it_cannot_find(tmp_path):
    with pytest.raises(ValueError, match="unknown dataset 'mnist': choose breast_cancer, iris, digits or a path"):
        data.load("mnist")
    with pytest.raises(FileNotFoundError, match="no such file"):
        data.load(tmp_path / "missing.csv", target="y")
    with pytest.raises(ValueError, match="name its label column"):
        data.load(write(tmp_path, "a,y\n1,0\n2,1\n"))
    with pytest.raises(ValueError, match="only for CSV files"):
        data.load("iris", target="species")


def test_the_split_is_seeded_stratified_and_a_partition():
    ds = data.load("iris")
    X_train, X_test, y_train, y_test = data.train_test_split(ds.X, ds.y, test_size=0.2, seed=3)
    assert len(X_train) == 120 and len(X_test) == 30
    np.testing.assert_array_equal(np.bincount(y_test), [10, 10, 10])  # each class in proportion
    rows = np.concatenate([X_train, X_test])
    assert sorted(map(tuple, rows)) == sorted(map(tuple, ds.X))  # every example exactly once
    again = data.train_test_split(ds.X, ds.y, test_size=0.2, seed=3)
    np.testing.assert_array_equal(again[1], X_test)
    other = data.train_test_split(ds.X, ds.y, test_size=0.2, seed=4)
    assert not np.array_equal(other[1], X_test)


@pytest.mark.parametrize("test_size", [0.0, 1.0, 2, -0.5])
def test_the_test_size_must_be_a_fraction(test_size):
    with pytest.raises(ValueError, match="test_size must be a fraction"):
        data.train_test_split(np.zeros((4, 1)), np.array([0, 1, 0, 1]), test_size=test_size)


def test_standardize_uses_the_training_statistics_only():
    rng = np.random.default_rng(0)
    train = rng.normal(5.0, 3.0, (50, 3))
    train[:, 2] = 7.0  # a constant feature
    test = rng.normal(0.0, 1.0, (10, 3))
    train_s, test_s = data.standardize(train, test)
    np.testing.assert_allclose(train_s[:, :2].mean(axis=0), 0, atol=1e-14)
    np.testing.assert_allclose(train_s[:, :2].std(axis=0), 1, rtol=1e-14)
    mean, std = train.mean(axis=0), train.std(axis=0)
    np.testing.assert_allclose(test_s[:, :2], (test[:, :2] - mean[:2]) / std[:2], rtol=1e-12)
    np.testing.assert_allclose(train_s[:, 2], 0.0)  # shifted, not divided by 0
    np.testing.assert_allclose(test_s[:, 2], test[:, 2] - 7.0)
