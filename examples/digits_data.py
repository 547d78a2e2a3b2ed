"""The optdigits data the examples train on: 1797 8x8 images of handwritten digits."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

import taimatsu as tm

PATH = Path(__file__).parent / "data" / "optdigits.csv.gz"


def load_digits(test_fraction: float = 0.2, seed: int = 0):
    """(x_train, y_train, x_test, y_test): images scaled to [0, 1] as (N, 1, 8, 8)."""
    with gzip.open(PATH, "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.float32)
    images = (table[:, :64] / 16.0).reshape(-1, 1, 8, 8)
    labels = table[:, 64].astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(labels))
    n_test = int(len(labels) * test_fraction)
    test, train = order[:n_test], order[n_test:]
    return (tm.from_numpy(images[train]), tm.from_numpy(labels[train]),
            tm.from_numpy(images[test]), tm.from_numpy(labels[test]))


def accuracy(model, x, y, batch_size: int = 512) -> float:
    """Fraction of correctly classified samples, evaluated without a graph."""
    model.eval()
    correct = 0
    with tm.no_grad():
        for i in range(0, len(y), batch_size):
            pred = model(x[i:i + batch_size]).argmax(dim=1)
            correct += int((pred == y[i:i + batch_size]).sum())
    model.train()
    return correct / len(y)
