"""PyTorch's keyword names for NumPy's: ``dim=`` for ``axis=``, ``keepdim=`` for ``keepdims=``.

tinygraph's reductions take NumPy's arguments; people used to PyTorch write ``t.sum(dim=0)``.
``accepts_dim`` lets a reduction take either spelling, so neither habit has to be unlearned.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

SYNONYMS = (("dim", "axis", 0), ("keepdim", "keepdims", 1))
"""(PyTorch's keyword, NumPy's keyword, its position after ``self`` or the array)."""


def accepts_dim(reduction: F) -> F:
    """``reduction(x, axis, keepdims)`` that also takes ``dim=`` and ``keepdim=`` (PyTorch's names).

    The first argument is the tensor (or the array of a functional form); giving both spellings of
    one argument is a TypeError, as giving an argument twice is.
    """

    @functools.wraps(reduction)
    def with_torch_names(x: Any, *args: Any, **kwargs: Any) -> Any:
        for torch_name, numpy_name, position in SYNONYMS:
            if torch_name in kwargs:
                if numpy_name in kwargs or len(args) > position:
                    raise TypeError(
                        f"{reduction.__name__}() got both {torch_name}= and {numpy_name}=: they are one argument"
                    )
                kwargs[numpy_name] = kwargs.pop(torch_name)
        return reduction(x, *args, **kwargs)

    return with_torch_names  # type: ignore[return-value]
