"""``tinygraph train --backend dask``: a folder of CSV or Parquet files read lazily, trained on, written out.

The reference is the same command on the same rows with the NumPy back end where the two must agree
(the classes, the outputs written), and the model file itself, loaded back.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("dask.dataframe")

from tinygraph import data, models  # noqa: E402
from tinygraph.cli import main  # noqa: E402

FEATURES = ("alpha", "beta")


def _write_parts(folder: Path, parts: int = 3, rows: int = 120, suffix: str = ".csv") -> None:
    rng = np.random.default_rng(0)
    folder.mkdir()
    for i in range(parts):
        X = rng.standard_normal((rows, len(FEATURES)))
        labels = np.where(X[:, 0] - X[:, 1] > 0, "spam", "ham")
        if suffix == ".csv":
            lines = [",".join((*FEATURES, "label"))]
            lines += [f"{a:.6f},{b:.6f},{label}" for (a, b), label in zip(X, labels)]
            (folder / f"part{i}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        else:
            import pandas as pd

            frame = pd.DataFrame({"alpha": X[:, 0], "beta": X[:, 1], "label": labels})
            frame.to_parquet(folder / f"part{i}.parquet")


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_train_reads_a_folder_lazily_and_writes_the_usual_outputs(tmp_path, capsys, suffix):
    _write_parts(tmp_path / "big", suffix=suffix)
    out = tmp_path / "out"
    argv = ["train", "--data", str(tmp_path / "big" / f"*{suffix}"), "--target", "label", "--backend", "dask",
            "--epochs", "30", "--lr", "1", "--out", str(out), "--no-progress"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert ": 360 examples, 2 features, 2 classes" in printed
    assert "sgd, lr 1, full batch, 30 epochs" in printed
    assert "from the first" in printed
    assert {p.name for p in out.iterdir()} >= {"params.npz", "loss.png", "boundary.png"}
    model = models.load(out / "params.npz")
    accuracy = float(printed.split("test     accuracy ")[1].split()[0])
    assert accuracy > 0.9 and isinstance(model, models.LogisticRegression)


def test_the_lazy_split_is_seeded_standardized_and_keeps_every_row(tmp_path):
    _write_parts(tmp_path / "big")
    first = data.load_lazy(tmp_path / "big", "label", seed=3)
    again = data.load_lazy(str(tmp_path / "big" / "*.csv"), "label", seed=3)
    assert first.target_names == ("ham", "spam") and first.shape == (360, 2)
    np.testing.assert_array_equal(np.asarray(first.y_test), np.asarray(again.y_test))
    X_train = np.asarray(first.X_train)
    np.testing.assert_allclose(X_train.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(X_train.std(axis=0), 1, rtol=1e-12)


def test_the_lazy_split_is_stratified_and_is_the_numpy_split_of_the_same_rows(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((250, 2))
    y = rng.choice(["rare", "common", "middle"], size=250, p=[0.08, 0.62, 0.3])
    (tmp_path / "big").mkdir()
    lines = [f"{a:.6f},{b:.6f},{label}" for (a, b), label in zip(X, y)]
    for i, rows in enumerate((lines[:90], lines[90:200], lines[200:])):  # partitions of unequal sizes
        (tmp_path / "big" / f"part{i}.csv").write_text("alpha,beta,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    lazy = data.load_lazy(tmp_path / "big", "label", test_size=0.3, seed=5)
    y_train, y_test = lazy.y_train.compute(), lazy.y_test.compute()
    assert y_train.dtype == y_test.dtype == np.int64  # as declared, not pandas objects
    per_class = np.bincount(y_train, minlength=3) + np.bincount(y_test, minlength=3)
    assert np.abs(np.bincount(y_test, minlength=3) - 0.3 * per_class).max() <= 1  # within one example per class
    # the reference: NumPy's split of the rows in file order, standardized with its training rows
    classes = np.unique(y, return_inverse=True)[1]
    train, test, _, _ = data.train_test_split(np.arange(250), classes, test_size=0.3, seed=5)
    X = np.array([[float(v) for v in line.split(",")[:2]] for line in lines])
    expected_train, expected_test = data.standardize(X[np.sort(train)], X[np.sort(test)])
    np.testing.assert_allclose(lazy.X_test.compute(), expected_test, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(lazy.X_train.compute(), expected_train, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(y_test, classes[np.sort(test)])


def test_an_explicit_minibatch_on_dask_is_refused_with_the_reason(tmp_path, capsys):
    _write_parts(tmp_path / "big")
    argv = ["train", "--data", str(tmp_path / "big"), "--target", "label", "--backend", "dask",
            "--batch-size", "32", "--out", str(tmp_path / "out"), "--no-progress"]
    assert main(argv) == 1
    assert "minibatch SGD is not supported on lazy arrays" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("target", "message"),
    [("price", "no column 'price'; the columns are alpha, beta, label"), ("alpha", "not numeric")],
)
def test_bad_columns_are_named_before_anything_is_read(tmp_path, capsys, target, message):
    _write_parts(tmp_path / "big")
    argv = ["train", "--data", str(tmp_path / "big"), "--target", target, "--backend", "dask",
            "--out", str(tmp_path / "out"), "--no-progress"]
    assert main(argv) == 1
    assert message in capsys.readouterr().err


def test_no_matching_files_is_one_line(tmp_path, capsys):
    argv = ["train", "--data", str(tmp_path / "none*.csv"), "--target", "label", "--backend", "dask",
            "--out", str(tmp_path / "out")]
    assert main(argv) == 1
    assert "no files match" in capsys.readouterr().err
