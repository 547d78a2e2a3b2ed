"""taimatsu.nn.functional: the functional forms of layers, activations and losses.

Each family lives in its own module under nn/_functional/; this module gathers them at
PyTorch's path.
"""

from ._functional.activation import *  # noqa: F401,F403
from ._functional.attention import *  # noqa: F401,F403
from ._functional.conv import *  # noqa: F401,F403
from ._functional.distance import *  # noqa: F401,F403
from ._functional.dropout import *  # noqa: F401,F403
from ._functional.linear import *  # noqa: F401,F403
from ._functional.loss import *  # noqa: F401,F403
from ._functional.normalization import *  # noqa: F401,F403
from ._functional.padding import *  # noqa: F401,F403
from ._functional.pooling import *  # noqa: F401,F403
from ._functional.rnn import *  # noqa: F401,F403
from ._functional.sparse import *  # noqa: F401,F403
from ._functional.vision import *  # noqa: F401,F403
