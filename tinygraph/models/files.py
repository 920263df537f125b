"""The model file: what ``Model.save`` writes and what ``Model.load`` accepts, checked before use.

A model file is an uncompressed ``.npz`` archive holding ``__header__.npy``, a JSON object
``{"format", "model", "config"}`` as a 0-d string array, and one float64 array
``param:NAME.npy`` per parameter. ``write`` replaces the target whole or not at all (through
``tinygraph._atomic``). ``read`` trusts nothing in the file: it reads the header, asks the caller
which parameter shapes that header implies, and compares them with the shapes the archive's own
``.npy`` headers declare and with the bytes actually stored, all before reading any parameter. So
loading allocates no more than the file holds, and every malformed file ends in one error,
``ModelFileError``, naming the file and the problem.
"""

from __future__ import annotations

import json
import math
import struct
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np

from tinygraph._atomic import atomic_write

FORMAT = "tinygraph-model-1"
"""The ``format`` field of every header ``save`` writes."""

HEADER_KEYS = ("format", "model", "config")
"""The keys of the header, all required, no others."""

_HEADER = "__header__.npy"
_PARAM = "param:"

Shapes = Mapping[str, tuple[int, ...]]
"""Parameter name → the shape the header implies."""


class ModelFileError(ValueError):
    """A file that ``Model.load`` cannot use: not a model file, damaged, or of another model class.

    Attributes
    ----------
    path : Path
        The file.
    problem : str
        What is wrong with it, e.g. ``parameter 'w' has shape (3,), but n_features=30 needs (30,)``.
    """

    def __init__(self, path: str | Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = Path(path)
        self.problem = problem


_BROKEN = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    EOFError,
    OSError,
    ValueError,  # also json's and unicode's decoding errors
    KeyError,
    TypeError,
    NotImplementedError,  # a compression method zipfile lacks
    RuntimeError,  # an encrypted member
    OverflowError,
    struct.error,
)
"""What reading a damaged archive can raise, from zipfile, numpy and json; all become ModelFileError."""


def model_class(name: str, requested: type, base: type) -> type:
    """The class a file's ``model`` field names, when ``requested.load`` reads it (``base.load``: any).

    ``requested`` itself when it has that name, so a user's subclass loads with its own ``load``.
    Otherwise a subclass of ``base`` with that name: tinygraph's own first, then one of any other
    module imported so far. A file never imports a module itself: that would run code it names.

    Raises
    ------
    ValueError
        When no class or several (in different modules) have that name, saying what to do.
    """
    if requested.__name__ == name and requested is not base:
        return requested
    found = [kind for kind in _subclasses(base) if kind.__name__ == name]
    own = [kind for kind in found if _ours(kind)]
    if own or len(found) == 1:
        return (own or found)[0]
    if found:
        where = ", ".join(f"{kind.__module__}.{name}" for kind in found)
        raise ValueError(f"several model classes are called {name!r} ({where}): use the one meant, {name}.load(path)")
    theirs = ", ".join(sorted(kind.__name__ for kind in _subclasses(base) if _ours(kind)))
    raise ValueError(
        f"unknown model class {name!r}; tinygraph's are {theirs}. A model class of your own is found once "
        f"the module that defines it is imported: then {name}.load(path)"
    )


def _ours(kind: type) -> bool:
    return kind.__module__.startswith("tinygraph.")


def _subclasses(base: type) -> list[type]:
    """Every class derived from ``base``, directly or not, in any module imported so far."""
    found: list[type] = []
    stack = list(base.__subclasses__())
    while stack:
        kind = stack.pop()
        if kind not in found:
            found.append(kind)
            stack.extend(kind.__subclasses__())
    return found


def write(path: Path, header: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
    """Write ``header`` and the parameter ``arrays`` to ``path``, replacing any old file whole.

    The header is turned into JSON first (NumPy scalars as plain numbers), so a setting that
    cannot be saved raises before the file is touched; the archive is then written beside the
    target and moved over it only once complete.
    """
    text = json.dumps(header, default=_plain, allow_nan=False)
    named = {f"{_PARAM}{name}": np.asarray(value) for name, value in arrays.items()}
    with atomic_write(path) as file:
        np.savez(file, __header__=np.array(text), **named)


def _plain(value: Any) -> Any:
    """A NumPy scalar or array in a model's settings as the Python number or list JSON can write."""
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    raise TypeError(f"a model's settings must be numbers, strings or lists; cannot save {value!r}")


def read(
    path: Path, shapes: Callable[[str, dict[str, Any]], Shapes]
) -> tuple[str, dict[str, Any], dict[str, np.ndarray]]:
    """The model name, the config and the parameter arrays of the file ``path``, all checked.

    Parameters
    ----------
    path : Path
    shapes : callable (model name, config) → {parameter name: shape}
        The shapes the header implies; a ``ValueError`` or ``TypeError`` it raises (an unknown
        model, a bad config) becomes a ``ModelFileError`` naming ``path``.

    Raises
    ------
    FileNotFoundError
        If ``path`` is not a file.
    ModelFileError
        For a folder, or anything else wrong with the file.
    """
    if path.is_dir():
        raise ModelFileError(path, "a folder, not a model file")
    if not path.is_file():
        raise FileNotFoundError(f"no such model file: {path}")
    try:
        if not zipfile.is_zipfile(path):
            raise ModelFileError(path, "not a tinygraph model file (not an .npz archive)")
        with zipfile.ZipFile(path) as archive:
            members = {info.filename: info for info in archive.infolist()}
            if _HEADER not in members:
                raise ModelFileError(path, "not a tinygraph model file (no __header__ in the archive)")
            name, config = _header(path, _member(path, archive, members[_HEADER], "<U", None))
            try:
                expected = shapes(name, config)
            except (TypeError, ValueError) as error:  # the caller's verdict on the header
                raise ModelFileError(path, str(error)) from None
            _same_names(path, name, expected, members)
            arrays = {
                key: _member(path, archive, members[f"{_PARAM}{key}.npy"], "<f8", shape)
                for key, shape in expected.items()
            }
    except ModelFileError:
        raise
    except _BROKEN as error:
        raise ModelFileError(
            path, f"damaged or not a tinygraph model file ({type(error).__name__}: {error})"
        ) from None
    return name, config, arrays


def _header(path: Path, array: np.ndarray) -> tuple[str, dict[str, Any]]:
    """The model name and config from the header's JSON, or ModelFileError saying what is off."""
    try:
        header = json.loads(str(array[()]))
    except ValueError:
        raise ModelFileError(path, "not a tinygraph model file (its header is not JSON)") from None
    if not isinstance(header, dict):
        raise ModelFileError(
            path, f"not a tinygraph model file (its header is a {type(header).__name__}, not an object)"
        )
    if header.get("format") != FORMAT:
        raise ModelFileError(
            path, f"not a tinygraph model file (format {header.get('format')!r}, expected {FORMAT!r})"
        )
    if sorted(header) != sorted(HEADER_KEYS):
        raise ModelFileError(
            path, f"the header has the keys {sorted(header)}, expected {sorted(HEADER_KEYS)}"
        )
    if not isinstance(header["model"], str):
        raise ModelFileError(path, f"the header's model must be a class name, got {header['model']!r}")
    if not isinstance(header["config"], dict):
        raise ModelFileError(path, f"the header's config must be an object, got {header['config']!r}")
    return header["model"], header["config"]


def _same_names(path: Path, model: str, expected: Shapes, members: Mapping[str, zipfile.ZipInfo]) -> None:
    """The archive holds exactly the header and the parameters ``expected`` names."""
    want = {_HEADER} | {f"{_PARAM}{key}.npy" for key in expected}
    missing = sorted(_array_name(name) for name in want - members.keys())
    extra = sorted(_array_name(name) for name in members.keys() - want)
    if missing or extra:
        said = [f"missing {', '.join(missing)}"] if missing else []
        said += [f"unexpected {', '.join(extra)}"] if extra else []
        raise ModelFileError(path, f"the arrays are not the parameters of {model}: {'; '.join(said)}")


def _array_name(member: str) -> str:
    """A parameter's name from its member's name, ``param:w.npy`` → ``w``; other members as they are."""
    if member.startswith(_PARAM) and member.endswith(".npy"):
        return repr(member[len(_PARAM) : -len(".npy")])
    return repr(member)


def _member(
    path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo, dtype: str, shape: tuple[int, ...] | None
) -> np.ndarray:
    """One ``.npy`` member, read only once its declared dtype, shape and size are those expected.

    ``dtype`` is "<U" (a 0-d string, the header; ``shape`` None) or "<f8" (a parameter of ``shape``).
    The bytes the member's own header declares must be the bytes the archive stores for it, and
    those must fit in the file: nothing larger than the file is ever allocated.
    """
    what = "the header" if shape is None else f"parameter {_array_name(info.filename)}"
    if info.compress_type != zipfile.ZIP_STORED or info.file_size > path.stat().st_size:
        raise ModelFileError(path, f"{what} is compressed or larger than the file: not written by save")
    with archive.open(info) as file:
        declared_shape, declared_dtype, offset = _npy_header(file)
    if shape is None:
        if declared_dtype.kind != "U" or declared_shape != () or declared_dtype.byteorder == ">":
            raise ModelFileError(
                path, f"{what} is not a string (dtype {declared_dtype}, shape {declared_shape})"
            )
    else:
        if declared_dtype != np.dtype(dtype):
            raise ModelFileError(path, f"{what} has dtype {declared_dtype}, expected float64")
        if declared_shape != tuple(shape):
            raise ModelFileError(
                path, f"{what} has shape {declared_shape}, but the header implies {tuple(shape)}"
            )
    if offset + declared_dtype.itemsize * math.prod(declared_shape) != info.file_size:
        raise ModelFileError(path, f"{what} is truncated or padded: its size does not match its shape")
    with archive.open(info) as file:
        return np.lib.format.read_array(file, allow_pickle=False)


def _npy_header(file: IO[bytes]) -> tuple[tuple[int, ...], np.dtype, int]:
    """Shape, dtype and data offset from the start of a ``.npy`` stream (its header is at most 10 kB)."""
    version = np.lib.format.read_magic(file)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(file)
    elif version == (2, 0):
        shape, _, dtype = np.lib.format.read_array_header_2_0(file)
    else:
        raise ValueError(f".npy version {version} is not one save writes")
    return tuple(shape), dtype, file.tell()
