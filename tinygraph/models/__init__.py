"""Models built from the lecture's nodes: logistic regression, softmax regression and the MLP.

Every model has the same methods: ``net_input`` (z), ``forward`` (a), ``loss`` (a scalar tensor
whose graph ``tg.draw`` shows), ``predict_proba``, ``predict``, ``score``, ``log_loss``, ``fit``,
``save`` and ``load`` (which raises ``ModelFileError`` for a file it cannot use).
"""

from tinygraph.models.base import Model
from tinygraph.models.files import ModelFileError
from tinygraph.models.logistic import LogisticRegression
from tinygraph.models.mlp import ACTIVATIONS, MLP
from tinygraph.models.softmax import SoftmaxRegression
from tinygraph.models.training import OPTIMIZERS, DivergedError, DivergingWarning, History, default_lr
from tinygraph.nodes.penalty import L2Penalty  # the penalty the models add, a node among the nodes

load = Model.load

__all__ = [
    "ACTIVATIONS",
    "MLP",
    "OPTIMIZERS",
    "DivergedError",
    "DivergingWarning",
    "History",
    "L2Penalty",
    "LogisticRegression",
    "Model",
    "ModelFileError",
    "SoftmaxRegression",
    "default_lr",
    "load",
]
