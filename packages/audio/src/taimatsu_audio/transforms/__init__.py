"""torchaudio.transforms: the functional features as nn.Modules."""

from ._transforms import *  # noqa: F401,F403
from ._transforms import __all__  # noqa: F401
