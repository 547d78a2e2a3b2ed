"""torchtext's datasets with download code (MD5-checked, tqdm progress) and parsers."""

from __future__ import annotations

from .text_datasets import (AG_NEWS, IMDB, SST2, LineDataset, PennTreebank,
                            TextClassificationDataset, WikiText2, WikiText103)
from .utils import download_from_url, extract_archive

__all__ = ["AG_NEWS", "IMDB", "SST2", "WikiText2", "WikiText103", "PennTreebank",
           "TextClassificationDataset", "LineDataset", "download_from_url", "extract_archive"]
