"""The pretrained-weights API against PyTorch.

With torch: WeightsEnum.get_state_dict reads a torch-written checkpoint from a URL the way
torch.hub.load_state_dict_from_url does (cache file name, hash check and its message).
With torchvision (skipped where it is not installed): the same enums, members, URLs,
metadata and presets, the same `models.__dict__` listing, registry answers and
deprecation warnings, for every builder both packages have.
"""

from __future__ import annotations

import hashlib
import math
import os
import warnings

import numpy as np
import pytest

from taimatsu_vision import models
from taimatsu_vision.models import Weights, WeightsEnum


@pytest.fixture
def tv():
    return pytest.importorskip("torchvision")


def _architectures(module) -> list[str]:
    return sorted(name for name in module.__dict__
                  if name.islower() and not name.startswith("__")
                  and callable(module.__dict__[name]))


def _torch_checkpoint(torch, folder, bad_hash: bool = False) -> tuple[dict, str]:
    """A torch.save'd state dict named `toy-<sha256 prefix>.pth`; (state, file URL)."""
    state = {"weight": torch.randn(3, 4, generator=torch.Generator().manual_seed(0)),
             "bias": torch.arange(3, dtype=torch.float32)}
    tmp = folder / "upload.pth"
    torch.save(state, tmp)
    digest = hashlib.sha256(tmp.read_bytes()).hexdigest()[:10]
    path = folder / f"toy-{'deadbeef00' if bad_hash else digest}.pth"
    tmp.rename(path)
    return state, path.as_uri()


def _toy_enum(url: str) -> type[WeightsEnum]:
    class Toy_Weights(WeightsEnum):
        V1 = Weights(url=url, meta={})

    return Toy_Weights


def test_get_state_dict_reads_what_torch_hub_reads(torch, tmp_path):
    state, url = _torch_checkpoint(torch, tmp_path)
    theirs = torch.hub.load_state_dict_from_url(url, model_dir=str(tmp_path / "torch"),
                                                progress=False, check_hash=True)
    ours = _toy_enum(url).V1.get_state_dict(tmp_path / "ours", progress=False, check_hash=True)
    assert sorted(ours) == sorted(theirs) == sorted(state)
    for key in state:
        np.testing.assert_array_equal(ours[key].numpy(), theirs[key].numpy())
    assert os.listdir(tmp_path / "ours") == os.listdir(tmp_path / "torch")


def test_hash_mismatch_is_the_same_error(torch, tmp_path):
    _, url = _torch_checkpoint(torch, tmp_path, bad_hash=True)
    with pytest.raises(RuntimeError) as theirs:
        torch.hub.load_state_dict_from_url(url, model_dir=str(tmp_path / "torch"),
                                           progress=False, check_hash=True)
    with pytest.raises(RuntimeError) as ours:
        _toy_enum(url).V1.get_state_dict(tmp_path / "ours", progress=False, check_hash=True)
    assert str(ours.value) == str(theirs.value)
    assert not os.listdir(tmp_path / "ours") and not os.listdir(tmp_path / "torch")


# -- against torchvision --------------------------------------------------------------------


def _common_builders(tv) -> list[str]:
    return [name for name in models.list_models() if name in tv.models.list_models()]


def test_models_dict_lists_what_torchvisions_does(tv):
    ours, theirs = set(_architectures(models)), set(_architectures(tv.models))
    assert ours - {"lenet5"} <= theirs  # lenet5 is ours alone
    api = {"get_model", "get_model_builder", "get_model_weights", "get_weight", "list_models"}
    assert api <= ours and api <= theirs


def _same_value(a, b) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_value(a[k], b[k]) for k in a)
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b or (isinstance(a, (tuple, list)) and list(a) == list(b))


def test_enums_match_torchvisions(tv):
    for name in _common_builders(tv):
        ours, theirs = models.get_model_weights(name), tv.models.get_model_weights(name)
        assert ours.__name__ == theirs.__name__
        assert ours.DEFAULT.name == theirs.DEFAULT.name, name
        tv_names = [m.name for m in theirs]
        assert [m.name for m in ours][:len(tv_names)] == tv_names, name
        for member in theirs:
            mine = ours[member.name]
            assert mine.url == member.url, repr(member)
            for key, value in member.meta.items():
                if key in ("categories", "_docs"):  # our class names and wording differ
                    continue
                assert _same_value(mine.meta[key], value), (repr(member), key)
            assert (mine.meta["categories"] is None) == (member.meta["categories"] is None)
            if member.meta["categories"] is not None:
                assert len(mine.meta["categories"]) == len(member.meta["categories"])


def test_presets_match_torchvisions(tv):
    for name in _common_builders(tv):
        theirs = tv.models.get_model_weights(name)
        for member in theirs:
            mine = models.get_model_weights(name)[member.name].transforms()
            ref = member.transforms()
            assert (mine.crop_size, mine.resize_size) == (ref.crop_size, ref.resize_size)
            np.testing.assert_allclose(mine.mean, ref.mean)
            np.testing.assert_allclose(mine.std, ref.std)
            assert mine.interpolation == ref.interpolation.value, repr(member)


@pytest.mark.parametrize("weights", ["ResNet50_Weights.IMAGENET1K_V2",
                                     "Swin_T_Weights.IMAGENET1K_V1",
                                     "VGG16_Weights.IMAGENET1K_FEATURES",
                                     "EfficientNet_B0_Weights.IMAGENET1K_V1"])
def test_preset_outputs_match_torchvisions(tv, weights):
    from PIL import Image

    rng = np.random.default_rng(0)
    img = Image.fromarray(rng.integers(0, 256, (300, 400, 3), dtype=np.uint8))
    ours = models.get_weight(weights).transforms()(img)
    theirs = tv.models.get_weight(weights).transforms()(img)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-5)


def _warning_texts(fn, *args, **kwargs) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn(*args, **kwargs)
    return [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


def test_deprecation_warnings_match_torchvisions(tv):
    for call in ({"pretrained": False}, {"weights": False}):
        assert _warning_texts(models.mobilenet_v3_small, **call) == \
            _warning_texts(tv.models.mobilenet_v3_small, **call)
    assert _warning_texts(models.mobilenet_v3_small, False, True) == \
        _warning_texts(tv.models.mobilenet_v3_small, False, True)


def test_registry_answers_match_torchvisions(tv):
    common = set(_common_builders(tv))
    for include, exclude in [("vgg*", "*_bn"), (["res*", "wide*"], None), (None, "vit*")]:
        ours = models.list_models(include=include, exclude=exclude)
        theirs = tv.models.list_models(include=include, exclude=exclude)
        assert [n for n in ours if n in common] == [n for n in theirs if n in common]
    for bad in ("IMAGENET1K_V1", "Nope_Weights.IMAGENET1K_V1"):
        with pytest.raises(ValueError) as mine:
            models.get_weight(bad)
        with pytest.raises(ValueError) as ref:
            tv.models.get_weight(bad)
        assert str(mine.value) == str(ref.value)
    with pytest.raises(ValueError) as mine:
        models.get_model("resnet19")
    with pytest.raises(ValueError) as ref:
        tv.models.get_model("resnet19")
    assert str(mine.value) == str(ref.value)
    with pytest.raises(TypeError) as mine:
        models.ResNet18_Weights.verify(models.ResNet50_Weights.DEFAULT)
    with pytest.raises(TypeError) as ref:
        tv.models.ResNet18_Weights.verify(tv.models.ResNet50_Weights.DEFAULT)
    assert str(mine.value) == str(ref.value)
