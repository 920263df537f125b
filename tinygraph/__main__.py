"""``python -m tinygraph``: the README quickstart, printing the gradients next to the lecture's formula."""

from __future__ import annotations

import numpy as np

import tinygraph as tg


def main() -> None:
    rng = np.random.default_rng(0)
    X = tg.tensor(rng.standard_normal((5, 3)))
    y = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    w = tg.tensor(np.zeros(3), requires_grad=True, name="w")
    b = tg.tensor(0.0, requires_grad=True, name="b")
    a = tg.sigmoid(tg.linear(X, w, b))
    loss = tg.bce(a, y)
    loss.backward()
    print(f"loss            {loss.item():.6f}")
    print(f"w.grad          {w.grad}")
    print(f"X.T @ (a - y)/5 {X.data.T @ (a.data - y) / 5}")
    print(f"b.grad          {b.grad}")


if __name__ == "__main__":
    main()
