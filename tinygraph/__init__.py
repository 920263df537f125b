"""tinygraph: computation graphs with automatic differentiation, built on NumPy, for learning.

Every operation is a Node class whose forward and backward read like the math; ``backward()``
applies the chain rule over the recorded graph. This module re-exports the public API.
"""

from tinygraph import data, models, optim
from tinygraph.draw import draw
from tinygraph.explain import explain
from tinygraph.forward import jvp
from tinygraph.functional import (
    abs,
    amax,
    amin,
    argmax,
    argmin,
    bce,
    bce_with_logits,
    broadcast_to,
    clamp,
    clip,
    concatenate,
    cos,
    einsum,
    exp,
    expand_dims,
    expm1,
    flip,
    l2_penalty,
    linear,
    log,
    log1p,
    log_softmax,
    logit,
    logsumexp,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    mse,
    prod,
    relu,
    reshape,
    sigmoid,
    sin,
    softmax,
    softmax_cross_entropy,
    softplus,
    sqrt,
    square,
    squeeze,
    stack,
    std,
    sum,
    tanh,
    tensordot,
    transpose,
    var,
    where,
)
from tinygraph.modes import (
    detect_anomaly,
    enable_grad,
    is_grad_enabled,
    name_scope,
    no_grad,
    set_grad_enabled,
)
from tinygraph.node import Node
from tinygraph.tensor import Tensor, tensor
from tinygraph.trace import Steps, trace

__version__ = "0.1.0"


def __getattr__(name: str):  # type: ignore[no-untyped-def]
    """``tg.plots``, imported when first used: it needs matplotlib, which plain tinygraph does not."""
    if name == "plots":
        import importlib

        return importlib.import_module("tinygraph.plots")
    raise AttributeError(f"module 'tinygraph' has no attribute {name!r}")


__all__ = [
    "Node",
    "Steps",
    "Tensor",
    "abs",
    "amax",
    "amin",
    "argmax",
    "argmin",
    "bce",
    "bce_with_logits",
    "broadcast_to",
    "clamp",
    "clip",
    "concatenate",
    "cos",
    "data",
    "detect_anomaly",
    "draw",
    "einsum",
    "enable_grad",
    "exp",
    "expand_dims",
    "explain",
    "expm1",
    "flip",
    "is_grad_enabled",
    "jvp",
    "l2_penalty",
    "linear",
    "log",
    "log1p",
    "log_softmax",
    "logit",
    "logsumexp",
    "matmul",
    "max",
    "maximum",
    "mean",
    "min",
    "minimum",
    "models",
    "mse",
    "name_scope",
    "no_grad",
    "optim",
    "prod",
    "relu",
    "reshape",
    "set_grad_enabled",
    "sigmoid",
    "sin",
    "softmax",
    "softmax_cross_entropy",
    "softplus",
    "sqrt",
    "square",
    "squeeze",
    "stack",
    "std",
    "sum",
    "tanh",
    "tensor",
    "tensordot",
    "trace",
    "transpose",
    "var",
    "where",
]
