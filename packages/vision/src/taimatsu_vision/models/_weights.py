"""Pretrained weights: one WeightsEnum per builder, with torchvision's members (names,
URLs, presets and metadata as torchvision publishes them) and a few more from timm.

Where timm republishes torchvision's checkpoint on the Hugging Face Hub (`*.tv_in1k`,
`*.tv2_in1k`, and the EfficientNet-B0 file torchvision ported), the record downloads that
mirror (file model.safetensors, keys renamed by `key_mapping`) and keeps torchvision's URL
as `url`; the others download from torchvision's URL into the hub's checkpoints folder.
The extra members (RA_IN1K, FB_IN1K, AUGREG_IN21K_FT_IN1K, MS_IN1K) are timm's trainings,
with the ImageNet-1k accuracies of timm's results table.

WEIGHTS (model name -> records, the default first) is what the plugin registry gets:
the enums and the registry share the same record objects.
"""

from __future__ import annotations

from functools import partial

from . import _timm
from ._api import Weights, WeightsEnum
from ._presets import ImageClassification, imagenet_categories

_CATEGORIES = list(imagenet_categories())
_TV_MODELS = "https://download.pytorch.org/models/"
_REFERENCES = "https://github.com/pytorch/vision/tree/main/references/classification"
_ISSUE_3995 = "https://github.com/pytorch/vision/issues/3995"
_NEW_RECIPE = ("TorchVision's new training recipe "
               "(https://pytorch.org/blog/how-to-train-state-of-the-art-models-using-"
               "torchvision-latest-primitives/)")
_SWAG = {"recipe": "https://github.com/facebookresearch/SWAG",
         "license": "https://github.com/facebookresearch/SWAG/blob/main/LICENSE"}

_PAPER_SIMPLE = "Reproduce the paper's results closely with a simple training recipe."
_NEW = f"Improve on the original paper's results with {_NEW_RECIPE}."
_NEW_MODIFIED = f"Improve on the paper's results with a modified version of {_NEW_RECIPE}."
_VGG_DOCS = "Trained from scratch with a simplified training recipe."
_DEIT_DOCS = ("Trained from scratch with a modified version of DeiT's training recipe "
              "(https://arxiv.org/abs/2012.12877).")


def _preset(crop: int = 224, resize: int = 256, interpolation: str = "bilinear",
            mean=None, std=None) -> partial:
    """The ImageClassification preset, naming only what differs from its defaults (as
    torchvision's partials do)."""
    options: dict = {"crop_size": crop}
    if resize != 256:
        options["resize_size"] = resize
    if interpolation != "bilinear":
        options["interpolation"] = interpolation
    if mean is not None:
        options.update(mean=mean, std=std)
    return partial(ImageClassification, **options)


def _tv(name: str, file: str, num_params: int, top1: float, top5: float, gflops: float,
        megabytes: float, *, recipe: str, docs: str, min_size=(1, 1), mirror: str | None = None,
        key_mapping=None, categories=_CATEGORIES, preset: dict | None = None,
        **meta) -> Weights:
    """torchvision's checkpoint `file`; `mirror` names timm's copy on the Hub, if any."""
    source = {}
    if mirror is not None:
        source = {"repo_id": f"timm/{mirror}", "filename": "model.safetensors",
                  "key_mapping": key_mapping}
        meta["timm_model"] = mirror
    return Weights(
        name=name, url=_TV_MODELS + file, transforms=_preset(**(preset or {})), **source,
        meta={"categories": categories, "min_size": min_size, "num_params": num_params,
              "recipe": recipe, "_metrics": {"ImageNet-1K": {"acc@1": top1, "acc@5": top5}},
              "_ops": gflops, "_file_size": megabytes, "_docs": docs, **meta})


def _timm_only(name: str, timm_model: str, num_params: int, top1: float, top5: float, *,
               key_mapping, min_size=(1, 1), preset: dict, **meta) -> Weights:
    """A timm training of the same architecture, from `timm/<timm_model>` on the Hub."""
    return Weights(
        name=name, repo_id=f"timm/{timm_model}", filename="model.safetensors",
        transforms=_preset(**preset), key_mapping=key_mapping,
        meta={"categories": _CATEGORIES, "min_size": min_size, "num_params": num_params,
              "recipe": f"https://huggingface.co/timm/{timm_model}",
              "_metrics": {"ImageNet-1K": {"acc@1": top1, "acc@5": top5}},
              "_docs": f"Trained by timm ({timm_model}), from the Hugging Face Hub.",
              "timm_model": timm_model, **meta})


# -- ResNet, ResNeXt, Wide ResNet -------------------------------------------------------------

def _resnet_v1(file: str, num_params: int, top1: float, top5: float, gflops: float,
               megabytes: float, mirror: str, recipe: str = f"{_REFERENCES}#resnet") -> Weights:
    return _tv("IMAGENET1K_V1", file, num_params, top1, top5, gflops, megabytes,
               recipe=recipe, docs=_PAPER_SIMPLE, mirror=mirror)


def _resnet_v2(file: str, num_params: int, top1: float, top5: float, gflops: float,
               megabytes: float, mirror: str, anchor: str = "new-recipe") -> Weights:
    return _tv("IMAGENET1K_V2", file, num_params, top1, top5, gflops, megabytes,
               recipe=f"{_ISSUE_3995}#{anchor}", docs=_NEW, mirror=mirror,
               preset={"resize": 232})


class ResNet18_Weights(WeightsEnum):
    IMAGENET1K_V1 = _resnet_v1("resnet18-f37072fd.pth", 11689512, 69.758, 89.078, 1.814,
                               44.661, "resnet18.tv_in1k")
    DEFAULT = IMAGENET1K_V1


class ResNet34_Weights(WeightsEnum):
    IMAGENET1K_V1 = _resnet_v1("resnet34-b627a593.pth", 21797672, 73.314, 91.420, 3.664,
                               83.275, "resnet34.tv_in1k")
    DEFAULT = IMAGENET1K_V1


class ResNet50_Weights(WeightsEnum):
    IMAGENET1K_V1 = _resnet_v1("resnet50-0676ba61.pth", 25557032, 76.130, 92.862, 4.089,
                               97.781, "resnet50.tv_in1k")
    IMAGENET1K_V2 = _resnet_v2("resnet50-11ad3fa6.pth", 25557032, 80.858, 95.434, 4.089,
                               97.79, "resnet50.tv2_in1k", "issuecomment-1013906621")
    DEFAULT = IMAGENET1K_V2


class ResNet101_Weights(WeightsEnum):
    IMAGENET1K_V1 = _resnet_v1("resnet101-63fe2227.pth", 44549160, 77.374, 93.546, 7.801,
                               170.511, "resnet101.tv_in1k")
    IMAGENET1K_V2 = _resnet_v2("resnet101-cd907fc2.pth", 44549160, 81.886, 95.780, 7.801,
                               170.53, "resnet101.tv2_in1k")
    DEFAULT = IMAGENET1K_V2


class ResNet152_Weights(WeightsEnum):
    IMAGENET1K_V1 = _resnet_v1("resnet152-394f9c45.pth", 60192808, 78.312, 94.046, 11.514,
                               230.434, "resnet152.tv_in1k")
    IMAGENET1K_V2 = _resnet_v2("resnet152-f82ba261.pth", 60192808, 82.284, 96.002, 11.514,
                               230.474, "resnet152.tv2_in1k")
    DEFAULT = IMAGENET1K_V2


class ResNeXt50_32X4D_Weights(WeightsEnum):
    IMAGENET1K_V1 = _resnet_v1("resnext50_32x4d-7cdf4587.pth", 25028904, 77.618, 93.698,
                               4.23, 95.789, "resnext50_32x4d.tv_in1k",
                               recipe=f"{_REFERENCES}#resnext")
    IMAGENET1K_V2 = _resnet_v2("resnext50_32x4d-1a0047aa.pth", 25028904, 81.198, 95.340,
                               4.23, 95.833, "resnext50_32x4d.tv2_in1k")
    DEFAULT = IMAGENET1K_V2


class Wide_ResNet50_2_Weights(WeightsEnum):
    IMAGENET1K_V1 = _resnet_v1("wide_resnet50_2-95faca4d.pth", 68883240, 78.468, 94.086,
                               11.398, 131.82, "wide_resnet50_2.tv_in1k",
                               recipe="https://github.com/pytorch/vision/pull/912"
                                      "#issue-445437439")
    IMAGENET1K_V2 = _resnet_v2("wide_resnet50_2-9ba9bcbe.pth", 68883240, 81.602, 95.758,
                               11.398, 263.124, "wide_resnet50_2.tv2_in1k",
                               "new-recipe-with-fixres")
    DEFAULT = IMAGENET1K_V2


# -- VGG ------------------------------------------------------------------------------------

def _vgg(file: str, num_params: int, top1: float, top5: float, gflops: float,
         megabytes: float, mirror: str) -> Weights:
    return _tv("IMAGENET1K_V1", file, num_params, top1, top5, gflops, megabytes,
               recipe=f"{_REFERENCES}#alexnet-and-vgg", docs=_VGG_DOCS, min_size=(32, 32),
               mirror=mirror, key_mapping=_timm.VGG_KEYS)


class VGG11_Weights(WeightsEnum):
    IMAGENET1K_V1 = _vgg("vgg11-8a719046.pth", 132863336, 69.020, 88.628, 7.609, 506.84,
                         "vgg11.tv_in1k")
    DEFAULT = IMAGENET1K_V1


class VGG11_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = _vgg("vgg11_bn-6002323d.pth", 132868840, 70.370, 89.810, 7.609, 506.881,
                         "vgg11_bn.tv_in1k")
    DEFAULT = IMAGENET1K_V1


class VGG13_Weights(WeightsEnum):
    IMAGENET1K_V1 = _vgg("vgg13-19584684.pth", 133047848, 69.928, 89.246, 11.308, 507.545,
                         "vgg13.tv_in1k")
    DEFAULT = IMAGENET1K_V1


class VGG13_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = _vgg("vgg13_bn-abd245e5.pth", 133053736, 71.586, 90.374, 11.308, 507.59,
                         "vgg13_bn.tv_in1k")
    DEFAULT = IMAGENET1K_V1


class VGG16_Weights(WeightsEnum):
    IMAGENET1K_V1 = _vgg("vgg16-397923af.pth", 138357544, 71.592, 90.382, 15.47, 527.796,
                         "vgg16.tv_in1k")
    # the SSD authors' port of the original Caffe weights: only `features` holds trained
    # values, so it carries no categories and no accuracy
    IMAGENET1K_FEATURES = _tv(
        "IMAGENET1K_FEATURES", "vgg16_features-amdegroot-88682ab5.pth", 138357544,
        float("nan"), float("nan"), 15.47, 527.802, categories=None, min_size=(32, 32),
        recipe="https://github.com/amdegroot/ssd.pytorch#training-ssd",
        docs="Only the `features` module holds trained values (the classifier does not): "
             "use these weights for feature extraction, not classification. They expect "
             "the paper's input standardization (mean subtraction on a 0-255 scale).",
        preset={"mean": (0.48235, 0.45882, 0.40784), "std": (1 / 255, 1 / 255, 1 / 255)})
    DEFAULT = IMAGENET1K_V1


class VGG16_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = _vgg("vgg16_bn-6c64b313.pth", 138365992, 73.360, 91.516, 15.47, 527.866,
                         "vgg16_bn.tv_in1k")
    DEFAULT = IMAGENET1K_V1


class VGG19_Weights(WeightsEnum):
    IMAGENET1K_V1 = _vgg("vgg19-dcbb9e9d.pth", 143667240, 72.376, 90.876, 19.632, 548.051,
                         "vgg19.tv_in1k")
    DEFAULT = IMAGENET1K_V1


class VGG19_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = _vgg("vgg19_bn-c79401a0.pth", 143678248, 74.218, 91.842, 19.632, 548.143,
                         "vgg19_bn.tv_in1k")
    DEFAULT = IMAGENET1K_V1


# -- MobileNet, EfficientNet ------------------------------------------------------------------

class MobileNet_V2_Weights(WeightsEnum):
    IMAGENET1K_V1 = _tv("IMAGENET1K_V1", "mobilenet_v2-b0353104.pth", 3504872, 71.878, 90.286,
                        0.301, 13.555, recipe=f"{_REFERENCES}#mobilenetv2",
                        docs=_PAPER_SIMPLE)
    IMAGENET1K_V2 = _tv("IMAGENET1K_V2", "mobilenet_v2-7ebf99e0.pth", 3504872, 72.154, 90.822,
                        0.301, 13.598, recipe=f"{_ISSUE_3995}#new-recipe-with-reg-tuning",
                        docs=_NEW_MODIFIED, preset={"resize": 232})
    RA_IN1K = _timm_only("RA_IN1K", "mobilenetv2_100.ra_in1k", 3504872, 72.910, 91.000,
                         key_mapping=_timm.mobilenetv2_key, license="apache-2.0",
                         preset={"interpolation": "bicubic"})
    DEFAULT = IMAGENET1K_V2


_MNV3_RECIPE = f"{_REFERENCES}#mobilenetv3-large--small"


class MobileNet_V3_Large_Weights(WeightsEnum):
    IMAGENET1K_V1 = _tv("IMAGENET1K_V1", "mobilenet_v3_large-8738ca79.pth", 5483032, 74.042,
                        91.340, 0.217, 21.114, recipe=_MNV3_RECIPE,
                        docs="Trained from scratch with a simple training recipe.")
    IMAGENET1K_V2 = _tv("IMAGENET1K_V2", "mobilenet_v3_large-5c1a4163.pth", 5483032, 75.274,
                        92.566, 0.217, 21.107, recipe=f"{_ISSUE_3995}#new-recipe-with-reg-tuning",
                        docs=f"Improve marginally on the paper's results with a modified "
                             f"version of {_NEW_RECIPE}.", preset={"resize": 232})
    DEFAULT = IMAGENET1K_V2


class MobileNet_V3_Small_Weights(WeightsEnum):
    IMAGENET1K_V1 = _tv("IMAGENET1K_V1", "mobilenet_v3_small-047dcff4.pth", 2542856, 67.668,
                        87.402, 0.057, 9.829, recipe=_MNV3_RECIPE,
                        docs="Improve on the paper's results with a simple training recipe.")
    DEFAULT = IMAGENET1K_V1


class EfficientNet_B0_Weights(WeightsEnum):
    # torchvision ported Ross Wightman's efficientnet_b0_ra checkpoint: timm's ra_in1k file
    IMAGENET1K_V1 = _tv("IMAGENET1K_V1", "efficientnet_b0_rwightman-7f5810bc.pth", 5288548,
                        77.692, 93.532, 0.386, 20.451, recipe=f"{_REFERENCES}#efficientnet-v1",
                        docs="Ported from the original paper's weights.",
                        mirror="efficientnet_b0.ra_in1k", key_mapping=_timm.efficientnet_key,
                        preset={"interpolation": "bicubic"})
    DEFAULT = IMAGENET1K_V1


# -- ConvNeXt, ViT, Swin ----------------------------------------------------------------------

class ConvNeXt_Tiny_Weights(WeightsEnum):
    IMAGENET1K_V1 = _tv("IMAGENET1K_V1", "convnext_tiny-983f1562.pth", 28589128, 82.520,
                        96.146, 4.456, 109.119, recipe=f"{_REFERENCES}#convnext",
                        docs=_NEW_MODIFIED, min_size=(32, 32), preset={"resize": 236})
    FB_IN1K = _timm_only("FB_IN1K", "convnext_tiny.fb_in1k", 28589128, 82.066, 95.854,
                         key_mapping=_timm.convnext_key, license="apache-2.0",
                         min_size=(32, 32), preset={"interpolation": "bicubic"})
    DEFAULT = IMAGENET1K_V1


_AUGREG = {"key_mapping": _timm.vit_key, "min_size": (224, 224), "license": "apache-2.0",
           "preset": {"resize": 248, "interpolation": "bicubic", "mean": (0.5, 0.5, 0.5),
                      "std": (0.5, 0.5, 0.5)}}


class ViT_B_16_Weights(WeightsEnum):
    IMAGENET1K_V1 = _tv("IMAGENET1K_V1", "vit_b_16-c867db91.pth", 86567656, 81.072, 95.318,
                        17.564, 330.285, recipe=f"{_REFERENCES}#vit_b_16", docs=_DEIT_DOCS,
                        min_size=(224, 224))
    IMAGENET1K_SWAG_E2E_V1 = _tv(
        "IMAGENET1K_SWAG_E2E_V1", "vit_b_16_swag-9ac1b537.pth", 86859496, 85.304, 97.650,
        55.484, 331.398, min_size=(384, 384),
        docs="The original SWAG weights (https://arxiv.org/abs/2201.08371) fine-tuned end to "
             "end on ImageNet-1K.",
        preset={"crop": 384, "resize": 384, "interpolation": "bicubic"}, **_SWAG)
    IMAGENET1K_SWAG_LINEAR_V1 = _tv(
        "IMAGENET1K_SWAG_LINEAR_V1", "vit_b_16_lc_swag-4e70ced5.pth", 86567656, 81.886,
        96.180, 17.564, 330.285, min_size=(224, 224),
        docs="The original SWAG trunk (https://arxiv.org/abs/2201.08371), frozen, under a "
             "linear classifier trained on ImageNet-1K.",
        preset={"resize": 224, "interpolation": "bicubic"},
        **{**_SWAG, "recipe": "https://github.com/pytorch/vision/pull/5793"})
    AUGREG_IN21K_FT_IN1K = _timm_only("AUGREG_IN21K_FT_IN1K",
                                      "vit_base_patch16_224.augreg_in21k_ft_in1k", 86567656,
                                      84.534, 97.300, **_AUGREG)
    DEFAULT = IMAGENET1K_V1


class ViT_B_32_Weights(WeightsEnum):
    IMAGENET1K_V1 = _tv("IMAGENET1K_V1", "vit_b_32-d86f8d99.pth", 88224232, 75.912, 92.466,
                        4.409, 336.604, recipe=f"{_REFERENCES}#vit_b_32", docs=_DEIT_DOCS,
                        min_size=(224, 224))
    AUGREG_IN21K_FT_IN1K = _timm_only("AUGREG_IN21K_FT_IN1K",
                                      "vit_base_patch32_224.augreg_in21k_ft_in1k", 88224232,
                                      80.732, 95.574, **_AUGREG)
    DEFAULT = IMAGENET1K_V1


class Swin_T_Weights(WeightsEnum):
    IMAGENET1K_V1 = _tv("IMAGENET1K_V1", "swin_t-704ceda3.pth", 28288354, 81.474, 95.776,
                        4.491, 108.19, recipe=f"{_REFERENCES}#swintransformer",
                        docs="Reproduce the paper's results closely with a similar training "
                             "recipe.", min_size=(224, 224),
                        preset={"resize": 232, "interpolation": "bicubic"})
    MS_IN1K = _timm_only("MS_IN1K", "swin_tiny_patch4_window7_224.ms_in1k", 28288354, 81.388,
                         95.540, key_mapping=_timm.swin_key, min_size=(224, 224),
                         license="mit", preset={"resize": 248, "interpolation": "bicubic"})
    DEFAULT = IMAGENET1K_V1


# builder name -> its enum (the type annotated on the builder's `weights` parameter)
ENUMS: dict[str, type[WeightsEnum]] = {
    "resnet18": ResNet18_Weights, "resnet34": ResNet34_Weights, "resnet50": ResNet50_Weights,
    "resnet101": ResNet101_Weights, "resnet152": ResNet152_Weights,
    "resnext50_32x4d": ResNeXt50_32X4D_Weights, "wide_resnet50_2": Wide_ResNet50_2_Weights,
    "vgg11": VGG11_Weights, "vgg11_bn": VGG11_BN_Weights, "vgg13": VGG13_Weights,
    "vgg13_bn": VGG13_BN_Weights, "vgg16": VGG16_Weights, "vgg16_bn": VGG16_BN_Weights,
    "vgg19": VGG19_Weights, "vgg19_bn": VGG19_BN_Weights,
    "mobilenet_v2": MobileNet_V2_Weights, "mobilenet_v3_large": MobileNet_V3_Large_Weights,
    "mobilenet_v3_small": MobileNet_V3_Small_Weights,
    "efficientnet_b0": EfficientNet_B0_Weights, "convnext_tiny": ConvNeXt_Tiny_Weights,
    "vit_b_16": ViT_B_16_Weights, "vit_b_32": ViT_B_32_Weights, "swin_t": Swin_T_Weights,
}

__all__ = [enum.__name__ for enum in ENUMS.values()]


def _default_first(enum: type[WeightsEnum]) -> tuple[Weights, ...]:
    default = enum.DEFAULT
    return (default.value, *(m.value for m in enum if m is not default))


WEIGHTS: dict[str, tuple[Weights, ...]] = {name: _default_first(enum)
                                           for name, enum in ENUMS.items()}
