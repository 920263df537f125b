"""The built-in nodes, one family per module: basic (the operators), linear, activations, losses, penalty."""

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
from tinygraph.nodes.penalty import L2Penalty

__all__ = [
    "BCE",
    "MSE",
    "Add",
    "BCEWithLogits",
    "Div",
    "Exp",
    "GetItem",
    "L2Penalty",
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
