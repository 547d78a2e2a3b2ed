"""Autocast's per-thread state, and the hook that the listed ops read at their entry.

Every op on one of autocast's lists (see _lists.py) starts with two lines:

    if _autocast.on and (policy := _autocast.policy("mm", input)):
        return policy(mm, input, mat2, out=out)

`on` is a plain attribute, False while no thread has autocast enabled, so with autocast off
an op pays one attribute read. When it is True, `policy(name, probe)` looks at this
thread's state and at the device of `probe` (the op's first tensor) and returns a callable
that casts the op's arguments by its policy for that device, then calls the op again with
autocast suspended: the second call finds `policy` None and runs the op's body. Like
PyTorch's autocast kernels, which sit above the op's implementation, the policy decides
the op's dtype and the ops it uses inside run as they are.

The state itself (enabled flag and dtype per device type, weight-cast cache, nesting
depth) is per thread, as in PyTorch.
"""

from __future__ import annotations

import threading
import warnings

import numpy as np

from .. import _dtype as D
from .._device import device as _make_device
from .._tensor import Tensor
from ..autograd import grad_mode
from ._lists import BANNED, FP32, FP32_DTYPE, LOWER, POLICIES, PROMOTE

DEVICE_TYPES = ("cpu", "cuda")
_DEFAULT_DTYPES = {"cpu": D.bfloat16, "cuda": D.float16}


class _ThreadState(threading.local):
    """One thread's autocast state; a new thread starts with autocast off."""

    def __init__(self):
        self.enabled = dict.fromkeys(DEVICE_TYPES, False)
        self.dtype = dict(_DEFAULT_DTYPES)
        self.cache_enabled = True
        self.cache = {}          # id(fp32 weight) -> (weight, its cast): see _cast_cached
        self.nesting = 0
        self.suspended = 0       # > 0 while a listed op runs its body
        self.active = False      # some device enabled: this thread counts in _Hook.on


_local = _ThreadState()
_count_lock = threading.Lock()
_active_threads = 0


class _Hook:
    """What op entry lines read: `on`, then `policy(name, probe)` (see the module doc)."""

    __slots__ = ("on",)

    def __init__(self):
        self.on = False

    def policy(self, name: str, probe):
        """The callable that runs op `name` under this thread's autocast, or None."""
        st = _local
        if st.suspended:
            return None
        tensor = probe if isinstance(probe, Tensor) else _first_tensor(probe)
        if tensor is None:
            return None
        device = "cpu" if type(tensor._data) is np.ndarray else "cuda"
        if not st.enabled[device]:
            return None
        return _BOUND[device].get(name)


hook = _Hook()


def _first_tensor(value):
    """value, or the first tensor in a list/tuple of them (nested once: einsum's operands
    may come as one list)."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (list, tuple)):
        for v in value:
            if isinstance(v, Tensor):
                return v
            if isinstance(v, (list, tuple)):
                found = next((t for t in v if isinstance(t, Tensor)), None)
                if found is not None:
                    return found
    return None


# -- the policies ------------------------------------------------------------------------

_BCE_BANNED = (
    "torch.nn.functional.binary_cross_entropy and torch.nn.BCELoss are unsafe to autocast.\n"
    "Many models use a sigmoid layer right before the binary cross entropy layer.\n"
    "In this case, combine the two layers using torch.nn.functional.binary_cross_entropy_with_logits\n"
    "or torch.nn.BCEWithLogitsLoss.  binary_cross_entropy_with_logits and BCEWithLogits are\n"
    "safe to autocast.")


class _Policy:
    """Casts an op's arguments by one policy on one device, then runs the op with autocast
    suspended. kind None (an op listed for another device only) just suspends: the op's
    own dtype rules decide, whatever public ops it uses inside."""

    __slots__ = ("kind", "device")

    def __init__(self, kind, device):
        self.kind = kind
        self.device = device

    def __call__(self, fn, *args, **kwargs):
        kind = self.kind
        # torch autocasts the functional forms only: an out= call runs as it is
        if kind is not None and kwargs.get("out") is None:
            if kind is BANNED:
                raise RuntimeError(_BCE_BANNED)
            if kind is FP32_DTYPE:
                if kwargs.get("dtype") is None and args and self._eligible(args[0]):
                    kwargs["dtype"] = D.float32
            else:
                to = self._target(kind, args, kwargs)
                args = tuple(self._cast(a, to) for a in args)
                kwargs = {k: self._cast(v, to) for k, v in kwargs.items()}
        st = _local
        st.suspended += 1
        try:
            return fn(*args, **kwargs)
        finally:
            st.suspended -= 1

    def _eligible(self, t) -> bool:
        """A floating tensor on this device other than float64 (which autocast leaves be)."""
        if not isinstance(t, Tensor):
            return False
        dt = t.dtype
        return (dt.is_floating_point and dt is not D.float64
                and (type(t._data) is np.ndarray) == (self.device == "cpu"))

    def _target(self, kind, args, kwargs):
        lower = _local.dtype[self.device]
        if kind is LOWER:
            return lower
        if kind is FP32:
            return D.float32
        assert kind is PROMOTE, kind
        return self._widest(lower, [*args, *kwargs.values()])

    def _widest(self, lower, values):
        """PyTorch's promote rule: float32 wins over the autocast dtype, float64 is ignored,
        and any other floating dtype (float16 under bfloat16 autocast, say) is an error."""
        current = lower
        for value in values:
            items = value if isinstance(value, (list, tuple)) else (value,)
            for t in items:
                if not isinstance(t, Tensor) or not t.dtype.is_floating_point:
                    continue
                if (type(t._data) is np.ndarray) != (self.device == "cpu"):
                    continue
                dt = t.dtype
                if dt is D.float64:
                    continue
                if current is D.float32 or dt is D.float32:
                    current = D.float32
                elif not (current is lower and dt is lower):
                    raise RuntimeError("Unexpected floating ScalarType in "
                                       "at::autocast::prioritize")
        return current

    def _cast(self, value, to):
        if isinstance(value, Tensor):
            if value.dtype is to or not self._eligible(value):
                return value
            return self._cast_cached(value, to)
        if isinstance(value, (list, tuple)) and any(isinstance(v, Tensor) for v in value):
            return type(value)(self._cast(v, to) for v in value)
        return value

    def _cast_cached(self, t: Tensor, to):
        """t cast to `to` (differentiably). Casts of float32 weights (leaves that require
        grad) to the autocast dtype are cached until the outermost autocast region exits,
        so a weight used by several ops in one forward pass is converted once."""
        st = _local
        cacheable = (st.cache_enabled and to is st.dtype[self.device] and t.dtype is D.float32
                     and t._rg and t._grad_fn is None and t._base is None
                     # a cast made under no_grad has no graph: reusing it with grad on
                     # would cut the weight off from its gradient
                     and grad_mode._enabled[0])
        if not cacheable:
            return _to_dtype()(t, to)
        hit = st.cache.get(id(t))
        if hit is not None and hit[0] is t:
            return hit[1]
        out = _to_dtype()(t, to)
        st.cache[id(t)] = (t, out)
        return out


# {device type: {op name: its _Policy there}}: an op listed for any device is in both
_BOUND = {device: {name: _Policy(policies.get(device), device)
                   for name, policies in POLICIES.items()}
          for device in DEVICE_TYPES}


def _to_dtype():
    from ..ops.conversion import to_dtype  # the ops import this module: bind on first use
    return to_dtype


# -- the state functions (torch.is_autocast_enabled, ...) --------------------------------

def _device_type(device_type, fn: str) -> str:
    if not isinstance(device_type, str):
        raise TypeError(f"{fn}(): argument 'device_type' (position 1) must be str, not "
                        f"{type(device_type).__name__}")
    return _make_device(device_type).type


def _set_active(st: _ThreadState) -> None:
    """Keeps hook.on equal to 'some thread has autocast enabled'."""
    global _active_threads
    active = any(st.enabled.values())
    if active == st.active:
        return
    st.active = active
    with _count_lock:
        _active_threads += 1 if active else -1
        hook.on = _active_threads > 0


def is_autocast_enabled(device_type: str | None = None) -> bool:
    """Whether autocast is on for `device_type` in this thread (CUDA when not given)."""
    device = "cuda" if device_type is None else _device_type(device_type,
                                                              "is_autocast_enabled")
    return _local.enabled[device]


def set_autocast_enabled(*args) -> None:
    """set_autocast_enabled(device_type, enabled), or the older set_autocast_enabled(enabled)
    for CUDA."""
    if len(args) == 1:
        device, enabled, position = "cuda", args[0], 1
    elif len(args) == 2:
        device, enabled, position = _device_type(args[0], "set_autocast_enabled"), args[1], 2
    else:
        raise TypeError("set_autocast_enabled() takes 1 or 2 positional arguments but "
                        f"{len(args)} were given")
    if not isinstance(enabled, bool):
        raise TypeError(f"set_autocast_enabled(): argument 'enabled' (position {position}) "
                        f"must be bool, not {type(enabled).__name__}")
    st = _local
    st.enabled[device] = enabled
    _set_active(st)


def get_autocast_dtype(device_type: str):
    """The dtype that LOWER ops run in on `device_type` (float16 on CUDA, bfloat16 on CPU
    unless changed)."""
    return _local.dtype[_device_type(device_type, "get_autocast_dtype")]


def set_autocast_dtype(device_type: str, dtype) -> None:
    device = _device_type(device_type, "set_autocast_dtype")
    if not isinstance(dtype, D.dtype):
        raise TypeError("set_autocast_dtype(): argument 'dtype' (position 2) must be "
                        f"taimatsu.dtype, not {type(dtype).__name__}")
    _local.dtype[device] = dtype


def is_autocast_cache_enabled() -> bool:
    return _local.cache_enabled


def set_autocast_cache_enabled(enabled: bool) -> None:
    if not isinstance(enabled, bool):
        raise TypeError(f"enabled must be a bool (got {type(enabled).__name__})")
    _local.cache_enabled = enabled


def clear_autocast_cache() -> None:
    """Drops the cached casts of weights (done when the outermost autocast region exits)."""
    _local.cache.clear()


def autocast_increment_nesting() -> int:
    _local.nesting += 1
    return _local.nesting


def autocast_decrement_nesting() -> int:
    _local.nesting -= 1
    return _local.nesting


# -- the older per-device spellings, deprecated as in torch -------------------------------

def _deprecated(old: str, new: str) -> None:
    warnings.warn(f"torch.{old} is deprecated. Please use torch.{new} instead.",
                  DeprecationWarning, stacklevel=3)


def is_autocast_cpu_enabled() -> bool:
    _deprecated("is_autocast_cpu_enabled()", "is_autocast_enabled('cpu')")
    return _local.enabled["cpu"]


def set_autocast_cpu_enabled(enabled: bool) -> None:
    _deprecated("set_autocast_cpu_enabled(enabled)", "set_autocast_enabled('cpu', enabled)")
    set_autocast_enabled("cpu", enabled)


def get_autocast_cpu_dtype():
    _deprecated("get_autocast_cpu_dtype()", "get_autocast_dtype('cpu')")
    return _local.dtype["cpu"]


def get_autocast_gpu_dtype():
    _deprecated("get_autocast_gpu_dtype()", "get_autocast_dtype('cuda')")
    return _local.dtype["cuda"]


def set_autocast_cpu_dtype(dtype) -> None:
    _deprecated("set_autocast_cpu_dtype(dtype)", "set_autocast_dtype('cpu', dtype)")
    set_autocast_dtype("cpu", dtype)


def set_autocast_gpu_dtype(dtype) -> None:
    _deprecated("set_autocast_gpu_dtype(dtype)", "set_autocast_dtype('cuda', dtype)")
    set_autocast_dtype("cuda", dtype)
