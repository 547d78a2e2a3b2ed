"""device("cpu" | "cuda[:n]") and the array module behind each."""

from __future__ import annotations

import numpy as np

from . import backend


class device:
    """Where a tensor's memory lives: the CPU (NumPy) or a CUDA GPU (CuPy)."""

    __slots__ = ("type", "index")

    def __new__(cls, type_or_str="cpu", index=None):
        if isinstance(type_or_str, device):
            return type_or_str
        if isinstance(type_or_str, int) and not isinstance(type_or_str, bool):
            type_or_str, index = "cuda", type_or_str
        if not isinstance(type_or_str, str):
            raise TypeError(f"device() received an invalid combination of arguments: "
                            f"got ({type(type_or_str).__name__})")
        kind, _, num = type_or_str.partition(":")
        if kind not in ("cpu", "cuda") or (num and not num.isdigit()):
            raise RuntimeError(
                f"Expected one of cpu, cuda device type at start of device string: "
                f"{type_or_str}")
        if num:
            if index is not None:
                raise RuntimeError("type (string) must not include an index because index "
                                   f"was passed explicitly: {type_or_str}")
            index = int(num)
        key = (kind, index)
        cached = _CACHE.get(key)
        if cached is not None:
            return cached
        self = object.__new__(cls)
        self.type = kind
        self.index = index
        _CACHE[key] = self
        return self

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            other = device(other)
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (str(self),))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


_CACHE: dict = {}
CPU = device("cpu")


def to_device(obj) -> device:
    if obj is None:
        return CPU
    return device(obj)


def device_of(array) -> device:
    """The device an array lives on."""
    if type(array) is np.ndarray:
        return CPU
    if backend.is_cuda_array(array):
        return device("cuda", array.device.id)
    return CPU


def xp_for(dev: device):
    """The array module for a device; asking for CUDA without it raises clearly."""
    if dev.type == "cpu":
        return np
    return backend.cupy()


def move(array, dev: device):
    """`array` on `dev` (a copy only when it has to cross devices)."""
    if dev.type == "cpu":
        return backend.to_numpy(array)
    cp = backend.cupy()
    idx = dev.index if dev.index is not None else cp.cuda.runtime.getDevice()
    if backend.is_cuda_array(array) and array.device.id == idx:
        return array
    with cp.cuda.Device(idx):
        return cp.asarray(array)
