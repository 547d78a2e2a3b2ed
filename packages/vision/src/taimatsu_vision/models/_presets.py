"""The inference preprocessing that pretrained classifiers expect (torchvision's
ImageClassification preset), and the ImageNet-1k category names."""

from __future__ import annotations

import math
from functools import cache
from importlib import resources

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class ImageClassification:
    """Resize the shorter side to resize_size, center-crop crop_size, convert to a float
    tensor in [0, 1], normalize with mean/std.

    Takes a PIL image or a uint8/float (..., C, H, W) tensor (a batch works too) and
    returns a float (..., C, crop_size, crop_size) tensor.

    Args:
        interpolation: an InterpolationMode or its value ("bilinear", "bicubic", ...)
    """

    def __init__(self, *, crop_size: int, resize_size: int = 256, mean=IMAGENET_MEAN,
                 std=IMAGENET_STD, interpolation="bilinear", antialias: bool | None = True):
        self.crop_size = [crop_size]
        self.resize_size = [resize_size]
        self.mean = list(mean)
        self.std = list(std)
        self.interpolation = getattr(interpolation, "value", interpolation)
        self.antialias = antialias

    @classmethod
    def from_timm_config(cls, cfg: dict) -> ImageClassification:
        """The eval transform of a timm `pretrained_cfg`: resize to
        floor(input_size / crop_pct), center-crop input_size."""
        size = int(cfg.get("input_size", (3, 224, 224))[-1])
        crop_pct = float(cfg.get("crop_pct") or 0.875)
        return cls(crop_size=size, resize_size=math.floor(size / crop_pct),
                   mean=cfg.get("mean", IMAGENET_MEAN), std=cfg.get("std", IMAGENET_STD),
                   interpolation=cfg.get("interpolation") or "bilinear")

    def __call__(self, img):
        # Imported here: building the model zoo must not need the transforms' imports.
        from taimatsu import Tensor, float32
        from taimatsu_vision.transforms import InterpolationMode
        from taimatsu_vision.transforms import functional as F

        img = F.resize(img, self.resize_size, interpolation=InterpolationMode(self.interpolation),
                       antialias=self.antialias)
        img = F.center_crop(img, self.crop_size)
        if not isinstance(img, Tensor):
            img = F.pil_to_tensor(img)
        img = F.convert_image_dtype(img, float32)
        return F.normalize(img, mean=self.mean, std=self.std)

    def __eq__(self, other) -> bool:
        return isinstance(other, ImageClassification) and vars(self) == vars(other)

    def __repr__(self) -> str:
        lines = [f"    crop_size={self.crop_size}", f"    resize_size={self.resize_size}",
                 f"    mean={self.mean}", f"    std={self.std}",
                 f"    interpolation=InterpolationMode.{self.interpolation.upper()}"]
        return "ImageClassification(\n" + "\n".join(lines) + "\n)"

    def describe(self) -> str:
        return (f"Accepts PIL.Image, batched (B, C, H, W) and single (C, H, W) image tensors. "
                f"The images are resized to resize_size={self.resize_size} using "
                f"interpolation={self.interpolation}, followed by a central crop of "
                f"crop_size={self.crop_size}. Finally the values are first rescaled to "
                f"[0.0, 1.0] and then normalized using mean={self.mean} and std={self.std}.")


@cache
def imagenet_categories() -> tuple[str, ...]:
    """The 1000 ILSVRC-2012 class names in class-index order (WordNet lemmas, the short
    names torchvision uses)."""
    text = resources.files(__package__).joinpath("imagenet_classes.txt").read_text("utf-8")
    return tuple(line for line in text.splitlines() if line)
