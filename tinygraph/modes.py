"""The modes every node call reads: is the graph recorded for backward, which name scope, are values checked.

Each switch has a context manager that sets it for the code inside the ``with`` block and restores
it afterwards, even when that code raises.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


class _Mode:
    """Global switches read by every node call: is the graph recorded, are values checked."""

    grad_enabled: bool = True
    detect_anomaly: bool = False
    scope: str | None = None


mode = _Mode()


@contextlib.contextmanager
def no_grad() -> Iterator[None]:
    """Context manager under which no operation requires grad, so nothing is recorded for backward.

    Examples
    --------
    >>> import tinygraph as tg
    >>> w = tg.tensor([1.0, 2.0], requires_grad=True)
    >>> with tg.no_grad():
    ...     y = w * 2
    >>> y.requires_grad
    False
    """
    previous = mode.grad_enabled
    mode.grad_enabled = False
    try:
        yield
    finally:
        mode.grad_enabled = previous


@contextlib.contextmanager
def name_scope(label: str) -> Iterator[None]:
    """Context manager that tags every node created inside with ``label`` (``node.scope``).

    Diagrams group the nodes of one scope in a labelled cluster; models use it so that their
    graph shows up as, for example, ``LogisticRegression: net input → sigmoid → NLL``.
    """
    previous = mode.scope
    mode.scope = label
    try:
        yield
    finally:
        mode.scope = previous


@contextlib.contextmanager
def detect_anomaly() -> Iterator[None]:
    """Context manager that raises FloatingPointError at the first node producing NaN or inf.

    Forward values are checked as each node runs, so the first non-finite output is named in
    forward order; gradients are checked as backward runs, in backward order.
    """
    previous = mode.detect_anomaly
    mode.detect_anomaly = True
    try:
        yield
    finally:
        mode.detect_anomaly = previous
