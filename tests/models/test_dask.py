"""The models on Dask arrays: the same parameters as on NumPy, one pass over the data per step.

The reference is the same fit on the NumPy arrays the Dask ones are cut from. Computes are
counted with a Dask callback that fires at the start of every compute on the local scheduler.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
from dask.callbacks import Callback  # noqa: E402

from tinygraph.models import MLP, LogisticRegression, SoftmaxRegression  # noqa: E402

N, D, CHUNK = 600, 4, 150
MODELS = {
    "logreg": (lambda: LogisticRegression(D, l2=0.01, seed=0), 2),
    "softmax": (lambda: SoftmaxRegression(D, 3, seed=0), 3),
    "mlp": (lambda: MLP((D, 5, 3), activation="tanh", seed=0), 3),
}


def _data(classes: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    X = rng.standard_normal((N, D))
    y = (X[:, 0] > 0).astype(np.int64) + (classes == 3) * (X[:, 1] > 0.5)
    return X, y


@contextlib.contextmanager
def computes() -> Iterator[list[int]]:
    """Count the computes started inside the block (the local schedulers call ``start`` once each)."""
    count = [0]
    with Callback(start=lambda dsk: count.__setitem__(0, count[0] + 1)):
        yield count


def _lazy(*arrays: np.ndarray) -> list:
    return [da.from_array(a, chunks=CHUNK) for a in arrays]


@pytest.mark.parametrize("optimizer", ["momentum", "lbfgs"])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_a_fit_on_dask_gives_the_parameters_of_the_fit_on_numpy(name, optimizer):
    make, classes = MODELS[name]
    X, y = _data(classes)
    eager, lazy = make(), make()
    expected = eager.fit(X, y, epochs=5, batch_size=None, optimizer=optimizer, progress=False)
    history = lazy.fit(*_lazy(X, y), epochs=5, batch_size=None, optimizer=optimizer, progress=False)
    for key, p in eager.params.items():
        assert isinstance(lazy.params[key].data, (np.ndarray, np.generic))  # small NumPy arrays still
        np.testing.assert_allclose(lazy.params[key].data, p.data, rtol=0, atol=1e-10)
    np.testing.assert_allclose(history.loss, expected.loss, rtol=1e-12)
    np.testing.assert_allclose(history.accuracy, expected.accuracy, rtol=0, atol=1e-12)


def test_each_step_is_one_compute_and_the_checks_ride_on_the_first():
    make, classes = MODELS["logreg"]
    X, y = _data(classes)
    X_val, y_val = _lazy(X[:100], y[:100])
    with computes() as count:
        make().fit(*_lazy(X, y), epochs=5, batch_size=None, progress=False, validation=(X_val, y_val))
    assert count[0] == 5 + 1  # a pass per step, and one for the figures after the last


def test_scoring_lazy_data_is_one_compute_with_its_checks():
    make, classes = MODELS["softmax"]
    X, y = _data(classes)
    model = make()
    model.fit(X, y, epochs=3, batch_size=None, progress=False)
    with computes() as count:
        accuracy, loss = model.score(*_lazy(X, y)), model.log_loss(*_lazy(X, y))
    assert count[0] == 2
    assert accuracy == model.score(X, y) and loss == pytest.approx(model.log_loss(X, y), rel=1e-12)


def test_numpy_parameters_meet_dask_data_in_predict():
    make, classes = MODELS["logreg"]
    X, y = _data(classes)
    model = make()
    model.fit(X, y, epochs=3, batch_size=None, progress=False)
    lazy = model.predict_proba(_lazy(X)[0])
    np.testing.assert_allclose(np.asarray(lazy), model.predict_proba(X), rtol=1e-13)


def test_bad_values_fail_with_the_numpy_message_when_the_first_step_is_computed():
    make, classes = MODELS["logreg"]
    X, y = _data(classes)
    X[317, 2] = np.nan
    with pytest.raises(ValueError, match=r"X contains NaN or inf \(first at row 317, column 2\)"):
        make().fit(X, y, progress=False)
    with pytest.raises(ValueError, match=r"X contains NaN or inf \(first at row 317, column 2\)"):
        make().fit(*_lazy(X, y), batch_size=None, progress=False)
    X, y = _data(classes)
    y[400] = 2
    with pytest.raises(ValueError, match="needs labels 0 or 1, found 2"):
        make().fit(*_lazy(X, y), batch_size=None, progress=False)


def test_minibatches_of_a_dask_array_are_refused_saying_why():
    make, classes = MODELS["logreg"]
    X, y = _lazy(*_data(classes))
    with pytest.raises(ValueError, match="minibatch SGD is not supported on lazy arrays.*reads all the data"):
        make().fit(X, y, batch_size=32, progress=False)


def test_unknown_row_counts_are_named():
    make, classes = MODELS["logreg"]
    X, y = _lazy(*_data(classes))
    X = X[X[:, 0] > -10]  # boolean indexing: Dask no longer knows the chunks' lengths
    with pytest.raises(ValueError, match="unknown number of rows.*lengths=True"):
        make().fit(X, y, batch_size=None, progress=False)


def test_a_local_cluster_fits_the_same_parameters():
    distributed = pytest.importorskip("dask.distributed")
    make, classes = MODELS["logreg"]
    X, y = _data(classes)
    local = make()
    local.fit(*_lazy(X, y), epochs=4, batch_size=None, progress=False)
    cluster_model = make()
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, protocol="tcp", host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster),
    ):
        cluster_model.fit(*_lazy(X, y), epochs=4, batch_size=None, progress=False)
    for key, p in local.params.items():
        np.testing.assert_allclose(cluster_model.params[key].data, p.data, rtol=0, atol=1e-12)


def test_an_optimizer_computes_lazy_gradients_in_one_pass_and_keeps_numpy_parameters():
    import tinygraph as tg

    X, y = _data(2)
    trained = []
    for X_, y_ in ((X, y), tuple(_lazy(X, y.astype(float)))):
        w = tg.tensor(np.zeros(D), requires_grad=True, name="w")
        b = tg.tensor(0.0, requires_grad=True, name="b")
        opt = tg.optim.SGD([w, b], lr=0.5)
        with computes() as count:
            for _ in range(3):
                opt.zero_grad()
                tg.bce(tg.sigmoid(tg.linear(X_, w, b)), y_).backward()
                opt.step()
        trained.append((w.data, count[0]))
    (eager, _), (lazy, passes) = trained
    assert passes == 3 and isinstance(lazy, np.ndarray)
    np.testing.assert_allclose(lazy, eager, rtol=0, atol=1e-12)


def test_numpy_training_never_imports_dask():
    import subprocess
    import sys

    code = (
        "import sys, numpy as np; from tinygraph.models import LogisticRegression; "
        "X = np.random.default_rng(0).standard_normal((50, 3)); "
        "LogisticRegression(3).fit(X, (X[:, 0] > 0) * 1.0, epochs=2, batch_size=None, progress=False); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed', 'pandas')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
