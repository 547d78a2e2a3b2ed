"""Linear regression with a hand-written training loop over Tensors.

Fits y = w x + b to noisy samples of y = 2 x - 3 by gradient descent on the mean squared
error: autograd computes the gradients, the update runs under no_grad, and the gradients
are zeroed after every step. No nn, no optim: just tensors.

Run: python examples/linear_regression.py [--steps 200] [--lr 0.1] [--quiet]
"""

from __future__ import annotations

import argparse

import numpy as np

import taimatsu as tm

TRUE_W, TRUE_B = 2.0, -3.0


def make_data(n: int, seed: int) -> tuple[tm.Tensor, tm.Tensor]:
    """n samples of y = 2x - 3 + noise, x uniform in [-1, 1), from a seeded generator."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, size=(n, 1)).astype(np.float32)
    noise = rng.normal(0.0, 0.1, size=(n, 1)).astype(np.float32)
    return tm.from_numpy(x), tm.from_numpy(TRUE_W * x + TRUE_B + noise)


def train(steps: int, lr: float, n: int = 256, seed: int = 0, log_every: int = 20,
          quiet: bool = False) -> tuple[float, float, float]:
    """Runs gradient descent; returns the learned (w, b) and the final loss."""
    x, y = make_data(n, seed)
    w = tm.zeros(1, requires_grad=True)
    b = tm.zeros(1, requires_grad=True)
    loss = None
    for step in range(1, steps + 1):
        pred = x * w + b
        loss = ((pred - y) ** 2).mean()
        loss.backward()
        with tm.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
        w.grad.zero_()
        b.grad.zero_()
        if not quiet and (step % log_every == 0 or step == 1):
            print(f"step {step:4d}  loss {loss.item():.6f}")
    return w.item(), b.item(), loss.item()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Linear regression with manual SGD.")
    parser.add_argument("--steps", type=int, default=200, help="gradient steps (default 200)")
    parser.add_argument("--lr", type=float, default=0.1, help="learning rate (default 0.1)")
    parser.add_argument("--samples", type=int, default=256, help="training samples")
    parser.add_argument("--seed", type=int, default=0, help="data seed")
    parser.add_argument("--quiet", action="store_true", help="print only the result")
    args = parser.parse_args(argv)
    w, b, loss = train(args.steps, args.lr, n=args.samples, seed=args.seed, quiet=args.quiet)
    print(f"learned w = {w:.4f}, b = {b:.4f} (true w = {TRUE_W}, b = {TRUE_B}); "
          f"final loss {loss:.6f}")


if __name__ == "__main__":
    main()
