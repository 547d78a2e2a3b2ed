"""Data for the compat scripts, written where each script expects it (no network here).

- a tiny MNIST in the raw IDX layout torchvision reads (``root/MNIST/raw``), made from
  the repository's real optdigits digits (8x8, upscaled to 28x28), so that
  ``datasets.MNIST(root, download=True)`` finds its files and downloads nothing;
- a tiny word corpus (train/valid/test.txt) from a small grammar, so a language model
  has something to learn.
"""

from __future__ import annotations

import gzip
import random
import struct
from pathlib import Path

import numpy as np
import pytest

OPTDIGITS = Path(__file__).resolve().parents[2] / "examples" / "data" / "optdigits.csv.gz"


def _optdigits() -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 (N, 28, 28), labels uint8 (N,)): 8x8 digits scaled up 3x and padded."""
    with gzip.open(OPTDIGITS, "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.int64)
    small = table[:, :64].reshape(-1, 8, 8) * 255 // 16
    big = np.kron(small, np.ones((3, 3), dtype=np.int64))           # (N, 24, 24)
    images = np.pad(big, ((0, 0), (2, 2), (2, 2))).astype(np.uint8)  # MNIST's 28x28
    return images, table[:, 64].astype(np.uint8)


def _write_idx(path: Path, array: np.ndarray) -> None:
    """An IDX file: magic (0, 0, 0x08 = ubyte, ndim), big-endian int32 sizes, the bytes."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + np.ascontiguousarray(array, dtype=np.uint8).tobytes())


def write_mnist(root: Path, n_train: int = 512, n_test: int = 256) -> Path:
    """Writes MNIST's four decompressed raw files under root/MNIST/raw; returns root."""
    images, labels = _optdigits()
    assert n_train + n_test <= len(labels)
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    splits = {"train": slice(0, n_train), "t10k": slice(n_train, n_train + n_test)}
    for prefix, rows in splits.items():
        _write_idx(raw / f"{prefix}-images-idx3-ubyte", images[rows])
        _write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels[rows])
    return root


_SUBJECTS = ["the cat", "a dog", "the old man", "my friend", "the bird", "a child"]
_VERBS = ["sees", "likes", "follows", "finds", "hears"]
_OBJECTS = ["the ball", "a tree", "the river", "the house", "a small boat", "the moon"]
_ENDINGS = ["today", "at night", "again", "in the park", "."]


def _sentence(rng: random.Random) -> str:
    return " ".join([rng.choice(_SUBJECTS), rng.choice(_VERBS), rng.choice(_OBJECTS),
                     rng.choice(_ENDINGS)])


def write_corpus(folder: Path, n_train: int = 300, n_eval: int = 60, seed: int = 0) -> Path:
    """train/valid/test.txt of grammatical toy sentences (one per line) in folder."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for name, lines in (("train", n_train), ("valid", n_eval), ("test", n_eval)):
        text = "\n".join(_sentence(rng) for _ in range(lines)) + "\n"
        (folder / f"{name}.txt").write_text(text, encoding="utf8")
    return folder


# Session-scoped: several scripts read the same data, and none of them writes to it.
@pytest.fixture(scope="session")
def mnist_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_mnist(tmp_path_factory.mktemp("mnist"))


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("corpus"))
