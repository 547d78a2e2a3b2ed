"""A small convolutional network on the optdigits 8x8 handwritten digits.

    python examples/cnn_digits.py [--epochs 15] [--quiet]
"""

from __future__ import annotations

import argparse

from digits_data import accuracy, load_digits

import taimatsu as tm
from taimatsu import nn
from taimatsu.utils.data import DataLoader, TensorDataset


class DigitNet(nn.Module):
    """conv(1->16) -> pool -> conv(16->32) -> pool -> linear: 8x8 in, 10 classes out."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(0.2), nn.Linear(32 * 2 * 2, 10))

    def forward(self, x):
        return self.classifier(self.features(x))


def main(argv=None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)

    tm.manual_seed(0)
    x_train, y_train, x_test, y_test = load_digits()
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=args.batch_size,
                        shuffle=True, generator=tm.Generator().manual_seed(0))
    model = DigitNet()
    optimizer = tm.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    scheduler = tm.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    loss_fn = nn.CrossEntropyLoss()

    for epoch in range(args.epochs):
        total = 0.0
        for images, labels in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(images), labels)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(labels)
        scheduler.step()
        if not args.quiet:
            print(f"epoch {epoch + 1}: loss {total / len(y_train):.4f}")
    acc = accuracy(model, x_test, y_test)
    print(f"test accuracy: {acc:.4f}")
    return acc


if __name__ == "__main__":
    main()
