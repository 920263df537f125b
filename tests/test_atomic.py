"""atomic_write: the target holds the old file or the new one, complete, whatever happens."""

from __future__ import annotations

import doctest
import os
import random
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from tinygraph import _atomic
from tinygraph._atomic import atomic_write

ROOT = Path(__file__).resolve().parent.parent


def test_it_writes_a_new_file_and_leaves_nothing_else(tmp_path):
    path = tmp_path / "notes.txt"
    with atomic_write(path, "w") as file:
        file.write("héllo\n")
    assert path.read_text(encoding="utf-8") == "héllo\n"
    assert os.listdir(tmp_path) == ["notes.txt"]
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    assert stat.S_IMODE(path.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)  # as open() makes it


@pytest.mark.parametrize("error", [TypeError("float32 is not JSON serializable"), KeyboardInterrupt()])
def test_an_error_mid_write_leaves_the_old_file_and_no_temporary(tmp_path, error):
    path = tmp_path / "params.npz"
    np.savez(path, w=np.arange(3.0))
    with pytest.raises(type(error)):
        with atomic_write(path) as file:
            file.write(b"PK half a zip")
            raise error
    np.testing.assert_array_equal(np.load(path)["w"], np.arange(3.0))
    assert os.listdir(tmp_path) == ["params.npz"]


def test_a_replaced_file_keeps_its_permissions(tmp_path):
    path = tmp_path / "shared.txt"
    path.write_text("old")
    path.chmod(0o640)
    with atomic_write(path, "w") as file:
        file.write("new")
    assert path.read_text() == "new" and stat.S_IMODE(path.stat().st_mode) == 0o640


def test_the_docstring_example_runs():
    assert doctest.testmod(_atomic).failed == 0


def test_only_whole_file_modes_are_accepted(tmp_path):
    with pytest.raises(ValueError, match="mode must be 'wb' or 'w', got 'ab'"):
        with atomic_write(tmp_path / "x", "ab"):
            pass


# A child that writes 32 MB in 1 MB pieces, slowly enough to be killed in the middle. It loads
# the module alone (it needs only the standard library), so that it starts in a fraction of a second.
WRITER = textwrap.dedent(
    """
    import importlib.util, sys, time

    spec = importlib.util.spec_from_file_location("_atomic", sys.argv[3])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    atomic_write = module.atomic_write

    path, atomic = sys.argv[1], sys.argv[2] == "atomic"
    piece = bytes(2**20)
    with (atomic_write(path) if atomic else open(path, "wb")) as file:
        print("writing", flush=True)
        for _ in range(32):
            file.write(piece)
            time.sleep(0.01)
    """
)


def _write_and_kill(path: Path, atomic: bool, delay: float) -> None:
    module = ROOT / "tinygraph" / "_atomic.py"
    how = "atomic" if atomic else "plain"
    child = subprocess.Popen([sys.executable, "-c", WRITER, str(path), how, str(module)],
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdout.readline() == "writing\n"
    time.sleep(delay)
    child.send_signal(signal.SIGKILL)
    child.wait()
    child.stdout.close()


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_kill_mid_write_leaves_the_old_file_loadable(tmp_path):
    path = tmp_path / "params.npz"
    old = np.arange(1000.0)
    np.savez(path, w=old)
    # The same kill during a plain open(path, "wb") leaves a broken file: the check below can fail.
    _write_and_kill(path, atomic=False, delay=0.1)
    with pytest.raises(ValueError):
        np.load(path)
    np.savez(path, w=old)
    rng = random.Random(0)
    for _ in range(4):
        _write_and_kill(path, atomic=True, delay=rng.uniform(0.0, 0.25))  # the write takes about 0.35 s
        with np.load(path) as archive:
            np.testing.assert_array_equal(archive["w"], old)
    leftovers = [name for name in os.listdir(tmp_path) if name != "params.npz"]
    assert all(name.startswith(".params.npz.") and name.endswith(".tmp") for name in leftovers)


def test_a_missing_directory_is_an_error_naming_the_target_not_the_temporary(tmp_path):
    target = tmp_path / "missing" / "params.npz"
    with pytest.raises(FileNotFoundError) as raised, atomic_write(target):
        pass
    assert raised.value.filename == str(target) and ".tmp" not in str(raised.value)
