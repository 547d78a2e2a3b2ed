"""Safetensors files for taimatsu tensors, over the `safetensors` package.

The same functions as ``safetensors.torch``: `save_file`, `load_file`, `save` (to bytes),
`load` (from bytes) and `safe_open` (lazy, per-tensor and sliced reads). Non-contiguous
tensors are packed first (the package would otherwise write the wrong bytes for them),
and `save_file` replaces its target atomically.
"""

from __future__ import annotations

import os

import ml_dtypes  # noqa: F401  (imported first so the package reads BF16 as bfloat16)
import numpy as np
import safetensors
import safetensors.numpy as _st_numpy

from . import _dtype as D
from . import backend
from ._device import move, to_device
from ._tensor import Tensor
from .serialization._atomic import atomic_path

__all__ = ["save_file", "load_file", "save", "load", "safe_open"]

# safetensors' dtype codes for what taimatsu has (complex128 has none in the format)
_NP_BY_CODE = {
    "F64": np.float64, "F32": np.float32, "F16": np.float16, "BF16": D.bfloat16.np,
    "I64": np.int64, "I32": np.int32, "I16": np.int16, "I8": np.int8, "U8": np.uint8,
    "BOOL": np.bool_, "C64": np.complex64,
}
_FRAMEWORKS = {"pt": "taimatsu", "taimatsu": "taimatsu", "tm": "taimatsu",
               "numpy": "numpy", "np": "numpy"}


def _packed(name: str, value) -> np.ndarray:
    """A C-contiguous host array of `value` (a Tensor or an ndarray)."""
    if isinstance(value, Tensor):
        arr = backend.to_numpy(value._data)
    elif isinstance(value, np.ndarray):
        arr = value
    else:
        raise TypeError(f"Key `{name}` is invalid, expected taimatsu.Tensor but received "
                        f"{type(value)}")
    # The package writes `nbytes` from the data pointer: a strided view would be saved
    # as whatever memory follows its first element. (ascontiguousarray would make 0-d 1-d.)
    return arr if arr.flags.c_contiguous else arr.copy(order="C")


def _arrays(tensors: dict) -> dict:
    if not isinstance(tensors, dict):
        raise ValueError(f"Expected a dict of [str, taimatsu.Tensor] but received "
                         f"{type(tensors)}")
    return {name: _packed(name, value) for name, value in tensors.items()}


def save_file(tensors: dict, filename, metadata: dict | None = None) -> None:
    """Saves a dict of tensors to `filename` in the safetensors format (atomically).

    Args:
        tensors: name -> tensor; tensors that share memory are written separately
        filename: the path to write
        metadata: optional str -> str header annotations
    """
    arrays = _arrays(tensors)
    with atomic_path(filename) as path:
        _st_numpy.save_file(arrays, path, metadata=metadata)


def save(tensors: dict, metadata: dict | None = None) -> bytes:
    """The safetensors serialization of a dict of tensors, as bytes."""
    return _st_numpy.save(_arrays(tensors), metadata=metadata)


def _wrap(name: str, arr: np.ndarray, framework: str, device, source: str):
    if D._BY_NP.get(arr.dtype) is None:
        raise TypeError(f"tensor {name!r} in {source} has dtype {arr.dtype}, which taimatsu "
                        "does not have")
    if not arr.flags.writeable:
        arr = arr.copy()
    if framework == "numpy":
        return arr
    return Tensor._make(move(arr, device))


def _damaged(source, exc) -> RuntimeError:
    return RuntimeError(f"{source} is not a valid safetensors file: it looks truncated or "
                        f"damaged ({exc})")


def load(data: bytes, device="cpu") -> dict:
    """Tensors from the bytes of a safetensors file."""
    try:
        entries = safetensors.deserialize(data)
    except safetensors.SafetensorError as exc:
        raise _damaged("the data", exc) from None
    dev = to_device(device)
    out = {}
    for name, info in entries:
        code = info["dtype"]
        if code not in _NP_BY_CODE:
            raise TypeError(f"tensor {name!r} has safetensors dtype {code}, which taimatsu "
                            "does not have")
        arr = np.frombuffer(bytearray(info["data"]), _NP_BY_CODE[code]).reshape(info["shape"])
        out[name] = _wrap(name, arr, "taimatsu", dev, "the data")
    return out


def load_file(filename, device="cpu") -> dict:
    """All tensors of a safetensors file, on `device`."""
    with safe_open(filename, framework="pt", device=device) as f:
        return {name: f.get_tensor(name) for name in f.keys()}


class safe_open:
    """Opens a safetensors file for lazy reads (keys, metadata, one tensor, a slice).

    Args:
        filename: the file
        framework: "pt" (taimatsu tensors) or "numpy" (arrays)
        device: where tensors go ("cpu", "cuda", "cuda:1", ...)
    """

    def __init__(self, filename, framework: str = "pt", device="cpu"):
        if framework not in _FRAMEWORKS:
            raise ValueError(f"framework {framework!r} is not supported: use 'pt' (taimatsu "
                             "tensors) or 'numpy'")
        self._framework = _FRAMEWORKS[framework]
        self._device = to_device(device)
        self._name = os.fsdecode(filename)
        try:
            self._handle = safetensors.safe_open(self._name, framework="numpy")
        except safetensors.SafetensorError as exc:
            raise _damaged(self._name, exc) from None

    def __enter__(self) -> safe_open:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Releases the file (also done on leaving a `with` block)."""
        handle, self._handle = self._handle, None
        if handle is not None:
            handle.__exit__(None, None, None)

    def _open_handle(self):
        if self._handle is None:
            raise RuntimeError(f"{self._name} was closed")
        return self._handle

    def keys(self) -> list:
        """The tensor names, sorted."""
        return self._open_handle().keys()

    def offset_keys(self) -> list:
        """The tensor names in file order."""
        return self._open_handle().offset_keys()

    def metadata(self) -> dict | None:
        """The file's str -> str metadata (None when it has none)."""
        return self._open_handle().metadata()

    def get_tensor(self, name: str):
        """One tensor, read from the file."""
        try:
            arr = self._open_handle().get_tensor(name)
        except safetensors.SafetensorError as exc:
            if name not in self.keys():
                raise KeyError(name) from None
            raise _damaged(self._name, exc) from None
        return _wrap(name, arr, self._framework, self._device, self._name)

    def get_slice(self, name: str) -> _Slice:
        """A handle that reads only the indexed part: ``f.get_slice("w")[:, :10]``."""
        try:
            return _Slice(self, name, self._open_handle().get_slice(name))
        except safetensors.SafetensorError:
            raise KeyError(name) from None


class _Slice:
    """A not-yet-read tensor of a safe_open file; indexing reads that part."""

    def __init__(self, owner: safe_open, name: str, handle):
        self._owner = owner
        self._name = name
        self._handle = handle

    def get_shape(self) -> list:
        return self._handle.get_shape()

    def get_dtype(self) -> str:
        return self._handle.get_dtype()

    def __getitem__(self, index):
        arr = np.asarray(self._handle[index])
        owner = self._owner
        return _wrap(self._name, arr, owner._framework, owner._device, owner._name)
