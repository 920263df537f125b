"""Finite-difference gradient checking: compare backward with central differences, element by element."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tinygraph.modes import no_grad
from tinygraph.tensor import Tensor

FULL_JACOBIAN_UP_TO = 16
"""``gradcheck`` compares the full Jacobian of outputs with at most this many elements."""


class GradcheckError(AssertionError):
    """A derivative disagrees with finite differences (or with the other mode), or a node breaks its contract.

    The message names what was checked, where (node, input, element), and both values. The same
    facts, for code: ``check`` (the name of the check, from ``check_node``), ``node`` (the node's
    class name) and ``inputs`` (the input arrays), each None where they do not apply.
    """

    def __init__(self, message: str, *, check: str | None = None, node: str | None = None, inputs: Any = None) -> None:
        super().__init__(message)
        self.check, self.node, self.inputs = check, node, inputs


def gradcheck(
    fn: Callable[..., Tensor],
    inputs: Sequence[Any],
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    jacobian: str = "auto",
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
    jacobian : {"auto", "full", "projections"}
        For a non-scalar output f: "full" compares every entry ∂f_j/∂x_k (one backward per output
        element j, seeded with the unit vector e_j); "projections" checks the scalar ⟨v, f⟩ for
        random directions v (one backward each). "auto" is "full" for outputs of at most
        ``FULL_JACOBIAN_UP_TO`` (16) elements.
    projections : int
        The number of random directions v in the "projections" case.
    seed : int
        Seed of those random directions.

    Returns
    -------
    bool
        True when every element agrees.

    Raises
    ------
    GradcheckError
        Naming the input, the element, the analytic and the numeric value; for a non-scalar output
        also the output element (full Jacobian), or, for a projection, the per-output-element
        derivatives at that input element, so the wrong entry shows.

    Examples
    --------
    >>> import numpy as np
    >>> import tinygraph as tg
    >>> from tinygraph.testing import gradcheck
    >>> x = tg.tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    >>> gradcheck(lambda t: tg.sigmoid(t), [x])
    True
    """
    if jacobian not in ("auto", "full", "projections"):
        raise ValueError(f"gradcheck: jacobian must be 'auto', 'full' or 'projections', got {jacobian!r}")
    tensors = [_float64_copy(x) for x in inputs]
    checked = [i for i, t in enumerate(tensors) if t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad; pass tensors with requires_grad=True")
    with no_grad():
        out_shape = fn(*tensors).shape
    size = int(np.prod(out_shape))
    if out_shape == ():
        directions: list[tuple[np.ndarray | None, str]] = [(None, "")]
    elif jacobian == "full" or (jacobian == "auto" and size <= FULL_JACOBIAN_UP_TO):
        directions = []
        for j in np.ndindex(out_shape):
            unit = np.zeros(out_shape)
            unit[j] = 1.0
            directions.append((unit, f"full Jacobian, output element {j} of shape {out_shape}"))
    else:
        rng = np.random.default_rng(seed)
        directions = [
            (rng.standard_normal(out_shape), f"random projection {p + 1} of {projections}: ⟨v, f⟩ for f of shape {out_shape}")
            for p in range(projections)
        ]
    for direction, where in directions:
        analytic = _analytic(fn, tensors, checked, direction)
        for i in checked:
            _compare(fn, tensors, i, analytic[i], direction, where, eps, atol, rtol)
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
    where: str,
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
                break
        else:
            return
    name = f" ({tensors[i].name})" if tensors[i].name else ""
    message = (
        f"gradcheck failed for input {i}{name} of shape {x.shape}, element {index}: "
        f"analytic {float(analytic[index])!r}, numeric {numeric!r} "
        f"(difference {abs(analytic[index] - numeric):.3g}, allowed {atol + rtol * abs(numeric):.3g})"
    )
    if where:
        message += f"; compared: {where}"
    if direction is not None and not where.startswith("full"):
        message += "\n" + _per_element(fn, tensors, i, index, eps, atol, rtol)
    raise GradcheckError(message)


def _per_element(
    fn: Callable[..., Tensor], tensors: list[Tensor], i: int, index: tuple[int, ...], eps: float, atol: float, rtol: float
) -> str:
    """After a projection failed: ∂f_j/∂x[index] for every output element j, both ways."""
    x = tensors[i].data
    with no_grad():
        original = x[index]
        x[index] = original + eps
        plus = fn(*tensors).data.copy()
        x[index] = original - eps
        minus = fn(*tensors).data.copy()
        x[index] = original
    numeric = (plus - minus) / (2 * eps)
    analytic = np.zeros(numeric.shape)
    for j in np.ndindex(numeric.shape):
        unit = np.zeros(numeric.shape)
        unit[j] = 1.0
        analytic[j] = _analytic(fn, tensors, [i], unit)[i][index]
    lines = [f"per output element j, ∂f_j/∂x{list(index)} of input {i}:"]
    for n, j in enumerate(np.ndindex(numeric.shape)):
        if n == 20:
            lines.append(f"  ... and {numeric.size - n} more output elements")
            break
        bad = "  <- differs" if not abs(analytic[j] - numeric[j]) <= atol + rtol * abs(numeric[j]) else ""
        lines.append(f"  output {j}: analytic {analytic[j] + 0.0:.6g}, numeric {numeric[j] + 0.0:.6g}{bad}")
    return "\n".join(lines)
