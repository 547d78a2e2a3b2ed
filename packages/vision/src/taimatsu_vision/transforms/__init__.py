"""Image transforms (torchvision.transforms v1): classes here, functions in `functional`."""

from .transforms import *
from .autoaugment import *
from . import functional
from .functional import InterpolationMode

from .transforms import __all__ as _transforms_all
from .autoaugment import __all__ as _autoaugment_all

__all__ = list(_transforms_all) + list(_autoaugment_all) + ["functional"]
