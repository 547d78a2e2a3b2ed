"""The save side: a pickler that writes tensors as PyTorch does.

Tensors become calls to ``torch._utils._rebuild_tensor_v2`` over persistent storage
records ``('storage', torch.<Type>Storage, key, location, numel)``; each storage is the
full buffer of the tensor's base array, so views of one array share one record. The
pickler is a subclass of the pure-Python pickler because the C one refuses to name a
global (``torch._utils._rebuild_tensor_v2``) that it cannot import.
"""

from __future__ import annotations

import pickle
from collections import OrderedDict

import numpy as np

from .. import _dtype as D
from .. import backend
from .._device import device
from .._tensor import Size, Tensor
from ._names import REBUILD_MODULE, STORAGE_CLASSES


class TorchName:
    """A global as PyTorch's unpickler looks it up; pickles as that GLOBAL opcode."""

    __slots__ = ("module", "name")

    def __init__(self, module: str, name: str):
        self.module = module
        self.name = name

    def __repr__(self) -> str:
        return f"{self.module}.{self.name}"

    def __call__(self, *args, **kwargs):
        # Only here because pickle checks that a reduce function is callable.
        raise TypeError(f"{self!r} is a name written into checkpoints, not a function")


_REBUILD_V2 = TorchName(REBUILD_MODULE, "_rebuild_tensor_v2")
_REBUILD_PARAMETER = TorchName(REBUILD_MODULE, "_rebuild_parameter")
_REBUILD_PARAMETER_STATE = TorchName(REBUILD_MODULE, "_rebuild_parameter_with_state")
_REBUILD_FROM_TYPE = TorchName("torch._tensor", "_rebuild_from_type_v2")
_TENSOR = TorchName("torch", "Tensor")
_DEVICE = TorchName("torch", "device")
_SIZE = TorchName("torch", "Size")
_DTYPES = {d: TorchName("torch", d.name) for d in D.ALL_DTYPES}
_STORAGE_TYPES = {d.np: TorchName("torch", STORAGE_CLASSES[d.name]) for d in D.ALL_DTYPES}
_CPU = "cpu"


class StorageRecord:
    """One storage to write: a base array's whole buffer, typed as the tensors using it."""

    __slots__ = ("key", "root", "numel", "storage_type", "location", "legacy")

    def __init__(self, key: str, root, dtype, location: str, legacy: bool):
        self.key = key
        self.root = root
        self.numel = root.nbytes // dtype.itemsize
        self.storage_type = _STORAGE_TYPES[dtype]
        self.location = location
        self.legacy = legacy

    def pid(self) -> tuple:
        # A new tuple each time, as PyTorch's pickler makes, so the pickles match byte
        # for byte.
        pid = ("storage", self.storage_type, self.key, self.location, self.numel)
        return pid + (None,) if self.legacy else pid

    def host_bytes(self) -> np.ndarray:
        """The buffer as a 1-D uint8 host array, in memory order (no copy on the CPU)."""
        root = self.root
        order = "F" if root.flags.f_contiguous and not root.flags.c_contiguous else "C"
        flat = root.reshape(-1, order=order).view(np.uint8)
        return backend.to_numpy(flat)


class _StorageRef:
    """Stands in a tensor's reduce arguments for its storage; pickled as a persistent id."""

    __slots__ = ("record",)

    def __init__(self, record: StorageRecord):
        self.record = record


def _base_array(a):
    b = a.base
    if isinstance(b, np.ndarray) or backend.is_cuda_array(b):
        return b
    return None


def _address(a) -> int:
    return a.__array_interface__["data"][0] if isinstance(a, np.ndarray) else a.data.ptr


def _layout(arr):
    """(root array, byte offset) when `arr` can be saved as a view of its base's buffer."""
    root = arr
    while (b := _base_array(root)) is not None:
        root = b
    if not (root.flags.c_contiguous or root.flags.f_contiguous):
        return None
    if not (arr.dtype.isnative and root.dtype.isnative):
        return None
    item = arr.itemsize
    offset = _address(arr) - _address(root)
    if offset % item or root.nbytes % item or any(s < 0 or s % item for s in arr.strides):
        return None
    if arr.size:
        end = offset + sum((n - 1) * s for n, s in zip(arr.shape, arr.strides)) + item
        if offset < 0 or end > root.nbytes:
            return None
    elif not 0 <= offset <= root.nbytes:
        return None
    return root, offset


def _user_state(t: Tensor) -> dict:
    # Tensor keeps autograd bookkeeping (grad, views, hooks) in __dict__ under names that
    # the class defines as defaults; PyTorch does not save those, only user attributes.
    return {k: v for k, v in t.__dict__.items() if not hasattr(Tensor, k)}


def _parameter_class():
    from .. import nn
    return getattr(nn, "Parameter", None)


def _location(arr) -> str:
    if type(arr) is np.ndarray or not backend.is_cuda_array(arr):
        return _CPU
    return f"cuda:{arr.device.id}"


class _TorchPicklerMixin:
    """persistent_id / reducer_override / dispatch that write PyTorch's checkpoint pickle."""

    def __init__(self, file, protocol: int, legacy: bool = False):
        super().__init__(file, protocol)
        self.legacy = legacy
        self.records: list[StorageRecord] = []
        self._by_buffer: dict = {}
        self._locations: dict = {}
        self._parameter = _parameter_class()

    def persistent_id(self, obj):
        if type(obj) is _StorageRef:
            return obj.record.pid()
        return None

    def reducer_override(self, obj):
        if isinstance(obj, Tensor):
            return self._reduce_tensor(obj)
        t = type(obj)
        if t is device:
            # a fresh string (not the interned "cpu" of storage records), as PyTorch writes
            return (_DEVICE, (str(obj).encode().decode(),))
        if t is Size:
            return (_SIZE, (tuple(obj),))
        return NotImplemented

    def _reduce_tensor(self, t: Tensor):
        state = _user_state(t)
        if self._parameter is not None and isinstance(t, self._parameter):
            data = Tensor._make(t._data)
            if state:
                return (_REBUILD_PARAMETER_STATE, (data, t._rg, OrderedDict(), state))
            return (_REBUILD_PARAMETER, (data, t._rg, OrderedDict()))
        args = self._tensor_args(t)
        if type(t) is Tensor and not state:
            return (_REBUILD_V2, args)
        cls = _TENSOR if type(t) is Tensor else type(t)
        return (_REBUILD_FROM_TYPE, (_REBUILD_V2, cls, args, state))

    def _tensor_args(self, t: Tensor) -> tuple:
        arr = t._data
        found = _layout(arr)
        if found is None:  # e.g. negative strides or foreign byte order: save a packed copy
            arr = arr.astype(arr.dtype.newbyteorder("="), order="C", copy=True)
            found = arr, 0
        root, offset = found
        item = arr.itemsize
        record = self._record(root, arr.dtype)
        strides = tuple(s // item for s in arr.strides)
        return (_StorageRef(record), offset // item, tuple(arr.shape), strides, t._rg,
                OrderedDict())

    def _record(self, root, dtype) -> StorageRecord:
        # Keyed by the buffer itself, so distinct base arrays over one memory share a record;
        # a different dtype over the same buffer gets its own (PyTorch types each storage).
        addr = _address(root)
        key = (addr, root.nbytes, dtype, id(root) if root.nbytes == 0 else 0)
        record = self._by_buffer.get(key)
        if record is None:
            record = StorageRecord(str(len(self.records)), root, dtype, _location(root),
                                   self.legacy)
            self.records.append(record)
            self._by_buffer[key] = record
        return record


def _write_global(pickler, name: TorchName, obj) -> None:
    """Writes `name` as a global and memoizes it as `obj`, as save_global would."""
    if pickler.proto >= 4:
        pickler.save(name.module)
        pickler.save(name.name)
        pickler.write(pickle.STACK_GLOBAL)
    else:
        pickler.write(pickle.GLOBAL + f"{name.module}\n{name.name}\n".encode())
    pickler.memoize(obj)


def _save_torch_name(pickler, obj: TorchName) -> None:
    _write_global(pickler, obj, obj)


def _save_dtype(pickler, obj) -> None:
    _write_global(pickler, _DTYPES[obj], obj)


_CLASSES: dict = {}


def pickler_class(pickle_module):
    """The torch-format pickler over `pickle_module`'s pure-Python Pickler."""
    base = pickle._Pickler if pickle_module is pickle else pickle_module.Pickler
    if not (isinstance(base, type) and issubclass(base, pickle._Pickler)):
        raise TypeError(
            "taimatsu.save needs a pickle_module whose Pickler derives from the pure-Python "
            "pickle._Pickler, to write PyTorch's global names")
    cls = _CLASSES.get(base)
    if cls is None:
        dispatch = dict(base.dispatch)
        dispatch[TorchName] = _save_torch_name
        dispatch[D.dtype] = _save_dtype
        cls = type("TorchPickler", (_TorchPicklerMixin, base), {"dispatch": dispatch})
        _CLASSES[base] = cls
    return cls
