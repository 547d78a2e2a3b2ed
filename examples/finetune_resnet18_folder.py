"""Fine-tune a ResNet-18 on a folder of images (ImageFolder layout: one folder per class).

    python examples/finetune_resnet18_folder.py --root IMAGES [--pretrained] [--epochs 6]

Without --root it writes a small folder of real images first (digits from the bundled
optdigits set, as 32x32 PNGs, classes 0-3) so the script runs anywhere. --pretrained
starts from the ImageNet weights (downloaded from the Hugging Face Hub through the model's
Weights record); otherwise the network starts from PyTorch's default initialization.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import taimatsu as tm
from taimatsu import nn
from taimatsu.utils.data import DataLoader, random_split
from taimatsu_vision import models, transforms
from taimatsu_vision.datasets import Digits, ImageFolder


def write_digit_folder(root: Path, classes: int, per_class: int) -> Path:
    """Real images on disk: optdigits samples saved as PNGs in one folder per label."""
    counts = dict.fromkeys(range(classes), 0)
    for image, label in Digits(train=True):
        if label < classes and counts[label] < per_class:
            folder = root / str(label)
            folder.mkdir(parents=True, exist_ok=True)
            image.convert("RGB").resize((32, 32)).save(folder / f"{counts[label]}.png")
            counts[label] += 1
    return root


def main(argv=None) -> tuple[float, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path)
    parser.add_argument("--pretrained", action="store_true")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--per-class", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)

    tm.manual_seed(0)
    scratch = None
    if args.root is None:
        scratch = tempfile.TemporaryDirectory()
        args.root = write_digit_folder(Path(scratch.name), 4, args.per_class)
    preprocess = transforms.Compose([
        transforms.Resize(32), transforms.ToTensor(),
        transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    data = ImageFolder(str(args.root), transform=preprocess)
    n_val = max(1, len(data) // 5)
    train, val = random_split(data, [len(data) - n_val, n_val],
                              generator=tm.Generator().manual_seed(0))

    model = models.resnet18(weights="DEFAULT" if args.pretrained else None)
    model.fc = nn.Linear(model.fc.in_features, len(data.classes))  # a new head
    optimizer = tm.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loader = DataLoader(train, batch_size=args.batch_size, shuffle=True,
                        generator=tm.Generator().manual_seed(0))

    first = last = None
    for epoch in range(args.epochs):
        total, seen = 0.0, 0
        for images, labels in loader:
            loss = nn.functional.cross_entropy(model(images), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(labels)
            seen += len(labels)
        last = total / seen
        first = last if first is None else first
        if not args.quiet:
            print(f"epoch {epoch + 1}: loss {last:.4f}")

    model.eval()
    correct = 0
    with tm.no_grad():
        for images, labels in DataLoader(val, batch_size=64):
            correct += int((model(images).argmax(1) == labels).sum())
    print(f"first epoch loss: {first:.4f}")
    print(f"last epoch loss: {last:.4f}")
    print(f"validation accuracy: {correct / len(val):.4f}")
    if scratch is not None:
        scratch.cleanup()
    return first, last


if __name__ == "__main__":
    main()
