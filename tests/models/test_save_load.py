"""Parameters saved to .npz and loaded back: the same arrays, the same predictions, clear errors."""

import numpy as np
import pytest

from tinygraph.models import MLP, LogisticRegression, Model, SoftmaxRegression, load

RNG = np.random.default_rng(0)
X = RNG.standard_normal((25, 4))


@pytest.mark.parametrize(
    "model",
    [
        LogisticRegression(4, l2=0.1, seed=1),
        SoftmaxRegression(4, 3, seed=2),
        MLP((4, 6, 5, 3), activation="relu", seed=3),
        MLP((4, 3, 1), activation="tanh", l2=0.5, seed=4),
    ],
    ids=["logreg", "softmax", "mlp", "mlp-binary"],
)
def test_a_loaded_model_has_the_same_parameters_and_predicts_the_same(model, tmp_path):
    for p in model.parameters():  # parameters that are not the initial ones
        p.data = RNG.standard_normal(p.shape)
    path = model.save(tmp_path / "model.npz")
    for loaded in (type(model).load(path), Model.load(path), load(path)):
        assert type(loaded) is type(model) and repr(loaded) == repr(model)
        assert loaded.params.keys() == model.params.keys()
        for p, q in zip(model.parameters(), loaded.parameters()):
            np.testing.assert_array_equal(p.data, q.data)
            assert q.requires_grad
        np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
        np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_loading_into_the_wrong_class_says_which_class_the_file_holds(tmp_path):
    path = SoftmaxRegression(4, 3).save(tmp_path / "softmax.npz")
    with pytest.raises(ValueError, match="holds a SoftmaxRegression, not a LogisticRegression"):
        LogisticRegression.load(path)


def test_a_file_that_is_not_a_model_is_refused(tmp_path):
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    (tmp_path / "text.npz").write_text("hello")
    for name in ("other.npz", "text.npz"):
        with pytest.raises(ValueError, match="is not a tinygraph model file"):
            Model.load(tmp_path / name)
    with pytest.raises(FileNotFoundError, match="no such model file"):
        Model.load(tmp_path / "missing.npz")
