"""The built-in nodes, one family per module: basic (the operators), linear, activations, losses."""

from tinygraph.nodes.activations import LogSoftmax, Logit, ReLU, Sigmoid, Softmax, SoftmaxLog, Tanh
from tinygraph.nodes.basic import (
    Add,
    Div,
    Exp,
    GetItem,
    Log,
    MatMul,
    Max,
    Mean,
    Mul,
    Neg,
    Pow,
    Reshape,
    Sub,
    Sum,
    Transpose,
)
from tinygraph.nodes.linear import Linear
from tinygraph.nodes.losses import BCE, MSE, BCEWithLogits, Loss, SigmoidBCE, SoftmaxCrossEntropy

__all__ = [
    "BCE",
    "MSE",
    "Add",
    "BCEWithLogits",
    "Div",
    "Exp",
    "GetItem",
    "Linear",
    "Log",
    "Loss",
    "LogSoftmax",
    "Logit",
    "MatMul",
    "Max",
    "Mean",
    "Mul",
    "Neg",
    "Pow",
    "ReLU",
    "Reshape",
    "Sigmoid",
    "SigmoidBCE",
    "Softmax",
    "SoftmaxCrossEntropy",
    "SoftmaxLog",
    "Sub",
    "Sum",
    "Tanh",
    "Transpose",
]
