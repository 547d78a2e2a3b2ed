"""Dtype and device conversion, clone and contiguous (all differentiable)."""

from __future__ import annotations

import numpy as np

from .. import _dtype as D
from .._device import device_of, move, to_device
from .._tensor import Tensor
from ..autograd.node import Function
from ._util import method


class ToCopy(Function):
    """Copies to another dtype and/or device; the gradient goes back the same way."""

    @staticmethod
    def forward(ctx, a, np_dtype, dev, non_blocking=False):
        ctx.src = (a.dtype, device_of(a))
        if non_blocking and dev is not None and dev.type == "cpu" and type(a) is not np.ndarray:
            # cast on the GPU first: the host copy may still be landing when this returns
            return _transfer(_cast(a, np_dtype), dev, True)
        out = a if dev is None else _transfer(a, dev, non_blocking)
        out = _cast(out, np_dtype)
        return a.copy() if out is a else out

    @staticmethod
    def backward(ctx, grad):
        np_dtype, dev = ctx.src
        if isinstance(grad, Tensor):
            return grad.to(dtype=D._BY_NP[np_dtype], device=dev)
        out = move(grad, dev)
        if out.dtype != np_dtype:
            if out.dtype.kind == "c" and np_dtype.kind != "c":
                out = out.real
            out = out.astype(np_dtype)
        return out


def _cast(x, np_dtype):
    """`x` as `np_dtype` (itself when None or already so)."""
    if np_dtype is None or x.dtype == np_dtype:
        return x
    if x.dtype.kind == "c" and np_dtype.kind != "c":
        x = x.real  # torch drops the imaginary part (with a warning) too
    return x.astype(np_dtype)


def _transfer(a, dev, non_blocking: bool):
    """`a` on `dev`. A host-to-GPU copy has completed on return (so the result is safe on any
    stream) unless `non_blocking` and `a` is in pinned memory; GPU-to-host with
    `non_blocking` is queued into a pinned buffer (taimatsu.cuda.streams does both)."""
    if dev.type == "cuda" and type(a) is np.ndarray:
        from ..cuda import streams
        return streams.copy_to_device(a, dev.index, non_blocking)
    if non_blocking and dev.type == "cpu" and type(a) is not np.ndarray:
        from ..cuda import streams
        return streams.copy_to_host(a, non_blocking=True)
    return move(a, dev)


def to_dtype(t: Tensor, dt: D.dtype) -> Tensor:
    return ToCopy.apply(t, dt.np, None)


def _parse_to(args, kwargs):
    dtype = kwargs.pop("dtype", None)
    device = kwargs.pop("device", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
    for a in args:
        if isinstance(a, Tensor):
            dtype, device = a.dtype, a.device
        elif isinstance(a, D.dtype):
            dtype = a
        elif isinstance(a, (str, int)) or type(a).__name__ == "device":
            device = a
        elif isinstance(a, bool):
            copy = a
        elif a is not None:
            raise TypeError(f"to() received an invalid combination of arguments - got "
                            f"({type(a).__name__})")
    return (None if dtype is None else D.to_dtype(dtype),
            None if device is None else to_device(device), copy)


@method()
def to(self: Tensor, *args, **kwargs) -> Tensor:
    """Returns this tensor in another dtype and/or on another device (self if unchanged).

    non_blocking=True: from pinned memory to the GPU, or from the GPU (into pinned memory),
    the copy is only queued on the current stream; synchronize before relying on it."""
    if args and type(args[-1]) is bool:
        args = _take_flags(args, kwargs)  # kwargs is this call's own dict
    non_blocking = bool(kwargs.pop("non_blocking", False)) if kwargs else False
    dtype, dev, copy = _parse_to(args, kwargs)
    same_dtype = dtype is None or dtype.np == self._data.dtype
    same_dev = dev is None or _same_device(self, dev)
    if same_dtype and same_dev:
        return clone(self) if copy else self
    np_dtype, dev = None if same_dtype else dtype.np, None if same_dev else dev
    if non_blocking:
        return ToCopy.apply(self, np_dtype, dev, non_blocking=True)
    return ToCopy.apply(self, np_dtype, dev)


def _take_flags(args, kwargs):
    """The positional bools after the dtype/device arguments are (non_blocking, copy), as
    PyTorch reads them: moves them into kwargs and returns the other arguments."""
    rest = [a for a in args if type(a) is not bool]
    flags = [a for a in args if type(a) is bool]
    if len(flags) > 2:
        raise TypeError(f"to() received an invalid combination of arguments - got "
                        f"({', '.join(type(a).__name__ for a in args)})")
    kwargs.update(zip(("non_blocking", "copy"), flags))
    return rest


def _same_device(t: Tensor, dev) -> bool:
    here = t.device
    return here.type == dev.type and (dev.index is None or dev.index == (here.index or 0))


@method()
def cpu(self: Tensor, memory_format=None) -> Tensor:
    return self.to("cpu")


@method()
def cuda(self: Tensor, device=None, non_blocking: bool = False, memory_format=None) -> Tensor:
    if device is None:
        device = "cuda"
    elif isinstance(device, int):
        device = f"cuda:{device}"
    return self.to(device, non_blocking=non_blocking)


def _caster(dt):
    def convert(self: Tensor, memory_format=None) -> Tensor:
        return self.to(dt)
    convert.__doc__ = f"self.to({dt!r})"
    return convert


for _name, _dt in [("float", D.float32), ("double", D.float64), ("half", D.float16),
                   ("bfloat16", D.bfloat16), ("long", D.int64), ("int", D.int32),
                   ("short", D.int16), ("char", D.int8), ("byte", D.uint8), ("bool", D.bool),
                   ("cfloat", D.complex64), ("cdouble", D.complex128)]:
    setattr(Tensor, _name, _caster(_dt))


@method()
def type_as(self: Tensor, other: Tensor) -> Tensor:
    return self.to(other.dtype)


class Clone(Function):
    @staticmethod
    def forward(ctx, a):
        return a.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


@method()
def clone(input: Tensor, *, memory_format=None) -> Tensor:
    """A copy with its own memory; gradients flow back to `input`."""
    return Clone.apply(input)


@method()
def contiguous(self: Tensor, memory_format=None) -> Tensor:
    if self._data.flags.c_contiguous:
        return self
    return Clone.apply(self)


@method()
def is_nonzero(input: Tensor) -> bool:
    """Whether a one-element tensor's value is nonzero (torch's check behind bool())."""
    return bool(input)
