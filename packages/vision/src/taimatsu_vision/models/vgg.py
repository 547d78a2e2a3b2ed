"""VGG (Simonyan & Zisserman, 2015) with torchvision's layout: `features` (3x3 convs,
optional batch norm, ReLU, 2x2 max-pools), a 7x7 adaptive average pool, and a
three-layer `classifier`."""

from __future__ import annotations

import taimatsu
from taimatsu import Tensor, nn

from ._api import register_model
from ._utils import handle_legacy_interface, load_weights, prepare
from ._weights import (
    VGG11_BN_Weights,
    VGG11_Weights,
    VGG13_BN_Weights,
    VGG13_Weights,
    VGG16_BN_Weights,
    VGG16_Weights,
    VGG19_BN_Weights,
    VGG19_Weights,
)

__all__ = ["VGG", "make_layers", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16",
           "vgg16_bn", "vgg19", "vgg19_bn"]

# Output channels of each 3x3 conv; "M" is a 2x2 max-pool. A: VGG-11, B: 13, D: 16, E: 19.
cfgs: dict[str, list] = {
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512,
          "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512,
          512, 512, 512, "M"],
}


class VGG(nn.Module):
    """VGG over a `features` stack (see make_layers).

    The first two classifier layers also load from checkpoints that store them as 7x7 and
    1x1 convolutions (timm's layout of the same weights): they are reshaped on load.
    """

    def __init__(self, features: nn.Module, num_classes: int = 1000, init_weights: bool = True,
                 dropout: float = 0.5) -> None:
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes))
        if init_weights:
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    if m.bias is not None:
                        nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0, 0.01)
                    nn.init.constant_(m.bias, 0)
        self._register_load_state_dict_pre_hook(self._flatten_conv_classifier)

    def _flatten_conv_classifier(self, state_dict, prefix, *args) -> None:
        for index in ("0", "3"):
            key = f"{prefix}classifier.{index}.weight"
            value = state_dict.get(key)
            if value is not None and value.ndim == 4:
                state_dict[key] = value.reshape(value.shape[0], -1)

    def forward(self, x: Tensor) -> Tensor:
        x = self.avgpool(self.features(x))
        return self.classifier(taimatsu.flatten(x, 1))


def make_layers(cfg: list, batch_norm: bool = False) -> nn.Sequential:
    """The conv stack of a VGG config (children numbered as torchvision numbers them)."""
    layers: list[nn.Module] = []
    in_channels = 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        layers.append(nn.Conv2d(in_channels, v, kernel_size=3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(v))
        layers.append(nn.ReLU(inplace=True))
        in_channels = v
    return nn.Sequential(*layers)


def _vgg(name: str, cfg: str, batch_norm: bool, weights, progress: bool, **kwargs) -> VGG:
    record = prepare(name, weights, kwargs)
    if record is not None:
        kwargs["init_weights"] = False  # the checkpoint overwrites everything anyway
    model = VGG(make_layers(cfgs[cfg], batch_norm=batch_norm), **kwargs)
    return load_weights(model, record, progress)


@register_model()
@handle_legacy_interface(weights=("pretrained", VGG11_Weights.IMAGENET1K_V1))
def vgg11(*, weights: VGG11_Weights | None = None, progress: bool = True, **kwargs) -> VGG:
    """VGG-11 (configuration A, 132.9M parameters)."""
    return _vgg("vgg11", "A", False, weights, progress, **kwargs)


@register_model()
@handle_legacy_interface(weights=("pretrained", VGG11_BN_Weights.IMAGENET1K_V1))
def vgg11_bn(*, weights: VGG11_BN_Weights | None = None, progress: bool = True, **kwargs) -> VGG:
    """VGG-11 with batch normalization."""
    return _vgg("vgg11_bn", "A", True, weights, progress, **kwargs)


@register_model()
@handle_legacy_interface(weights=("pretrained", VGG13_Weights.IMAGENET1K_V1))
def vgg13(*, weights: VGG13_Weights | None = None, progress: bool = True, **kwargs) -> VGG:
    """VGG-13 (configuration B, 133.0M parameters)."""
    return _vgg("vgg13", "B", False, weights, progress, **kwargs)


@register_model()
@handle_legacy_interface(weights=("pretrained", VGG13_BN_Weights.IMAGENET1K_V1))
def vgg13_bn(*, weights: VGG13_BN_Weights | None = None, progress: bool = True, **kwargs) -> VGG:
    """VGG-13 with batch normalization."""
    return _vgg("vgg13_bn", "B", True, weights, progress, **kwargs)


@register_model()
@handle_legacy_interface(weights=("pretrained", VGG16_Weights.IMAGENET1K_V1))
def vgg16(*, weights: VGG16_Weights | None = None, progress: bool = True, **kwargs) -> VGG:
    """VGG-16 (configuration D, 138.4M parameters)."""
    return _vgg("vgg16", "D", False, weights, progress, **kwargs)


@register_model()
@handle_legacy_interface(weights=("pretrained", VGG16_BN_Weights.IMAGENET1K_V1))
def vgg16_bn(*, weights: VGG16_BN_Weights | None = None, progress: bool = True, **kwargs) -> VGG:
    """VGG-16 with batch normalization."""
    return _vgg("vgg16_bn", "D", True, weights, progress, **kwargs)


@register_model()
@handle_legacy_interface(weights=("pretrained", VGG19_Weights.IMAGENET1K_V1))
def vgg19(*, weights: VGG19_Weights | None = None, progress: bool = True, **kwargs) -> VGG:
    """VGG-19 (configuration E, 143.7M parameters)."""
    return _vgg("vgg19", "E", False, weights, progress, **kwargs)


@register_model()
@handle_legacy_interface(weights=("pretrained", VGG19_BN_Weights.IMAGENET1K_V1))
def vgg19_bn(*, weights: VGG19_BN_Weights | None = None, progress: bool = True, **kwargs) -> VGG:
    """VGG-19 with batch normalization."""
    return _vgg("vgg19_bn", "E", True, weights, progress, **kwargs)
