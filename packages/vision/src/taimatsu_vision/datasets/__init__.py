"""Image datasets (torchvision.datasets' API): MNIST family, CIFAR, SVHN, folders, FakeData
and the bundled Digits set."""

from .vision import VisionDataset, StandardTransform
from .mnist import MNIST, FashionMNIST, KMNIST, EMNIST
from .cifar import CIFAR10, CIFAR100
from .svhn import SVHN
from .folder import DatasetFolder, ImageFolder
from .fakedata import FakeData
from .digits import Digits
from . import utils

__all__ = ["VisionDataset", "StandardTransform", "MNIST", "FashionMNIST", "KMNIST", "EMNIST",
           "CIFAR10", "CIFAR100", "SVHN", "DatasetFolder", "ImageFolder", "FakeData", "Digits"]
