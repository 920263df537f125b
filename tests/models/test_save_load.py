"""Parameters saved to .npz and loaded back: the same arrays, the same predictions, clear errors.

Loading trusts nothing in the file: every malformed file is one ModelFileError naming the file,
raised before anything the header asks for is allocated.
"""

import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tinygraph.models import MLP, LogisticRegression, Model, ModelFileError, SoftmaxRegression, load

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
    with pytest.raises(ModelFileError, match="holds a SoftmaxRegression, not a LogisticRegression"):
        LogisticRegression.load(path)


def test_a_file_that_is_not_a_model_is_refused(tmp_path):
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    (tmp_path / "text.npz").write_text("hello")
    for name in ("other.npz", "text.npz"):
        with pytest.raises(ModelFileError, match="not a tinygraph model file"):
            Model.load(tmp_path / name)
    with pytest.raises(FileNotFoundError, match="no such model file"):
        Model.load(tmp_path / "missing.npz")


def test_a_folder_is_called_a_folder_not_a_missing_file(tmp_path):
    (tmp_path / "out").mkdir()
    with pytest.raises(ModelFileError, match="out: a folder, not a model file"):
        Model.load(tmp_path / "out")


class ShiftedLogistic(LogisticRegression):
    """A user's subclass, defined outside tinygraph: its own prediction rule on tinygraph's parameters."""

    def predict(self, X):
        return (self.predict_proba(X) > 0.7).astype(np.int64)


def test_a_users_subclass_loads_as_itself(tmp_path):
    model = ShiftedLogistic(4, l2=0.1, seed=1)
    model.params["w"].data = RNG.standard_normal(4)
    path = model.save(tmp_path / "shifted.npz")
    for loaded in (ShiftedLogistic.load(path), Model.load(path), load(path)):
        assert type(loaded) is ShiftedLogistic and repr(loaded) == repr(model)
        np.testing.assert_array_equal(loaded.params["w"].data, model.params["w"].data)
        np.testing.assert_array_equal(loaded.predict(X), (model.predict_proba(X) > 0.7).astype(np.int64))
    with pytest.raises(ModelFileError, match="holds a ShiftedLogistic, not a LogisticRegression: use ShiftedLogistic.load"):
        LogisticRegression.load(path)


def test_a_class_not_imported_or_named_twice_is_an_error_that_says_what_to_do(tmp_path):
    path = write(tmp_path / "user.npz", header("Perceptron"), **GOOD)
    with pytest.raises(ModelFileError, match=r"is imported: then Perceptron\.load\(path\)$"):
        Model.load(path)
    twins = [type("Twin", (LogisticRegression,), {"__module__": module}) for module in ("lab.a", "lab.b")]
    path = twins[0](3).save(tmp_path / "twin.npz")
    with pytest.raises(ModelFileError, match=r"called 'Twin' \(lab\.\w\.Twin, lab\.\w\.Twin\)"):
        Model.load(path)
    assert type(twins[1].load(path)) is twins[1]  # the class asked for, when it has the file's name


# ----------------------------------------------------------------------------- malformed files
def header(model="LogisticRegression", **config):
    config = config or {"n_features": 3, "l2": 0.0}
    return {"format": "tinygraph-model-1", "model": model, "config": config}


def write(path, head, **arrays):
    """A file shaped like save's, with any header (dict or raw text) and any arrays."""
    text = head if isinstance(head, str) else json.dumps(head)
    np.savez(path, __header__=np.array(text), **{f"param:{k}": v for k, v in arrays.items()})
    return path


GOOD = {"w": np.zeros(3), "b": np.zeros(())}


@pytest.mark.parametrize(
    "head, arrays, problem",
    [
        ("[1, 2]", GOOD, "its header is a list, not an object"),
        ("7", GOOD, "its header is a int, not an object"),
        ("{not json", GOOD, "its header is not JSON"),
        ({**header(), "format": "other"}, GOOD, "format 'other'"),
        (header("Perceptron"), GOOD, "unknown model class 'Perceptron'"),
        ({k: v for k, v in header().items() if k != "model"}, GOOD, "the header has the keys"),
        ({**header(), "extra": 1}, GOOD, "the header has the keys"),
        (header(model=None), GOOD, "model must be a class name"),
        ({**header(), "config": [3]}, GOOD, "config must be an object"),
        (header(n_features=3), GOOD, "the header's config has the keys ['n_features']"),
        (header(n_features=3, l2=0.0, seed=1), GOOD, "config has the keys ['l2', 'n_features', 'seed']"),
        (header(n_features="3", l2=0.0), GOOD, "n_features must be an integer >= 1"),
        (header(n_features=3, l2=-1.0), GOOD, "does not build a LogisticRegression: l2 must be"),
        (header(), {"w": np.zeros(3)}, "missing 'b'"),
        (header(), {**GOOD, "v": np.zeros(2)}, "unexpected 'v'"),
        (header(), {"w": np.zeros(4), "b": np.zeros(())}, "'w' has shape (4,), but the header implies (3,)"),
        (header(), {"w": np.zeros((3, 1)), "b": np.zeros(())}, "has shape (3, 1)"),
        (header(), {"w": np.zeros(3, np.float32), "b": np.zeros(())}, "has dtype float32, expected float64"),
        (header(), {"w": np.zeros(3, np.int64), "b": np.zeros(())}, "has dtype int64"),
        (header(), {"w": np.zeros(3, complex), "b": np.zeros(())}, "has dtype complex128"),
        (header(), {"w": np.array([1.0, "a", None], dtype=object), "b": np.zeros(())}, "has dtype object"),
        (header("MLP", sizes=5, activation="relu", l2=0.0), GOOD, "sizes must be a sequence of layer widths"),
        (header("MLP", sizes=[3, 2], activation="gelu", l2=0.0), {"W1": np.zeros((3, 2)), "b1": np.zeros(2)},
         "activation must be one of"),
    ],
)
def test_every_malformed_header_or_array_is_one_model_file_error_naming_the_file(
    head, arrays, problem, tmp_path
):
    path = write(tmp_path / "bad.npz", head, **arrays)
    with pytest.raises(ModelFileError) as error:
        Model.load(path)
    assert str(error.value).startswith(f"{path}: ") and error.value.path == path
    assert problem in str(error.value)
    assert isinstance(error.value, ValueError)


def test_files_that_are_no_archive_or_another_kind_of_archive_are_model_file_errors(tmp_path):
    good = LogisticRegression(3, seed=0).save(tmp_path / "good.npz").read_bytes()
    np.save(tmp_path / "array.npy", np.zeros(3))
    (tmp_path / "empty.npz").write_bytes(b"")
    (tmp_path / "text.npz").write_text("hello")
    np.savez_compressed(tmp_path / "compressed.npz", __header__=np.array(json.dumps(header())), **{
        "param:w": np.zeros(3), "param:b": np.zeros(())})
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as archive:
        archive.writestr("readme.txt", "not a model")
    cases = ["array.npy", "empty.npz", "text.npz", "compressed.npz", "other.zip"]
    for cut in (10, len(good) // 2, len(good) - 30, len(good) - 1):
        (tmp_path / f"cut{cut}.npz").write_bytes(good[:cut])
        cases.append(f"cut{cut}.npz")
    for name in cases:
        with pytest.raises(ModelFileError, match=f"^{tmp_path / name}: "):
            Model.load(tmp_path / name)


SMALL_MLP = {"W1": np.zeros((2, 2)), "b1": np.zeros(2), "W2": np.zeros(2), "b2": np.zeros(())}


@pytest.mark.parametrize(
    "head, arrays",
    [
        (header(n_features=10**9, l2=0.0), GOOD),
        (header("MLP", sizes=[30000, 30000, 1], activation="sigmoid", l2=0.0), SMALL_MLP),
    ],
    ids=["logreg-1e9-features", "mlp-30000x30000"],
)
def test_a_header_asking_for_gigabytes_is_refused_at_once(head, arrays, tmp_path):
    """Before, a 1.2 kB file took 40 s and 7.5 GB (logreg) or 18 s and 7 GB (MLP) to fail."""
    path = write(tmp_path / "huge.npz", head, **arrays)
    assert path.stat().st_size < 2000
    start = time.perf_counter()
    with pytest.raises(ModelFileError, match="has shape .*, but the header implies"):
        Model.load(path)
    assert time.perf_counter() - start < 0.5


def test_a_npy_header_declaring_more_than_the_file_stores_is_refused_before_reading(tmp_path):
    path = write(tmp_path / "model.npz", header(), **GOOD)
    raw = path.read_bytes()
    lying = raw.replace(b"'shape': (3,)", b"'shape': (9,)")  # the member still stores 3 floats
    assert lying != raw
    path.write_bytes(lying)
    with pytest.raises(ModelFileError):
        Model.load(path)


GOOD_FILE = {}


def good_file(tmp_path_factory):
    if not GOOD_FILE:
        model = MLP((3, 2, 1), seed=0, l2=0.5)
        path = model.save(tmp_path_factory.mktemp("good") / "good.npz")
        GOOD_FILE.update(path=path, bytes=path.read_bytes(), params=[p.data for p in model.parameters()])
    return GOOD_FILE


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_whatever_bytes_are_corrupted_load_succeeds_with_the_same_arrays_or_raises_model_file_error(
    data, tmp_path_factory
):
    good = good_file(tmp_path_factory)
    raw = bytearray(good["bytes"])
    for _ in range(data.draw(st.integers(1, 4), label="changes")):
        where = data.draw(st.integers(0, len(raw) - 1), label="offset")
        raw[where] = data.draw(st.integers(0, 255), label="byte")
    if data.draw(st.booleans(), label="truncate"):
        raw = raw[: data.draw(st.integers(0, len(raw)), label="length")]
    path = good["path"].with_name("corrupted.npz")
    path.write_bytes(bytes(raw))
    try:
        model = Model.load(path)
    except ModelFileError as error:
        assert str(error).startswith(f"{path}: ")
    else:
        for p, original in zip(model.parameters(), good["params"]):
            np.testing.assert_array_equal(p.data, original)


# ----------------------------------------------------------------------------- saving never destroys
def test_numpy_scalars_in_a_models_settings_save_and_load_back_equal(tmp_path):
    model = MLP((3, 4, 2), seed=0)
    model.l2 = np.float32(0.25)  # before, "Object of type float32 is not JSON serializable"
    model.sizes = [np.int64(n) for n in model.sizes]
    loaded = Model.load(model.save(tmp_path / "model.npz"))
    assert loaded.l2 == 0.25 and loaded.sizes == [3, 4, 2]
    assert repr(loaded) == "MLP(sizes=[3, 4, 2], activation='sigmoid', l2=0.25)"


def test_an_error_while_saving_leaves_the_previous_file_whole(tmp_path, monkeypatch):
    path = LogisticRegression(3, seed=0).save(tmp_path / "model.npz")
    before = path.read_bytes()
    model = LogisticRegression(3, seed=1)
    model.l2 = 1j  # a setting no file can hold
    with pytest.raises(TypeError, match="cannot save 1j"):
        model.save(path)
    model.l2 = 0.0
    real_write = np.lib.format.write_array

    def disk_full(file, array, *args, **kwargs):
        real_write(file, array.reshape(-1)[:1], *args, **kwargs)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np.lib.format, "write_array", disk_full)
    with pytest.raises(OSError, match="No space left"):
        model.save(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]  # no temporary file left


KILLED_SAVER = """
import sys
from tinygraph.models import MLP
model = MLP((1000, 2000, 1), seed=1)
print("saving", flush=True)
while True:
    model.save(sys.argv[1])
"""


def test_a_kill_in_the_middle_of_saving_over_a_large_file_leaves_a_loadable_one(tmp_path):
    """SIGKILL a process saving a 16 MB model over and over; before, the file was unloadable every time."""
    repo = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(repo), os.environ.get("PYTHONPATH", "")])}
    path = tmp_path / "model.npz"
    versions = [[p.data for p in MLP((1000, 2000, 1), seed=seed).parameters()] for seed in (0, 1)]
    MLP((1000, 2000, 1), seed=0).save(path)
    for delay in (0.05, 0.15, 0.3):
        command = [sys.executable, "-c", KILLED_SAVER, str(path)]
        child = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE)
        assert child.stdout.readline() == b"saving\n"
        time.sleep(delay)
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
        loaded = [p.data for p in Model.load(path).parameters()]
        assert any(all(np.array_equal(a, b) for a, b in zip(loaded, v)) for v in versions)


STALLED_SAVER = """
import sys, time
import numpy as np
from tinygraph.models import LogisticRegression
real_write = np.lib.format.write_array
def stall(file, array, *args, **kwargs):  # write one array, then hang: the save is half done
    real_write(file, array, *args, **kwargs)
    print("writing", flush=True)
    time.sleep(120)
np.lib.format.write_array = stall
LogisticRegression(3, seed=0).save(sys.argv[1])
"""


def test_the_temporary_file_of_a_killed_save_is_removed_by_the_next_save_not_while_it_runs(tmp_path):
    repo = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(repo), os.environ.get("PYTHONPATH", "")])}
    path = tmp_path / "model.npz"
    child = subprocess.Popen([sys.executable, "-c", STALLED_SAVER, str(path)], env=env, stdout=subprocess.PIPE)
    try:
        assert child.stdout.readline() == b"writing\n"
        (temporary,) = [p.name for p in tmp_path.iterdir()]  # the child's, half written
        assert temporary.startswith(".model.npz.") and temporary.endswith(f".{child.pid}.{temporary.split('.')[-2]}.tmp")
        LogisticRegression(3, seed=1).save(path)  # while the child still writes: its file stays
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted([temporary, "model.npz"])
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
    assert (tmp_path / temporary).exists()  # what a kill leaves
    model = LogisticRegression(3, seed=2)
    model.save(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]
    np.testing.assert_array_equal(Model.load(path).params["w"].data, model.params["w"].data)
