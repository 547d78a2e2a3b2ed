"""taimatsu plugin hooks: registers the vision models, datasets and transforms, and builds
timm-format Hub repositories (entry point `vision` in the group `taimatsu`)."""

from __future__ import annotations

import inspect

from taimatsu.plugins import hookimpl

from . import datasets, transforms

DOMAIN = "vision"

# registry name -> dataset class
DATASETS = {
    "mnist": datasets.MNIST,
    "fashionmnist": datasets.FashionMNIST,
    "kmnist": datasets.KMNIST,
    "emnist": datasets.EMNIST,
    "cifar10": datasets.CIFAR10,
    "cifar100": datasets.CIFAR100,
    "svhn": datasets.SVHN,
    "imagefolder": datasets.ImageFolder,
    "datasetfolder": datasets.DatasetFolder,
    "fakedata": datasets.FakeData,
    "digits": datasets.Digits,
}

# Containers that are not image operations (and that other domains may register under the
# same names) stay out of the shared transform registry, and so do the enums.
_NOT_REGISTERED = {"Compose", "Lambda", "RandomApply", "RandomChoice", "RandomOrder",
                   "InterpolationMode", "AutoAugmentPolicy"}


def _first_line(obj) -> str | None:
    doc = inspect.getdoc(obj)
    return doc.splitlines()[0] if doc else None


def transform_classes() -> dict:
    """Registry name (the class name) -> transform class, for the image transforms."""
    return {name: getattr(transforms, name) for name in transforms.__all__
            if inspect.isclass(getattr(transforms, name)) and name not in _NOT_REGISTERED}


@hookimpl
def taimatsu_register_models(registry):
    from .models import register_models
    register_models(registry)


@hookimpl
def taimatsu_register_datasets(registry):
    for name, cls in DATASETS.items():
        registry.add(name, cls, domain=DOMAIN, description=_first_line(cls))


@hookimpl
def taimatsu_register_transforms(registry):
    for name, cls in transform_classes().items():
        registry.add(name, cls, domain=DOMAIN, description=_first_line(cls))


@hookimpl
def taimatsu_hub_load(source, config):
    from .models import hub_load
    return hub_load(source, config)
