"""timm checkpoints: their parameter names -> ours, and the `taimatsu_hub_load` answer for
timm-format Hugging Face repositories (config.json with "architecture" and
"pretrained_cfg", weights in model.safetensors or pytorch_model.bin).

Each mapping takes one timm key and returns our key (unknown keys pass through, so a
strict load reports them). Where timm stores a tensor in another shape (VGG's classifier
as convolutions, ConvNeXt's layer scale as a vector) the model reshapes it on load.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import accumulate

from taimatsu import nn
from taimatsu.plugins import remap_keys

from ._presets import ImageClassification

# -- name mappings ----------------------------------------------------------------------

VGG_KEYS = {
    "pre_logits.fc1.weight": "classifier.0.weight", "pre_logits.fc1.bias": "classifier.0.bias",
    "pre_logits.fc2.weight": "classifier.3.weight", "pre_logits.fc2.bias": "classifier.3.bias",
    "head.fc.weight": "classifier.6.weight", "head.fc.bias": "classifier.6.bias",
}

_BLOCK = re.compile(r"blocks\.(\d+)\.(\d+)\.(.+)")


def _stage_offsets(stage_sizes: list[int]) -> list[int]:
    """Index of each stage's first block in a flat list of blocks."""
    return [0, *accumulate(stage_sizes)][:-1]


# timm's MobileNetV2 (its EfficientNet builder): stage 0 is a depthwise-separable block,
# the others inverted residuals; ours numbers the 17 blocks features.1..17.
_MNV2_STAGES = _stage_offsets([1, 2, 3, 4, 3, 3, 1])
_MNV2_DS = {"conv_dw": "conv.0.0", "bn1": "conv.0.1", "conv_pw": "conv.1", "bn2": "conv.2"}
_MNV2_IR = {"conv_pw": "conv.0.0", "bn1": "conv.0.1", "conv_dw": "conv.1.0", "bn2": "conv.1.1",
            "conv_pwl": "conv.2", "bn3": "conv.3"}
_EFFNET_HEAD = {"conv_stem": "features.0.0", "bn1": "features.0.1", "classifier": "classifier.1"}


def _split(rest: str) -> tuple[str, str]:
    """'se.conv_reduce.weight' -> ('se.conv_reduce', 'weight')."""
    module, _, param = rest.rpartition(".")
    return module, param


def mobilenetv2_key(key: str) -> str:
    """timm `mobilenetv2_100` -> torchvision `mobilenet_v2`."""
    m = _BLOCK.fullmatch(key)
    if m:
        stage, block, (module, param) = int(m[1]), int(m[2]), _split(m[3])
        table = _MNV2_DS if stage == 0 else _MNV2_IR
        if module in table:
            return f"features.{1 + _MNV2_STAGES[stage] + block}.{table[module]}.{param}"
        return key
    module, param = _split(key)
    head = {**_EFFNET_HEAD, "conv_head": "features.18.0", "bn2": "features.18.1"}
    return f"{head[module]}.{param}" if module in head else key


_EFFNET_DS = {"conv_dw": "block.0.0", "bn1": "block.0.1", "se.conv_reduce": "block.1.fc1",
              "se.conv_expand": "block.1.fc2", "conv_pw": "block.2.0", "bn2": "block.2.1"}
_EFFNET_IR = {"conv_pw": "block.0.0", "bn1": "block.0.1", "conv_dw": "block.1.0",
              "bn2": "block.1.1", "se.conv_reduce": "block.2.fc1",
              "se.conv_expand": "block.2.fc2", "conv_pwl": "block.3.0", "bn3": "block.3.1"}


def efficientnet_key(key: str) -> str:
    """timm `efficientnet_b0` -> torchvision `efficientnet_b0` (timm stage s, block b is
    our features.{s+1}.{b})."""
    m = _BLOCK.fullmatch(key)
    if m:
        stage, block, (module, param) = int(m[1]), int(m[2]), _split(m[3])
        table = _EFFNET_DS if stage == 0 else _EFFNET_IR
        if module in table:
            return f"features.{stage + 1}.{block}.{table[module]}.{param}"
        return key
    module, param = _split(key)
    head = {**_EFFNET_HEAD, "conv_head": "features.8.0", "bn2": "features.8.1"}
    return f"{head[module]}.{param}" if module in head else key


_CNX_BLOCK = {"conv_dw": "block.0", "norm": "block.2", "mlp.fc1": "block.3",
              "mlp.fc2": "block.5"}


def convnext_key(key: str) -> str:
    """timm `convnext_*` -> torchvision `convnext_*`: timm downsamples at the start of
    stage i (i >= 1), torchvision after stage i - 1, so stage i's blocks are our
    features.{2i+1} and its downsampling our features.{2i}."""
    if m := re.fullmatch(r"stages\.(\d+)\.blocks\.(\d+)\.(.+)", key):
        stage, block, rest = int(m[1]), int(m[2]), m[3]
        if rest == "gamma":
            return f"features.{2 * stage + 1}.{block}.layer_scale"
        module, param = _split(rest)
        if module in _CNX_BLOCK:
            return f"features.{2 * stage + 1}.{block}.{_CNX_BLOCK[module]}.{param}"
        return key
    if m := re.fullmatch(r"stages\.(\d+)\.downsample\.([01])\.(\w+)", key):
        return f"features.{2 * int(m[1])}.{m[2]}.{m[3]}"
    if m := re.fullmatch(r"stem\.([01])\.(\w+)", key):
        return f"features.0.{m[1]}.{m[2]}"
    head = {"head.norm": "classifier.0", "head.fc": "classifier.2"}
    module, param = _split(key)
    return f"{head[module]}.{param}" if module in head else key


_VIT_BLOCK = {"norm1.weight": "ln_1.weight", "norm1.bias": "ln_1.bias",
              "attn.qkv.weight": "self_attention.in_proj_weight",
              "attn.qkv.bias": "self_attention.in_proj_bias",
              "attn.proj.weight": "self_attention.out_proj.weight",
              "attn.proj.bias": "self_attention.out_proj.bias",
              "norm2.weight": "ln_2.weight", "norm2.bias": "ln_2.bias",
              "mlp.fc1.weight": "mlp.0.weight", "mlp.fc1.bias": "mlp.0.bias",
              "mlp.fc2.weight": "mlp.3.weight", "mlp.fc2.bias": "mlp.3.bias"}
_VIT_TOP = {"cls_token": "class_token", "pos_embed": "encoder.pos_embedding",
            "patch_embed.proj.weight": "conv_proj.weight",
            "patch_embed.proj.bias": "conv_proj.bias", "norm.weight": "encoder.ln.weight",
            "norm.bias": "encoder.ln.bias", "head.weight": "heads.head.weight",
            "head.bias": "heads.head.bias"}


def vit_key(key: str) -> str:
    """timm `vit_base_patch*` -> torchvision `vit_b_*` (timm's fused qkv projection is
    nn.MultiheadAttention's in_proj, same layout)."""
    if m := re.fullmatch(r"blocks\.(\d+)\.(.+)", key):
        if m[2] in _VIT_BLOCK:
            return f"encoder.layers.encoder_layer_{m[1]}.{_VIT_BLOCK[m[2]]}"
        return key
    return _VIT_TOP.get(key, key)


_SWIN_BLOCK = {"mlp.fc1": "mlp.0", "mlp.fc2": "mlp.3"}


def swin_key(key: str) -> str:
    """timm `swin_*` (0.9+ layout: patch merging at the start of stages 1-3) ->
    torchvision `swin_*`."""
    if m := re.fullmatch(r"layers\.(\d+)\.blocks\.(\d+)\.(.+)", key):
        module, param = _split(m[3])
        module = _SWIN_BLOCK.get(module, module)
        return f"features.{2 * int(m[1]) + 1}.{m[2]}.{module}.{param}"
    if m := re.fullmatch(r"layers\.(\d+)\.downsample\.(.+)", key):
        return f"features.{2 * int(m[1])}.{m[2]}"
    top = {"patch_embed.proj": "features.0.0", "patch_embed.norm": "features.0.2",
           "head.fc": "head"}
    module, param = _split(key)
    return f"{top[module]}.{param}" if module in top else key


# -- hub_load ---------------------------------------------------------------------------

@dataclass(frozen=True)
class TimmArch:
    """How to build one timm architecture here."""

    builder: str                        # our builder's name in taimatsu_vision.models
    key_mapping: Callable | dict | None  # timm names -> ours
    classifier: str                     # the last layer, replaced by Identity for 0 classes
    kwargs: dict = field(default_factory=dict)


_RESNETS = {name: TimmArch(name, None, "fc") for name in
            ("resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnext50_32x4d",
             "wide_resnet50_2")}
_VGGS = {name: TimmArch(name, VGG_KEYS, "classifier.6") for name in
         ("vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn")}

ARCHITECTURES: dict[str, TimmArch] = {
    **_RESNETS,
    **_VGGS,
    "mobilenetv2_100": TimmArch("mobilenet_v2", mobilenetv2_key, "classifier.1"),
    "efficientnet_b0": TimmArch("efficientnet_b0", efficientnet_key, "classifier.1"),
    "convnext_tiny": TimmArch("convnext_tiny", convnext_key, "classifier.2"),
    "vit_base_patch16_224": TimmArch("vit_b_16", vit_key, "heads.head"),
    "vit_base_patch32_224": TimmArch("vit_b_32", vit_key, "heads.head"),
    "swin_tiny_patch4_window7_224": TimmArch("swin_t", swin_key, "head"),
}


def _read_state_dict(source: str) -> dict:
    """The tensors of a repository folder: model.safetensors, a sharded safetensors index,
    or pytorch_model.bin (read with weights_only)."""
    from taimatsu import load
    from taimatsu.safetensors import load_file

    single = os.path.join(source, "model.safetensors")
    if os.path.isfile(single):
        return load_file(single)
    index = os.path.join(source, "model.safetensors.index.json")
    if os.path.isfile(index):
        with open(index, encoding="utf-8") as f:
            shards = sorted(set(json.load(f)["weight_map"].values()))
        state: dict = {}
        for shard in shards:
            state.update(load_file(os.path.join(source, shard)))
        return state
    pickled = os.path.join(source, "pytorch_model.bin")
    if os.path.isfile(pickled):
        return load(pickled, map_location="cpu", weights_only=True)
    raise FileNotFoundError(f"no weights in {source}: expected model.safetensors, "
                            "model.safetensors.index.json or pytorch_model.bin")


def _set_submodule(model: nn.Module, path: str, module: nn.Module) -> None:
    parent_path, _, name = path.rpartition(".")
    parent = model.get_submodule(parent_path) if parent_path else model
    setattr(parent, name, module)


def hub_load(source: str, config: dict):
    """Builds our model for a timm repository folder, or None if the config is not a timm
    config of an architecture we have.

    The model gets the checkpoint's weights and two attributes: `pretrained_cfg` (timm's
    dict: input size, crop_pct, interpolation, mean, std, ...) and `transforms` (the
    ImageClassification preset built from it). `num_classes` 0 (a headless checkpoint)
    gives a feature extractor: the classifier becomes nn.Identity.
    """
    if not isinstance(config, dict) or not isinstance(config.get("pretrained_cfg"), dict):
        return None
    arch = ARCHITECTURES.get(config.get("architecture"))
    if arch is None:
        return None
    from . import BUILDERS

    pretrained_cfg = dict(config["pretrained_cfg"])
    num_classes = int(config.get("num_classes", pretrained_cfg.get("num_classes", 1000)))
    kwargs = dict(arch.kwargs)
    model_args = dict(config.get("model_args") or {})
    if arch.builder.startswith("vit_"):
        size = model_args.pop("img_size", pretrained_cfg.get("input_size", (3, 224, 224))[-1])
        kwargs["image_size"] = int(size if isinstance(size, int) else size[-1])
    if model_args:
        raise ValueError(f"timm model_args {sorted(model_args)} of {config['architecture']!r} "
                         "are not supported")
    kwargs["num_classes"] = num_classes if num_classes > 0 else 1
    model = BUILDERS[arch.builder](**kwargs)
    if num_classes == 0:
        _set_submodule(model, arch.classifier, nn.Identity())
    model.load_state_dict(remap_keys(_read_state_dict(source), arch.key_mapping))
    model.pretrained_cfg = pretrained_cfg
    model.transforms = ImageClassification.from_timm_config(pretrained_cfg)
    if config.get("label_names"):
        model.categories = list(config["label_names"])
    return model
