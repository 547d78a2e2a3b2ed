"""Pretrained weights from timm's Hub repositories, without a network.

`timm_shapes(arch)` lists the parameter and buffer names and shapes of a timm model,
written from timm's documented architecture definitions (its block strings, stage
layouts and module names), independently of our key mappings. The tests write such
checkpoints (safetensors + timm's config.json) into a folder or a hand-built Hugging Face
cache and load them through `hub_load`, the Weights records and the builders.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re

import numpy as np
import pytest

import taimatsu as tm
from taimatsu import nn
from taimatsu.plugins import Registry, Weights, remap_keys
from taimatsu.safetensors import save_file
from taimatsu_vision import models
from taimatsu_vision.models import _timm, _weights

# -- timm's names and shapes --------------------------------------------------------------


def _bn(prefix, c):
    return {f"{prefix}.weight": (c,), f"{prefix}.bias": (c,), f"{prefix}.running_mean": (c,),
            f"{prefix}.running_var": (c,), f"{prefix}.num_batches_tracked": ()}


def _ln(prefix, c):
    return {f"{prefix}.weight": (c,), f"{prefix}.bias": (c,)}


def _linear(prefix, cout, cin, bias=True):
    return {f"{prefix}.weight": (cout, cin), **({f"{prefix}.bias": (cout,)} if bias else {})}


def _conv(prefix, cout, cin, k, bias=False):
    return {f"{prefix}.weight": (cout, cin, k, k), **({f"{prefix}.bias": (cout,)} if bias else {})}


def _resnet(layers, bottleneck, groups=1, base_width=64):
    s = {**_conv("conv1", 64, 3, 7), **_bn("bn1", 64)}
    inplanes = 64
    for i, (planes, n) in enumerate(zip((64, 128, 256, 512), layers)):
        out = planes * (4 if bottleneck else 1)
        for b in range(n):
            p = f"layer{i + 1}.{b}"
            if bottleneck:
                width = int(planes * base_width / 64) * groups
                s |= {**_conv(f"{p}.conv1", width, inplanes, 1), **_bn(f"{p}.bn1", width),
                      f"{p}.conv2.weight": (width, width // groups, 3, 3), **_bn(f"{p}.bn2", width),
                      **_conv(f"{p}.conv3", out, width, 1), **_bn(f"{p}.bn3", out)}
            else:
                s |= {**_conv(f"{p}.conv1", planes, inplanes, 3), **_bn(f"{p}.bn1", planes),
                      **_conv(f"{p}.conv2", planes, planes, 3), **_bn(f"{p}.bn2", planes)}
            if b == 0 and (i > 0 or inplanes != out):
                s |= {**_conv(f"{p}.downsample.0", out, inplanes, 1),
                      **_bn(f"{p}.downsample.1", out)}
            inplanes = out
    return s | _linear("fc", 1000, inplanes)


def _vgg(cfg, bn):
    s, cin, i = {}, 3, 0
    for v in cfg:
        if v == "M":
            i += 1
            continue
        s |= _conv(f"features.{i}", v, cin, 3, bias=True)
        if bn:
            s |= _bn(f"features.{i + 1}", v)
        i += 3 if bn else 2
        cin = v
    return s | {**_conv("pre_logits.fc1", 4096, 512, 7, bias=True),
                **_conv("pre_logits.fc2", 4096, 4096, 1, bias=True),
                **_linear("head.fc", 1000, 4096)}


# timm's EfficientNet-family block strings: type, repeats, kernel, stride, expansion,
# channels, squeeze-excite ratio (of the block's input channels)
MOBILENETV2 = ["ds_r1_k3_s1_c16", "ir_r2_k3_s2_e6_c24", "ir_r3_k3_s2_e6_c32",
               "ir_r4_k3_s2_e6_c64", "ir_r3_k3_s1_e6_c96", "ir_r3_k3_s2_e6_c160",
               "ir_r1_k3_s1_e6_c320"]
EFFICIENTNET_B0 = ["ds_r1_k3_s1_e1_c16_se0.25", "ir_r2_k3_s2_e6_c24_se0.25",
                   "ir_r2_k5_s2_e6_c40_se0.25", "ir_r3_k3_s2_e6_c80_se0.25",
                   "ir_r3_k5_s1_e6_c112_se0.25", "ir_r4_k5_s2_e6_c192_se0.25",
                   "ir_r1_k3_s1_e6_c320_se0.25"]


def _effnet_family(block_strings, head=1280):
    s = {**_conv("conv_stem", 32, 3, 3), **_bn("bn1", 32)}
    cin = 32
    for stage, text in enumerate(block_strings):
        opts = dict(re.match(r"([a-z]+)(.*)", o).groups() for o in text.split("_")[1:])
        kind = text.split("_")[0]
        k, e, cout = int(opts["k"]), float(opts.get("e", 1)), int(opts["c"])
        se = float(opts.get("se", 0))
        for b in range(int(opts["r"])):
            p = f"blocks.{stage}.{b}"
            mid = int(cin * e)
            if kind == "ir":
                s |= {**_conv(f"{p}.conv_pw", mid, cin, 1), **_bn(f"{p}.bn1", mid)}
            s |= {f"{p}.conv_dw.weight": (mid, 1, k, k),
                  **_bn(f"{p}.bn1" if kind == "ds" else f"{p}.bn2", mid)}
            if se:
                rd = round(cin * se)
                s |= {**_conv(f"{p}.se.conv_reduce", rd, mid, 1, bias=True),
                      **_conv(f"{p}.se.conv_expand", mid, rd, 1, bias=True)}
            last = "conv_pw" if kind == "ds" else "conv_pwl"
            s |= {**_conv(f"{p}.{last}", cout, mid, 1),
                  **_bn(f"{p}.bn2" if kind == "ds" else f"{p}.bn3", cout)}
            cin = cout
    return s | {**_conv("conv_head", head, cin, 1), **_bn("bn2", head),
                **_linear("classifier", 1000, head)}


def _convnext_tiny():
    dims, depths = (96, 192, 384, 768), (3, 3, 9, 3)
    s = {**_conv("stem.0", 96, 3, 4, bias=True), **_ln("stem.1", 96)}
    for i, (c, n) in enumerate(zip(dims, depths)):
        if i:
            s |= {**_ln(f"stages.{i}.downsample.0", dims[i - 1]),
                  **_conv(f"stages.{i}.downsample.1", c, dims[i - 1], 2, bias=True)}
        for b in range(n):
            p = f"stages.{i}.blocks.{b}"
            s |= {f"{p}.gamma": (c,), f"{p}.conv_dw.weight": (c, 1, 7, 7),
                  f"{p}.conv_dw.bias": (c,), **_ln(f"{p}.norm", c),
                  **_linear(f"{p}.mlp.fc1", 4 * c, c), **_linear(f"{p}.mlp.fc2", c, 4 * c)}
    return s | {**_ln("head.norm", 768), **_linear("head.fc", 1000, 768)}


def _vit_base(patch, image=224):
    s = {"cls_token": (1, 1, 768), "pos_embed": (1, (image // patch) ** 2 + 1, 768),
         **_conv("patch_embed.proj", 768, 3, patch, bias=True)}
    for i in range(12):
        p = f"blocks.{i}"
        s |= {**_ln(f"{p}.norm1", 768), **_linear(f"{p}.attn.qkv", 3 * 768, 768),
              **_linear(f"{p}.attn.proj", 768, 768), **_ln(f"{p}.norm2", 768),
              **_linear(f"{p}.mlp.fc1", 3072, 768), **_linear(f"{p}.mlp.fc2", 768, 3072)}
    return s | {**_ln("norm", 768), **_linear("head", 1000, 768)}


def _swin_tiny():
    s = {**_conv("patch_embed.proj", 96, 3, 4, bias=True), **_ln("patch_embed.norm", 96)}
    for i, (n, heads) in enumerate(zip((2, 2, 6, 2), (3, 6, 12, 24))):
        c = 96 * 2**i
        if i:  # timm >= 0.9 merges patches at the start of stages 1-3
            s |= {**_ln(f"layers.{i}.downsample.norm", 2 * c),
                  **_linear(f"layers.{i}.downsample.reduction", c, 2 * c, bias=False)}
        for b in range(n):
            p = f"layers.{i}.blocks.{b}"
            s |= {**_ln(f"{p}.norm1", c), f"{p}.attn.relative_position_bias_table": (169, heads),
                  **_linear(f"{p}.attn.qkv", 3 * c, c), **_linear(f"{p}.attn.proj", c, c),
                  **_ln(f"{p}.norm2", c), **_linear(f"{p}.mlp.fc1", 4 * c, c),
                  **_linear(f"{p}.mlp.fc2", c, 4 * c)}
    return s | {**_ln("norm", 768), **_linear("head.fc", 1000, 768)}


_VGG_CFGS = {"vgg11": "A", "vgg13": "B", "vgg16": "D", "vgg19": "E"}


def timm_shapes(arch: str) -> dict:
    """timm's state_dict names -> shapes for one of the architectures we map."""
    resnets = {"resnet18": ([2, 2, 2, 2], False, {}), "resnet34": ([3, 4, 6, 3], False, {}),
               "resnet50": ([3, 4, 6, 3], True, {}), "resnet101": ([3, 4, 23, 3], True, {}),
               "resnet152": ([3, 8, 36, 3], True, {}),
               "resnext50_32x4d": ([3, 4, 6, 3], True, {"groups": 32, "base_width": 4}),
               "wide_resnet50_2": ([3, 4, 6, 3], True, {"base_width": 128})}
    if arch in resnets:
        layers, bottleneck, extra = resnets[arch]
        return _resnet(layers, bottleneck, **extra)
    if arch.startswith("vgg"):
        from taimatsu_vision.models.vgg import cfgs
        return _vgg(cfgs[_VGG_CFGS[arch.removesuffix("_bn")]], arch.endswith("_bn"))
    return {"mobilenetv2_100": lambda: _effnet_family(MOBILENETV2),
            "efficientnet_b0": lambda: _effnet_family(EFFICIENTNET_B0),
            "convnext_tiny": _convnext_tiny,
            "vit_base_patch16_224": lambda: _vit_base(16),
            "vit_base_patch32_224": lambda: _vit_base(32),
            "swin_tiny_patch4_window7_224": _swin_tiny}[arch]()


# Tensors timm stores in another shape than torchvision: our modules reshape them on load.
_RESHAPED = {r"classifier\.[03]\.weight": 2, r".*\.layer_scale": 3}


def _same_shape_after_load(key, theirs, ours):
    for pattern, ndim in _RESHAPED.items():
        if re.fullmatch(pattern, key) and len(theirs) != ndim:
            return int(np.prod(theirs)) == int(np.prod(ours))
    return tuple(theirs) == tuple(ours)


FAST_ARCHS = ["resnet18", "resnet50", "mobilenetv2_100", "efficientnet_b0", "convnext_tiny",
              "vit_base_patch32_224", "swin_tiny_patch4_window7_224"]
SLOW_ARCHS = [a for a in _timm.ARCHITECTURES if a not in FAST_ARCHS]


def _our_shapes(arch):
    builder = models.BUILDERS[_timm.ARCHITECTURES[arch].builder]
    return {k: tuple(v.shape) for k, v in builder().state_dict().items()}


def _check_mapping(arch):
    theirs = timm_shapes(arch)
    ours = _our_shapes(arch)
    mapping = _timm.ARCHITECTURES[arch].key_mapping
    mapped = remap_keys(theirs, mapping)
    assert len(mapped) == len(theirs), "two timm keys map to the same name"
    # timm leaves out swin's relative_position_index (recomputed on load)
    derived = {k for k in ours if k.endswith("relative_position_index")}
    assert set(mapped) == set(ours) - derived
    bad = [k for k in mapped if not _same_shape_after_load(k, mapped[k], ours[k])]
    assert not bad


@pytest.mark.parametrize("arch", FAST_ARCHS)
def test_timm_names_map_onto_ours(arch):
    _check_mapping(arch)


@pytest.mark.slow
@pytest.mark.parametrize("arch", SLOW_ARCHS)
def test_timm_names_map_onto_ours_large(arch):
    _check_mapping(arch)


# -- checkpoints on disk ------------------------------------------------------------------


def _timm_config(arch, **pretrained):
    cfg = {"input_size": [3, 224, 224], "interpolation": "bicubic", "crop_pct": 0.9,
           "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5], "num_classes": 1000,
           "tag": "test", **pretrained}
    return {"architecture": arch, "num_classes": cfg["num_classes"], "num_features": 0,
            "pretrained_cfg": cfg}


def _write_timm_checkpoint(folder, arch, seed=0, **pretrained):
    rng = np.random.default_rng(seed)
    state = {k: rng.standard_normal(shape).astype(np.float32) if shape else
             np.array(7, dtype=np.int64) for k, shape in timm_shapes(arch).items()}
    os.makedirs(folder, exist_ok=True)
    save_file({k: tm.from_numpy(v) for k, v in state.items()},
              os.path.join(folder, "model.safetensors"))
    config = _timm_config(arch, **pretrained)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f)
    return state, config


def _assert_loaded(model, arch, state):
    ours = model.state_dict()
    for key, value in state.items():
        mapped = remap_keys({key: None}, _timm.ARCHITECTURES[arch].key_mapping)
        name = next(iter(mapped))
        np.testing.assert_array_equal(ours[name].numpy().reshape(value.shape), value)


@pytest.mark.parametrize("arch", ["resnet18", "mobilenetv2_100", "efficientnet_b0",
                                  "convnext_tiny", "swin_tiny_patch4_window7_224"])
def test_hub_load_builds_our_model_with_the_checkpoint(tmp_path, arch):
    state, config = _write_timm_checkpoint(tmp_path, arch)
    model = models.hub_load(str(tmp_path), config)
    assert model is not None
    _assert_loaded(model, arch, state)
    assert model.pretrained_cfg == config["pretrained_cfg"]
    preset = model.transforms
    assert (preset.crop_size, preset.resize_size, preset.interpolation) == ([224], [248],
                                                                           "bicubic")
    assert preset.mean == [0.5, 0.5, 0.5]


@pytest.mark.slow
@pytest.mark.parametrize("arch", ["vgg11", "vit_base_patch16_224"])
def test_hub_load_large_models(tmp_path, arch):
    state, config = _write_timm_checkpoint(tmp_path, arch)
    _assert_loaded(models.hub_load(str(tmp_path), config), arch, state)


def test_hub_load_ignores_configs_it_does_not_know(tmp_path):
    assert models.hub_load(str(tmp_path), {"architecture": "resnet18"}) is None  # not timm
    assert models.hub_load(str(tmp_path), _timm_config("resnet50d")) is None
    assert models.hub_load(str(tmp_path), {"model_type": "bert",
                                           "architectures": ["BertModel"]}) is None


def test_hub_load_reads_pytorch_model_bin_and_label_names(tmp_path):
    state, config = _write_timm_checkpoint(tmp_path, "resnet18")
    os.remove(tmp_path / "model.safetensors")
    tm.save({k: tm.from_numpy(v) for k, v in state.items()}, tmp_path / "pytorch_model.bin")
    config["label_names"] = [f"class {i}" for i in range(1000)]
    model = models.hub_load(str(tmp_path), config)
    _assert_loaded(model, "resnet18", state)
    assert model.categories[3] == "class 3"


def test_hub_load_headless_checkpoint_gives_a_feature_extractor(tmp_path):
    state, config = _write_timm_checkpoint(tmp_path, "mobilenetv2_100")
    state = {k: v for k, v in state.items() if not k.startswith("classifier")}
    save_file({k: tm.from_numpy(v) for k, v in state.items()},
              str(tmp_path / "model.safetensors"))
    config["num_classes"] = 0
    model = models.hub_load(str(tmp_path), config).eval()
    assert isinstance(model.classifier[1], nn.Identity)
    with tm.no_grad():
        assert model(tm.randn(1, 3, 32, 32)).shape == (1, 1280)


def test_hub_load_missing_weights_and_unsupported_model_args(tmp_path):
    with pytest.raises(FileNotFoundError, match="expected model.safetensors"):
        models.hub_load(str(tmp_path), _timm_config("resnet18"))
    config = _timm_config("resnet18")
    config["model_args"] = {"drop_rate": 0.3}
    with pytest.raises(ValueError, match="model_args"):
        models.hub_load(str(tmp_path), config)


@pytest.mark.slow
def test_hub_load_takes_the_vit_image_size_from_the_config(tmp_path):
    # a checkpoint of the same architecture for 64x64 inputs: fewer position embeddings
    state, config = _write_timm_checkpoint(tmp_path, "vit_base_patch32_224",
                                           input_size=[3, 64, 64])
    shapes = timm_shapes("vit_base_patch32_224")
    assert shapes["pos_embed"] == (1, 50, 768)
    state["pos_embed"] = np.zeros((1, 5, 768), np.float32)  # (64 / 32)^2 + 1 positions
    save_file({k: tm.from_numpy(v) for k, v in state.items()},
              str(tmp_path / "model.safetensors"))
    model = models.hub_load(str(tmp_path), config)
    assert model.image_size == 64 and model.encoder.pos_embedding.shape == (1, 5, 768)


# -- Weights records ----------------------------------------------------------------------


def _local(record: Weights, path) -> Weights:
    return dataclasses.replace(record, repo_id=None, filename=str(path))


def test_builder_loads_default_weights_through_the_record(tmp_path, monkeypatch):
    state, _ = _write_timm_checkpoint(tmp_path, "mobilenetv2_100")
    record = _local(models.MobileNet_V2_Weights.RA_IN1K.value, tmp_path / "model.safetensors")
    monkeypatch.setitem(_weights.WEIGHTS, "mobilenet_v2", (record,))
    model = models.mobilenet_v2(weights="DEFAULT")
    _assert_loaded(model, "mobilenetv2_100", state)
    model = models.mobilenet_v2(weights="RA_IN1K")
    _assert_loaded(model, "mobilenetv2_100", state)


def test_registry_get_model_loads_weights(tmp_path):
    state, _ = _write_timm_checkpoint(tmp_path, "convnext_tiny")
    registry = Registry("model")
    models.register_models(registry)
    timm_weights = next(w for w in registry.get("convnext_tiny").weights if w.name == "FB_IN1K")
    record = _local(timm_weights, tmp_path / "model.safetensors")
    model = registry.get("convnext_tiny").obj()
    model.load_state_dict(record.get_state_dict())
    _assert_loaded(model, "convnext_tiny", state)
    assert model.features[1][0].layer_scale.shape == (96, 1, 1)


def test_weights_from_a_hand_built_hugging_face_cache(tmp_path, monkeypatch):
    constants = pytest.importorskip("huggingface_hub.constants")
    record = _weights.WEIGHTS["resnet18"][0]
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "models--timm--resnet18.tv_in1k"
    state, _ = _write_timm_checkpoint(repo / "snapshots" / commit, "resnet18", seed=4)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    # huggingface_hub reads its environment at import: patch what it read instead
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    assert record.repo_id == "timm/resnet18.tv_in1k" and record.filename == "model.safetensors"
    model = models.resnet18(weights="IMAGENET1K_V1")
    _assert_loaded(model, "resnet18", state)
