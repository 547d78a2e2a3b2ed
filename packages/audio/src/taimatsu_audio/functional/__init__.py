"""torchaudio.functional: spectral features, filter banks, resampling, filtering, effects."""

from .filtering import *  # noqa: F401,F403
from .filtering import __all__ as _filtering
from .functional import *  # noqa: F401,F403
from .functional import __all__ as _functional

__all__ = _functional + _filtering
