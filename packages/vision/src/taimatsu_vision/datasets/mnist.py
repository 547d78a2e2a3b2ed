"""MNIST and its drop-in relatives (FashionMNIST, KMNIST, EMNIST), read from IDX files.

Files live in ``root/<ClassName>/raw`` (torchvision's layout), decompressed from the
published ``.gz`` files. Images are kept as one uint8 tensor and labels as one int64
tensor, so DataLoader workers share them without copying.
"""

from __future__ import annotations

import os
import shutil
import string

import numpy as np
from PIL import Image

import taimatsu as tm

from .utils import (
    DATASET_NOT_FOUND,
    check_integrity,
    download_and_extract_archive,
    download_from_mirrors,
    extract_archive,
    verify_str_arg,
)
from .vision import VisionDataset

__all__ = ["MNIST", "FashionMNIST", "KMNIST", "EMNIST", "read_sn3_pascalvincent_tensor",
           "read_image_file", "read_label_file"]

# IDX ("SN3 PascalVincent") type codes -> big-endian numpy dtypes
_SN3_TYPES = {8: np.dtype(">u1"), 9: np.dtype(">i1"), 11: np.dtype(">i2"),
              12: np.dtype(">i4"), 13: np.dtype(">f4"), 14: np.dtype(">f8")}


class CorruptFileError(RuntimeError):
    """An IDX file whose header or size does not add up."""


def read_sn3_pascalvincent_tensor(path: str, strict: bool = True) -> tm.Tensor:
    """Reads an IDX file: magic (0, 0, type, ndim), ndim big-endian int32 sizes, then data."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise CorruptFileError(f"{path} is not an IDX file (bad magic number)")
    type_code, nd = data[2], data[3]
    if type_code not in _SN3_TYPES or not 1 <= nd <= 4:
        raise CorruptFileError(f"{path}: unknown IDX type {type_code} or rank {nd}")
    header = 4 * (nd + 1)
    if len(data) < header:
        raise CorruptFileError(f"{path} is truncated (no complete IDX header)")
    shape = tuple(int.from_bytes(data[4 * (i + 1):4 * (i + 2)], "big") for i in range(nd))
    dtype = _SN3_TYPES[type_code]
    count = (len(data) - header) // dtype.itemsize
    expected = int(np.prod(shape))
    if strict and count != expected:
        raise CorruptFileError(f"{path} holds {count} values but its header says {shape}")
    parsed = np.frombuffer(data, dtype=dtype, count=expected, offset=header)
    return tm.from_numpy(parsed.astype(dtype.newbyteorder("="), copy=True).reshape(shape))


def read_label_file(path: str) -> tm.Tensor:
    x = read_sn3_pascalvincent_tensor(path, strict=False)
    if x.dtype != tm.uint8:
        raise TypeError(f"x should be of dtype torch.uint8 instead of {x.dtype}")
    if x.ndim != 1:
        raise ValueError(f"x should have 1 dimension instead of {x.ndim}")
    return x.long()


def read_image_file(path: str) -> tm.Tensor:
    x = read_sn3_pascalvincent_tensor(path, strict=False)
    if x.dtype != tm.uint8:
        raise TypeError(f"x should be of dtype torch.uint8 instead of {x.dtype}")
    if x.ndim != 3:
        raise ValueError(f"x should have 3 dimension instead of {x.ndim}")
    return x


class MNIST(VisionDataset):
    """The MNIST handwritten digits: 60,000 training and 10,000 test 28x28 images.

    Args:
        root: the folder holding ``MNIST/raw`` (created by download=True)
        train: the training set (else the test set)
        transform: applied to the PIL image (e.g. ``transforms.ToTensor()``)
        target_transform: applied to the int label
        download: fetch the files from the mirrors (skipped when already there)
    """

    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/",
               "http://yann.lecun.com/exdb/mnist/"]
    resources = [("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
                 ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
                 ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
                 ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c")]
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five",
               "6 - six", "7 - seven", "8 - eight", "9 - nine"]

    def __init__(self, root, train: bool = True, transform=None, target_transform=None,
                 download: bool = False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        if download:
            self.download()
        if not self._check_exists():
            raise RuntimeError(DATASET_NOT_FOUND)
        self.data, self.targets = self._load_data()

    @property
    def raw_folder(self) -> str:
        return os.path.join(self.root, self.__class__.__name__, "raw")

    @property
    def class_to_idx(self) -> dict:
        return {c: i for i, c in enumerate(self.classes)}

    @property
    def _file_prefix(self) -> str:
        return "train" if self.train else "t10k"

    def _raw_files(self) -> list[str]:
        return [os.path.splitext(name)[0] for name, _ in self.resources]

    def _check_exists(self) -> bool:
        return all(check_integrity(os.path.join(self.raw_folder, f)) for f in self._raw_files())

    def _load_data(self):
        images = os.path.join(self.raw_folder, f"{self._file_prefix}-images-idx3-ubyte")
        labels = os.path.join(self.raw_folder, f"{self._file_prefix}-labels-idx1-ubyte")
        try:
            data, targets = read_image_file(images), read_label_file(labels)
        except (CorruptFileError, TypeError, ValueError) as exc:
            raise RuntimeError(f"{DATASET_NOT_FOUND} ({exc}; delete the file and download "
                               "again)") from None
        if len(data) != len(targets):
            raise RuntimeError(f"{DATASET_NOT_FOUND} ({len(data)} images but {len(targets)} "
                               "labels)")
        return data, targets

    def download(self) -> None:
        """Downloads the .gz files (md5-checked, trying each mirror) and decompresses them."""
        if self._check_exists():
            return
        os.makedirs(self.raw_folder, exist_ok=True)
        for filename, md5 in self.resources:
            archive = download_from_mirrors(self.mirrors, filename, self.raw_folder, md5)
            extract_archive(archive, self.raw_folder)

    def __getitem__(self, index: int):
        img, target = self.data[index].numpy(), int(self.targets[index])
        img = Image.fromarray(img, mode="L")
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self) -> int:
        return len(self.data)

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train else 'Test'}"


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: 28x28 grayscale images of 10 kinds of clothing."""

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = [("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
                 ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
                 ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
                 ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310")]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]


class KMNIST(MNIST):
    """Kuzushiji-MNIST: 28x28 images of 10 cursive Japanese (hiragana) characters."""

    mirrors = ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"]
    resources = [("train-images-idx3-ubyte.gz", "bdb82020997e1d708af4cf47b453dcf7"),
                 ("train-labels-idx1-ubyte.gz", "e144d726b3acfaa3e44228e80efcd344"),
                 ("t10k-images-idx3-ubyte.gz", "5c965bf0a639b31b8f53240b1b52f4d7"),
                 ("t10k-labels-idx1-ubyte.gz", "7320c461ea6c1c855c0b718fb2a4b134")]
    classes = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]


class EMNIST(MNIST):
    """Extended MNIST: handwritten letters and digits in six splits.

    split: "byclass", "bymerge", "balanced", "letters", "digits" or "mnist". The images
    are stored transposed (as published; torchvision does not transpose them either).
    """

    url = "https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip"
    md5 = "58c8d27c78d21e728a6bc7b3cc06412e"
    splits = ("byclass", "bymerge", "balanced", "letters", "digits", "mnist")
    # letters that look alike in upper and lower case are merged in bymerge / balanced
    _merged_classes = {"c", "i", "j", "k", "l", "m", "o", "p", "s", "u", "v", "w", "x", "y",
                       "z"}
    _all_classes = set(string.digits + string.ascii_letters)
    classes_split_dict = {
        "byclass": sorted(_all_classes),
        "bymerge": sorted(_all_classes - _merged_classes),
        "balanced": sorted(_all_classes - _merged_classes),
        "letters": ["N/A"] + list(string.ascii_lowercase),
        "digits": list(string.digits),
        "mnist": list(string.digits),
    }

    def __init__(self, root, split: str, **kwargs):
        self.split = verify_str_arg(split, "split", self.splits)
        self.classes = self.classes_split_dict[self.split]
        super().__init__(root, **kwargs)

    @property
    def _file_prefix(self) -> str:
        return f"emnist-{self.split}-{'train' if self.train else 'test'}"

    def _raw_files(self) -> list[str]:
        return [f"{self._file_prefix}-images-idx3-ubyte",
                f"{self._file_prefix}-labels-idx1-ubyte"]

    def download(self) -> None:
        """Downloads the zip of every split, then decompresses its .gz files."""
        if self._check_exists():
            return
        os.makedirs(self.raw_folder, exist_ok=True)
        download_and_extract_archive(self.url, download_root=self.raw_folder, md5=self.md5)
        gzip_folder = os.path.join(self.raw_folder, "gzip")
        for gzip_file in sorted(os.listdir(gzip_folder)):
            if gzip_file.endswith(".gz"):
                extract_archive(os.path.join(gzip_folder, gzip_file), self.raw_folder)
        shutil.rmtree(gzip_folder)
