"""The ``tinygraph`` command: ``tinygraph train`` fits a model to real data, ``tinygraph draw`` draws one.

``tinygraph train`` with no options trains logistic regression on the breast cancer data in a few
seconds and writes its pictures into ``./out``. Everything here goes through the public API
(``tinygraph.data``, ``tinygraph.models``, ``tinygraph.plots``, ``tg.draw``); a user's mistake
ends with one line on stderr and a non-zero exit status, never a traceback, and Ctrl-C with one
line and status 130.

A run's outputs never mix with an earlier run's: ``--out`` is checked by creating a private
directory in it before anything is trained, the outputs are written there, and only once all
are written are they moved into ``--out`` together (Ctrl-C waits for the moves). An output of
an earlier run that this run does not write (``boundary.png`` after a run on two features) is
removed at that moment, and the command says so: it would otherwise sit beside the new
parameters looking like their picture.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import sys
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

import tinygraph as tg
from tinygraph import data
from tinygraph._atomic import atomic_write
from tinygraph._lazy import compute as dask_compute
from tinygraph._checks import count, number
from tinygraph.draw import GraphvizNotFoundError
from tinygraph.models import (
    ACTIVATIONS,
    MLP,
    OPTIMIZERS,
    DivergedError,
    DivergingWarning,
    LogisticRegression,
    Model,
    SoftmaxRegression,
    default_lr,
)

MODELS = ("logreg", "softmax", "mlp")
BACKENDS = ("numpy", "dask")
DEFAULT_BATCH = 32
DRAWN_ROWS = 1000
"""With --backend dask, the diagram and the decision boundary are drawn from this many training rows."""
DIAGRAM_FORMATS = (".svg", ".png", ".pdf")
DEFAULT_OUT = "out"
OUTPUTS = ("params.npz", "loss.png", "boundary.png", "graph.svg", "graph.gv")
"""Every file ``tinygraph train`` may write into --out (graph.gv in place of graph.svg without Graphviz)."""
INTERRUPTED = 130
"""The exit status after Ctrl-C, as shells report a process ended by SIGINT (128 + 2)."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line: what is wrong, and where to read more."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as done:  # --help, or a usage error already printed
        return int(done.code or 0)
    try:
        return args.run(args)
    except KeyboardInterrupt as interrupt:
        note = f"; {interrupt}" if str(interrupt) else ""
        print(f"tinygraph {args.command}: interrupted{note}", file=sys.stderr)
        return INTERRUPTED
    except (ValueError, OSError, ImportError, DivergedError) as error:
        print(f"tinygraph {args.command}: error: {error}", file=sys.stderr)
        return 1


# ----------------------------------------------------------------------------- arguments
def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tinygraph", description="Train and draw the models of tinygraph.")
    parser.add_argument("--version", action="version", version=f"tinygraph {tg.__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{train,draw}")
    _train_arguments(commands.add_parser("train", help="train a model on a dataset and write its pictures"))
    _draw_arguments(commands.add_parser("draw", help="write the diagram of a model's graph, untrained"))
    return parser


def _train_arguments(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Train a model with a progress bar, print train and test accuracy and log-loss, and write "
        "into --out the model's graph (graph.svg), the loss curve (loss.png), the decision boundary "
        "for two-feature data (boundary.png) and the parameters (params.npz)."
    )
    p.add_argument("--model", choices=MODELS, help="default: logreg for two classes, softmax for more")
    p.add_argument("--data", default="breast_cancer",
                   help="breast_cancer (default), iris, digits or PATH.csv; with --backend dask, CSV or Parquet "
                        "files: a folder or a pattern such as 'big/*.csv'")
    p.add_argument("--target", help="the label column of a CSV file")
    p.add_argument("--epochs", type=_count, default=100, help="passes over the training data (default 100)")
    lr = f"learning rate (default {default_lr('sgd'):g}; {default_lr('adam'):g} with adam)"  # fit's default
    p.add_argument("--lr", type=_rate, help=lr)
    p.add_argument("--batch-size", type=_batch_size,
                   help=f"examples per step, or 'full' (default {DEFAULT_BATCH}; full with --backend dask)")
    p.add_argument("--backend", choices=BACKENDS, default="numpy",
                   help="numpy: the data in memory (default); dask: read lazily, one pass over the files per "
                        "step, full batch or lbfgs (pip install 'tinygraph[dask]')")
    p.add_argument("--optimizer", choices=OPTIMIZERS, default="sgd", help="default sgd")
    p.add_argument("--hidden", type=_widths, default=(16,), help="MLP hidden layer widths, e.g. 16,16 (default 16)")
    p.add_argument("--activation", choices=tuple(ACTIVATIONS), default="sigmoid", help="MLP activation (default sigmoid)")
    p.add_argument("--l2", type=_non_negative, default=0.0, help="L2 penalty strength λ (default 0)")
    p.add_argument("--test-size", type=_fraction, default=0.25, help="held-out fraction (default 0.25)")
    seeds = "seeds the split, the initial weights, the shuffling"
    p.add_argument("--seed", type=_seed, default=0, help=seeds)
    p.add_argument("--out", default=DEFAULT_OUT, help=f"directory for the pictures and parameters (default ./{DEFAULT_OUT})")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=_train)


def _draw_arguments(p: argparse.ArgumentParser) -> None:
    p.description = "Write the diagram of a model's graph (from a small random batch) without training."
    p.add_argument("--model", choices=MODELS, default="logreg", help="default logreg")
    p.add_argument("--features", type=_count, default=4, help="number of input features (default 4)")
    p.add_argument("--classes", type=_count, default=3, help="classes of softmax and mlp (default 3)")
    p.add_argument("--hidden", type=_widths, default=(8,), help="MLP hidden layer widths (default 8)")
    p.add_argument("--activation", choices=tuple(ACTIVATIONS), default="sigmoid", help="MLP activation (default sigmoid)")
    p.add_argument("--l2", type=_non_negative, default=0.0, help="L2 penalty strength λ (default 0: no penalty node)")
    p.add_argument("--out", help=f"FILE.svg, .png or .pdf (default ./{DEFAULT_OUT}/graph-MODEL.svg)")
    p.set_defaults(run=_draw, seed=0)


def _count(text: str) -> int:
    try:
        return count(int(text), "the value")
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}") from None


def _seed(text: str) -> int:
    try:
        return count(int(text), "the value", minimum=0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}") from None


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not np.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _bounded(bound: str) -> Callable[[str], float]:
    """An argument type: a finite number within ``bound`` ("> 0" or ">= 0"), checked as the API checks it."""

    def parse(text: str) -> float:
        try:
            return number(_number(text), "the value", bound)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number {bound}, got {text!r}") from None

    return parse


_rate = _bounded("> 0")
_non_negative = _bounded(">= 0")


def _fraction(text: str) -> float:
    value = _number(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a fraction between 0 and 1, got {text!r}")
    return value


def _batch_size(text: str) -> int | str:
    return "full" if text == "full" else _count(text)


def _widths(text: str) -> tuple[int, ...]:
    try:
        return tuple(_count(part) for part in text.split(","))
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected widths like 16 or 16,16, got {text!r}") from None


# ----------------------------------------------------------------------------- train
def _train(args: argparse.Namespace) -> int:
    import tinygraph.plots  # noqa: F401 (without matplotlib, fail now rather than after training)

    out = Path(args.out)
    with _staging(out) as folder:  # --out is known to be writable before anything is trained
        try:
            names = _train_and_write(args, folder)
        except KeyboardInterrupt:
            kept = f"nothing of this run was written: {out} holds what it held before"
            raise KeyboardInterrupt(kept) from None
        written, removed = _move_in(folder, out, names)
    print(f"{'wrote':<9}{'  '.join(str(path) for path in written)}")
    if removed:
        paths = "  ".join(str(path) for path in removed)
        print(f"{'removed':<9}{paths} (left by an earlier run, not by this one)")
    return 0


def _train_and_write(args: argparse.Namespace, folder: Path) -> list[str]:
    """Load the data, train, print the summary and write the outputs into ``folder``; their names."""
    lazy = args.backend == "dask"
    given = args.batch_size if args.batch_size is not None else ("full" if lazy else DEFAULT_BATCH)
    args.batch_size = None if given == "full" else given
    if lazy:  # read lazily, split (stratified) and standardized by data.load_lazy in two passes over the files
        ds = data.load_lazy(args.data, args.target, test_size=args.test_size, seed=args.seed)
        X_train, X_test, y_train, y_test = ds.X_train, ds.X_test, ds.y_train, ds.y_test
    else:
        ds = data.load(args.data, args.target)
        X_train, X_test, y_train, y_test = data.train_test_split(ds.X, ds.y, test_size=args.test_size, seed=args.seed)
        X_train, X_test = data.standardize(X_train, X_test)
    kind = _model_kind(args.model, ds)
    model = _build(kind, ds.shape[1], ds.n_classes, args)
    _describe(ds, model, len(y_train), len(y_test), args)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DivergingWarning)
        history = model.fit(
            X_train,
            y_train,
            epochs=args.epochs,
            lr=args.lr,
            batch_size=args.batch_size,
            optimizer=args.optimizer,
            seed=args.seed,
            progress=not args.no_progress,
            validation=(X_test, y_test),
        )
    for split, X, y in (("train", X_train, y_train), ("test", X_test, y_test)):
        print(f"{split:<9}accuracy {model.score(X, y):.4f}   log-loss {_decimal(model.log_loss(X, y))}")
    for warning in caught:
        if issubclass(warning.category, DivergingWarning):
            print(f"{'warning':<9}{warning.message} (the model was saved all the same)")
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    if lazy:  # what is drawn is computed: the first training rows, said so on the command line
        X_train, y_train = (np.asarray(a) for a in dask_compute(X_train[:DRAWN_ROWS], y_train[:DRAWN_ROWS]))
        pictures = "graph.svg and boundary.png" if X_train.shape[1] == 2 else "graph.svg"
        print(f"{'drawn':<9}{pictures} from the first {len(y_train)} training examples")
    return _write_results(folder, model, history, ds, X_train, y_train)


def _decimal(value: float) -> str:
    """A loss for the summary: four decimals, or four significant digits when it is too large for that."""
    return f"{value:.4f}" if abs(value) < 1e5 else f"{value:.4g}"


def _model_kind(requested: str | None, ds: Any) -> str:
    if requested is None:
        return "logreg" if ds.n_classes == 2 else "softmax"
    if requested == "logreg" and ds.n_classes != 2:
        raise ValueError(
            f"logreg is binary but {ds.name} has {ds.n_classes} classes: use --model softmax or --model mlp"
        )
    return requested


def _build(kind: str, n_features: int, n_classes: int, args: argparse.Namespace) -> Model:
    if kind == "logreg":
        return LogisticRegression(n_features, l2=args.l2, seed=args.seed)
    if kind == "softmax":
        return SoftmaxRegression(n_features, n_classes, l2=args.l2, seed=args.seed)
    outputs = 1 if n_classes == 2 else n_classes
    return MLP((n_features, *args.hidden, outputs), activation=args.activation, l2=args.l2, seed=args.seed)


def _describe(ds: Any, model: Model, n_train: int, n_test: int, args: argparse.Namespace) -> None:
    n, d = ds.shape
    lr = default_lr(args.optimizer) if args.lr is None else args.lr  # what fit uses
    n_params = sum(p.size for p in model.parameters())
    batch = "full batch" if args.batch_size is None else f"batch size {args.batch_size}"
    steps = f"{args.optimizer}, lr {lr:g}, {batch}" if args.optimizer != "lbfgs" else "lbfgs, full batch"
    print(f"{'data':<9}{ds.name}: {n} examples, {d} features, {ds.n_classes} classes")
    print(f"{'split':<9}{n_train} train / {n_test} test (seed {args.seed}), standardized with the training statistics")
    print(f"{'model':<9}{model!r}: {n_params} parameters")
    print(f"{'training':<9}{steps}, {args.epochs} epochs", flush=True)


def _write_results(
    folder: Path, model: Model, history: Any, ds: Any, X_train: np.ndarray, y_train: np.ndarray
) -> list[str]:
    """Write the parameters and the pictures into ``folder``; the names of the files written."""
    from tinygraph import plots

    written = [model.save(folder / "params.npz")]
    plots.plot_history(history, folder / "loss.png", title=f"{type(model).__name__} on {ds.name}")
    written.append(folder / "loss.png")
    if X_train.shape[1] == 2:
        names = (f"{ds.feature_names[0]} (standardized)", f"{ds.feature_names[1]} (standardized)")
        plots.plot_decision_boundary(
            model, X_train, y_train, folder / "boundary.png", feature_names=names, class_names=ds.target_names
        )
        written.append(folder / "boundary.png")
    written.append(_write_diagram(model, model.loss(X_train, y_train), folder / "graph.svg"))
    return [path.name for path in written]


@contextlib.contextmanager
def _staging(out: Path) -> Iterator[Path]:
    """A private folder in ``out`` for one run's outputs, until ``_move_in`` moves them into ``out``.

    Creating it is the check that ``out`` can be written (for root too, who ignores permissions
    but not a path through a regular file). When the block ends the folder goes, with whatever is
    still in it; if the run failed and ``out`` was made for it, ``out`` goes too.
    """
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} exists and is not a directory")
    made_out = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix=".tinygraph-train-", dir=out))
    except OSError as error:
        raise ValueError(f"--out {out} cannot be written: {error.strerror or error}") from None
    try:
        yield folder
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        if made_out:
            with contextlib.suppress(OSError):
                out.rmdir()  # only if empty: never anything that was already there
        raise
    shutil.rmtree(folder, ignore_errors=True)


def _move_in(folder: Path, out: Path, names: list[str]) -> tuple[list[Path], list[Path]]:
    """Move the files ``names`` from ``folder`` into ``out``; remove earlier runs' outputs not among them.

    Each file's content is flushed to disk first and each move is one ``os.replace``, with
    Ctrl-C held back until all are done; returns (the files now in ``out``, those removed).
    """
    stale = [out / name for name in OUTPUTS if name not in names and (out / name).exists()]
    for name in names:
        with (folder / name).open("rb+") as file:
            os.fsync(file.fileno())
    with _interrupts_held_back("the results of this run were written first"):
        for path in stale:
            path.unlink()
        for name in names:
            os.replace(folder / name, out / name)
    return [out / name for name in names], stale


@contextlib.contextmanager
def _interrupts_held_back(note: str) -> Iterator[None]:
    """Run the block to its end even if Ctrl-C comes meanwhile; then raise KeyboardInterrupt(note)."""
    if threading.current_thread() is not threading.main_thread():  # only the main thread gets SIGINT
        yield
        return
    pending: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: pending.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if pending:
        raise KeyboardInterrupt(note)


def _write_diagram(model: Model, loss: Any, path: Path) -> Path:
    """The diagram of ``loss``'s graph as ``path`` (its suffix picks the format), or without Graphviz the DOT.

    The parameters' gradients are cleared first, so the numbers drawn are those of ``loss`` alone.
    """
    for p in model.parameters():
        p.grad = None
    loss.backward(retain_grads=True)
    diagram = tg.draw(loss)
    try:
        picture = diagram.pipe(format=path.suffix[1:].lower())  # --out may say .PNG
    except GraphvizNotFoundError:  # raised by the diagram's pipe where `dot` is missing
        source = path.with_suffix(".gv")
        with atomic_write(source, "w") as file:
            file.write(diagram.source)
        print(f"note: Graphviz's dot program was not found, so {source.name} holds the DOT text instead of "
              f"{path.name}; install it (apt-get install graphviz) to get the picture", file=sys.stderr)
        return source
    with atomic_write(path) as file:
        file.write(picture)
    return path


# ----------------------------------------------------------------------------- draw
def _draw(args: argparse.Namespace) -> int:
    path = Path(args.out or f"{DEFAULT_OUT}/graph-{args.model}.svg")
    if path.suffix.lower() not in DIAGRAM_FORMATS:
        raise ValueError(f"--out must end in {', '.join(DIAGRAM_FORMATS)}, got {str(path)!r}")
    if args.model == "logreg":
        args.classes = 2
    elif args.model == "softmax" and args.classes < 2:
        raise ValueError("softmax needs --classes of at least 2")
    model = _build(args.model, args.features, args.classes, args)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((8, args.features))
    y = np.arange(8) % args.classes
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:  # a file where a folder should be: "File exists" would not say which
        blocking = next((p for p in reversed(path.parents) if p.exists() and not p.is_dir()), None)
        problem = f"{blocking} is a file, not a folder" if blocking else error.strerror or str(error)
        raise ValueError(f"--out {path} cannot be written: {problem}") from None
    print(f"wrote {_write_diagram(model, model.loss(X, y), path)}")
    return 0
