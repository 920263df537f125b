"""Tools to prove a gradient right: ``gradcheck`` for a function, ``check_node`` for a node's whole
contract, ``gradcheck_nodes`` for every node of a recorded graph, and hypothesis strategies.

``check_node`` and ``tinygraph.testing.strategies`` need hypothesis (``pip install tinygraph[test]``);
import the strategies explicitly: ``from tinygraph.testing import strategies``.
"""

from tinygraph.testing.gradcheck import GradcheckError, gradcheck
from tinygraph.testing.graphcheck import NodeReplayError, gradcheck_nodes

try:
    from tinygraph.testing.nodecheck import CHECKS, check_node
except ModuleNotFoundError as missing:  # hypothesis is an optional dependency
    _reason = str(missing)
    CHECKS = ()

    def check_node(*args, **kwargs):  # type: ignore[no-untyped-def]
        """Needs hypothesis: ``pip install tinygraph[test]``."""
        raise ModuleNotFoundError(f"check_node needs hypothesis ({_reason}): pip install hypothesis")


__all__ = ["CHECKS", "GradcheckError", "NodeReplayError", "check_node", "gradcheck", "gradcheck_nodes"]
