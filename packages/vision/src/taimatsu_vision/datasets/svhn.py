"""SVHN (Street View House Numbers), read from the published MATLAB files."""

from __future__ import annotations

import os

import numpy as np
from PIL import Image

from .utils import DATASET_NOT_FOUND, check_integrity, download_url, verify_str_arg
from .vision import VisionDataset

__all__ = ["SVHN"]


def _loadmat(path: str) -> dict:
    try:
        from scipy.io import loadmat
    except ImportError:
        raise ImportError("SVHN is stored as MATLAB .mat files, which need scipy to read: "
                          "pip install scipy") from None
    return loadmat(path)


class SVHN(VisionDataset):
    """SVHN digits: 32x32 colour crops of house numbers, labels 0-9.

    The files mark the digit 0 with label 10; it is mapped back to 0 here, as
    torchvision does.

    Args:
        root: the folder holding ``{split}_32x32.mat``
        split: "train", "test" or "extra"
        transform, target_transform: applied to the PIL image / the int label
        download: fetch the split's file (md5-checked)
    """

    split_list = {
        "train": ["http://ufldl.stanford.edu/housenumbers/train_32x32.mat", "train_32x32.mat",
                  "e26dedcc434d2e4c54c9b2d4a06d8373"],
        "test": ["http://ufldl.stanford.edu/housenumbers/test_32x32.mat", "test_32x32.mat",
                 "eb5a983be6a315427106f1b164d9cef3"],
        "extra": ["http://ufldl.stanford.edu/housenumbers/extra_32x32.mat", "extra_32x32.mat",
                  "a93ce644f1a588dc4d68dda5feec44a7"],
    }

    def __init__(self, root, split: str = "train", transform=None, target_transform=None,
                 download: bool = False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.split = verify_str_arg(split, "split", tuple(self.split_list))
        self.url, self.filename, self.file_md5 = self.split_list[self.split]
        if download:
            self.download()
        if not self._check_integrity():
            raise RuntimeError(DATASET_NOT_FOUND)
        mat = _loadmat(os.path.join(self.root, self.filename))
        # X is (32, 32, 3, N) in MATLAB's layout; keep (N, 3, 32, 32) like torchvision
        self.data = np.ascontiguousarray(np.transpose(mat["X"], (3, 2, 0, 1)))
        self.labels = mat["y"].astype(np.int64).squeeze(-1)
        self.labels[self.labels == 10] = 0

    def _check_integrity(self) -> bool:
        return check_integrity(os.path.join(self.root, self.filename), self.file_md5)

    def download(self) -> None:
        download_url(self.url, self.root, self.filename, self.file_md5)

    def __getitem__(self, index: int):
        img = Image.fromarray(np.transpose(self.data[index], (1, 2, 0)))
        target = int(self.labels[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self) -> int:
        return len(self.data)

    def extra_repr(self) -> str:
        return f"Split: {self.split}"
