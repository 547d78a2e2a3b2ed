"""Learned and random augmentation policies: AutoAugment (Cubuk et al., 2018),
RandAugment (Cubuk et al., 2019) and TrivialAugmentWide (Müller & Hutter, 2021), with
torchvision's operations and magnitude ranges. Random choices use taimatsu's generator.
"""

from __future__ import annotations

import math
from enum import Enum

import taimatsu as tm
from taimatsu import Tensor

from . import functional as F
from .functional import InterpolationMode, _interpolation_mode
from .transforms import _Transform

__all__ = ["AutoAugmentPolicy", "AutoAugment", "RandAugment", "TrivialAugmentWide"]


def _apply_op(img, op_name: str, magnitude: float, interpolation: InterpolationMode, fill):
    if op_name == "ShearX":
        # torchvision shears by atan(magnitude) degrees about the top-left corner, so the
        # pixel displacement is magnitude * y as in the original AutoAugment
        return F.affine(img, angle=0.0, translate=[0, 0], scale=1.0,
                        shear=[math.degrees(math.atan(magnitude)), 0.0],
                        interpolation=interpolation, fill=fill, center=[0, 0])
    if op_name == "ShearY":
        return F.affine(img, angle=0.0, translate=[0, 0], scale=1.0,
                        shear=[0.0, math.degrees(math.atan(magnitude))],
                        interpolation=interpolation, fill=fill, center=[0, 0])
    if op_name == "TranslateX":
        return F.affine(img, angle=0.0, translate=[int(magnitude), 0], scale=1.0,
                        interpolation=interpolation, shear=[0.0, 0.0], fill=fill)
    if op_name == "TranslateY":
        return F.affine(img, angle=0.0, translate=[0, int(magnitude)], scale=1.0,
                        interpolation=interpolation, shear=[0.0, 0.0], fill=fill)
    if op_name == "Rotate":
        return F.rotate(img, magnitude, interpolation=interpolation, fill=fill)
    if op_name == "Brightness":
        return F.adjust_brightness(img, 1.0 + magnitude)
    if op_name == "Color":
        return F.adjust_saturation(img, 1.0 + magnitude)
    if op_name == "Contrast":
        return F.adjust_contrast(img, 1.0 + magnitude)
    if op_name == "Sharpness":
        return F.adjust_sharpness(img, 1.0 + magnitude)
    if op_name == "Posterize":
        return F.posterize(img, int(magnitude))
    if op_name == "Solarize":
        return F.solarize(img, magnitude)
    if op_name == "AutoContrast":
        return F.autocontrast(img)
    if op_name == "Equalize":
        return F.equalize(img)
    if op_name == "Invert":
        return F.invert(img)
    if op_name == "Identity":
        return img
    raise ValueError(f"The provided operator {op_name} is not recognized.")


def _linspace(end: float, num_bins: int) -> list[float]:
    return tm.linspace(0.0, float(end), num_bins).tolist()


def _posterize_bits(num_bins: int, spread: int) -> list[int]:
    """8 bits down to 8 - spread, in num_bins steps (rounding half to even)."""
    steps = tm.round(tm.arange(num_bins) / ((num_bins - 1) / spread)).to(tm.int32)
    return (8 - steps).tolist()


def _solarize_thresholds(num_bins: int) -> list[float]:
    return tm.linspace(255.0, 0.0, num_bins).tolist()


def _tensor_fill(fill, img):
    if isinstance(img, Tensor):
        if isinstance(fill, (int, float)):
            return [float(fill)] * F.get_image_num_channels(img)
        if fill is not None:
            return [float(f) for f in fill]
    return fill


def _random_sign(magnitude: float, signed: bool) -> float:
    """Negates a signed op's magnitude with probability 1/2 (no draw for unsigned ops)."""
    if signed and tm.randint(2, (1,)).item():
        return -magnitude
    return magnitude


class AutoAugmentPolicy(Enum):
    """AutoAugment policies learned on ImageNet, CIFAR10 and SVHN."""

    IMAGENET = "imagenet"
    CIFAR10 = "cifar10"
    SVHN = "svhn"


# each sub-policy: two (operation, probability, magnitude bin or None) steps
_POLICIES = {
    AutoAugmentPolicy.IMAGENET: [
        (("Posterize", 0.4, 8), ("Rotate", 0.6, 9)),
        (("Solarize", 0.6, 5), ("AutoContrast", 0.6, None)),
        (("Equalize", 0.8, None), ("Equalize", 0.6, None)),
        (("Posterize", 0.6, 7), ("Posterize", 0.6, 6)),
        (("Equalize", 0.4, None), ("Solarize", 0.2, 4)),
        (("Equalize", 0.4, None), ("Rotate", 0.8, 8)),
        (("Solarize", 0.6, 3), ("Equalize", 0.6, None)),
        (("Posterize", 0.8, 5), ("Equalize", 1.0, None)),
        (("Rotate", 0.2, 3), ("Solarize", 0.6, 8)),
        (("Equalize", 0.6, None), ("Posterize", 0.4, 6)),
        (("Rotate", 0.8, 8), ("Color", 0.4, 0)),
        (("Rotate", 0.4, 9), ("Equalize", 0.6, None)),
        (("Equalize", 0.0, None), ("Equalize", 0.8, None)),
        (("Invert", 0.6, None), ("Equalize", 1.0, None)),
        (("Color", 0.6, 4), ("Contrast", 1.0, 8)),
        (("Rotate", 0.8, 8), ("Color", 1.0, 2)),
        (("Color", 0.8, 8), ("Solarize", 0.8, 7)),
        (("Sharpness", 0.4, 7), ("Invert", 0.6, None)),
        (("ShearX", 0.6, 5), ("Equalize", 1.0, None)),
        (("Color", 0.4, 0), ("Equalize", 0.6, None)),
        (("Equalize", 0.4, None), ("Solarize", 0.2, 4)),
        (("Solarize", 0.6, 5), ("AutoContrast", 0.6, None)),
        (("Invert", 0.6, None), ("Equalize", 1.0, None)),
        (("Color", 0.6, 4), ("Contrast", 1.0, 8)),
        (("Equalize", 0.8, None), ("Equalize", 0.6, None)),
    ],
    AutoAugmentPolicy.CIFAR10: [
        (("Invert", 0.1, None), ("Contrast", 0.2, 6)),
        (("Rotate", 0.7, 2), ("TranslateX", 0.3, 9)),
        (("Sharpness", 0.8, 1), ("Sharpness", 0.9, 3)),
        (("ShearY", 0.5, 8), ("TranslateY", 0.7, 9)),
        (("AutoContrast", 0.5, None), ("Equalize", 0.9, None)),
        (("ShearY", 0.2, 7), ("Posterize", 0.3, 7)),
        (("Color", 0.4, 3), ("Brightness", 0.6, 7)),
        (("Sharpness", 0.3, 9), ("Brightness", 0.7, 9)),
        (("Equalize", 0.6, None), ("Equalize", 0.5, None)),
        (("Contrast", 0.6, 7), ("Sharpness", 0.6, 5)),
        (("Color", 0.7, 7), ("TranslateX", 0.5, 8)),
        (("Equalize", 0.3, None), ("AutoContrast", 0.4, None)),
        (("TranslateY", 0.4, 3), ("Sharpness", 0.2, 6)),
        (("Brightness", 0.9, 6), ("Color", 0.2, 8)),
        (("Solarize", 0.5, 2), ("Invert", 0.0, None)),
        (("Equalize", 0.2, None), ("AutoContrast", 0.6, None)),
        (("Equalize", 0.2, None), ("Equalize", 0.6, None)),
        (("Color", 0.9, 9), ("Equalize", 0.6, None)),
        (("AutoContrast", 0.8, None), ("Solarize", 0.2, 8)),
        (("Brightness", 0.1, 3), ("Color", 0.7, 0)),
        (("Solarize", 0.4, 5), ("AutoContrast", 0.9, None)),
        (("TranslateY", 0.9, 9), ("TranslateY", 0.7, 9)),
        (("AutoContrast", 0.9, None), ("Solarize", 0.8, 3)),
        (("Equalize", 0.8, None), ("Invert", 0.1, None)),
        (("TranslateY", 0.7, 9), ("AutoContrast", 0.9, None)),
    ],
    AutoAugmentPolicy.SVHN: [
        (("ShearX", 0.9, 4), ("Invert", 0.2, None)),
        (("ShearY", 0.9, 8), ("Invert", 0.7, None)),
        (("Equalize", 0.6, None), ("Solarize", 0.6, 6)),
        (("Invert", 0.9, None), ("Equalize", 0.6, None)),
        (("Equalize", 0.6, None), ("Rotate", 0.9, 3)),
        (("ShearX", 0.9, 4), ("AutoContrast", 0.8, None)),
        (("ShearY", 0.9, 8), ("Invert", 0.4, None)),
        (("ShearY", 0.9, 5), ("Solarize", 0.2, 6)),
        (("Invert", 0.9, None), ("AutoContrast", 0.8, None)),
        (("Equalize", 0.6, None), ("Rotate", 0.9, 3)),
        (("ShearX", 0.9, 4), ("Solarize", 0.3, 3)),
        (("ShearY", 0.8, 8), ("Invert", 0.7, None)),
        (("Equalize", 0.9, None), ("TranslateY", 0.6, 6)),
        (("Invert", 0.9, None), ("Equalize", 0.6, None)),
        (("Contrast", 0.3, 3), ("Rotate", 0.8, 4)),
        (("Invert", 0.8, None), ("TranslateY", 0.0, 2)),
        (("ShearY", 0.7, 6), ("Solarize", 0.4, 8)),
        (("Invert", 0.6, None), ("Rotate", 0.8, 4)),
        (("ShearY", 0.3, 7), ("TranslateX", 0.9, 3)),
        (("ShearX", 0.1, 6), ("Invert", 0.6, None)),
        (("Solarize", 0.7, 2), ("TranslateY", 0.6, 7)),
        (("ShearY", 0.8, 4), ("Invert", 0.8, None)),
        (("ShearX", 0.7, 9), ("TranslateY", 0.8, 3)),
        (("ShearY", 0.8, 5), ("AutoContrast", 0.7, None)),
        (("ShearX", 0.7, 2), ("Invert", 0.1, None)),
    ],
}


class AutoAugment(_Transform):
    """Applies one of the 25 learned two-step sub-policies of `policy`, chosen at random.

    Tensor images should be uint8 of shape (..., 1 or 3, H, W); PIL images "L" or "RGB".
    """

    def __init__(self, policy: AutoAugmentPolicy = AutoAugmentPolicy.IMAGENET,
                 interpolation=InterpolationMode.NEAREST, fill=None) -> None:
        super().__init__()
        if policy not in _POLICIES:
            raise ValueError(f"The provided policy {policy} is not recognized.")
        self.policy = policy
        self.interpolation = _interpolation_mode(interpolation)
        self.fill = fill
        self.policies = _POLICIES[policy]

    def _augmentation_space(self, num_bins: int, image_size) -> dict:
        """op -> (magnitudes, signed); image_size is [width, height]."""
        return {
            "ShearX": (_linspace(0.3, num_bins), True),
            "ShearY": (_linspace(0.3, num_bins), True),
            "TranslateX": (_linspace(150.0 / 331.0 * image_size[0], num_bins), True),
            "TranslateY": (_linspace(150.0 / 331.0 * image_size[1], num_bins), True),
            "Rotate": (_linspace(30.0, num_bins), True),
            "Brightness": (_linspace(0.9, num_bins), True),
            "Color": (_linspace(0.9, num_bins), True),
            "Contrast": (_linspace(0.9, num_bins), True),
            "Sharpness": (_linspace(0.9, num_bins), True),
            "Posterize": (_posterize_bits(num_bins, 4), False),
            "Solarize": (_solarize_thresholds(num_bins), False),
            "AutoContrast": (None, False),
            "Equalize": (None, False),
            "Invert": (None, False),
        }

    @staticmethod
    def get_params(transform_num: int):
        """(sub-policy index, probabilities (2,), signs (2,))."""
        policy_id = int(tm.randint(transform_num, (1,)).item())
        probs = tm.rand((2,))
        signs = tm.randint(2, (2,))
        return policy_id, probs, signs

    def forward(self, img):
        fill = _tensor_fill(self.fill, img)
        transform_id, probs, signs = self.get_params(len(self.policies))
        probs, signs = probs.tolist(), signs.tolist()
        for i, (op_name, p, magnitude_id) in enumerate(self.policies[transform_id]):
            if probs[i] <= p:
                op_meta = self._augmentation_space(10, F.get_image_size(img))
                magnitudes, signed = op_meta[op_name]
                magnitude = float(magnitudes[magnitude_id]) if magnitude_id is not None else 0.0
                if signed and signs[i] == 0:
                    magnitude = -magnitude
                img = _apply_op(img, op_name, magnitude, self.interpolation, fill)
        return img

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(policy={self.policy}, fill={self.fill})"


class RandAugment(_Transform):
    """Applies `num_ops` operations picked uniformly at random, all at `magnitude`
    (a bin out of `num_magnitude_bins`)."""

    def __init__(self, num_ops: int = 2, magnitude: int = 9, num_magnitude_bins: int = 31,
                 interpolation=InterpolationMode.NEAREST, fill=None) -> None:
        super().__init__()
        self.num_ops = num_ops
        self.magnitude = magnitude
        self.num_magnitude_bins = num_magnitude_bins
        self.interpolation = _interpolation_mode(interpolation)
        self.fill = fill

    def _augmentation_space(self, num_bins: int, image_size) -> dict:
        """op -> (magnitudes, signed); image_size is [width, height]."""
        return {
            "Identity": (None, False),
            "ShearX": (_linspace(0.3, num_bins), True),
            "ShearY": (_linspace(0.3, num_bins), True),
            "TranslateX": (_linspace(150.0 / 331.0 * image_size[0], num_bins), True),
            "TranslateY": (_linspace(150.0 / 331.0 * image_size[1], num_bins), True),
            "Rotate": (_linspace(30.0, num_bins), True),
            "Brightness": (_linspace(0.9, num_bins), True),
            "Color": (_linspace(0.9, num_bins), True),
            "Contrast": (_linspace(0.9, num_bins), True),
            "Sharpness": (_linspace(0.9, num_bins), True),
            "Posterize": (_posterize_bits(num_bins, 4), False),
            "Solarize": (_solarize_thresholds(num_bins), False),
            "AutoContrast": (None, False),
            "Equalize": (None, False),
        }

    def forward(self, img):
        fill = _tensor_fill(self.fill, img)
        for _ in range(self.num_ops):
            op_meta = self._augmentation_space(self.num_magnitude_bins, F.get_image_size(img))
            op_index = int(tm.randint(len(op_meta), (1,)).item())
            op_name = list(op_meta)[op_index]
            magnitudes, signed = op_meta[op_name]
            magnitude = float(magnitudes[self.magnitude]) if magnitudes is not None else 0.0
            magnitude = _random_sign(magnitude, signed)
            img = _apply_op(img, op_name, magnitude, self.interpolation, fill)
        return img

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(num_ops={self.num_ops}, "
                f"magnitude={self.magnitude}, num_magnitude_bins={self.num_magnitude_bins}, "
                f"interpolation={self.interpolation}, fill={self.fill})")


class TrivialAugmentWide(_Transform):
    """Applies one random operation at a random magnitude (the "wide" ranges)."""

    def __init__(self, num_magnitude_bins: int = 31, interpolation=InterpolationMode.NEAREST,
                 fill=None) -> None:
        super().__init__()
        self.num_magnitude_bins = num_magnitude_bins
        self.interpolation = _interpolation_mode(interpolation)
        self.fill = fill

    def _augmentation_space(self, num_bins: int) -> dict:
        return {
            "Identity": (None, False),
            "ShearX": (_linspace(0.99, num_bins), True),
            "ShearY": (_linspace(0.99, num_bins), True),
            "TranslateX": (_linspace(32.0, num_bins), True),
            "TranslateY": (_linspace(32.0, num_bins), True),
            "Rotate": (_linspace(135.0, num_bins), True),
            "Brightness": (_linspace(0.99, num_bins), True),
            "Color": (_linspace(0.99, num_bins), True),
            "Contrast": (_linspace(0.99, num_bins), True),
            "Sharpness": (_linspace(0.99, num_bins), True),
            "Posterize": (_posterize_bits(num_bins, 6), False),
            "Solarize": (_solarize_thresholds(num_bins), False),
            "AutoContrast": (None, False),
            "Equalize": (None, False),
        }

    def forward(self, img):
        fill = _tensor_fill(self.fill, img)
        op_meta = self._augmentation_space(self.num_magnitude_bins)
        op_index = int(tm.randint(len(op_meta), (1,)).item())
        op_name = list(op_meta)[op_index]
        magnitudes, signed = op_meta[op_name]
        magnitude = (float(magnitudes[int(tm.randint(len(magnitudes), (1,)).item())])
                     if magnitudes is not None else 0.0)
        magnitude = _random_sign(magnitude, signed)
        return _apply_op(img, op_name, magnitude, self.interpolation, fill)

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(num_magnitude_bins={self.num_magnitude_bins}, "
                f"interpolation={self.interpolation}, fill={self.fill})")
