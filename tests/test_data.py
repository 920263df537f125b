"""Datasets, CSV files, seeded stratified splits and standardization."""

import csv
import io

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygraph import _csvfile, data


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


@pytest.mark.parametrize(
    "text, message",
    [
        # a repeated name would silently keep one of the two columns
        ("height,height,label\n1,2,a\n3,4,b\n",
         "row 1 \\(the header\\) names column 'height' twice, as columns 1 and 2"),
        ("a, ,b\n1,2,0\n", "row 1 \\(the header\\) leaves column 2 without a name"),
        # a missing label would become a class of its own
        ("a,b\n1,0\n2,nan\n3,1\n", "the target column 'b' has the value 'nan' in row 3; every row needs a label"),
        ("a,b\n1,0\n2, NaN \n3,1\n", "the target column 'b' has the value 'NaN' in row 3"),
        ("a,b\n1,0\n2,\n3,1\n", "the target column 'b' has an empty value in row 3"),
        # the csv module's own errors, with the line and column
        ("a,b\n1,0\n\"2\"x,1\n", "column 'a' has a malformed value \\(.*\\) in row 3"),
        ("a,b\n1,0\n2,\"1\n3,0\n", "column 'b' has a malformed value \\(unexpected end of data\\) in row 3"),
        ("a,b\n" + "1" * 200_000 + ",0\n1,1\n", "column 'a' has a value longer than 131,072 characters in row 2"),
        ("a,b" + "c" * 200_000 + "\n1,0\n", "column 2 has a value longer than 131,072 characters in row 1"),
        # rows are lines as an editor numbers them: blank lines and quoted line breaks count
        ("a,b\n\n1,0\n\nabc,1\n", "column 'a' has the non-numeric value 'abc' in row 5"),
        ("a,b\n1,\"x\ny\"\n2,z\nabc,1\n", "column 'a' has the non-numeric value 'abc' in row 5"),
        ("a,b\r\n1,\"x\r\ny\"\r\n2,z\r\n3,1,4\r\n", "row 5 has 3 values but the header has 2 columns"),
        ("a,b\n1,0\n" + "9" * 100 + "x,1\n", "the non-numeric value '999.*'… \\(101 characters\\) in row 3"),
    ],
)
def test_ambiguous_or_broken_csv_files_name_the_file_row_and_column(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(ValueError, match=message) as error:
        data.load_csv(path, "b" if "label" not in text else "label")
    assert str(error.value).startswith(f"{path}: ")


def test_a_file_that_is_not_utf8_names_the_line(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("a,b\n1,0\n2,café\n".encode("latin-1"))
    with pytest.raises(ValueError, match="line 3 is not UTF-8 text"):
        data.load_csv(path, "b")


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_the_delimiter_is_sniffed(tmp_path, delimiter):
    rows = [["x", "y", "label"], ["1.5", "2", "cat"], ["3", "4e1", "dog"]]
    text = "\n".join(delimiter.join(row) for row in rows)
    ds = data.load_csv(write(tmp_path, text + "\n"), "label")
    np.testing.assert_array_equal(ds.X, [[1.5, 2.0], [3.0, 40.0]])
    assert ds.feature_names == ("x", "y") and ds.target_names == ("cat", "dog")


def test_rows_of_different_lengths_do_not_fool_the_sniffer(tmp_path):
    with pytest.raises(ValueError, match="row 4 has 1 values but the header has 2 columns"):
        data.load_csv(write(tmp_path, "a;b\n1;0\n2;1\n3\n"), "b")


def test_chunks_are_joined_and_lines_counted_across_them(tmp_path, monkeypatch):
    monkeypatch.setattr(_csvfile, "CHUNK_ROWS", 3)
    rows = [f"{i},{i % 2}" for i in range(10)]
    ds = data.load_csv(write(tmp_path, "x,y\n" + "\n".join(rows) + "\n"), "y")
    np.testing.assert_array_equal(ds.X[:, 0], np.arange(10.0))
    np.testing.assert_array_equal(ds.y, np.arange(10) % 2)
    assert ds.X.flags.owndata and ds.X.flags.c_contiguous  # sized from the line count, exactly
    rows[6], rows[7] = "6,0\n", "7,"  # a blank line, then line 10 (in the third chunk) has no label
    with pytest.raises(ValueError, match="has an empty value in row 10"):
        data.load_csv(write(tmp_path, "x,y\n" + "\n".join(rows) + "\n"), "y")


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r", ""])
def test_any_line_end_and_a_last_line_without_one(tmp_path, monkeypatch, end):
    monkeypatch.setattr(_csvfile, "CHUNK_ROWS", 2)  # lone carriage returns make the arrays grow, chunk by chunk
    lines = ["x,y"] + [f"{i},{i % 2}" for i in range(7)]
    text = end.join(lines) if end else "\n".join(lines)  # "": no line end after the last row
    ds = data.load_csv(write(tmp_path, text + end), "y")
    np.testing.assert_array_equal(ds.X[:, 0], np.arange(7.0))
    np.testing.assert_array_equal(ds.y, np.arange(7) % 2)


LABELS = st.sampled_from(["0", "1", "2", "cat", "dog", "two words", "x,y", "a;b", 'say "hi"', "tab\there", " 7 "])


@st.composite
def tables(draw):
    """A table of finite floats and labels, and how to write it: delimiter, quoting, line ends."""
    n, d = draw(st.integers(2, 25)), draw(st.integers(1, 4))
    X = draw(st.lists(st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=d, max_size=d),
                      min_size=n, max_size=n))
    labels = draw(st.lists(LABELS, min_size=n, max_size=n).filter(lambda ls: len({s.strip() for s in ls}) > 1))
    where = draw(st.integers(0, d))  # the label column's position
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return np.array(X, dtype=np.float64), labels, where, delimiter, quoting, newline


@given(tables())
def test_tables_written_by_the_csv_module_read_back_as_numpy_reads_them(tmp_path_factory, table):
    X, labels, where, delimiter, quoting, newline = table
    d = X.shape[1]
    header = [f"x{j}" for j in range(d)]
    header.insert(where, "label")
    text = io.StringIO()
    writer = csv.writer(text, delimiter=delimiter, quoting=quoting, lineterminator=newline)
    writer.writerow(header)
    for row, label in zip(X.tolist(), labels):
        writer.writerow(row[:where] + [label] + row[where:])
    path = tmp_path_factory.mktemp("csv") / "table.csv"
    path.write_text(text.getvalue(), newline="")

    ds = data.load_csv(path, "label")
    np.testing.assert_array_equal(ds.X, X)  # repr() of a float reads back exactly
    features = [j for j in range(d + 1) if j != where]
    reference = np.loadtxt(path, delimiter=delimiter, quotechar='"', skiprows=1, usecols=features, ndmin=2)
    np.testing.assert_array_equal(ds.X, reference)
    assert ds.feature_names == tuple(f"x{j}" for j in range(d))
    assert [ds.target_names[k] for k in ds.y] == [label.strip() for label in labels]


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


@pytest.mark.parametrize("load", [lambda path: data.load(path, target="y"), lambda path: data.load_csv(path, "y")])
def test_a_folder_is_called_a_folder_not_a_missing_file(tmp_path, load):
    (tmp_path / "runs.csv").mkdir()
    with pytest.raises(ValueError, match=r"runs\.csv is a folder, not a CSV file"):
        load(tmp_path / "runs.csv")


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
