"""tinygraph: computation graphs with automatic differentiation, built on NumPy, for learning.

Every operation is a Node class whose forward and backward read like the math; ``backward()``
applies the chain rule over the recorded graph. This module re-exports the public API.
"""

from tinygraph.draw import draw
from tinygraph.explain import explain
from tinygraph.forward import jvp
from tinygraph.functional import (
    bce,
    bce_with_logits,
    exp,
    l2_penalty,
    linear,
    log,
    log_softmax,
    logit,
    matmul,
    max,
    mean,
    mse,
    relu,
    reshape,
    sigmoid,
    softmax,
    softmax_cross_entropy,
    sum,
    tanh,
    transpose,
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

# The models use the functions above, so they come last.
from tinygraph import data, models, optim  # isort: skip

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
    "bce",
    "bce_with_logits",
    "data",
    "detect_anomaly",
    "draw",
    "enable_grad",
    "exp",
    "explain",
    "is_grad_enabled",
    "jvp",
    "l2_penalty",
    "linear",
    "log",
    "log_softmax",
    "logit",
    "matmul",
    "max",
    "mean",
    "models",
    "mse",
    "name_scope",
    "no_grad",
    "optim",
    "relu",
    "reshape",
    "set_grad_enabled",
    "sigmoid",
    "softmax",
    "softmax_cross_entropy",
    "sum",
    "tanh",
    "tensor",
    "trace",
    "transpose",
]
