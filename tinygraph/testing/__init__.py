"""Tools to prove a gradient right: ``gradcheck`` here, hypothesis strategies in ``strategies``.

``tinygraph.testing.strategies`` needs hypothesis (``pip install tinygraph[test]``); import it
explicitly: ``from tinygraph.testing import strategies``.
"""

from tinygraph.testing.gradcheck import GradcheckError, gradcheck

__all__ = ["GradcheckError", "gradcheck"]
