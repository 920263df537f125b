"""Pictures of training: the loss curve per epoch, and the decision boundary of a two-feature model.

Each function draws on a new matplotlib ``Figure`` (no pyplot, no global state, no window), saves
it when given a path, and returns it. Needs matplotlib (``pip install "tinygraph[train]"``).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

try:
    from matplotlib.figure import Figure
except ImportError:  # pragma: no cover - depends on the installation
    raise ImportError('the plots need matplotlib: pip install "tinygraph[train]"') from None

if TYPE_CHECKING:
    from tinygraph.models import History, Model

TRAIN, VALIDATION = "#1f77b4", "#d62728"


class InlineFigure(Figure):
    """A matplotlib ``Figure`` that Jupyter displays as a PNG image, also where pyplot was never imported.

    Jupyter's inline display of figures is set up when pyplot is imported; these functions use no
    pyplot, so the figure says how to show itself.
    """

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()


def plot_history(history: History, path: str | Path | None = None, *, title: str = "") -> Figure:
    """The loss (left) and the accuracy (right) after each epoch, on training and validation data.

    Parameters
    ----------
    history : History
        What ``model.fit`` returned.
    path : str or Path, optional
        Where to save the figure (the suffix picks the format: .png, .svg, .pdf).
    title : str
        Shown above both panels.
    """
    if len(history) == 0:
        raise ValueError("the history is empty: nothing was trained")
    fig = InlineFigure(figsize=(8.0, 3.2), layout="constrained")
    loss_ax, accuracy_ax = fig.subplots(1, 2)
    epochs = np.arange(1, len(history) + 1)
    for ax, train, val, label in (
        (loss_ax, history.loss, history.val_loss, "loss"),
        (accuracy_ax, history.accuracy, history.val_accuracy, "accuracy"),
    ):
        ax.plot(epochs, train, color=TRAIN, label="train")
        if val:
            ax.plot(epochs, val, color=VALIDATION, label="test")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    _save(fig, path)
    return fig


def plot_decision_boundary(
    model: Model,
    X: np.ndarray,
    y: np.ndarray,
    path: str | Path | None = None,
    *,
    feature_names: tuple[str, str] = ("x₁", "x₂"),
    class_names: tuple[str, ...] | None = None,
    resolution: int = 200,
) -> Figure:
    """The predicted class over the plane of two features, with the examples on top.

    Parameters
    ----------
    model : Model
        A trained model with two input features.
    X : ndarray, shape (N, 2)
    y : ndarray, shape (N,)
        Class indices.
    path : str or Path, optional
        Where to save the figure.
    feature_names : (str, str)
        Axis labels.
    class_names : tuple of str, optional
        Legend entries, one per class.
    resolution : int
        Grid points per axis.
    """
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"a decision boundary needs exactly two features, X has shape {X.shape}")
    grid, xx, yy = _grid(X, resolution)
    classes = model.predict(grid).reshape(xx.shape)
    n_classes = max(int(y.max()), int(classes.max())) + 1
    cmap = _colors(n_classes)
    fig = InlineFigure(figsize=(5.0, 4.2), layout="constrained")
    ax = fig.subplots()
    ax.contourf(xx, yy, classes, levels=np.arange(n_classes + 1) - 0.5, colors=cmap, alpha=0.25)
    ax.contour(xx, yy, classes, levels=np.arange(n_classes) + 0.5, colors="#333333", linewidths=1.0)
    names = class_names or tuple(str(k) for k in range(n_classes))
    for k in range(n_classes):
        chosen = y == k
        ax.scatter(X[chosen, 0], X[chosen, 1], s=14, color=cmap[k], edgecolors="white", linewidths=0.4, label=names[k])
    ax.set_xlabel(feature_names[0])
    ax.set_ylabel(feature_names[1])
    ax.set_title(f"{type(model).__name__}: decision boundary")
    ax.legend(loc="best", fontsize="small")
    _save(fig, path)
    return fig


def _grid(X: np.ndarray, resolution: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A resolution × resolution grid covering X with a margin; also as (resolution², 2) points."""
    low, high = X.min(axis=0), X.max(axis=0)
    margin = 0.1 * np.maximum(high - low, 1e-9)
    xs = np.linspace(low[0] - margin[0], high[0] + margin[0], resolution)
    ys = np.linspace(low[1] - margin[1], high[1] + margin[1], resolution)
    xx, yy = np.meshgrid(xs, ys)
    return np.column_stack([xx.ravel(), yy.ravel()]), xx, yy


def _colors(n: int) -> list[Any]:
    from matplotlib import colormaps

    return [colormaps["tab10"](k % 10) for k in range(n)]


def _save(fig: Figure, path: str | Path | None) -> None:
    if path is not None:
        fig.savefig(path, dpi=100)
