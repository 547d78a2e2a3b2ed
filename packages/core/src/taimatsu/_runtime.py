"""Process-wide runtime switches PyTorch keeps at top level.

Determinism (`use_deterministic_algorithms` and its debug mode), the intra-op thread
count (the BLAS/OpenMP thread pools NumPy calls into, set through threadpoolctl),
the inter-op thread count, and the float32 matmul precision that
`backends.cuda.matmul.allow_tf32` mirrors.
"""

from __future__ import annotations

import os
import warnings

import numpy as np

__all__ = ["use_deterministic_algorithms", "are_deterministic_algorithms_enabled",
           "is_deterministic_algorithms_warn_only_enabled", "set_deterministic_debug_mode",
           "get_deterministic_debug_mode", "set_num_threads", "get_num_threads",
           "set_num_interop_threads", "get_num_interop_threads",
           "set_float32_matmul_precision", "get_float32_matmul_precision"]


# -- determinism ---------------------------------------------------------------------------------

_deterministic = {"mode": False, "warn_only": False}


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Makes operations without a deterministic implementation raise (or warn, with
    `warn_only=True`) instead of running nondeterministically.

    NumPy's CPU kernels are all deterministic; the switch matters for CUDA ops that
    accumulate with atomics, which consult `_alert_not_deterministic`.
    """
    _check_bool("_set_deterministic_algorithms()", "mode", mode, position=1)
    _check_bool("_set_deterministic_algorithms()", "warn_only", warn_only)
    _deterministic["mode"] = mode
    _deterministic["warn_only"] = warn_only


def are_deterministic_algorithms_enabled() -> bool:
    return _deterministic["mode"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    return _deterministic["warn_only"]


_DEBUG_MODES = {"default": 0, "warn": 1, "error": 2}


def set_deterministic_debug_mode(debug_mode: str | int) -> None:
    """0/"default": off, 1/"warn": warn on nondeterministic ops, 2/"error": raise."""
    if not isinstance(debug_mode, (str, int)) or isinstance(debug_mode, bool):
        raise TypeError(f"debug_mode must be str or int, but got {type(debug_mode)}")
    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_MODES:
            raise RuntimeError("invalid value of debug_mode, expected one of `default`, "
                               f"`warn`, `error`, but got {debug_mode}")
        debug_mode = _DEBUG_MODES[debug_mode]
    if debug_mode not in (0, 1, 2):
        raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, but got "
                           f"{debug_mode}")
    use_deterministic_algorithms(debug_mode != 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode() -> int:
    if not _deterministic["mode"]:
        return 0
    return 1 if _deterministic["warn_only"] else 2


def _alert_not_deterministic(caller: str) -> None:
    """Called by an op about to run nondeterministically: raises or warns when
    deterministic algorithms were requested, as PyTorch's ops do."""
    if not _deterministic["mode"]:
        return
    message = (f"{caller} does not have a deterministic implementation, but you set "
               "'torch.use_deterministic_algorithms(True)'. You can turn off determinism just "
               "for this operation, or you can use the 'warn_only=True' option, if that's "
               "acceptable for your application.")
    if _deterministic["warn_only"]:
        warnings.warn(message, UserWarning, stacklevel=3)
    else:
        raise RuntimeError(message)


# -- threads -------------------------------------------------------------------------------------

# The intra-op count set by set_num_threads (None: whatever the thread pools started with).
_num_threads: list = [None]
_num_interop_threads: list = [None]


def _controller():
    # Built on each call: it scans the libraries loaded *now*, so a BLAS that SciPy or
    # CuPy loaded after the previous call is seen too (about 1 ms).
    from threadpoolctl import ThreadpoolController
    return ThreadpoolController()


def set_num_threads(num: int) -> None:
    """Sets the number of threads the BLAS and OpenMP thread pools use for intra-op work."""
    _check_thread_count("set_num_threads", num)
    _controller().limit(limits=num)
    _num_threads[0] = num


def get_num_threads() -> int:
    """The number of threads used for intra-op parallelism (the BLAS pool's size)."""
    pools = [lib["num_threads"] for lib in _controller().info() if lib["user_api"] == "blas"]
    if pools:
        return max(pools)
    return _num_threads[0] if _num_threads[0] is not None else (os.cpu_count() or 1)


def set_num_interop_threads(num: int) -> None:
    """Sets the size of the inter-op pool; like PyTorch, only once per process.

    taimatsu runs independent ops one after another, so the value is recorded for
    `get_num_interop_threads` (and for code that sizes its own pools from it).
    """
    _check_thread_count("set_num_interop_threads", num)
    if _num_interop_threads[0] is not None:
        raise RuntimeError("Error: cannot set number of interop threads after parallel work "
                           "has started or set_num_interop_threads called")
    _num_interop_threads[0] = num


def get_num_interop_threads() -> int:
    if _num_interop_threads[0] is not None:
        return _num_interop_threads[0]
    return os.cpu_count() or 1


def _check_thread_count(name: str, num) -> None:
    if not isinstance(num, int) or isinstance(num, bool):
        raise RuntimeError(f"{name} expects an int, but got {type(num).__name__}")
    if num <= 0:
        raise RuntimeError(f"{name} expects a positive integer")


# -- float32 matmul precision --------------------------------------------------------------------

_matmul_precision = ["highest"]


def set_float32_matmul_precision(precision: str) -> None:
    """"highest" (full float32), "high" or "medium" (allow TF32/bfloat16 internally).

    NumPy's float32 matmul is always full precision; on CUDA anything below "highest" lets
    cuBLAS use TF32 tensor cores for float32 matmuls (CuPy's compute type), and it is what
    `backends.cuda.matmul.allow_tf32` reads.
    """
    if precision not in ("highest", "high", "medium"):
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
                      "set_float32_matmul_precision call has no effect.", UserWarning,
                      stacklevel=2)
        return
    _matmul_precision[0] = precision
    apply_cuda_matmul_precision()


def apply_cuda_matmul_precision() -> None:
    """Hands the float32 matmul precision to CuPy's cuBLAS calls, once CuPy is in use."""
    from . import backend
    if backend._cupy is None:
        return  # backend.cupy() calls this again when CUDA comes up
    from cupy._core import _routines_linalg as linalg
    tf32 = _matmul_precision[0] != "highest"
    # CuPy's cpdef enum values (DEFAULT = 1, TF32 = 7 in cupy/_core/_routines_linalg.pxd)
    compute_type = (getattr(linalg, "COMPUTE_TYPE_TF32", 7) if tf32
                    else getattr(linalg, "COMPUTE_TYPE_DEFAULT", 1))
    linalg.set_compute_type(np.float32, compute_type)


def get_float32_matmul_precision() -> str:
    return _matmul_precision[0]


def _check_bool(function: str, name: str, value, position: int | None = None) -> None:
    if not isinstance(value, bool):
        where = f" (position {position})" if position is not None else ""
        raise TypeError(f"{function}: argument '{name}'{where} must be bool, not "
                        f"{type(value).__name__}")
