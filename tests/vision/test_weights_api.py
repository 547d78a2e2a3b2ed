"""torchvision's model API in taimatsu_vision.models: the WeightsEnum classes (members,
DEFAULT, url/meta/transforms, get_state_dict), get_weight / get_model_weights / get_model /
list_models, the deprecated `pretrained=` interface, and the `models.__dict__` listing
that scripts scan for architectures. Nothing here touches the network: checkpoints come
from file:// URLs, a pre-populated hub folder or a hand-built Hugging Face cache.

Expected values are torchvision's documented ones (its model pages and Weights enums).
"""

from __future__ import annotations

import copy
import hashlib
import pickle
import warnings
from functools import partial

import numpy as np
import pytest

import taimatsu as tm
from taimatsu import plugins
from taimatsu.plugins import Registry
from taimatsu.safetensors import save_file
from taimatsu_vision import models
from taimatsu_vision.models import ImageClassification, Weights, WeightsEnum, _utils, _weights

ENUMS = sorted(set(_weights.ENUMS.values()), key=lambda e: e.__name__)
TORCHVISION_META = {"categories", "num_params", "min_size", "recipe", "_metrics", "_docs",
                    "_ops", "_file_size"}
API = ["get_model", "get_model_builder", "get_model_weights", "get_weight", "list_models"]


def _architectures(module) -> list[str]:
    """The ImageNet example's --arch choices."""
    return sorted(name for name in module.__dict__
                  if name.islower() and not name.startswith("__")
                  and callable(module.__dict__[name]))


def _state(seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    return {"fc.weight": tm.from_numpy(rng.standard_normal((3, 4)).astype(np.float32)),
            "fc.bias": tm.from_numpy(rng.standard_normal(3).astype(np.float32))}


def _publish(folder, state: dict, stem: str = "tiny", bad_hash: bool = False) -> str:
    """Saves `state` as `<stem>-<sha256 prefix>.pth` (torch.hub's naming); returns its
    file:// URL. bad_hash names it with a prefix that does not match."""
    tmp = folder / "upload.pth"
    tm.save(state, tmp)
    digest = hashlib.sha256(tmp.read_bytes()).hexdigest()[:8]
    if bad_hash:
        digest = "deadbeef" if digest != "deadbeef" else "0badf00d"
    path = folder / f"{stem}-{digest}.pth"
    tmp.rename(path)
    return path.as_uri()


def _assert_same(a: dict, b: dict) -> None:
    assert sorted(a) == sorted(b)
    for k in a:
        np.testing.assert_array_equal(a[k].numpy(), b[k].numpy())


@pytest.fixture
def hub_home(tmp_path, monkeypatch):
    """An empty hub folder (TAIMATSU_HOME/hub) for URL downloads."""
    _dirs = pytest.importorskip("taimatsu_hub._dirs")
    monkeypatch.setattr(_dirs, "_hub_dir", None)
    monkeypatch.setenv("TAIMATSU_HOME", str(tmp_path / "home"))
    return tmp_path / "home" / "hub"


# -- the models namespace ---------------------------------------------------------------------


def test_models_dict_lists_the_builders_and_torchvisions_api():
    archs = _architectures(models)
    assert archs == sorted([*models.BUILDERS, *API])
    assert {"resnet18", "resnet50", "vgg16", "vgg16_bn", "mobilenet_v2", "mobilenet_v3_small",
            "efficientnet_b0", "convnext_tiny", "vit_b_16", "swin_t"} <= set(archs)
    # the plugin's helpers stay importable without showing up as architectures
    for helper in ("register_models", "hub_load", "imagenet_categories"):
        assert helper not in models.__dict__ and callable(getattr(models, helper))
        assert helper in dir(models)
    from taimatsu_vision.models import hub_load  # noqa: F401
    with pytest.raises(AttributeError, match="has no attribute 'resnet19'"):
        models.resnet19  # noqa: B018


def test_imagenet_example_picks_an_architecture_by_name():
    model = models.__dict__["mobilenet_v3_small"](num_classes=7)
    assert isinstance(model, models.MobileNetV3)
    with tm.no_grad():
        assert model.eval()(tm.zeros(1, 3, 32, 32)).shape == (1, 7)


# -- enums --------------------------------------------------------------------------------


def test_members_default_and_repr():
    W = models.ResNet50_Weights
    assert [m.name for m in W] == ["IMAGENET1K_V1", "IMAGENET1K_V2"]  # DEFAULT is an alias
    assert W.DEFAULT is W.IMAGENET1K_V2 and W["DEFAULT"] is W.IMAGENET1K_V2
    assert repr(W.DEFAULT) == "ResNet50_Weights.IMAGENET1K_V2"
    assert str(W.IMAGENET1K_V1) == "ResNet50_Weights.IMAGENET1K_V1"
    assert models.ResNet18_Weights.DEFAULT is models.ResNet18_Weights.IMAGENET1K_V1
    assert [m.name for m in models.ViT_B_16_Weights] == [
        "IMAGENET1K_V1", "IMAGENET1K_SWAG_E2E_V1", "IMAGENET1K_SWAG_LINEAR_V1",
        "AUGREG_IN21K_FT_IN1K"]
    assert models.VGG16_Weights.IMAGENET1K_FEATURES in list(models.VGG16_Weights)
    assert isinstance(W.DEFAULT, WeightsEnum) and isinstance(W.DEFAULT.value, Weights)


@pytest.mark.parametrize("enum", ENUMS, ids=lambda e: e.__name__)
def test_every_member_is_a_named_registry_record(enum):
    assert "DEFAULT" in enum.__members__
    for member in enum:
        record = member.value
        assert isinstance(record, plugins.Weights) and record.name == member.name
        assert member.url == record.url and member.url.startswith("https://")
        assert member.meta is record.meta and member.transforms is record.transforms
        meta = member.meta
        needed = TORCHVISION_META if member.url.startswith("https://download.pytorch.org/") \
            else TORCHVISION_META - {"_ops", "_file_size"}
        assert needed <= set(meta), needed - set(meta)
        assert meta["num_params"] == record.num_params > 0
        assert meta["_metrics"] is record.metrics and set(meta["_metrics"]) == {"ImageNet-1K"}
        assert meta["categories"] is None or len(meta["categories"]) == 1000
        assert len(meta["min_size"]) == 2 and isinstance(meta["_docs"], str)
        assert isinstance(member.transforms(), ImageClassification)


CHEAP = ["resnet18", "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large",
         "efficientnet_b0"]


def _check_num_params(name: str) -> None:
    """Every member's meta["num_params"] is what the builder makes (ViTs at the image size
    the weights were trained at)."""
    counts: dict = {}
    for member in models.get_model_weights(name):
        kwargs = {"image_size": member.meta["min_size"][0]} if name.startswith("vit") else {}
        key = tuple(kwargs.items())
        if key not in counts:
            model = models.get_model(name, **kwargs)
            counts[key] = sum(p.numel() for p in model.parameters())
        assert member.meta["num_params"] == counts[key], repr(member)


@pytest.mark.parametrize("name", CHEAP)
def test_num_params_match_the_builder(name):
    _check_num_params(name)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(set(_weights.ENUMS) - set(CHEAP)))
def test_num_params_match_the_builder_for_the_large_models(name):
    _check_num_params(name)


def test_values_published_by_torchvision():
    """Spot checks of the table against torchvision's documentation."""
    v2 = models.ResNet50_Weights.IMAGENET1K_V2
    assert v2.url == "https://download.pytorch.org/models/resnet50-11ad3fa6.pth"
    assert v2.meta["_metrics"]["ImageNet-1K"] == {"acc@1": 80.858, "acc@5": 95.434}
    assert v2.meta["num_params"] == 25557032 and v2.meta["min_size"] == (1, 1)
    assert v2.meta["recipe"] == \
        "https://github.com/pytorch/vision/issues/3995#issuecomment-1013906621"
    assert v2.transforms.func is ImageClassification
    assert v2.transforms.keywords == {"crop_size": 224, "resize_size": 232}
    vgg = models.VGG16_Weights.IMAGENET1K_V1
    assert vgg.url.endswith("/vgg16-397923af.pth") and vgg.meta["min_size"] == (32, 32)
    assert vgg.meta["_ops"] == 15.47 and vgg.meta["_file_size"] == 527.796
    features = models.VGG16_Weights.IMAGENET1K_FEATURES
    assert features.meta["categories"] is None
    assert np.isnan(features.meta["_metrics"]["ImageNet-1K"]["acc@1"])
    preset = features.transforms()
    assert preset.mean == [0.48235, 0.45882, 0.40784] and preset.std == [1 / 255] * 3
    swag = models.ViT_B_16_Weights.IMAGENET1K_SWAG_E2E_V1.transforms()
    assert (swag.crop_size, swag.resize_size, swag.interpolation) == ([384], [384], "bicubic")
    assert models.ViT_B_16_Weights.IMAGENET1K_SWAG_E2E_V1.meta["license"].endswith("LICENSE")
    swin = models.Swin_T_Weights.DEFAULT.transforms()
    assert (swin.resize_size, swin.interpolation) == ([232], "bicubic")
    convnext = models.ConvNeXt_Tiny_Weights.DEFAULT
    assert convnext.transforms().resize_size == [236]
    assert convnext.meta["_metrics"]["ImageNet-1K"]["acc@1"] == 82.520
    small = models.MobileNet_V3_Small_Weights.DEFAULT
    assert small.url.endswith("/mobilenet_v3_small-047dcff4.pth")
    effnet = models.EfficientNet_B0_Weights.DEFAULT.transforms()
    assert (effnet.resize_size, effnet.interpolation) == ([256], "bicubic")


def test_mirrored_members_download_timms_copy_and_keep_torchvisions_url():
    resnet = models.ResNet18_Weights.IMAGENET1K_V1.value
    assert resnet.repo_id == "timm/resnet18.tv_in1k" and resnet.filename == "model.safetensors"
    assert resnet.url == "https://download.pytorch.org/models/resnet18-f37072fd.pth"
    assert models.ResNet50_Weights.IMAGENET1K_V2.value.repo_id == "timm/resnet50.tv2_in1k"
    # timm's own trainings have no torchvision URL: theirs is the Hub file's
    ra = models.MobileNet_V2_Weights.RA_IN1K
    assert ra.url == ("https://huggingface.co/timm/mobilenetv2_100.ra_in1k/resolve/main/"
                      "model.safetensors")
    # torchvision-only checkpoints come from torchvision's URL
    assert models.Swin_T_Weights.DEFAULT.value.repo_id is None


def test_enum_members_are_the_registry_records():
    registry = Registry("model")
    models.register_models(registry)
    for name, enum in _weights.ENUMS.items():
        records = registry.get(name).weights
        assert records[0] is enum.DEFAULT.value
        assert {id(r) for r in records} == {id(m.value) for m in enum}
        assert _weights.WEIGHTS[name] == records
    assert [w.name for w in registry.get("resnet50").weights] == ["IMAGENET1K_V2",
                                                                  "IMAGENET1K_V1"]
    assert registry.get("lenet5").weights == ()


def test_members_pickle_and_copy_as_themselves():
    member = models.ResNet50_Weights.IMAGENET1K_V2
    assert pickle.loads(pickle.dumps(member)) is member
    assert copy.deepcopy(member) is member and copy.copy(member) is member


# -- weights= in builders, verify, get_weight ---------------------------------------------


def test_verify():
    W = models.ResNet18_Weights
    assert W.verify(None) is None
    assert W.verify("IMAGENET1K_V1") is W.verify("ResNet18_Weights.IMAGENET1K_V1") \
        is W.verify("DEFAULT") is W.verify(W.IMAGENET1K_V1) is W.IMAGENET1K_V1
    with pytest.raises(KeyError):
        W.verify("IMAGENET1K_V9")
    with pytest.raises(TypeError, match="Invalid Weight class provided; expected "
                                        "ResNet18_Weights but received ResNet50_Weights."):
        W.verify(models.ResNet50_Weights.DEFAULT)


def test_builders_take_members_names_and_records():
    resolve = _utils.resolve_weights
    W = models.ResNet50_Weights
    for given in (W.IMAGENET1K_V1, "IMAGENET1K_V1", "ResNet50_Weights.IMAGENET1K_V1",
                  W.IMAGENET1K_V1.value):
        assert resolve("resnet50", given) is W.IMAGENET1K_V1.value
    assert resolve("resnet50", "DEFAULT") is resolve("resnet50", W.DEFAULT) is \
        W.IMAGENET1K_V2.value
    assert resolve("resnet50", None) is None
    with pytest.raises(TypeError, match="expected ResNet50_Weights but received "
                                        "ResNet18_Weights"):
        models.resnet50(weights=models.ResNet18_Weights.DEFAULT)
    with pytest.raises(ValueError, match="model 'resnet50' has no weights "
                                         r"'ResNet18_Weights.IMAGENET1K_V1'; available: "):
        resolve("resnet50", "ResNet18_Weights.IMAGENET1K_V1")
    with pytest.raises(ValueError, match="model 'lenet5' has no pretrained weights"):
        models.lenet5(weights=models.ResNet18_Weights.DEFAULT)


def test_weights_fix_num_classes_and_image_size_before_downloading():
    with pytest.raises(ValueError, match="The parameter 'num_classes' expected value 1000 but "
                                         "got 10 instead."):
        models.resnet18(weights=models.ResNet18_Weights.DEFAULT, num_classes=10)
    with pytest.raises(ValueError, match="The parameter 'image_size' expected value 384 but "
                                         "got 224 instead."):
        models.vit_b_16(weights="IMAGENET1K_SWAG_E2E_V1", image_size=224)
    # feature-extractor weights have no categories: the head stays the caller's choice
    kwargs = {"num_classes": 10}
    record = _utils.prepare("vgg16", "IMAGENET1K_FEATURES", kwargs)
    assert record is models.VGG16_Weights.IMAGENET1K_FEATURES.value and kwargs == \
        {"num_classes": 10}
    kwargs = {}
    _utils.prepare("vgg16", models.VGG16_Weights.DEFAULT, kwargs)
    assert kwargs == {"num_classes": 1000}


def test_get_weight():
    member = models.get_weight("ResNet50_Weights.IMAGENET1K_V2")
    assert member is models.ResNet50_Weights.IMAGENET1K_V2
    assert models.get_weight("ViT_B_16_Weights.DEFAULT") is models.ViT_B_16_Weights.IMAGENET1K_V1
    with pytest.raises(ValueError, match=r"^Invalid weight name provided: 'IMAGENET1K_V1'\.$"):
        models.get_weight("IMAGENET1K_V1")
    with pytest.raises(ValueError, match="^Invalid weight name provided: 'a.b.c'"):
        models.get_weight("a.b.c")
    with pytest.raises(ValueError, match="^The weight enum 'ResNet19_Weights' for the specific "
                                         "method couldn't be retrieved.$"):
        models.get_weight("ResNet19_Weights.IMAGENET1K_V1")
    with pytest.raises(KeyError):
        models.get_weight("ResNet50_Weights.IMAGENET1K_V9")
    # by model name (a taimatsu convenience)
    assert models.get_weight("resnet50") is models.ResNet50_Weights.DEFAULT
    assert models.get_weight("resnet50", "IMAGENET1K_V1") is models.ResNet50_Weights.IMAGENET1K_V1
    with pytest.raises(ValueError, match="model 'resnet50' has no weights 'V9'"):
        models.get_weight("resnet50", "V9")
    with pytest.raises(ValueError, match="model 'lenet5' has no pretrained weights"):
        models.get_weight("lenet5")


def test_get_model_weights_get_model_and_builders():
    assert models.get_model_weights("resnet50") is models.ResNet50_Weights
    assert models.get_model_weights(models.swin_t) is models.Swin_T_Weights
    assert models.get_model_weights(models.resnet.resnet18) is models.ResNet18_Weights
    with pytest.raises(ValueError, match="The WeightsEnum class for the specific method "
                                         "couldn't be retrieved"):
        models.get_model_weights("lenet5")
    with pytest.raises(ValueError, match="The method is missing the 'weights' argument."):
        models.get_model_weights(lambda num_classes=3: None)
    assert models.get_model_builder("ResNet18") is models.resnet18
    with pytest.raises(ValueError, match="^Unknown model resnet19$"):
        models.get_model("resnet19")
    model = models.get_model("lenet5", num_classes=3)
    assert isinstance(model, models.LeNet5) and model.classifier[-1].out_features == 3


def test_list_models():
    assert models.list_models() == sorted(models.BUILDERS)
    assert models.list_models(models) == sorted(models.BUILDERS)
    assert models.list_models(module=models.resnet) == []  # builders live one level up
    assert models.list_models(include="vgg1[13]*", exclude="*_bn") == ["vgg11", "vgg13"]
    assert models.list_models(include=["vit*", "swin*"]) == ["swin_t", "vit_b_16", "vit_b_32"]
    assert models.list_models(exclude=["*_bn", "vgg*", "res*", "wide*", "mobile*", "vit*"]) == \
        ["convnext_tiny", "efficientnet_b0", "lenet5", "swin_t"]


def test_register_model_refuses_a_taken_name():
    with pytest.raises(ValueError, match="An entry is already registered under the name "
                                         "'resnet18'."):
        models._api.register_model("resnet18")(lambda: None)


# -- the deprecated interface -------------------------------------------------------------


def _messages(caught) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


def test_pretrained_false_warns_and_builds_without_weights():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = models.mobilenet_v3_small(pretrained=False)
    assert isinstance(model, models.MobileNetV3)
    assert _messages(caught) == [
        "The parameter 'pretrained' is deprecated since 0.13 and may be removed in the "
        "future, please use 'weights' instead.",
        "Arguments other than a weight enum or `None` for 'weights' are deprecated since 0.13 "
        "and may be removed in the future. The current behavior is equivalent to passing "
        "`weights=None`."]
    assert caught[0].filename == __file__  # pointing at the caller


def test_positional_arguments_warn():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        models.lenet5(False, True)
    assert _messages(caught)[0] == (
        "Using 'weights' and 'progress' as positional parameter(s) is deprecated since 0.13 and "
        "may be removed in the future. Please use keyword parameter(s) instead.")
    assert len(_messages(caught)) == 2  # then the flag that landed on `weights`


def test_only_flags_are_taken_for_the_legacy_pretrained():
    # torchvision would read any truthy `weights` as pretrained=True; a clear error is kinder
    with pytest.raises(TypeError, match="weights must be None, a string or a Weights record, "
                                        "got int"):
        models.resnet18(weights=3)
    with pytest.raises(TypeError, match="unexpected keyword argument 'pretrained'"):
        models.lenet5(weights=None, pretrained=True)  # both: torchvision refuses it too


def test_pretrained_true_without_weights_is_an_error():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="^No weights available for model lenet5$"):
            models.lenet5(pretrained=True)


def test_pretrained_true_loads_the_legacy_weights_from_the_hub_cache(hub_home):
    """pretrained=True means IMAGENET1K_V1 (not DEFAULT, which is V2 here), read from the
    hub folder's checkpoints under torchvision's file name, as torch.hub caches it."""
    reference = models.mobilenet_v3_large()
    state = reference.state_dict()
    (hub_home / "checkpoints").mkdir(parents=True)
    tm.save(state, hub_home / "checkpoints" / "mobilenet_v3_large-8738ca79.pth")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = models.__dict__["mobilenet_v3_large"](pretrained=True)
    assert _messages(caught)[1].endswith(
        "The current behavior is equivalent to passing "
        "`weights=MobileNet_V3_Large_Weights.IMAGENET1K_V1`. You can also use "
        "`weights=MobileNet_V3_Large_Weights.DEFAULT` to get the most up-to-date weights.")
    _assert_same(model.state_dict(), state)
    loaded = models.MobileNet_V3_Large_Weights.IMAGENET1K_V1.get_state_dict(progress=False)
    _assert_same(loaded, state)
    with pytest.raises(FileNotFoundError, match="mobilenet_v3_large-5c1a4163.pth is not in"):
        models.MobileNet_V3_Large_Weights.DEFAULT.value.local_file(local_files_only=True)


# -- get_state_dict -----------------------------------------------------------------------


class Tiny_Weights(WeightsEnum):
    """Declared as downstream libraries declare torchvision weights."""

    V1 = Weights(url="file:///nonexistent/tiny-00000000.pth",
                 transforms=partial(ImageClassification, crop_size=8, resize_size=9),
                 meta={"categories": ["a", "b", "c"], "num_params": 15,
                       "_metrics": {"toy": {"acc@1": 1.0}}})
    DEFAULT = V1


def test_torchvision_style_records_fill_the_registry_fields():
    record = Tiny_Weights.V1.value
    assert record.num_params == 15 and record.metrics == {"toy": {"acc@1": 1.0}}
    assert record.name == "" and Tiny_Weights.V1.name == "V1"
    legacy = Weights(name="X", repo_id="org/x", filename="w.safetensors", num_params=4,
                     metrics={"m": 1})
    assert legacy.meta == {"num_params": 4, "_metrics": {"m": 1}}
    bare = Weights(url="https://example.com/x-0123.pth", meta={"categories": None})
    assert bare.meta == {"categories": None} and bare.num_params is None and bare.metrics == {}
    assert legacy.url == "https://huggingface.co/org/x/resolve/main/w.safetensors"


def _tiny(url: str) -> Weights:
    return Weights(name="V1", url=url, meta={"categories": ["a", "b", "c"]})


def test_get_state_dict_downloads_a_url_into_the_hub_folder(tmp_path, hub_home):
    state = _state()
    url = _publish(tmp_path, state)
    name = url.rsplit("/", 1)[1]
    record = _tiny(url)
    _assert_same(record.get_state_dict(progress=False, check_hash=True), state)
    assert (hub_home / "checkpoints" / name).is_file()
    # cached: a second call reads the file even once the URL is gone
    (tmp_path / name).unlink()
    _assert_same(record.get_state_dict(progress=False), state)
    with pytest.raises(OSError):
        record.get_state_dict(progress=False, force_download=True)


def test_enum_get_state_dict_takes_load_state_dict_from_urls_arguments(tmp_path, hub_home):
    state = _state(1)
    url = _publish(tmp_path, state, stem="toy")

    class Toy_Weights(WeightsEnum):
        V1 = _tiny(url)

    # positional order: model_dir, map_location, progress, check_hash, file_name
    got = Toy_Weights.V1.get_state_dict(tmp_path / "cache", "cpu", False, True, "renamed.pth")
    _assert_same(got, state)
    assert (tmp_path / "cache" / "renamed.pth").is_file()
    with pytest.raises(TypeError, match="got multiple values for argument 'progress'"):
        Toy_Weights.V1.get_state_dict(None, None, False, progress=False)
    with pytest.raises(TypeError, match="at most 6 positional arguments"):
        Toy_Weights.V1.get_state_dict(*range(7))


def test_check_hash_refuses_a_file_whose_name_does_not_match(tmp_path, hub_home):
    url = _publish(tmp_path, _state(), bad_hash=True)
    record = _tiny(url)
    with pytest.raises(RuntimeError, match="invalid hash value"):
        record.get_state_dict(progress=False, check_hash=True)
    assert not (hub_home / "checkpoints" / url.rsplit("/", 1)[1]).exists()
    _assert_same(record.get_state_dict(progress=False), _state())  # unchecked: accepted


def test_builder_loads_a_record_from_a_url(tmp_path, hub_home):
    reference = models.lenet5(num_classes=3)
    url = _publish(tmp_path, reference.state_dict(), stem="lenet5")
    model = models.lenet5(weights=_tiny(url))
    assert model.classifier[-1].out_features == 3  # num_classes from the categories
    _assert_same(model.state_dict(), reference.state_dict())


def test_mirrored_weights_come_from_a_hugging_face_cache(tmp_path, monkeypatch):
    """model_dir stands in for the Hugging Face cache folder; VGG's mirror is renamed."""
    constants = pytest.importorskip("huggingface_hub.constants")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "models--timm--vgg11.tv_in1k"
    (repo / "snapshots" / commit).mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    bias = tm.arange(1000, dtype=tm.float32)
    save_file({"head.fc.bias": bias}, str(repo / "snapshots" / commit / "model.safetensors"))
    state = models.VGG11_Weights.DEFAULT.get_state_dict(model_dir=tmp_path, progress=False)
    assert list(state) == ["classifier.6.bias"]
    np.testing.assert_array_equal(state["classifier.6.bias"].numpy(), bias.numpy())


# -- preprocessing ------------------------------------------------------------------------


@pytest.mark.parametrize("member, resample", [
    (models.ResNet50_Weights.IMAGENET1K_V2, "BILINEAR"),
    (models.Swin_T_Weights.IMAGENET1K_V1, "BICUBIC"),
])
def test_transforms_preprocess_a_pil_image(member, resample):
    """Shorter side to resize_size, center crop, [0, 1], normalized, as torchvision does."""
    from PIL import Image

    preset = member.transforms()
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (300, 400, 3), dtype=np.uint8)
    out = preset(Image.fromarray(pixels))
    assert out.shape == (3, 224, 224) and out.dtype == tm.float32
    size = preset.resize_size[0]
    width = int(size * 400 / 300)
    resized = np.asarray(Image.fromarray(pixels).resize((width, size),
                                                        getattr(Image, resample)))
    top, left = int(round((size - 224) / 2)), int(round((width - 224) / 2))
    crop = resized[top:top + 224, left:left + 224].transpose(2, 0, 1) / 255.0
    mean = np.array(preset.mean)[:, None, None]
    std = np.array(preset.std)[:, None, None]
    np.testing.assert_allclose(out.numpy(), (crop - mean) / std, atol=1e-5)


def test_feature_weights_transforms_scale_to_0_255():
    from PIL import Image

    preset = models.VGG16_Weights.IMAGENET1K_FEATURES.transforms()
    img = Image.fromarray(np.full((224, 224, 3), 255, np.uint8))
    out = preset(img).numpy()
    np.testing.assert_allclose(out[:, 0, 0], (1 - np.array([0.48235, 0.45882, 0.40784])) * 255,
                               rtol=1e-5)
