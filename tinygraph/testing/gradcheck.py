"""Finite-difference gradient checking: compare backward with central differences, element by element."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tinygraph.modes import no_grad
from tinygraph.tensor import Tensor


class GradcheckError(AssertionError):
    """Backward disagrees with finite differences; the message names input, element and both values."""


def gradcheck(
    fn: Callable[..., Tensor],
    inputs: Sequence[Any],
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    projections: int = 2,
    seed: int = 0,
) -> bool:
    """Check the gradient ``backward`` computes for ``fn`` against central finite differences.

    Parameters
    ----------
    fn : callable
        Takes the inputs as tensors and returns a tensor.
    inputs : sequence of Tensor or array_like
        The inputs. Tensors with ``requires_grad=True`` are checked, every element of them;
        the other inputs are constants. They are converted to float64 for the check.
    eps : float
        Step of the central difference (f(x + eps) − f(x − eps)) / (2 eps).
    atol, rtol : float
        An element passes if |analytic − numeric| <= atol + rtol · |numeric|.
    projections : int
        For a non-scalar output, the number of random directions v along which the Jacobian is
        checked, through the scalar ⟨v, fn(inputs)⟩.
    seed : int
        Seed of those random directions.

    Returns
    -------
    bool
        True when every element agrees.

    Raises
    ------
    GradcheckError
        Naming the input, the element, the analytic and the numeric value.

    Examples
    --------
    >>> import numpy as np
    >>> import tinygraph as tg
    >>> from tinygraph.testing import gradcheck
    >>> x = tg.tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    >>> gradcheck(lambda t: tg.sigmoid(t), [x])
    True
    """
    tensors = [_float64_copy(x) for x in inputs]
    checked = [i for i, t in enumerate(tensors) if t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad; pass tensors with requires_grad=True")
    with no_grad():
        out_shape = fn(*tensors).shape
    rng = np.random.default_rng(seed)
    directions = [None] if out_shape == () else [rng.standard_normal(out_shape) for _ in range(projections)]
    for direction in directions:
        analytic = _analytic(fn, tensors, checked, direction)
        for i in checked:
            _compare(fn, tensors, i, analytic[i], direction, eps, atol, rtol)
    return True


def _float64_copy(x: Any) -> Tensor:
    if isinstance(x, Tensor):
        data = x.data.astype(np.float64) if x.data.dtype.kind == "f" else x.data
        return Tensor(data.copy(), requires_grad=x.requires_grad, name=x.name)
    return Tensor(np.asarray(x))


def _scalar(fn: Callable[..., Tensor], tensors: list[Tensor], direction: np.ndarray | None) -> Tensor:
    out = fn(*tensors)
    return out if direction is None else (out * direction).sum()


def _analytic(
    fn: Callable[..., Tensor], tensors: list[Tensor], checked: list[int], direction: np.ndarray | None
) -> dict[int, np.ndarray]:
    for i in checked:
        tensors[i].grad = None
    _scalar(fn, tensors, direction).backward()
    return {i: np.zeros(tensors[i].shape) if tensors[i].grad is None else tensors[i].grad for i in checked}


def _compare(
    fn: Callable[..., Tensor],
    tensors: list[Tensor],
    i: int,
    analytic: np.ndarray,
    direction: np.ndarray | None,
    eps: float,
    atol: float,
    rtol: float,
) -> None:
    x = tensors[i].data
    with no_grad():
        for index in np.ndindex(x.shape):
            original = x[index]
            x[index] = original + eps
            plus = _scalar(fn, tensors, direction).item()
            x[index] = original - eps
            minus = _scalar(fn, tensors, direction).item()
            x[index] = original
            numeric = (plus - minus) / (2 * eps)
            if not abs(analytic[index] - numeric) <= atol + rtol * abs(numeric):
                name = f" ({tensors[i].name})" if tensors[i].name else ""
                raise GradcheckError(
                    f"gradcheck failed for input {i}{name} of shape {x.shape}, element {index}: "
                    f"analytic {float(analytic[index])!r}, numeric {numeric!r} "
                    f"(difference {abs(analytic[index] - numeric):.3g}, allowed {atol + rtol * abs(numeric):.3g})"
                )
