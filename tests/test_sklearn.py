"""tinygraph.sklearn: scikit-learn's own estimator checks, its model selection tools, labels, and the
lecture's guarantees (the L-BFGS optimum, the diagram) kept through the estimators.
"""

import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.exceptions import SkipTestWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_estimator

import tinygraph as tg
from tinygraph import models
from tinygraph.models import DivergingWarning
from tinygraph.sklearn import (
    EXPECTED_FAILED_CHECKS,
    LogisticRegressionClassifier,
    MLPClassifier,
    SoftmaxRegressionClassifier,
)

ESTIMATORS = [LogisticRegressionClassifier, SoftmaxRegressionClassifier, MLPClassifier]
MULTICLASS = [SoftmaxRegressionClassifier, MLPClassifier]


@pytest.fixture(scope="module")
def cancer():
    return load_breast_cancer(return_X_y=True)


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


def _standardized(X):
    return StandardScaler().fit_transform(X)


# ----------------------------------------------------------------------------- scikit-learn's checks
@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: e.__name__)
def test_check_estimator_passes_with_the_default_hyperparameters(estimator):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkipTestWarning)  # checks this environment cannot run (pandas)
        # Three checks fit unscaled data (X ~ N(100, 1), random labels): SGD at the default η = 0.2
        # overshoots there and fit says so with a DivergingWarning. The checks still pass; the
        # warning is the advice to scale first (the Pipeline tests below do).
        warnings.simplefilter("ignore", DivergingWarning)
        results = check_estimator(estimator(), expected_failed_checks=EXPECTED_FAILED_CHECKS, on_fail=None)
    failed = {r["check_name"]: str(r["exception"])[:300] for r in results if r["status"] == "failed"}
    assert not failed
    assert len(results) > 50
    assert len(EXPECTED_FAILED_CHECKS) <= 3


def test_tinygraph_imports_without_scikit_learn():
    code = (
        "import sys; sys.modules['sklearn'] = None\n"  # any import of sklearn now fails
        "import tinygraph, tinygraph.models, tinygraph.optim, tinygraph.data\n"
        "assert 'tinygraph.sklearn' not in sys.modules\n"
        "try:\n    import tinygraph.sklearn\nexcept ImportError:\n    print('needs scikit-learn')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "needs scikit-learn"


# ----------------------------------------------------------------------------- the estimator contract
@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: e.__name__)
def test_fit_returns_the_estimator_with_the_fitted_model_and_its_history(estimator, cancer):
    X, y = cancer
    est = estimator(epochs=5, random_state=0)
    assert est.fit(_standardized(X), y) is est
    assert est.n_features_in_ == 30 and list(est.classes_) == [0, 1]
    assert isinstance(est.model_, models.Model) and len(est.history_) == 5
    assert est.model_.n_features == 30


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: e.__name__)
def test_clone_gives_an_unfitted_copy_with_the_same_hyperparameters(estimator, cancer):
    X, y = cancer
    est = estimator(epochs=3, l2=0.01, random_state=4).fit(_standardized(X), y)
    copy = clone(est)
    assert copy.get_params() == est.get_params() and not hasattr(copy, "model_")
    copy.set_params(lr=0.05)
    assert copy.lr == 0.05 and est.lr != 0.05


@pytest.mark.parametrize(
    "labels",
    [np.array(["malignant", "benign"]), np.array([-1, 1]), np.array([3, 7]), np.array([True, False])],
    ids=["strings", "minus-one-one", "three-seven", "booleans"],
)
@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: e.__name__)
def test_any_two_labels_scikit_learn_accepts(estimator, labels, cancer):
    X, y = cancer
    X = _standardized(X)
    named = labels[y]
    est = estimator(random_state=0).fit(X, named)
    np.testing.assert_array_equal(est.classes_, np.sort(labels))
    predicted = est.predict(X)
    assert predicted.dtype == named.dtype and set(predicted) <= set(labels)
    assert est.score(X, named) > 0.95
    proba = est.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    z = est.decision_function(X)
    assert z.shape == (len(X),)
    np.testing.assert_array_equal(predicted, est.classes_[(z > 0).astype(int)])
    np.testing.assert_array_equal(proba.argmax(axis=1), (z > 0).astype(int))


@pytest.mark.parametrize("estimator", MULTICLASS, ids=lambda e: e.__name__)
def test_many_string_classes_and_probabilities_of_shape_n_by_k(estimator, iris):
    X, y = iris
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    est = estimator(random_state=0).fit(_standardized(X), names)
    assert list(est.classes_) == ["setosa", "versicolor", "virginica"]
    proba = est.predict_proba(_standardized(X))
    assert proba.shape == (150, 3)
    np.testing.assert_array_equal(est.classes_[proba.argmax(axis=1)], est.predict(_standardized(X)))
    assert est.decision_function(_standardized(X)).shape == (150, 3)


def test_decision_function_is_the_models_net_input(cancer, iris):
    X, y = cancer
    X = _standardized(X)
    est = LogisticRegressionClassifier(random_state=0).fit(X, y)
    np.testing.assert_array_equal(est.decision_function(X), X @ est.model_.w.data + est.model_.b.data)
    X3, y3 = iris
    X3 = _standardized(X3)
    soft = SoftmaxRegressionClassifier(random_state=0).fit(X3, y3)
    np.testing.assert_array_equal(soft.decision_function(X3), soft.model_.net_input(X3).data)
    two = SoftmaxRegressionClassifier(random_state=0).fit(X, y)  # two classes: z₁ − z₀, the log-odds
    z = two.model_.net_input(X).data
    np.testing.assert_array_equal(two.decision_function(X), z[:, 1] - z[:, 0])


def test_the_binary_logistic_regression_refuses_three_classes(iris):
    X, y = iris
    with pytest.raises(
        ValueError, match="Only binary classification is supported.*SoftmaxRegressionClassifier"
    ):
        LogisticRegressionClassifier().fit(X, y)


def test_one_class_is_an_error_naming_it():
    with pytest.raises(ValueError, match="at least 2 classes.*only one class: 'a'"):
        SoftmaxRegressionClassifier().fit(np.ones((3, 2)), ["a", "a", "a"])


def test_the_fitted_models_loss_still_draws_the_lectures_graph(cancer):
    X, y = cancer
    X = _standardized(X)
    est = LogisticRegressionClassifier(epochs=2, random_state=0).fit(X, np.array(["benign", "malignant"])[y])
    loss = est.loss(X, np.array(["benign", "malignant"])[y])
    loss.backward()
    source = tg.draw(loss).source
    for text in [
        "LogisticRegression: net input → sigmoid → NLL",
        "z = x @ w + b",
        "a = σ(z)",
        "BCE",
        "∂a/∂z = a(1 − a)",
    ]:
        assert text in source
    with pytest.raises(ValueError, match="not fitted on, e.g. 'other'"):
        est.loss(X[:2], ["benign", "other"])


# ----------------------------------------------------------------------------- model selection
@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: e.__name__)
def test_a_pipeline_with_a_scaler_fits_and_scores(estimator, cancer):
    X, y = cancer
    pipe = Pipeline([("scale", StandardScaler()), ("clf", estimator(random_state=0))]).fit(X, y)
    assert pipe.score(X, y) > 0.97
    assert pipe.predict_proba(X).shape == (len(X), 2)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: e.__name__)
def test_cross_val_scores_on_breast_cancer_are_scikit_learns(estimator, cancer):
    X, y = cancer
    ours = cross_val_score(make_pipeline(StandardScaler(), estimator(random_state=0)), X, y, cv=5)
    theirs = cross_val_score(make_pipeline(StandardScaler(), LogisticRegression()), X, y, cv=5)
    assert ours.mean() > theirs.mean() - 0.015


@pytest.mark.parametrize("estimator", MULTICLASS, ids=lambda e: e.__name__)
def test_cross_val_scores_on_iris_are_scikit_learns(estimator, iris):
    X, y = iris
    ours = cross_val_score(make_pipeline(StandardScaler(), estimator(random_state=0)), X, y, cv=5)
    theirs = cross_val_score(make_pipeline(StandardScaler(), LogisticRegression()), X, y, cv=5)
    assert ours.mean() > theirs.mean() - 0.015


@pytest.mark.parametrize(
    "estimator, data",
    [
        (LogisticRegressionClassifier, "cancer"),
        (SoftmaxRegressionClassifier, "iris"),
        (MLPClassifier, "iris"),
    ],
    ids=["logistic-cancer", "softmax-iris", "mlp-iris"],
)
def test_grid_search_over_the_learning_rate_and_l2(estimator, data, request):
    X, y = request.getfixturevalue(data)
    pipe = Pipeline([("scale", StandardScaler()), ("clf", estimator(epochs=30, random_state=0))])
    grid = {"clf__lr": [0.01, 0.2], "clf__l2": [1e-3, 1.0]}
    search = GridSearchCV(pipe, grid, cv=3).fit(X, y)
    assert search.best_params_["clf__l2"] == 1e-3  # λ = 1 pulls the weights to 0: far worse
    assert search.best_score_ > 0.9
    scores = search.cv_results_["mean_test_score"]
    assert len(scores) == 4 and scores.max() - scores.min() > 0.02  # the grid points differ


def test_lbfgs_through_the_estimator_reaches_scikit_learns_optimum(cancer):
    X, y = cancer
    X = _standardized(X)
    C, n = 1.0, len(y)
    lam = 1 / (C * n)  # ½‖w‖² + C Σ logloss = C·N · (mean logloss + (λ/2)‖w‖²)
    reference = LogisticRegression(C=C, tol=1e-12, max_iter=10_000).fit(X, y)
    est = LogisticRegressionClassifier(optimizer="lbfgs", l2=lam, epochs=1000, random_state=0).fit(X, y)

    def objective(w, b):
        z = X @ w + b
        return float(np.mean(np.logaddexp(0, z) - y * z) + lam / 2 * w @ w)

    best = objective(reference.coef_[0], reference.intercept_[0])
    ours = objective(est.model_.w.data, est.model_.b.item())
    assert abs(ours - best) / best < 1e-6
    np.testing.assert_allclose(est.history_.loss[-1], ours, rtol=1e-12)
    np.testing.assert_allclose(est.decision_function(X), reference.decision_function(X), rtol=1e-3, atol=1e-3)
    np.testing.assert_array_equal(est.predict(X), reference.predict(X))


@pytest.mark.parametrize("random_state", [-1, 1.5])
def test_a_bad_random_state_is_named_as_random_state(cancer, random_state):
    X, y = cancer
    with pytest.raises(ValueError, match="^random_state must"):
        LogisticRegressionClassifier(epochs=1, random_state=random_state).fit(X[:20], y[:20])
