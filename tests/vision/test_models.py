"""The model zoo: builders, torchvision's structure and parameter counts, registration,
weights records and preprocessing presets. (Numerics against PyTorch live in
tests/parity/vision/test_models_parity.py; checkpoints in test_hub_load.py.)"""

from __future__ import annotations

import numpy as np
import pytest

import taimatsu as tm
from taimatsu import nn
from taimatsu.plugins import Registry, Weights
from taimatsu_vision import models
from taimatsu_vision.models import _weights

# torchvision's documented parameter counts
NUM_PARAMS = {
    "resnet18": 11689512, "resnet34": 21797672, "resnet50": 25557032, "resnet101": 44549160,
    "resnet152": 60192808, "resnext50_32x4d": 25028904, "wide_resnet50_2": 68883240,
    "vgg11": 132863336, "vgg11_bn": 132868840, "vgg13": 133047848, "vgg13_bn": 133053736,
    "vgg16": 138357544, "vgg16_bn": 138365992, "vgg19": 143667240, "vgg19_bn": 143678248,
    "mobilenet_v2": 3504872, "mobilenet_v3_large": 5483032, "mobilenet_v3_small": 2542856,
    "efficientnet_b0": 5288548, "convnext_tiny": 28589128, "vit_b_16": 86567656,
    "vit_b_32": 88224232, "swin_t": 28288354, "lenet5": 61706,
}
CHEAP = ["lenet5", "resnet18", "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large",
         "efficientnet_b0"]


def _count(model) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("name", CHEAP)
def test_parameter_count_matches_torchvision(name):
    assert _count(models.BUILDERS[name]()) == NUM_PARAMS[name]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(set(NUM_PARAMS) - set(CHEAP)))
def test_parameter_count_matches_torchvision_large(name):
    assert _count(models.BUILDERS[name]()) == NUM_PARAMS[name]


@pytest.mark.parametrize("name,size,kwargs", [
    ("lenet5", 28, {}), ("resnet18", 64, {}), ("mobilenet_v2", 64, {}),
    ("mobilenet_v3_small", 64, {"dropout": 0.0}), ("efficientnet_b0", 64, {}),
    ("convnext_tiny", 32, {}), ("vit_b_32", 32, {"image_size": 32}), ("swin_t", 64, {}),
])
def test_builders_take_num_classes_and_train(name, size, kwargs):
    """Forward in train mode, backward, and every parameter gets a gradient."""
    tm.manual_seed(0)
    model = models.BUILDERS[name](num_classes=7, **kwargs)
    channels = 1 if name == "lenet5" else 3
    out = model(tm.randn(2, channels, size, size))
    assert out.shape == (2, 7)
    out.sum().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert not missing


def test_state_dict_names_follow_torchvision():
    keys = set(models.resnet18().state_dict())
    assert {"conv1.weight", "bn1.num_batches_tracked", "layer1.0.conv1.weight",
            "layer2.0.downsample.0.weight", "layer2.0.downsample.1.running_var",
            "fc.bias"} <= keys
    keys = set(models.mobilenet_v2().state_dict())
    assert {"features.0.0.weight", "features.1.conv.0.0.weight", "features.1.conv.1.weight",
            "features.2.conv.3.running_mean", "features.18.1.weight",
            "classifier.1.weight"} <= keys
    keys = set(models.efficientnet_b0().state_dict())
    assert {"features.1.0.block.1.fc1.weight", "features.2.0.block.2.fc2.bias",
            "features.8.0.weight", "classifier.1.weight"} <= keys
    keys = set(models.mobilenet_v3_small().state_dict())
    assert {"features.1.block.1.fc1.weight", "classifier.3.weight"} <= keys
    vit = models.vit_b_32(image_size=32)
    keys = set(vit.state_dict())
    assert {"class_token", "conv_proj.weight", "encoder.pos_embedding",
            "encoder.layers.encoder_layer_11.self_attention.in_proj_weight",
            "encoder.layers.encoder_layer_0.mlp.3.bias", "encoder.ln.weight",
            "heads.head.weight"} <= keys


def test_model_details_follow_torchvision():
    mnv3 = models.mobilenet_v3_large()
    bn = mnv3.features[0][1]
    assert (bn.eps, bn.momentum) == (0.001, 0.01)
    assert isinstance(mnv3.features[0][2], nn.Hardswish)
    effnet = models.efficientnet_b0()
    depths = [m.stochastic_depth.p for stage in effnet.features[1:8] for m in stage]
    assert depths[0] == 0.0 and depths[-1] == pytest.approx(0.2 * 15 / 16)
    convnext = models.convnext_tiny()
    block = convnext.features[7][2]
    assert block.stochastic_depth.p == pytest.approx(0.1)
    np.testing.assert_allclose(block.layer_scale.detach().numpy(), 1e-6)
    vit = models.vit_b_16(image_size=32)
    assert not vit.heads.head.weight.detach().numpy().any()  # torchvision zero-inits the head
    swin = models.swin_t()
    assert [b.attn.shift_size for b in swin.features[3]] == [[0, 0], [3, 3]]


def test_vit_loads_torchvision_checkpoints_with_legacy_mlp_names():
    """torchvision's vit_*.pth files name the MLP layers linear_1 / linear_2."""
    source = models.vit_b_32(image_size=32)
    state = {k.replace("mlp.0.", "mlp.linear_1.").replace("mlp.3.", "mlp.linear_2."): v
             for k, v in source.state_dict().items()}
    assert "encoder.layers.encoder_layer_0.mlp.linear_2.bias" in state
    target = models.vit_b_32(image_size=32)
    target.load_state_dict(state)
    np.testing.assert_array_equal(
        target.encoder.layers.encoder_layer_5.mlp[3].weight.detach().numpy(),
        source.encoder.layers.encoder_layer_5.mlp[3].weight.detach().numpy())


def test_vit_checks_the_input_size():
    vit = models.vit_b_32(image_size=64)
    with pytest.raises(AssertionError, match="Wrong image height! Expected 64 but got 32!"):
        vit(tm.randn(1, 3, 32, 64))


def test_lenet5_layout():
    model = models.lenet5(num_classes=3, in_channels=2, padding=0)
    assert model.features[0].padding == (0, 0) and model.features[0].in_channels == 2
    assert model(tm.randn(1, 2, 32, 32)).shape == (1, 3)


def test_builders_reject_bad_configurations():
    with pytest.raises(ValueError, match="BasicBlock only supports groups=1"):
        models.ResNet(models.resnet.BasicBlock, [2, 2, 2, 2], groups=2)
    with pytest.raises(ValueError, match="The parameter 'groups' expected value 32 but got 8"):
        models.resnext50_32x4d(groups=8)
    with pytest.raises(ValueError, match="stride should be 1 or 2"):
        models.mobilenetv2.InvertedResidual(8, 8, 3, 2)
    with pytest.raises(ValueError, match="Unsupported model type"):
        models.mobilenetv3._mobilenet_v3_conf("mobilenet_v3_tiny")


# -- weights and registration -------------------------------------------------------------


def test_register_models_adds_every_builder():
    registry = Registry("model")
    models.register_models(registry)
    assert registry.names() == sorted(models.BUILDERS)
    assert registry.names(domain="vision", task="classification") == sorted(models.BUILDERS)
    entry = registry.get("resnet50")
    assert entry.obj is models.resnet50
    assert entry.description.startswith("ResNet-50")
    assert [w.name for w in entry.weights] == ["IMAGENET1K_V2", "IMAGENET1K_V1"]
    assert registry.get("lenet5").weights == ()
    assert [w.name for w in registry.get("mobilenet_v3_small").weights] == ["IMAGENET1K_V1"]


@pytest.mark.parametrize("name", sorted(_weights.WEIGHTS))
def test_weights_records(name):
    for w in _weights.WEIGHTS[name]:
        assert isinstance(w, Weights)
        if w.repo_id is None:  # torchvision's own files (tests/vision/test_weights_api.py)
            continue
        assert w.repo_id == f"timm/{w.meta['timm_model']}"
        assert w.filename == "model.safetensors" and w.sha256 is None
        assert w.num_params == NUM_PARAMS[name]
        top1 = w.metrics["ImageNet-1K"]["acc@1"]
        assert 60 < top1 < w.metrics["ImageNet-1K"]["acc@5"] < 100
        assert len(w.meta["categories"]) == 1000
        preset = w.transforms()
        assert preset.crop_size == [224]
        arch = w.meta["timm_model"].split(".")[0]
        assert w.key_mapping is models._timm.ARCHITECTURES[arch].key_mapping


def test_presets_follow_the_checkpoints():
    rn = _weights.WEIGHTS["resnet18"][0].transforms()
    assert (rn.resize_size, rn.interpolation, rn.mean) == ([256], "bilinear",
                                                          [0.485, 0.456, 0.406])
    vit = models.ViT_B_16_Weights.AUGREG_IN21K_FT_IN1K.transforms()
    assert (vit.resize_size, vit.interpolation, vit.mean, vit.std) == (
        [248], "bicubic", [0.5] * 3, [0.5] * 3)
    assert "resize_size=[248]" in vit.describe()
    assert "InterpolationMode.BICUBIC" in repr(vit)


def test_imagenet_categories():
    cats = models.imagenet_categories()
    assert len(cats) == 1000 == len(set(cats))
    assert cats[0] == "tench" and cats[1] == "goldfish" and cats[999] == "toilet tissue"
    assert cats[134] == "crane bird" and cats[517] == "crane"


def test_weights_resolution():
    assert models.get_weight("resnet18").value is _weights.WEIGHTS["resnet18"][0]
    assert models.get_weight("resnet18", "ResNet18_Weights.IMAGENET1K_V1").name == \
        "IMAGENET1K_V1"
    with pytest.raises(ValueError, match="has no weights 'V9'"):
        models.get_weight("resnet18", "V9")
    with pytest.raises(ValueError, match="model 'lenet5' has no pretrained weights"):
        models.lenet5(weights="DEFAULT")
    with pytest.raises(ValueError,
                       match="The parameter 'num_classes' expected value 1000 but got 10"):
        models.resnet18(weights="DEFAULT", num_classes=10)
    with pytest.raises(TypeError, match="weights must be None, a string or a Weights"):
        models.resnet18(weights=3)
    with pytest.raises(ValueError, match="Unknown model resnet19"):
        models.get_model("resnet19")
    assert models.list_models(include="vgg1[13]*", exclude="*_bn") == ["vgg11", "vgg13"]
    assert models.get_model_weights("vit_b_16").DEFAULT.meta["min_size"] == (224, 224)


def test_preset_transforms_an_image_like_torchvision():
    """Resize the shorter side to 256, center-crop 224, scale to [0, 1], normalize."""
    from PIL import Image

    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (300, 400, 3), dtype=np.uint8)
    preset = models.ImageClassification(crop_size=224, resize_size=256)
    out = preset(Image.fromarray(pixels))
    assert out.shape == (3, 224, 224) and out.dtype == tm.float32
    resized = np.asarray(Image.fromarray(pixels).resize((341, 256), Image.BILINEAR))
    top, left = (256 - 224) // 2, (341 - 224) // 2
    crop = resized[top:top + 224, left:left + 224].transpose(2, 0, 1) / 255.0
    mean = np.array([0.485, 0.456, 0.406])[:, None, None]
    std = np.array([0.229, 0.224, 0.225])[:, None, None]
    np.testing.assert_allclose(out.numpy(), (crop - mean) / std, atol=1e-5)
    batch = preset(tm.from_numpy(np.stack([pixels.transpose(2, 0, 1)] * 2)))
    assert batch.shape == (2, 3, 224, 224)
