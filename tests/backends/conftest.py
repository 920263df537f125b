"""The array back ends every test here runs on: NumPy, array_api_strict and Dask always, CuPy with a GPU.

A ``Backend`` turns a NumPy array into the library's (Dask: chunks of 3 along every axis, so that
chunking is exercised) and back. Dask runs on the synchronous scheduler, the fastest for arrays
this small. The op table of ``tests/reference`` is importable from here.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "reference"))  # reference_ops

NAMES = ("numpy", "array_api_strict", "dask", "cupy")


@dataclass
class Backend:
    name: str
    convert: Callable[[np.ndarray], Any]
    array_type: type

    def __call__(self, value: Any) -> Any:
        """``value`` in this library: arrays converted, tuples of indices converted element by element."""
        if isinstance(value, tuple):
            return tuple(self(v) for v in value)
        if isinstance(value, (np.ndarray, np.generic)) and np.ndim(value) > 0:
            return self.convert(np.asarray(value))
        if isinstance(value, np.ndarray):
            return self.convert(value)
        return value

    def __repr__(self) -> str:
        return self.name


def _make(name: str) -> Backend:
    if name == "numpy":
        return Backend(name, lambda a: a, np.ndarray)
    if name == "array_api_strict":
        strict = pytest.importorskip("array_api_strict")
        return Backend(name, strict.asarray, type(strict.asarray(0.0)))
    if name == "dask":
        da = pytest.importorskip("dask.array")
        return Backend(name, lambda a: da.from_array(a, chunks=3), da.Array)
    cupy = pytest.importorskip("cupy", reason="CuPy is not installed: the GPU back end is not tested")
    try:
        gpus = cupy.cuda.runtime.getDeviceCount()
    except cupy.cuda.runtime.CUDARuntimeError as error:  # no driver, or no device it can see
        pytest.skip(f"CuPy is installed but finds no GPU ({error})")
    if gpus == 0:
        pytest.skip("CuPy is installed but finds no GPU")
    return Backend(name, cupy.asarray, cupy.ndarray)


def _use(name: str) -> Iterator[Backend]:
    made = _make(name)
    if made.name != "dask":
        yield made
        return
    import dask

    with dask.config.set(scheduler="synchronous"):
        yield made


@pytest.fixture(params=NAMES)
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    """Each back end in turn; Dask on its synchronous scheduler."""
    yield from _use(request.param)


@pytest.fixture(params=NAMES[1:])
def other_backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    """Each back end but NumPy, the reference the others are compared with."""
    yield from _use(request.param)
