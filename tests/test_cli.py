"""The `tinygraph` command: what `train` prints and writes, `draw`, and one-line errors for user mistakes."""

import html
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import tinygraph as tg
from tinygraph import cli, data
from tinygraph.cli import main
from tinygraph.models import MLP, Model

REPO = Path(__file__).resolve().parents[1]
PNG = b"\x89PNG\r\n\x1a\n"
RESULT = re.compile(r"^(train|test)\s+accuracy (\d\.\d{4})\s+log-loss (\d+\.\d{4})$", re.MULTILINE)


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """Run a command with this checkout of tinygraph first on the import path."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def results(stdout: str) -> dict[str, tuple[float, float]]:
    return {split: (float(acc), float(loss)) for split, acc, loss in RESULT.findall(stdout)}


def breast_cancer_test_split(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The held-out split the command uses, rebuilt through the public API."""
    ds = data.load("breast_cancer")
    X_train, X_test, _, y_test = data.train_test_split(ds.X, ds.y, seed=seed)
    return data.standardize(X_train, X_test)[1], y_test


@pytest.mark.skipif(shutil.which("tinygraph") is None, reason="the console script is not installed (pip install .)")
def test_train_with_no_options_trains_logistic_regression_on_breast_cancer(tmp_path):
    done = run(["tinygraph", "train"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "data     breast_cancer: 569 examples, 30 features, 2 classes" in done.stdout
    assert "LogisticRegression(n_features=30, l2=0.0): 31 parameters" in done.stdout
    assert "100/100" in done.stderr and "loss=" in done.stderr  # the progress bar
    scores = results(done.stdout)
    assert scores["train"][0] > 0.97 and scores["test"][0] > 0.93
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == ["graph.svg", "loss.png", "params.npz"]
    assert (out / "loss.png").read_bytes().startswith(PNG)
    svg = (out / "graph.svg").read_text()
    assert "<svg" in svg and "LogisticRegression: net input → sigmoid → NLL" in svg
    assert all(name in svg for name in ("Linear", "Sigmoid", "BCE"))
    model = Model.load(out / "params.npz")  # the parameters written are those that were scored
    X_test, y_test = breast_cancer_test_split()
    assert f"{model.score(X_test, y_test):.4f}" == f"{scores['test'][0]:.4f}"
    assert f"{model.log_loss(X_test, y_test):.4f}" == f"{scores['test'][1]:.4f}"


def test_python_m_tinygraph_trains_softmax_regression_on_iris(tmp_path):
    done = run([sys.executable, "-m", "tinygraph", "train", "--data", "iris", "--no-progress"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "SoftmaxRegression(n_features=4, n_classes=3, l2=0.0)" in done.stdout
    assert results(done.stdout)["test"][0] > 0.9


def test_a_user_mistake_is_one_line_on_stderr_without_a_traceback(tmp_path):
    done = run([sys.executable, "-m", "tinygraph", "train", "--data", "nope"], tmp_path)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "unknown dataset 'nope'" in done.stderr


def two_feature_csv(path: Path) -> Path:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 2))
    label = np.where(X[:, 0] ** 2 + X[:, 1] ** 2 < 1.0, "inside", "outside")
    lines = ["u,v,where"] + [f"{u:.5f},{v:.5f},{w}" for (u, v), w in zip(X, label)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_two_feature_csv_data_also_gets_a_decision_boundary(tmp_path, capsys):
    csv = two_feature_csv(tmp_path / "ring.csv")
    argv = ["train", "--data", str(csv), "--target", "where", "--model", "mlp", "--hidden", "8,8"]
    argv += ["--activation", "tanh", "--optimizer", "adam", "--lr", "0.05", "--epochs", "60", "--no-progress"]
    assert main([*argv, "--out", str(tmp_path / "run")]) == 0
    out = capsys.readouterr().out
    assert "ring: 80 examples, 2 features, 2 classes" in out and "adam, lr 0.05, batch size 32, 60 epochs" in out
    assert (tmp_path / "run" / "boundary.png").read_bytes().startswith(PNG)
    model = Model.load(tmp_path / "run" / "params.npz")
    assert isinstance(model, MLP) and model.sizes == [2, 8, 8, 1] and model.activation == "tanh"


def test_without_lr_the_command_trains_with_the_learning_rate_fit_chooses(tmp_path, capsys):
    csv = two_feature_csv(tmp_path / "ring.csv")
    argv = ["train", "--data", str(csv), "--target", "where", "--epochs", "2", "--no-progress"]
    for optimizer, lr in (("adam", "0.01"), ("sgd", "0.1")):
        assert main([*argv, "--optimizer", optimizer, "--out", str(tmp_path / optimizer)]) == 0
        assert f"{optimizer}, lr {lr}, batch size 32, 2 epochs" in capsys.readouterr().out


def test_lbfgs_full_batch_and_the_l2_penalty_from_the_command_line(tmp_path, capsys):
    argv = ["train", "--optimizer", "lbfgs", "--l2", "0.01", "--epochs", "200", "--no-progress", "--out", str(tmp_path)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "lbfgs, full batch, 200 epochs" in out
    assert "L2Penalty" in (tmp_path / "graph.svg").read_text()


@pytest.mark.parametrize(
    "model, names",
    [
        ("logreg", ["Linear", "Sigmoid", "BCE", "LogisticRegression: net input → sigmoid → NLL"]),
        ("softmax", ["Linear", "SoftmaxCrossEntropy"]),
        ("mlp", ["MLP layer 1: net input → relu", "MLP layer 2", "ReLU", "SoftmaxCrossEntropy"]),
    ],
)
def test_draw_writes_the_diagram_of_an_untrained_model(model, names, tmp_path, capsys):
    path = tmp_path / "graph.svg"
    argv = ["draw", "--model", model, "--hidden", "5,4", "--activation", "relu", "--out", str(path)]
    assert main(argv) == 0
    assert capsys.readouterr().out == f"wrote {path}\n"
    svg = path.read_text()
    assert all(name in svg for name in names)


@pytest.mark.needs_dot
def test_draw_takes_the_format_from_the_suffix_in_any_case(tmp_path):
    path = tmp_path / "logreg.PNG"
    assert main(["draw", "--out", str(path)]) == 0
    assert path.read_bytes().startswith(PNG)


def test_draw_png_with_the_penalty(tmp_path):
    path = tmp_path / "d" / "logreg.png"
    assert main(["draw", "--l2", "0.5", "--out", str(path)]) == 0
    assert path.read_bytes().startswith(PNG)


@pytest.mark.parametrize(
    "argv, status, message",
    [
        ([], 2, "the following arguments are required: {train,draw}"),
        (["train", "--model", "cnn"], 2, "invalid choice: 'cnn'"),
        (["train", "--epochs", "0"], 2, "expected a whole number >= 1, got '0'"),
        (["train", "--lr", "-1"], 2, "expected a number > 0, got '-1'"),
        (["train", "--lr", "nan"], 2, "expected a finite number"),
        (["train", "--hidden", "16,x"], 2, "expected widths like 16 or 16,16, got '16,x'"),
        (["train", "--batch-size", "all"], 2, "expected a whole number >= 1, got 'all'"),
        (["train", "--test-size", "1.5"], 2, "expected a fraction between 0 and 1"),
        (["train", "--data", "mnist"], 1, "unknown dataset 'mnist'"),
        (["train", "--data", "missing.csv", "--target", "y"], 1, "no such file: missing.csv"),
        (["train", "--data", "{csv}"], 1, "name its label column with --target"),
        (["train", "--data", "{csv}", "--target", "label"], 1, "no column 'label'; the columns are u, v, where"),
        (["train", "--data", "iris", "--model", "logreg"], 1, "logreg is binary but iris has 3 classes"),
        (["train", "--out", "{csv}"], 1, "ring.csv exists and is not a directory"),
        (["train", "--lr", "1e6", "--l2", "1", "--batch-size", "full", "--epochs", "500"], 1, "try a smaller lr"),
        (["draw", "--out", "graph.txt"], 1, "--out must end in .svg, .png, .pdf"),
        (["draw", "--out", "{csv}/graph.svg"], 1, "cannot be written: " + "{csv} is a file, not a folder"),
    ],
)
def test_user_mistakes_exit_non_zero_with_one_clear_line(argv, status, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    csv = str(two_feature_csv(tmp_path / "ring.csv"))
    assert main([arg.replace("{csv}", csv) for arg in argv] + (["--no-progress"] if "--lr" in argv else [])) == status
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert message.replace("{csv}", csv) in captured.err


def test_help_lists_the_commands(capsys):
    assert main(["--help"]) == 0
    assert "{train,draw}" in capsys.readouterr().out
    assert main(["train", "--help"]) == 0
    assert "(default ./out)" in " ".join(capsys.readouterr().out.split())


def test_without_graphviz_the_dot_text_is_written_instead(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no `dot` program anywhere
    assert main(["draw", "--out", str(tmp_path / "graph.svg")]) == 0
    captured = capsys.readouterr()
    assert captured.out == f"wrote {tmp_path / 'graph.gv'}\n"
    assert "apt-get install graphviz" in captured.err and captured.err.count("\n") == 1
    assert (tmp_path / "graph.gv").read_text().startswith("digraph")


# ----------------------------------------------------------------------------- interrupts, mixes, stale files
KEPT = "nothing of this run was written: {out} holds what it held before"

def test_ctrl_c_during_training_is_one_line_status_130_and_leaves_out_as_it_was(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "params.npz").write_bytes(b"an earlier run's parameters")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-m", "tinygraph", "train", "--epochs", "1000000", "--out", str(out)]
    # As in a terminal's foreground job, Ctrl-C's signal is at its default in the child even when
    # the test itself runs where SIGINT is ignored (a background job), which Python would inherit.
    with subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    ) as child:  # its pipes closed however the test ends
        stderr = bytearray()

        def read_stderr():
            while byte := child.stderr.read(1):
                stderr.extend(byte)

        reader = threading.Thread(target=read_stderr)
        reader.start()
        deadline = time.monotonic() + 60
        while b"loss=" not in stderr and time.monotonic() < deadline:  # the first progress shown
            time.sleep(0.05)
        if b"loss=" not in stderr:
            child.kill()
        assert b"loss=" in stderr, stderr.decode()
        child.send_signal(signal.SIGINT)
        try:
            status = child.wait(timeout=30)  # its output is a few lines: no pipe fills while it ends
        except subprocess.TimeoutExpired:
            child.kill()
            raise
        stdout = child.stdout.read().decode()
        assert status == 130
        reader.join()
    err = stderr.decode()
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    last = err.strip().splitlines()[-1]
    assert last == f"tinygraph train: interrupted; {KEPT.format(out=out)}"
    assert "training sgd" in stdout and "wrote" not in stdout
    assert [p.name for p in out.iterdir()] == ["params.npz"]
    assert (out / "params.npz").read_bytes() == b"an earlier run's parameters"


def contents(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_a_run_stopped_while_writing_leaves_the_earlier_runs_outputs_untouched(tmp_path, capsys, monkeypatch):
    """Before, a Ctrl-C right after params.npz left the new parameters beside the old pictures."""
    csv = two_feature_csv(tmp_path / "ring.csv")
    out = tmp_path / "run"
    argv = ["train", "--data", str(csv), "--target", "where", "--no-progress", "--out", str(out)]
    assert main([*argv, "--epochs", "3"]) == 0
    before = contents(out)
    assert sorted(before) == ["boundary.png", "graph.svg", "loss.png", "params.npz"]

    def stopped(*args):
        raise KeyboardInterrupt  # after params.npz, loss.png and boundary.png are written

    monkeypatch.setattr(cli, "_write_diagram", stopped)
    capsys.readouterr()
    assert main([*argv, "--epochs", "7"]) == 130
    assert capsys.readouterr().err == f"tinygraph train: interrupted; {KEPT.format(out=out)}\n"
    assert contents(out) == before  # no new file, no temporary folder

    def failed(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cli, "_write_diagram", failed)
    assert main([*argv, "--epochs", "7"]) == 1
    assert "No space left on device" in capsys.readouterr().err
    assert contents(out) == before


def test_an_earlier_runs_output_that_this_run_does_not_write_is_removed_and_reported(tmp_path, capsys):
    csv = two_feature_csv(tmp_path / "ring.csv")
    out = tmp_path / "run"
    (tmp_path / "run").mkdir()
    (out / "notes.txt").write_text("the user's own file")
    options = ["--epochs", "2", "--no-progress", "--out", str(out)]
    assert main(["train", "--data", str(csv), "--target", "where", *options]) == 0
    assert (out / "boundary.png").exists()
    capsys.readouterr()
    assert main(["train", *options]) == 0  # breast cancer's 30 features: no boundary
    printed = capsys.readouterr().out
    assert f"removed  {out / 'boundary.png'} (left by an earlier run, not by this one)" in printed
    assert sorted(contents(out)) == ["graph.svg", "loss.png", "notes.txt", "params.npz"]
    assert Model.load(out / "params.npz").n_features == 30


def test_an_out_that_cannot_be_written_is_refused_before_training(tmp_path, capsys):
    """Root ignores permissions, so the unwritable --out is a path through a regular file."""
    blocker = tmp_path / "file.txt"
    blocker.write_text("a regular file")
    assert main(["train", "--epochs", "2", "--no-progress", "--out", str(blocker / "out")]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing was loaded or trained
    unwritable = f"--out {blocker / 'out'} cannot be written: Not a directory"
    assert captured.err == f"tinygraph train: error: {unwritable}\n"


def test_a_diverging_run_warns_in_the_summary_and_prints_no_endless_numbers(tmp_path, capsys):
    argv = ["train", "--lr", "1e200", "--batch-size", "full", "--epochs", "3", "--no-progress"]
    argv += ["--out", str(tmp_path)]
    assert main(argv) == 0
    printed = capsys.readouterr()
    rose = r"^warning  the training loss rose from 0\.69\d* to \d\.\d+e\+\d+ with lr=1e\+200: try a smaller"
    assert re.search(rose, printed.out, re.MULTILINE)
    assert re.search(r"^train\s+accuracy \d\.\d{4}\s+log-loss \d(\.\d+)?e\+\d+$", printed.out, re.MULTILINE)
    assert not re.search(r"\d{12}", printed.out)  # before, log-loss was a 200-digit number
    assert printed.err == ""


def test_a_negative_seed_is_a_usage_error(capsys):
    assert main(["train", "--seed", "-1"]) == 2
    assert "expected a whole number >= 0, got '-1'" in capsys.readouterr().err


@pytest.mark.needs_dot
def test_the_written_graph_shows_the_drawn_losss_gradient_at_the_final_parameters(tmp_path, monkeypatch):
    """Before, graph.svg showed it plus the last minibatch's gradient (∂L/∂b 0.0856, not 0.000135)."""
    drawn = {}
    draw = tg.draw

    def recording(root, **options):
        drawn.update({name: p.grad.copy() for name, p in built["model"].params.items()})
        return draw(root, **options)

    built = {}
    build = cli._build
    monkeypatch.setattr(cli, "_build", lambda *args: built.setdefault("model", build(*args)))
    monkeypatch.setattr(tg, "draw", recording)
    assert main(["train", "--epochs", "20", "--no-progress", "--out", str(tmp_path)]) == 0
    ds = data.load("breast_cancer")
    X_train, X_test, y_train, _ = data.train_test_split(ds.X, ds.y, seed=0)
    X_train = data.standardize(X_train, X_test)[0]
    fresh = Model.load(tmp_path / "params.npz")
    fresh.loss(X_train, y_train).backward()
    for name, p in fresh.params.items():
        np.testing.assert_allclose(drawn[name], p.grad, rtol=0, atol=1e-12)
    svg = html.unescape((tmp_path / "graph.svg").read_text())
    assert re.search(r"∂L/∂b = ([^<]+)<", svg).group(1) == f"{fresh.b.grad.item():.3g}"
    assert re.search(r"‖∂L/∂w‖ = ([^<]+)<", svg).group(1) == f"{np.linalg.norm(fresh.w.grad):.3g}"
