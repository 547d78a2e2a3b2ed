"""A multilayer perceptron on the optdigits 8x8 handwritten digits.

    python examples/mlp_digits.py [--epochs 20] [--quiet]
"""

from __future__ import annotations

import argparse

from digits_data import accuracy, load_digits

import taimatsu as tm
from taimatsu import nn
from taimatsu.utils.data import DataLoader, TensorDataset


def main(argv=None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)

    tm.manual_seed(0)
    x_train, y_train, x_test, y_test = load_digits()
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=args.batch_size,
                        shuffle=True, generator=tm.Generator().manual_seed(0))
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    optimizer = tm.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()

    for epoch in range(args.epochs):
        total = 0.0
        for images, labels in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(images), labels)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(labels)
        if not args.quiet:
            print(f"epoch {epoch + 1}: loss {total / len(y_train):.4f}")
    acc = accuracy(model, x_test, y_test)
    print(f"test accuracy: {acc:.4f}")
    return acc


if __name__ == "__main__":
    main()
