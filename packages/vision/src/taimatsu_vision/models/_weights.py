"""Pretrained weights: Weights records pointing at timm's repositories on the Hugging
Face Hub (file model.safetensors), with the key mapping from timm's names to ours and
the preprocessing each checkpoint expects.

The `*.tv_in1k` checkpoints are torchvision's own ImageNet weights republished by timm
(so they carry torchvision's names, IMAGENET1K_V1), the others timm's trainings.
Metrics are the ImageNet-1k validation accuracies in timm's results table at 224x224.
"""

from __future__ import annotations

from functools import partial

from taimatsu.plugins import Weights

from . import _timm
from ._presets import ImageClassification, imagenet_categories

_INCEPTION_MEAN = (0.5, 0.5, 0.5)
_INCEPTION_STD = (0.5, 0.5, 0.5)


def _record(name: str, timm_model: str, num_params: int, top1: float, top5: float, *,
            key_mapping=None, resize: int = 256, interpolation: str = "bilinear",
            mean=None, std=None, **meta) -> Weights:
    """A 224x224 ImageNet-1k classifier checkpoint `timm/<timm_model>`."""
    preset = {"crop_size": 224, "resize_size": resize, "interpolation": interpolation}
    if mean is not None:
        preset.update(mean=mean, std=std)
    return Weights(
        name=name,
        repo_id=f"timm/{timm_model}",
        filename="model.safetensors",
        num_params=num_params,
        metrics={"ImageNet-1K": {"acc@1": top1, "acc@5": top5}},
        transforms=partial(ImageClassification, **preset),
        key_mapping=key_mapping,
        meta={"categories": list(imagenet_categories()), "min_size": (1, 1),
              "timm_model": timm_model, **meta},
    )


def _tv(model: str, num_params: int, top1: float, top5: float, key_mapping=None) -> Weights:
    """torchvision's IMAGENET1K_V1 weights as republished by timm (`<model>.tv_in1k`)."""
    return _record("IMAGENET1K_V1", f"{model}.tv_in1k", num_params, top1, top5,
                   key_mapping=key_mapping, license="bsd-3-clause",
                   origin="https://github.com/pytorch/vision")


_VIT = {"resize": 248, "interpolation": "bicubic", "mean": _INCEPTION_MEAN,
        "std": _INCEPTION_STD, "min_size": (224, 224), "license": "apache-2.0"}

WEIGHTS: dict[str, tuple[Weights, ...]] = {
    "resnet18": (_tv("resnet18", 11689512, 69.752, 89.082),),
    "resnet34": (_tv("resnet34", 21797672, 73.298, 91.422),),
    "resnet50": (_tv("resnet50", 25557032, 76.156, 92.866),),
    "resnet101": (_tv("resnet101", 44549160, 77.404, 93.552),),
    "resnet152": (_tv("resnet152", 60192808, 78.330, 94.046),),
    "resnext50_32x4d": (_tv("resnext50_32x4d", 25028904, 77.632, 93.674),),
    "wide_resnet50_2": (_tv("wide_resnet50_2", 68883240, 78.486, 94.084),),
    "vgg11": (_tv("vgg11", 132863336, 69.050, 88.630, _timm.VGG_KEYS),),
    "vgg11_bn": (_tv("vgg11_bn", 132868840, 70.374, 89.802, _timm.VGG_KEYS),),
    "vgg13": (_tv("vgg13", 133047848, 69.950, 89.262, _timm.VGG_KEYS),),
    "vgg13_bn": (_tv("vgg13_bn", 133053736, 71.560, 90.372, _timm.VGG_KEYS),),
    "vgg16": (_tv("vgg16", 138357544, 71.594, 90.398, _timm.VGG_KEYS),),
    "vgg16_bn": (_tv("vgg16_bn", 138365992, 73.354, 91.490, _timm.VGG_KEYS),),
    "vgg19": (_tv("vgg19", 143667240, 72.400, 90.878, _timm.VGG_KEYS),),
    "vgg19_bn": (_tv("vgg19_bn", 143678248, 74.230, 91.848, _timm.VGG_KEYS),),
    "mobilenet_v2": (_record("RA_IN1K", "mobilenetv2_100.ra_in1k", 3504872, 72.910, 91.000,
                             key_mapping=_timm.mobilenetv2_key, interpolation="bicubic",
                             license="apache-2.0"),),
    # the same file torchvision ported as its efficientnet_b0 IMAGENET1K_V1
    "efficientnet_b0": (_record("RA_IN1K", "efficientnet_b0.ra_in1k", 5288548, 77.698, 93.538,
                                key_mapping=_timm.efficientnet_key, interpolation="bicubic",
                                license="apache-2.0"),),
    "convnext_tiny": (_record("FB_IN1K", "convnext_tiny.fb_in1k", 28589128, 82.066, 95.854,
                              key_mapping=_timm.convnext_key, interpolation="bicubic",
                              license="apache-2.0"),),
    "vit_b_16": (_record("AUGREG_IN21K_FT_IN1K", "vit_base_patch16_224.augreg_in21k_ft_in1k",
                         86567656, 84.534, 97.300, key_mapping=_timm.vit_key, **_VIT),),
    "vit_b_32": (_record("AUGREG_IN21K_FT_IN1K", "vit_base_patch32_224.augreg_in21k_ft_in1k",
                         88224232, 80.732, 95.574, key_mapping=_timm.vit_key, **_VIT),),
    "swin_t": (_record("MS_IN1K", "swin_tiny_patch4_window7_224.ms_in1k", 28288354, 81.388,
                       95.540, key_mapping=_timm.swin_key, resize=248,
                       interpolation="bicubic", min_size=(224, 224), license="mit"),),
}
