"""The modes every node call reads: is the graph recorded for backward, which name scope, are values checked.

Each switch has a context manager that sets it for the code inside the ``with`` block and restores
it afterwards, even when that code raises. The modes belong to the thread, and to the asyncio task,
that set them, as PyTorch's do: ``no_grad`` in one thread never turns recording off in another,
and a new thread starts with the defaults (recording on, no scope, no checks).

They are kept in a ``contextvars.ContextVar`` holding one immutable ``Mode``, so that a node call
reads all three switches with one ``current_mode()`` (cheaper than reading one attribute of a
module-level object, and asyncio tasks each see their own); a switch is changed by setting a new
``Mode``.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class Mode:
    """The switches of one thread or task: is the graph recorded, which scope, are values checked.

    Attributes
    ----------
    grad_enabled : bool
        Whether an operation on a tensor that requires grad records itself for backward.
    scope : str or None
        The ``name_scope`` new nodes are tagged with.
    detect_anomaly : bool
        Whether each node's output and gradients are checked for NaN and inf.
    """

    grad_enabled: bool = True
    scope: str | None = None
    detect_anomaly: bool = False


_mode: contextvars.ContextVar[Mode] = contextvars.ContextVar("tinygraph.mode", default=Mode())

current_mode: Callable[[], Mode] = _mode.get
"""The calling thread's (or task's) ``Mode``: read it once and use its fields."""


def _set(**changes: Any) -> None:
    """Change some switches of the calling thread or task, keeping the others."""
    _mode.set(replace(_mode.get(), **changes))


class _View:
    """The calling thread's modes as attributes, for reading (``mode.grad_enabled``).

    Each attribute reads the current ``Mode`` anew; code that reads several switches at once,
    as a node call does, calls ``current_mode()`` once instead.
    """

    @property
    def grad_enabled(self) -> bool:
        return _mode.get().grad_enabled

    @property
    def scope(self) -> str | None:
        return _mode.get().scope

    @property
    def detect_anomaly(self) -> bool:
        return _mode.get().detect_anomaly


mode = _View()


_Switch = contextlib.AbstractContextManager[None]


def _changed(mode: Mode, name: str, value: Any) -> Mode:
    """``mode`` with switch ``name`` set to ``value``.

    Entering and leaving a scope goes back and forth between the same few modes, so the last
    changes are remembered (keyed by the mode's identity, checked against the mode kept with the
    result): building a frozen dataclass costs more than finding it again.
    """
    key = (id(mode), name, value)
    try:
        known = _recent.get(key)
    except TypeError:  # an unhashable value: nothing to remember it by
        known = key = None
    if known is not None and known[0] is mode:
        return known[1]
    if name == "scope":
        changed = Mode(mode.grad_enabled, value, mode.detect_anomaly)
    elif name == "grad_enabled":
        changed = Mode(value, mode.scope, mode.detect_anomaly)
    else:
        changed = Mode(mode.grad_enabled, mode.scope, value)
    if key is not None:
        if len(_recent) >= 256:  # a program naming scopes without end keeps only the latest
            _recent.clear()
        _recent[key] = (mode, changed)
    return changed


_recent: dict[tuple[int, str, Any], tuple[Mode, Mode]] = {}


class _switched(contextlib.ContextDecorator):  # noqa: N801 (used like the function it replaces)
    """Set switch ``name`` of the calling thread or task to ``value`` for a ``with`` block or a call.

    On exit only that switch gets its previous value back: another switch changed inside the
    block (``set_grad_enabled(False)`` called in a ``name_scope``) stays as it was left. A class
    rather than a generator, because models enter a scope at every training step.
    """

    def __init__(self, name: str, value: Any) -> None:
        self.name = name
        self.value = value
        self.entered: list[tuple[Mode, Mode]] = []  # a stack: the same object may be entered again inside

    def __enter__(self) -> None:
        before = _mode.get()
        after = _changed(before, self.name, self.value)
        _mode.set(after)
        self.entered.append((before, after))

    def __exit__(self, *exc_info: object) -> None:
        before, after = self.entered.pop()
        now = _mode.get()
        # Unchanged inside: the very mode from before (which is then found again by _changed).
        _mode.set(before if now is after else _changed(now, self.name, getattr(before, self.name)))

    def _recreate_cm(self) -> _switched:
        return _switched(self.name, self.value)  # a decorated function's calls each get their own


def is_grad_enabled() -> bool:
    """Whether operations record the graph for backward in the calling thread (or task).

    Examples
    --------
    >>> import tinygraph as tg
    >>> tg.is_grad_enabled()
    True
    >>> with tg.no_grad():
    ...     tg.is_grad_enabled()
    False
    """
    return _mode.get().grad_enabled


def no_grad() -> _Switch:
    """Context manager under which no operation requires grad, so nothing is recorded for backward.

    It applies to the calling thread (or asyncio task) only. Also usable as a decorator,
    ``@tg.no_grad()``.

    Examples
    --------
    >>> import tinygraph as tg
    >>> w = tg.tensor([1.0, 2.0], requires_grad=True)
    >>> with tg.no_grad():
    ...     y = w * 2
    >>> y.requires_grad
    False
    """
    return _switched("grad_enabled", False)


def enable_grad() -> _Switch:
    """Context manager that turns recording back on, inside ``no_grad`` or ``set_grad_enabled(False)``.

    It applies to the calling thread (or asyncio task) only. Also usable as a decorator,
    ``@tg.enable_grad()``.

    Examples
    --------
    >>> import tinygraph as tg
    >>> w = tg.tensor([1.0, 2.0], requires_grad=True)
    >>> with tg.no_grad():
    ...     with tg.enable_grad():
    ...         y = w * 2
    >>> y.requires_grad
    True
    """
    return _switched("grad_enabled", True)


class set_grad_enabled:  # noqa: N801 (PyTorch's name: a function call that is also a context manager)
    """Turn recording on or off: as a function call, or for a ``with`` block, as in PyTorch.

    Called on its own, ``tg.set_grad_enabled(False)`` switches recording off in the calling thread
    (or task) until it is switched back. Used as ``with tg.set_grad_enabled(mode):``, it sets the
    mode for the block and restores the previous one on exit, even when the block raises; as a
    decorator, ``@tg.set_grad_enabled(mode)``, it does so for each call of the function.

    Parameters
    ----------
    mode : bool
        True records the graph for backward, False does not (like ``no_grad``).

    Examples
    --------
    >>> import tinygraph as tg
    >>> w = tg.tensor([1.0, 2.0], requires_grad=True)
    >>> training = False
    >>> with tg.set_grad_enabled(training):
    ...     y = w * 2
    >>> y.requires_grad, tg.is_grad_enabled()
    (False, True)
    >>> _ = tg.set_grad_enabled(False)
    >>> (w * 2).requires_grad
    False
    >>> _ = tg.set_grad_enabled(True)
    """

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self._previous = _mode.get().grad_enabled
        _set(grad_enabled=self.mode)

    def __enter__(self) -> None:
        return None  # the mode was set when the object was made

    def __exit__(self, *exc_info: object) -> None:
        _set(grad_enabled=self._previous)

    def __call__(self, func: F) -> F:
        _set(grad_enabled=self._previous)  # decorating sets nothing now: the mode holds during each call
        mode = self.mode

        @functools.wraps(func)
        def call_with_mode(*args: Any, **kwargs: Any) -> Any:
            with set_grad_enabled(mode):
                return func(*args, **kwargs)

        return call_with_mode  # type: ignore[return-value]

    def __repr__(self) -> str:
        return f"set_grad_enabled({self.mode})"


def name_scope(label: str) -> _Switch:
    """Context manager that tags every node created inside with ``label`` (``node.scope``).

    Diagrams group the nodes of one scope in a labelled cluster; models use it so that their
    graph shows up as, for example, ``LogisticRegression: net input → sigmoid → NLL``. It applies
    to the calling thread (or asyncio task) only.
    """
    return _switched("scope", label)


def detect_anomaly() -> _Switch:
    """Context manager that raises FloatingPointError at the first node producing NaN or inf.

    Forward values are checked as each node runs, so the first non-finite output is named in
    forward order; gradients are checked as backward runs, in backward order. A Dask array is
    not computed for the check: it is checked as it is computed, so ``compute()`` raises. It
    applies to the calling thread (or asyncio task) only.
    """
    return _switched("detect_anomaly", True)