"""torchvision's classification models on taimatsu, with torchvision's module layout and
parameter names (a torchvision state_dict loads unchanged), its pretrained-weights API
(one WeightsEnum per builder) and its model registry.

    model = resnet50(weights=ResNet50_Weights.DEFAULT)   # or weights="IMAGENET1K_V2"
    preprocess = ResNet50_Weights.DEFAULT.transforms()
    names = list_models(include="resnet*")

As in torchvision, the lowercase callables of this namespace are the builders and the
registry functions, so ``models.__dict__[arch](weights="DEFAULT")`` picks a model by name.
`register_models(registry)` and `hub_load(source, config)` (what the plugin calls) and
`imagenet_categories` are served by __getattr__, outside that listing.
"""

from __future__ import annotations

import importlib

from ._api import (
    Weights,
    WeightsEnum,
    get_model,
    get_model_builder,
    get_model_weights,
    get_weight,
    list_models,
)
from ._api import BUILTIN_MODELS as BUILDERS
from ._presets import ImageClassification
from ._weights import *
from ._weights import __all__ as _weights_all
from .lenet import LeNet5, lenet5
from .resnet import (
    ResNet,
    resnet18,
    resnet34,
    resnet50,
    resnet101,
    resnet152,
    resnext50_32x4d,
    wide_resnet50_2,
)
from .vgg import VGG, vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19, vgg19_bn
from .mobilenetv2 import MobileNetV2, mobilenet_v2
from .mobilenetv3 import MobileNetV3, mobilenet_v3_large, mobilenet_v3_small
from .efficientnet import EfficientNet, efficientnet_b0
from .convnext import ConvNeXt, convnext_tiny
from .vision_transformer import VisionTransformer, vit_b_16, vit_b_32
from .swin_transformer import SwinTransformer, swin_t

# Not builders, so kept out of this module's __dict__ (scripts list the architectures by
# scanning it for lowercase callables); importable all the same.
_HELPERS = {
    "register_models": "._registration",
    "hub_load": "._timm",
    "imagenet_categories": "._presets",
}

__all__ = ["Weights", "WeightsEnum", "list_models", "get_model", "get_model_builder",
           "get_weight", "get_model_weights", "ImageClassification", "BUILDERS", "ResNet",
           "VGG", "MobileNetV2", "MobileNetV3", "EfficientNet", "ConvNeXt",
           "VisionTransformer", "SwinTransformer", "LeNet5", *_weights_all, *BUILDERS,
           *_HELPERS]


def __getattr__(name: str):
    if name in _HELPERS:
        return getattr(importlib.import_module(_HELPERS[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HELPERS))
