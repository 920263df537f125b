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
