"""taimatsu: a deep-learning framework with PyTorch's programming model on NumPy and CuPy."""

from __future__ import annotations

from . import _dtype
from ._device import device
from ._dtype import (
    bfloat16,
    bool,
    cdouble,
    cfloat,
    complex64,
    complex128,
    double,
    float,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int,
    int8,
    int16,
    int32,
    int64,
    long,
    promote_types,
    result_type,
    set_default_dtype,
    short,
    uint8,
)
from ._dtype import dtype as dtype
from ._dtype import finfo, iinfo
from ._layout import layout, sparse_coo, strided
from ._tensor import Size, Tensor
from ._tensor_str import get_printoptions, printoptions, set_printoptions
from .autograd import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .ops import arithmetic, conversion, creation, inplace  # noqa: F401  (attach methods)
from .ops.arithmetic import (  # noqa: E402
    add,
    div,
    divide,
    float_power,
    floor_divide,
    fmod,
    mul,
    multiply,
    neg,
    negative,
    positive,
    pow,
    remainder,
    rsub,
    sub,
    subtract,
    true_divide,
)
from .ops.comparison import *  # noqa: E402,F401,F403
from .ops.conversion import clone, is_nonzero  # noqa: E402
from .ops.creation import (  # noqa: E402
    arange,
    as_tensor,
    asarray,
    empty,
    empty_like,
    eye,
    from_dlpack,
    from_numpy,
    full,
    full_like,
    is_complex,
    is_floating_point,
    is_tensor,
    linspace,
    logspace,
    numel,
    ones,
    ones_like,
    scalar_tensor,
    tensor,
    tril_indices,
    triu_indices,
    zeros,
    zeros_like,
)
from .ops.fft import *  # noqa: E402,F401,F403
from .ops.indexing import *  # noqa: E402,F401,F403
from .ops.join import *  # noqa: E402,F401,F403
from .ops.linalg import *  # noqa: E402,F401,F403
from .ops.pointwise import *  # noqa: E402,F401,F403
from .ops.random import *  # noqa: E402,F401,F403
from .ops.reduction import *  # noqa: E402,F401,F403
from .ops.scan import *  # noqa: E402,F401,F403
from .ops.shape import *  # noqa: E402,F401,F403
from .ops.sorting import *  # noqa: E402,F401,F403
from .ops.spectral import *  # noqa: E402,F401,F403


# Subpackages come last: they build on the tensor and the ops above.
from . import autograd, cuda, distributed, fft, linalg, nn, optim, plugins, testing, utils  # noqa: E402
from .serialization import load, save  # noqa: E402

# --- drop-in namespace modules (issue 11); each line below is owned by one helper ---
from . import accelerator, backends, compat, hub, profiler  # noqa: E402  [runtime]
from ._runtime import (are_deterministic_algorithms_enabled,  # noqa: E402
                       get_deterministic_debug_mode, get_float32_matmul_precision,
                       get_num_interop_threads, get_num_threads,
                       is_deterministic_algorithms_warn_only_enabled,
                       set_deterministic_debug_mode, set_float32_matmul_precision,
                       set_num_interop_threads, set_num_threads, use_deterministic_algorithms)
from . import multiprocessing  # noqa: E402  [multiprocessing]
from . import distributions  # noqa: E402
from . import sparse  # noqa: E402
from .sparse import sparse_coo_tensor, spmm  # noqa: E402
from ._legacy_tensors import *  # noqa: E402,F401,F403  [legacy] FloatTensor, LongTensor, ...
from . import onnx  # noqa: E402  [onnx]
from . import random  # noqa: E402
from . import amp, cpu  # noqa: E402  [amp] mixed precision; torch.cpu's device-agnostic API
from .amp import autocast  # noqa: E402
from .amp._state import (autocast_decrement_nesting, autocast_increment_nesting,  # noqa: E402
                         clear_autocast_cache, get_autocast_cpu_dtype, get_autocast_dtype,
                         get_autocast_gpu_dtype, is_autocast_cache_enabled,
                         is_autocast_cpu_enabled, is_autocast_enabled,
                         set_autocast_cache_enabled, set_autocast_cpu_dtype,
                         set_autocast_cpu_enabled, set_autocast_dtype, set_autocast_enabled,
                         set_autocast_gpu_dtype)
from .cuda import amp as _cuda_amp  # noqa: E402,F401  (makes taimatsu.cuda.amp an attribute)
from . import special  # noqa: E402
from ._compile import compile  # noqa: E402,A001

# Functions PyTorch also offers at top level (torch.relu, torch.softmax, torch.cdist, ...).
from .nn._functional.activation import (celu, celu_, hardshrink, log_softmax, prelu, relu,  # noqa: E402
                                        relu_, rrelu, rrelu_, selu, selu_, softmax, threshold,
                                        threshold_)
from .nn._functional.distance import cdist  # noqa: E402


def can_cast(from_, to) -> bool:
    return _dtype.can_cast(from_, to)


__version__ = "0.1.0"
