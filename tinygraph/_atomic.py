"""Writing a file so that it is never seen half-written: the old file or the new one, complete.

``atomic_write`` writes to a temporary file beside the target, flushes it and ``fsync``s it to
disk, then moves it over the target with ``os.replace`` (atomic on POSIX and on Windows) and, on
POSIX, ``fsync``s the directory so that the move itself survives a power cut. If anything goes
wrong before the move (an exception, Ctrl-C), the temporary file is removed and the target is
untouched; a process killed outright (SIGKILL, a crash) leaves the target untouched too, and at
worst a stray ``.NAME.HOST.PID.*.tmp`` file beside it. That name says which process wrote it, so
the next write of the same file removes it once that process is gone (on POSIX, where a process
can be asked whether it is alive without touching it).
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import secrets
import socket
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

_NEW_FILE_MODE = 0o666
"""Permissions asked for a new file, as ``open`` does: the umask then takes its bits away."""


@contextlib.contextmanager
def atomic_write(
    path: str | os.PathLike[str], mode: str = "wb", encoding: str | None = None
) -> Iterator[IO[Any]]:
    """Open a temporary file to be moved over ``path`` once the ``with`` block ends without error.

    Parameters
    ----------
    path : str or path-like
        The file to write. Its directory must exist; the temporary file is made there, so that
        the final move stays on one file system.
    mode : {"wb", "w"}
        Binary (the default) or text.
    encoding : str, optional
        For text mode; UTF-8 unless given.

    Yields
    ------
    file
        The open temporary file. Write everything to it inside the block.

    Notes
    -----
    A new file gets the permissions ``open`` would give it; a replaced file keeps its permission
    bits (not its owner, and not hard links to it, which keep the old content).

    Examples
    --------
    Where a file used to be written with ``open(path, "wb")``, write it the same way:

    >>> import numpy as np, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "params.npz"
    >>> with atomic_write(path) as file:
    ...     np.savez(file, w=np.zeros(3))
    >>> np.load(path)["w"]
    array([0., 0., 0.])
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"atomic_write writes a whole new file: mode must be 'wb' or 'w', got {mode!r}")
    path = Path(path)
    fd, temporary = _create_beside(path)
    try:
        with os.fdopen(fd, mode, encoding=(encoding or "utf-8") if mode == "w" else None) as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileNotFoundError):
            os.chmod(temporary, stat.S_IMODE(os.stat(path).st_mode))  # a replaced file keeps its permissions
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _fsync_directory(path.parent)
    _remove_stale(path)


_HOST = re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname()) or "host"
"""This machine's name as it appears in temporary files' names: no dots, so the name splits cleanly."""


def _create_beside(path: Path) -> tuple[int, Path]:
    """A new, empty file in ``path``'s directory, open for writing, with an unused name.

    An OSError (no such directory, no permission) names ``path``, not the temporary file.
    """
    while True:
        temporary = path.with_name(f".{path.name}.{_HOST}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                           _NEW_FILE_MODE), temporary
        except FileExistsError:  # pragma: no cover (one chance in four billion)
            continue
        except OSError as error:
            raise type(error)(error.errno, error.strerror, str(path)) from None


def _remove_stale(path: Path) -> None:
    """Remove the temporary files beside ``path`` whose writer, a process of this machine, is gone.

    Such a file was left by a write killed before its move (SIGKILL, a crash). A writer still
    running keeps its file; so does one of another machine (a shared folder), which cannot be asked.
    """
    if os.name != "posix":  # os.kill(pid, 0) would end the process on Windows
        return
    for candidate in path.parent.glob(f".{glob.escape(path.name)}.{_HOST}.*.tmp"):
        pid = candidate.name[len(path.name) + len(_HOST) + 3 :].split(".")[0]
        if pid.isdigit() and not _alive(int(pid)):
            with contextlib.suppress(OSError):  # gone already, or not ours to remove
                os.unlink(candidate)


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists (signal 0 checks without sending anything)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _fsync_directory(folder: Path) -> None:
    """Make a rename in ``folder`` durable; only POSIX lets a directory be opened and synced."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
