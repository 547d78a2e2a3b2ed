"""Digits: the UCI optdigits handwritten digits (1797 8x8 images), shipped in the package."""

from __future__ import annotations

import gzip
from importlib import resources

import numpy as np
from PIL import Image

from .vision import VisionDataset

__all__ = ["Digits"]

_DATA_FILE = "digits.csv.gz"
# every fifth sample of each class is held out: a fixed, stratified split needing no RNG
_TEST_EVERY = 5


def _load_table() -> tuple[np.ndarray, np.ndarray]:
    """(images (N, 8, 8) uint8 in 0..255, labels (N,) int64) from the bundled CSV."""
    source = resources.files(__package__).joinpath("data", _DATA_FILE)
    with source.open("rb") as raw, gzip.open(raw, "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.int64)
    # the published values count 0..16 set pixels of a 4x4 block: spread to 0..255
    images = np.rint(table[:, :64] * (255.0 / 16.0)).astype(np.uint8).reshape(-1, 8, 8)
    return images, table[:, 64].copy()


def _test_mask(labels: np.ndarray) -> np.ndarray:
    """True for the 5th, 10th, ... sample of each class, in file order."""
    rank = np.zeros(len(labels), dtype=np.int64)
    for c in np.unique(labels):
        members = labels == c
        rank[members] = np.arange(members.sum())
    return rank % _TEST_EVERY == _TEST_EVERY - 1


class Digits(VisionDataset):
    """The optdigits set (E. Alpaydin, C. Kaynak, UCI ML repository, CC BY 4.0): 8x8
    grayscale images of handwritten digits 0-9, bundled with taimatsu-vision.

    The split is fixed and stratified: the 5th, 10th, ... image of each digit (in file
    order) form the test set (355 images), the others the training set (1442). Samples
    are (PIL "L" image, int label).

    Args:
        root: unused (the data ships in the package); accepted for a uniform signature
        train: the training split (else the test split)
        transform, target_transform: applied to the PIL image / the int label
        download: accepted and ignored (nothing to download)
    """

    classes = [str(d) for d in range(10)]

    def __init__(self, root=None, train: bool = True, transform=None, target_transform=None,
                 download: bool = False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        images, labels = _load_table()
        keep = ~_test_mask(labels) if train else _test_mask(labels)
        self.data = np.ascontiguousarray(images[keep])
        self.targets = labels[keep]

    @property
    def class_to_idx(self) -> dict:
        return {c: i for i, c in enumerate(self.classes)}

    def __getitem__(self, index: int):
        img, target = Image.fromarray(self.data[index], mode="L"), int(self.targets[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self) -> int:
        return len(self.data)

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train else 'Test'}"
