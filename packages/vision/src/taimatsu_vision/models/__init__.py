"""torchvision's classification models on taimatsu, with torchvision's module layout and
parameter names (a torchvision state_dict loads unchanged), and pretrained weights from
timm's Hugging Face repositories.

    model = resnet18(weights="DEFAULT")       # downloads timm/resnet18.tv_in1k
    preprocess = get_weight("resnet18").transforms()

`register_models(registry)` and `hub_load(source, config)` are what the plugin calls.
"""

from __future__ import annotations

import fnmatch

from ._presets import ImageClassification, imagenet_categories
from ._timm import hub_load
from .convnext import ConvNeXt, convnext_tiny
from .efficientnet import EfficientNet, efficientnet_b0
from .lenet import LeNet5, lenet5
from .mobilenetv2 import MobileNetV2, mobilenet_v2
from .mobilenetv3 import MobileNetV3, mobilenet_v3_large, mobilenet_v3_small
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
from .swin_transformer import SwinTransformer, swin_t
from .vgg import VGG, vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19, vgg19_bn
from .vision_transformer import VisionTransformer, vit_b_16, vit_b_32

BUILDERS = {
    f.__name__: f
    for f in (lenet5, resnet18, resnet34, resnet50, resnet101, resnet152, resnext50_32x4d,
              wide_resnet50_2, vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19,
              vgg19_bn, mobilenet_v2, mobilenet_v3_small, mobilenet_v3_large, efficientnet_b0,
              convnext_tiny, vit_b_16, vit_b_32, swin_t)
}

__all__ = ["register_models", "hub_load", "list_models", "get_model", "get_model_builder",
           "get_weight", "get_model_weights", "ImageClassification", "imagenet_categories",
           "BUILDERS", "ResNet", "VGG", "MobileNetV2", "MobileNetV3", "EfficientNet",
           "ConvNeXt", "VisionTransformer", "SwinTransformer", "LeNet5", *BUILDERS]


def _first_line(f) -> str:
    return (f.__doc__ or "").strip().splitlines()[0]


def register_models(registry) -> None:
    """Adds every builder (domain "vision", task "classification") with its weights."""
    from ._weights import WEIGHTS

    for name, builder in BUILDERS.items():
        registry.add(name, builder, domain="vision", task="classification",
                     weights=WEIGHTS.get(name, ()), description=_first_line(builder))


def list_models(include=None, exclude=None) -> list[str]:
    """Names of the classification models, sorted, filtered by fnmatch patterns."""
    names = sorted(BUILDERS)
    if include is not None:
        pats = [include] if isinstance(include, str) else list(include)
        names = [n for n in names if any(fnmatch.fnmatch(n, p) for p in pats)]
    if exclude is not None:
        pats = [exclude] if isinstance(exclude, str) else list(exclude)
        names = [n for n in names if not any(fnmatch.fnmatch(n, p) for p in pats)]
    return names


def get_model_builder(name: str):
    try:
        return BUILDERS[name]
    except KeyError:
        raise ValueError(f"Unknown model {name!r}") from None


def get_model(name: str, **config):
    """Builds a model by name: get_model("resnet50", weights="DEFAULT")."""
    return get_model_builder(name)(**config)


def get_model_weights(name: str) -> tuple:
    """The Weights records available for a model (the first is the default)."""
    from ._weights import WEIGHTS

    get_model_builder(name)
    return WEIGHTS.get(name, ())


def get_weight(name: str, weights: str = "DEFAULT"):
    """One Weights record: get_weight("resnet18") or get_weight("resnet18", "IMAGENET1K_V1")."""
    from ._utils import resolve_weights

    get_model_builder(name)
    return resolve_weights(name, weights)
