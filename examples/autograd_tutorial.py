"""Tensors and autograd in ten steps (the classic "what is autograd" tour).

Run: python examples/autograd_tutorial.py
Each step prints what it computed; the numbers match the same steps in PyTorch.
"""

from __future__ import annotations

import argparse

import taimatsu as tm


def section(title: str) -> None:
    print(f"\n== {title}")


def main(argv: list[str] | None = None) -> None:
    argparse.ArgumentParser(description=__doc__).parse_args(argv)

    section("tensors")
    x = tm.tensor([[1.0, 2.0], [3.0, 4.0]])
    print("x =", x)
    print("shape:", x.shape, "dtype:", x.dtype)
    print("zeros:", tm.zeros(2, 3))
    print("ones_like(x):", tm.ones_like(x))

    section("operations")
    y = tm.ones(2, 2)
    print("x + y =", x + y)
    print("x * y =", x * y)
    print("x @ x =", x @ x)
    print("x.sum() =", x.sum().item(), " x.mean() =", x.mean().item())

    section("requires_grad and grad_fn")
    x = tm.ones(2, 2, requires_grad=True)
    print("x =", x)
    y = x + 2
    print("y = x + 2 ->", y)
    print("y.grad_fn:", y.grad_fn.name())
    z = y * y * 3
    out = z.mean()
    print("z = 3 * y * y ->", z)
    print("out = z.mean() ->", out)

    section("backward")
    out.backward()
    # out = 1/4 sum 3 (x + 2)^2, so d(out)/dx = 3/2 (x + 2) = 4.5 at x = 1
    print("x.grad =", x.grad)
    print("d(out)/dx at x=1:", x.grad[0, 0].item())

    section("requires_grad_ on an existing tensor")
    a = tm.tensor([[2.0, -1.0], [0.5, 3.0]])
    a = (a * 3) / (a - 1)
    print("a.requires_grad:", a.requires_grad)
    a.requires_grad_(True)
    print("after requires_grad_():", a.requires_grad)
    b = (a * a).sum()
    print("b.grad_fn:", b.grad_fn.name())

    section("vector-Jacobian product")
    x = tm.tensor([0.5, -1.0, 2.0], requires_grad=True)
    y = x * 2
    for _ in range(3):
        y = y * 2  # y = 16 x, so the Jacobian is 16 I
    print("y =", y)
    v = tm.tensor([0.1, 1.0, 0.0001])
    y.backward(v)  # y is not a scalar: pass the vector v of v^T J
    print("x.grad = v^T J =", x.grad)

    section("no_grad")
    print("(x ** 2).requires_grad:", (x ** 2).requires_grad)
    with tm.no_grad():
        print("inside no_grad:", (x ** 2).requires_grad)

    section("detach")
    y = x.detach()
    print("y.requires_grad:", y.requires_grad)
    print("same values:", bool((y == x).all()))


if __name__ == "__main__":
    main()
