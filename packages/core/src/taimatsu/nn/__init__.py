"""taimatsu.nn: Module, Parameter, layers, functional, init and utils."""

from . import functional, init, utils  # noqa: F401
from .modules import *  # noqa: F401,F403
from .parameter import *  # noqa: F401,F403
from . import parallel  # noqa: E402,F401
from .parallel import DataParallel  # noqa: E402,F401
