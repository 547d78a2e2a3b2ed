"""The taimatsu-vision plugin, found through the installed distribution's entry point."""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import subprocess
import sys
import types

import pytest

import taimatsu as tm
import taimatsu.plugins as plugins
import taimatsu_vision
from taimatsu_vision import datasets, plugin, transforms


@pytest.fixture
def fresh_registries():
    """Registries rebuilt from the installed entry points, and forgotten afterwards."""
    plugins._reset()
    yield
    plugins._reset()


def test_entry_point_and_script_are_declared():
    dist = importlib.metadata.distribution("taimatsu-vision")
    eps = {(ep.group, ep.name): ep.value for ep in dist.entry_points}
    assert eps[("taimatsu", "vision")] == "taimatsu_vision.plugin"
    assert eps[("console_scripts", "taimatsu-vision-demo")] == "taimatsu_vision.demo:main"
    requires = " ".join(dist.requires or ())
    assert "taimatsu" in requires and "Pillow" in requires
    # the bundled data and its attribution are package resources
    data = importlib.resources.files("taimatsu_vision.datasets") / "data"
    assert (data / "digits.csv.gz").is_file()
    assert "CC BY 4.0" in (data / "README.md").read_text()


def test_plugin_is_loaded_from_the_distribution(fresh_registries):
    assert plugins.loaded_plugins()["vision"].startswith("taimatsu-vision ")


def test_datasets_registered(fresh_registries):
    names = plugins.list_datasets(domain="vision")
    for name in ("mnist", "fashionmnist", "kmnist", "emnist", "cifar10", "cifar100", "svhn",
                 "imagefolder", "datasetfolder", "fakedata", "digits"):
        assert name in names
    digits = plugins.get_dataset("digits", train=False)
    assert isinstance(digits, datasets.Digits) and len(digits) == 355
    fake = plugins.get_dataset("fakedata", size=3, image_size=(1, 4, 4))
    assert len(fake) == 3 and fake[0][0].size == (4, 4)
    assert plugins.dataset_registry().get("cifar10").obj is datasets.CIFAR10


def test_transforms_registered(fresh_registries):
    names = plugins.list_transforms(domain="vision")
    for name in ("Resize", "CenterCrop", "Normalize", "ToTensor", "RandomResizedCrop",
                 "ColorJitter", "AutoAugment", "RandAugment", "TrivialAugmentWide"):
        assert name in names
    # generic containers are left to the core / other domains
    assert "Compose" not in names and "Lambda" not in names
    resize = plugins.get_transform("Resize", size=4)
    assert tuple(resize(tm.zeros(3, 8, 12)).shape) == (3, 4, 6)
    entry = plugins.transform_registry().get("RandomCrop")
    assert entry.domain == "vision" and entry.plugin == "vision"
    assert entry.description.startswith("Crops at a random position")


def test_model_and_hub_hooks_delegate_to_the_models_package(fresh_registries, monkeypatch):
    calls = []

    def register_models(registry):
        registry.add("fake_vision_net", lambda: "net", domain="vision", task="classification")

    def hub_load(source, config):
        calls.append((source, config))
        return "model" if config.get("architecture") == "fake" else None

    fake = types.ModuleType("taimatsu_vision.models")
    fake.register_models, fake.hub_load = register_models, hub_load
    monkeypatch.setitem(sys.modules, "taimatsu_vision.models", fake)
    assert "fake_vision_net" in plugins.list_models(domain="vision")
    assert plugin.taimatsu_hub_load(source="/repo", config={"architecture": "fake"}) == "model"
    assert plugin.taimatsu_hub_load(source="/repo", config={"model_type": "bert"}) is None
    assert calls[0] == ("/repo", {"architecture": "fake"})


def test_models_and_ops_load_lazily():
    code = ("import sys, taimatsu_vision; "
            "print('taimatsu_vision.models' in sys.modules, 'taimatsu_vision.ops' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "False"]
    assert set(taimatsu_vision.__all__) >= {"io", "transforms", "datasets", "utils", "models",
                                             "ops"}
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        taimatsu_vision.nope  # noqa: B018


def test_transform_classes_lists_every_image_transform():
    found = plugin.transform_classes()
    assert found["Resize"] is transforms.Resize
    assert "InterpolationMode" not in found and "AutoAugmentPolicy" not in found
