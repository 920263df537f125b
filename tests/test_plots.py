"""The loss-curve and decision-boundary pictures: what they plot, and the files they write."""

import numpy as np
import pytest
from matplotlib.collections import PathCollection

from tinygraph import plots
from tinygraph.models import History, LogisticRegression, SoftmaxRegression

PNG = b"\x89PNG\r\n\x1a\n"


def test_the_loss_curve_plots_each_epoch_on_train_and_test(tmp_path):
    history = History(loss=[0.7, 0.4, 0.3], accuracy=[0.5, 0.8, 0.9], val_loss=[0.8, 0.5, 0.45], val_accuracy=[0.5, 0.7, 0.8])
    fig = plots.plot_history(history, tmp_path / "loss.png", title="run")
    loss_ax, accuracy_ax = fig.axes
    train, test = loss_ax.get_lines()
    np.testing.assert_array_equal(train.get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(train.get_ydata(), history.loss)
    np.testing.assert_array_equal(test.get_ydata(), history.val_loss)
    np.testing.assert_array_equal(accuracy_ax.get_lines()[1].get_ydata(), history.val_accuracy)
    assert (tmp_path / "loss.png").read_bytes().startswith(PNG)


def test_without_validation_there_is_one_line_and_an_empty_history_is_refused():
    fig = plots.plot_history(History(loss=[1.0, 0.5], accuracy=[0.5, 1.0]))
    assert len(fig.axes[0].get_lines()) == 1
    with pytest.raises(ValueError, match="the history is empty"):
        plots.plot_history(History())


@pytest.mark.parametrize("model", [LogisticRegression(2), SoftmaxRegression(2, 3)], ids=["binary", "three classes"])
def test_the_decision_boundary_colours_the_plane_by_predicted_class(model, tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 2))
    for p in model.parameters():
        p.data = rng.standard_normal(p.shape)
    y = model.predict(X)
    fig = plots.plot_decision_boundary(model, X, y, tmp_path / "boundary.png", feature_names=("a", "b"))
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("a", "b")
    points = np.concatenate([c.get_offsets() for c in ax.collections if isinstance(c, PathCollection)])
    assert sorted(map(tuple, points)) == sorted(map(tuple, X))  # every example drawn once
    assert (tmp_path / "boundary.png").read_bytes().startswith(PNG)


def test_a_decision_boundary_needs_two_features():
    with pytest.raises(ValueError, match="exactly two features"):
        plots.plot_decision_boundary(LogisticRegression(3), np.zeros((4, 3)), np.zeros(4))


def test_a_history_has_a_one_line_repr_and_plots_itself_as_a_figure_jupyter_shows():
    history = History(loss=[0.7, 0.4, 0.3], accuracy=[0.5, 0.8, 0.9])
    assert repr(history) == "History(3 epochs: loss 0.7 → 0.3, accuracy 0.5 → 0.9)"
    assert repr(History()) == "History(0 epochs)"
    fig = history.plot(title="run")
    assert fig._repr_png_().startswith(b"\x89PNG") and fig._suptitle.get_text() == "run"


def test_the_plots_are_reachable_from_the_package():
    import tinygraph as tg

    assert tg.plots is plots
    with pytest.raises(AttributeError, match="no attribute 'plot'"):
        tg.plot  # noqa: B018
