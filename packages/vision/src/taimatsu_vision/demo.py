"""taimatsu-vision demo: a LeNet-style CNN on the bundled handwritten digits.

    python -m taimatsu_vision.demo [--epochs 8] [--out demo_output] [--no-progress]
    taimatsu-vision-demo ...

Trains with a DataLoader and a progress bar per epoch, evaluates on the held-out split,
saves a checkpoint, reloads it into a fresh model and checks it scores the same, then
writes a PNG grid of test digits with their predicted labels and a PNG loss curve.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from tqdm.auto import tqdm

import taimatsu as tm
from taimatsu import nn
from taimatsu.utils.data import DataLoader

from . import transforms as T
from .datasets import Digits
from .utils import make_grid


class LeNet(nn.Module):
    """LeNet-style CNN for 8x8 digits: two conv-ReLU-pool stages, then two linear layers."""

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(32 * 2 * 2, 64), nn.ReLU(), nn.Dropout(0.2),
            nn.Linear(64, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


def _loaders(batch_size: int, seed: int, limit: int | None):
    # the digits are small and centred already: scaling to [0, 1] and normalizing suffices
    transform = T.Compose([T.ToTensor(), T.Normalize([0.5], [0.5])])
    train_set = Digits(train=True, transform=transform)
    test_set = Digits(train=False, transform=transform)
    if limit is not None:
        train_set = tm.utils.data.Subset(train_set, range(min(limit, len(train_set))))
    train = DataLoader(train_set, batch_size=batch_size, shuffle=True,
                       generator=tm.Generator().manual_seed(seed))
    test = DataLoader(test_set, batch_size=256)
    return train, test, test_set


def evaluate(model: nn.Module, loader) -> tuple[float, np.ndarray]:
    """(accuracy, predicted labels) over a loader, without building a graph."""
    model.eval()
    correct, preds = 0, []
    with tm.no_grad():
        for images, labels in loader:
            pred = model(images).argmax(dim=1)
            correct += int((pred == labels).sum())
            preds.append(pred.numpy())
    model.train()
    return correct / len(loader.dataset), np.concatenate(preds)


def train_epoch(model, loader, optimizer, loss_fn, epoch: int, epochs: int,
                progress: bool) -> tuple[float, float, list[float]]:
    """One pass over the data; returns (mean loss, training accuracy, per-batch losses)."""
    total, correct, seen, batch_losses = 0.0, 0, 0, []
    bar = tqdm(loader, desc=f"epoch {epoch}/{epochs}", unit="batch", disable=not progress,
               leave=True, dynamic_ncols=True)
    for images, labels in bar:
        optimizer.zero_grad()
        logits = model(images)
        loss = loss_fn(logits, labels)
        loss.backward()
        optimizer.step()
        n = len(labels)
        batch_losses.append(loss.item())
        total += batch_losses[-1] * n
        correct += int((logits.argmax(dim=1) == labels).sum())
        seen += n
        bar.set_postfix(loss=f"{total / seen:.4f}", acc=f"{correct / seen:.3f}")
    return total / seen, correct / seen, batch_losses


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: a fixed-size bitmap font
        return ImageFont.load_default()


def save_prediction_grid(images: tm.Tensor, labels, preds, path: str, nrow: int = 8,
                         scale: int = 8) -> None:
    """A grid of digits (upscaled), each labelled with its prediction (red when wrong)."""
    grid = make_grid(images, nrow=nrow, padding=1, normalize=True, pad_value=1.0)
    arr = (grid.numpy().transpose(1, 2, 0) * 255).round().astype(np.uint8)
    img = Image.fromarray(arr).resize((arr.shape[1] * scale, arr.shape[0] * scale),
                                      Image.Resampling.NEAREST)
    draw = ImageDraw.Draw(img)
    font = _font(2 * scale)
    cell = (images.shape[-1] + 1) * scale
    for k, (label, pred) in enumerate(zip(labels, preds)):
        y, x = divmod(k, nrow)
        colour = (0, 140, 0) if label == pred else (220, 0, 0)
        corner = (x * cell + scale, y * cell + scale)
        box = draw.textbbox(corner, str(int(pred)), font=font)
        draw.rectangle([box[0] - 2, box[1] - 2, box[2] + 2, box[3] + 2], fill="white")
        draw.text(corner, str(int(pred)), fill=colour, font=font)
    img.save(path)


def save_loss_curve(losses: list[float], epoch_losses: list[float], path: str,
                    size=(640, 400)) -> None:
    """Per-batch training loss (grey) and per-epoch mean (blue), drawn with Pillow."""
    width, height = size
    left, right, top, bottom = 60, 20, 30, 40
    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    font = _font(12)
    x0, x1, y0, y1 = left, width - right, top, height - bottom
    hi = max(losses) * 1.05 if losses else 1.0

    def point(i: float, value: float, n: int) -> tuple[float, float]:
        return (x0 + (x1 - x0) * i / max(n - 1, 1), y1 - (y1 - y0) * value / hi)

    draw.rectangle([x0, y0, x1, y1], outline="black")
    for frac in (0.0, 0.25, 0.5, 0.75, 1.0):  # y ticks
        y = y1 - (y1 - y0) * frac
        draw.line([x0 - 4, y, x0, y], fill="black")
        draw.text((5, y - 6), f"{hi * frac:.2f}", fill="black", font=font)
    n = len(losses)
    if n > 1:
        draw.line([point(i, v, n) for i, v in enumerate(losses)], fill=(170, 170, 170), width=1)
    per_epoch = n / max(len(epoch_losses), 1)
    # each epoch's mean sits at the end of that epoch's batches
    marks = [point((e + 1) * per_epoch - 1, v, n) for e, v in enumerate(epoch_losses)]
    if len(marks) > 1:
        draw.line(marks, fill=(30, 80, 200), width=3)
    for x, y in marks:
        draw.ellipse([x - 3, y - 3, x + 3, y + 3], fill=(30, 80, 200))
    for e, (x, _) in enumerate(marks, start=1):  # x ticks at the end of each epoch
        draw.line([x, y1, x, y1 + 4], fill="black")
        draw.text((x - 4, y1 + 6), str(e), fill="black", font=font)
    draw.text((x0, 8), "training loss (grey: batches, blue: epoch mean)", fill="black",
              font=font)
    draw.text(((x0 + x1) / 2 - 15, height - 18), "epoch", fill="black", font=font)
    img.save(path)


def main(argv=None) -> float:
    parser = argparse.ArgumentParser(
        prog="taimatsu-vision-demo",
        description="Train a LeNet-style CNN on the bundled handwritten digits.")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, default=None,
                        help="train on the first N training images only (quick runs)")
    parser.add_argument("--out", default="demo_output", help="folder for the output files")
    parser.add_argument("--no-progress", dest="progress", action="store_false",
                        help="no progress bars")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    tm.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    train_loader, test_loader, test_set = _loaders(args.batch_size, args.seed, args.limit)
    print(f"digits: {len(train_loader.dataset)} training and {len(test_set)} test images "
          "(8x8, 10 classes)")

    model = LeNet()
    optimizer = tm.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    scheduler = tm.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    loss_fn = nn.CrossEntropyLoss()
    batch_losses, epoch_losses = [], []
    for epoch in range(1, args.epochs + 1):
        loss, acc, losses = train_epoch(model, train_loader, optimizer, loss_fn, epoch,
                                        args.epochs, args.progress)
        batch_losses += losses
        epoch_losses.append(loss)
        scheduler.step()
        if not args.progress:
            print(f"epoch {epoch}/{args.epochs}: loss {loss:.4f}, train accuracy {acc:.4f}")

    accuracy, preds = evaluate(model, test_loader)
    print(f"test accuracy: {accuracy:.4f}")

    checkpoint = os.path.join(args.out, "lenet_digits.pt")
    tm.save({"model": model.state_dict(), "epochs": args.epochs, "accuracy": accuracy},
            checkpoint)
    restored = LeNet()
    state = tm.load(checkpoint)
    restored.load_state_dict(state["model"])
    reloaded_accuracy, _ = evaluate(restored, test_loader)
    print(f"reloaded checkpoint test accuracy: {reloaded_accuracy:.4f}")
    if reloaded_accuracy != accuracy:
        raise RuntimeError(f"the reloaded model scores {reloaded_accuracy}, the trained one "
                           f"{accuracy}: the checkpoint did not round-trip")

    shown = min(64, len(test_set))
    images = tm.stack([test_set[i][0] for i in range(shown)])
    grid_path = os.path.join(args.out, "predictions.png")
    save_prediction_grid(images, test_set.targets[:shown], preds[:shown], grid_path)
    curve_path = os.path.join(args.out, "loss_curve.png")
    save_loss_curve(batch_losses, epoch_losses, curve_path)

    print(f"checkpoint:  {os.path.abspath(checkpoint)}")
    print(f"predictions: {os.path.abspath(grid_path)}")
    print(f"loss curve:  {os.path.abspath(curve_path)}")
    print(f"done in {time.perf_counter() - start:.1f} s")
    return accuracy


if __name__ == "__main__":
    main()
