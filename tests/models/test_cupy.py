"""The models on CuPy arrays, on a GPU: the same parameters as on NumPy after the same steps.

Skipped, with the reason, where CuPy or a GPU is missing; ``python -m benchmarks.gpu`` runs these
tests and a timed step on a machine that has one.
"""

from __future__ import annotations

import numpy as np
import pytest

cupy = pytest.importorskip("cupy", reason="CuPy is not installed: the GPU back end is not tested")
try:
    GPUS = cupy.cuda.runtime.getDeviceCount()
except Exception as error:  # noqa: BLE001 (no driver, or no device the runtime can see)
    pytest.skip(f"CuPy is installed but finds no GPU ({error})", allow_module_level=True)
if GPUS == 0:
    pytest.skip("CuPy is installed but finds no GPU", allow_module_level=True)

from tinygraph.models import MLP, LogisticRegression, SoftmaxRegression  # noqa: E402

MODELS = {
    "logreg": (lambda: LogisticRegression(4, l2=0.01, seed=0), 2),
    "softmax": (lambda: SoftmaxRegression(4, 3, seed=0), 3),
    "mlp": (lambda: MLP((4, 5, 3), activation="tanh", seed=0), 3),
}


def _data(classes: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    X = rng.standard_normal((500, 4))
    return X, (X[:, 0] > 0).astype(np.int64) + (classes == 3) * (X[:, 1] > 0.5)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_a_full_batch_fit_on_the_gpu_gives_numpys_parameters(name, optimizer):
    make, classes = MODELS[name]
    X, y = _data(classes)
    eager, gpu = make(), make()
    expected = eager.fit(X, y, epochs=5, batch_size=None, optimizer=optimizer, progress=False)
    history = gpu.fit(cupy.asarray(X), cupy.asarray(y), epochs=5, batch_size=None, optimizer=optimizer,
                      progress=False)
    for key, p in eager.params.items():
        assert isinstance(gpu.params[key].data, cupy.ndarray)  # the parameters moved to the GPU
        np.testing.assert_allclose(cupy.asnumpy(gpu.params[key].data), p.data, rtol=0, atol=1e-10)
    np.testing.assert_allclose(history.loss, expected.loss, rtol=1e-10)
    np.testing.assert_allclose(gpu.state_dict()[next(iter(eager.params))], eager.state_dict()[next(iter(eager.params))],
                               rtol=0, atol=1e-10)


def test_minibatches_on_the_gpu_and_predictions_back_on_numpy():
    make, classes = MODELS["logreg"]
    X, y = _data(classes)
    eager, gpu = make(), make()
    eager.fit(X, y, epochs=2, batch_size=50, progress=False)
    gpu.fit(cupy.asarray(X), cupy.asarray(y), epochs=2, batch_size=50, progress=False)
    np.testing.assert_allclose(gpu.predict_proba(X), eager.predict_proba(X), rtol=1e-10)  # back on NumPy
