"""The load side: unpicklers for PyTorch's checkpoint pickle, the weights_only allow-list,
and the functions that rebuild tensors from storage records.

With ``weights_only=True`` the unpickler resolves a global only through the allow-list
below (and what `add_safe_globals` adds); everything it can reach constructs data
(containers, dtypes, devices, tensors over storages) and runs no code from the file.
"""

from __future__ import annotations

import _compat_pickle
import codecs
import collections
import importlib
import pickle

import numpy as np

from .. import _dtype as D
from .. import backend
from .._device import device, move
from .._tensor import Size, Tensor
from ._names import FOREIGN_DTYPES, REBUILD_MODULE, STORAGE_CLASSES
from ._zip import Damaged


class Refused(pickle.UnpicklingError):
    """A global the unpickler will not resolve (never taken for a damaged file)."""


# -- user allow-list ----------------------------------------------------------------------
_SAFE_GLOBALS: list = []


def add_safe_globals(safe_globals: list) -> None:
    """Marks globals as safe for ``weights_only=True`` loading.

    Each item is a class/function, or a ``(class_or_function, "module.qualname")`` tuple
    when the checkpoint names it differently from ``{__module__}.{__qualname__}``. To load
    NumPy arrays, allow ``numpy._core.multiarray._reconstruct``, ``numpy.ndarray`` and
    ``numpy.dtype``; NumPy scalars need ``numpy._core.multiarray.scalar`` and
    ``numpy.dtype``. (Files written under NumPy 1 name ``numpy.core...``: both spellings
    match.) Globals from the modules sys, os, posix and nt are refused even when added.
    """
    for item in safe_globals:
        if isinstance(item, tuple):
            if len(item) != 2:
                raise ValueError("Expected tuple of length 2 (global, str of callable full "
                                 f"path), but got tuple of length: {len(item)}")
            if type(item[1]) is not str:
                raise TypeError("Expected second item in tuple to be str of callable full "
                                f"path, but got: {type(item[1])}")
        elif not callable(item):
            raise ValueError(f"Expected a class or function, got {item!r}")
        if item not in _SAFE_GLOBALS:  # a set in PyTorch: adding twice changes nothing
            _SAFE_GLOBALS.append(item)


def get_safe_globals() -> list:
    """The globals added with `add_safe_globals` (or inside a `safe_globals` block)."""
    return list(_SAFE_GLOBALS)


def clear_safe_globals() -> None:
    """Forgets every global added with `add_safe_globals`."""
    _SAFE_GLOBALS.clear()


class safe_globals:
    """Context manager: the given globals are safe for weights_only loading in the block.

    On exit they are removed from the allow-list again (as PyTorch does, also when they
    were added before the block).
    """

    def __init__(self, safe_globals: list):
        self.safe_globals = list(safe_globals)

    def __enter__(self):
        add_safe_globals(self.safe_globals)
        return self

    def __exit__(self, *exc) -> None:
        _SAFE_GLOBALS[:] = [g for g in _SAFE_GLOBALS if g not in self.safe_globals]


def _numpy_alias(key: str) -> str | None:
    # NumPy 2 moved numpy.core to numpy._core; checkpoints carry whichever name their
    # writer had, so an allowed global matches under both.
    for old, new in (("numpy.core.", "numpy._core."), ("numpy._core.", "numpy.core.")):
        if key.startswith(old):
            return new + key[len(old):]
    return None


def user_globals() -> dict:
    """"module.qualname" -> object for what `add_safe_globals` allowed."""
    table = {}
    for item in _SAFE_GLOBALS:
        if isinstance(item, tuple):
            obj, key = item
        else:
            obj, key = item, f"{item.__module__}.{item.__qualname__}"
        table[key] = obj
        alias = _numpy_alias(key)
        if alias is not None:
            table.setdefault(alias, obj)
    return table


# -- what storages and dtypes unpickle to -------------------------------------------------
class StorageType:
    """What ``torch.FloatStorage`` & co. unpickle to: the element type of a storage."""

    __slots__ = ("name", "dtype")

    def __init__(self, name: str, dtype):
        self.name = name
        self.dtype = dtype  # numpy dtype; None for UntypedStorage (bytes)

    @property
    def itemsize(self) -> int:
        return 1 if self.dtype is None else self.dtype.itemsize

    def __repr__(self) -> str:
        return f"torch.{self.name}"


class ForeignDtype:
    """A PyTorch dtype that taimatsu lacks (uint16, float8...): loading it is refused."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"torch.{self.name}"


class Storage:
    """A storage as rebuild functions receive it: bytes on its device and its element type."""

    __slots__ = ("data", "dtype")

    def __init__(self, data, dtype):
        self.data = data  # 1-D uint8 array (numpy or cupy)
        self.dtype = dtype  # numpy dtype, None when untyped

    def view(self, dtype, offset, size, stride):
        """The array of a tensor over this storage (shares its memory)."""
        try:
            size = tuple(int(n) for n in size)
            stride = tuple(int(s) for s in stride)
            offset = int(offset)
        except (TypeError, ValueError):
            raise Damaged("a tensor record has a malformed size or stride") from None
        if len(size) != len(stride) or offset < 0 or min(size + stride, default=0) < 0:
            raise Damaged("a tensor record has a malformed size or stride")
        item = dtype.itemsize
        capacity = self.data.nbytes // item
        if all(size):
            if offset + sum((n - 1) * s for n, s in zip(size, stride)) >= capacity:
                raise Damaged("a tensor reaches past the end of its storage")
        else:
            offset = min(offset, capacity)
        strides = tuple(s * item for s in stride)
        if isinstance(self.data, np.ndarray):
            return np.ndarray(size, dtype, buffer=self.data, offset=offset * item,
                              strides=strides)
        cp = backend.cupy()
        return cp.ndarray(size, dtype, memptr=self.data.data + offset * item, strides=strides)


# -- rebuild functions (what torch._utils.* unpickle to) ----------------------------------
def _tensor(storage, dtype, offset, size, stride, requires_grad, metadata=None) -> Tensor:
    if type(storage) is not Storage:
        raise Damaged("a tensor record does not refer to a storage")
    arr = storage.view(dtype, offset, size, stride)
    if metadata:
        # PyTorch saves conjugate/negative views lazily: the storage holds the original.
        if metadata.get("conj"):
            arr = arr.conj()
        if metadata.get("neg"):
            arr = -arr
    t = Tensor._make(arr)
    if requires_grad:
        t.requires_grad = True
    return t


def _rebuild_tensor(storage, storage_offset, size, stride):
    return _tensor(storage, _storage_dtype(storage), storage_offset, size, stride, False)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                       metadata=None):
    return _tensor(storage, _storage_dtype(storage), storage_offset, size, stride,
                   requires_grad, metadata)


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                       dtype, metadata=None):
    if isinstance(dtype, ForeignDtype):
        raise RuntimeError(f"the checkpoint holds a tensor of dtype {dtype}, which taimatsu "
                           "does not have")
    if not isinstance(dtype, D.dtype):
        raise Damaged("a tensor record has a malformed dtype")
    return _tensor(storage, dtype.np, storage_offset, size, stride, requires_grad, metadata)


def _storage_dtype(storage):
    if type(storage) is not Storage:
        raise Damaged("a tensor record does not refer to a storage")
    if storage.dtype is None:
        raise Damaged("a tensor over an untyped storage has no dtype")
    return storage.dtype


def _parameter_class():
    from .. import nn
    return getattr(nn, "Parameter", None)


def _rebuild_parameter(data, requires_grad, backward_hooks):
    if not isinstance(data, Tensor):
        raise Damaged("a parameter record does not hold a tensor")
    cls = _parameter_class()
    if cls is None:
        data.requires_grad = bool(requires_grad)
        return data
    return cls(data, bool(requires_grad))


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    param = _rebuild_parameter(data, requires_grad, backward_hooks)
    _set_state(param, state)
    return param


def _rebuild_from_type_v2(func, new_type, args, state):
    if not callable(func) or not isinstance(args, tuple):
        raise Damaged("a tensor-subclass record is malformed")
    ret = func(*args)
    if type(ret) is not new_type:
        if not (isinstance(new_type, type) and issubclass(new_type, Tensor)
                and isinstance(ret, Tensor)):
            raise Refused(f"cannot rebuild a tensor as {new_type!r}: not a taimatsu.Tensor "
                          "subclass")
        ret.__class__ = new_type
    _set_state(ret, state)
    return ret


def _set_state(obj, state) -> None:
    if not state:
        return
    setstate = getattr(type(obj), "__setstate__", None)
    if setstate is not None and setstate is not getattr(Tensor, "__setstate__", None):
        obj.__setstate__(state)
        return
    dict_state, slots_state = state if isinstance(state, tuple) else (state, None)
    for k, v in (dict_state or {}).items():
        setattr(obj, k, v)
    for k, v in (slots_state or {}).items():
        setattr(obj, k, v)


def _encode(obj, encoding="utf-8", errors="strict"):
    # What protocol-2 pickles call to make bytes; refuse anything but text codecs.
    if type(obj) is not str or encoding.lower().replace("-", "") not in (
            "latin1", "utf8", "ascii"):
        raise Refused("_codecs.encode is allowed only to turn text into bytes")
    return codecs.encode(obj, encoding, errors)


def _build_allowed() -> dict:
    table = {
        "collections.OrderedDict": collections.OrderedDict,
        "collections.Counter": collections.Counter,
        "_codecs.encode": _encode,
        "torch.device": device,
        "torch.Size": Size,
        "torch.Tensor": Tensor,
        "torch._tensor.Tensor": Tensor,
        "torch._tensor._rebuild_from_type_v2": _rebuild_from_type_v2,
        "torch.storage.UntypedStorage": StorageType("UntypedStorage", None),
        "torch.UntypedStorage": StorageType("UntypedStorage", None),
    }
    for fn in (_rebuild_tensor, _rebuild_tensor_v2, _rebuild_tensor_v3, _rebuild_parameter,
               _rebuild_parameter_with_state):
        table[f"{REBUILD_MODULE}.{fn.__name__}"] = fn
    for name in ("dict", "list", "tuple", "set", "frozenset", "slice", "range", "complex",
                 "bytearray", "bytes", "int", "float", "bool", "str"):
        table[f"builtins.{name}"] = getattr(__import__("builtins"), name)
    for dt in D.ALL_DTYPES:
        table[f"torch.{dt.name}"] = dt
        storage = StorageType(STORAGE_CLASSES[dt.name], dt.np)
        table[f"torch.{storage.name}"] = storage
        table[f"torch.cuda.{storage.name}"] = storage  # pre-1.6 checkpoints saved on a GPU
    for name in FOREIGN_DTYPES:
        table.setdefault(f"torch.{name}", ForeignDtype(name))
    return table


_ALLOWED = _build_allowed()
_PARAMETER_NAME = "torch.nn.parameter.Parameter"


_BLOCKED_MODULES = ("sys", "os", "posix", "nt")


def _refused_message(key: str, file_name: str) -> str:
    short = key.rsplit(".", 1)[-1]
    shown = key[len("builtins."):] if key.startswith("builtins.") else key  # as PyTorch
    return (
        f"Weights only load failed for {file_name}: the checkpoint needs the global {key}, "
        "which is not on the weights_only allow-list, so it was refused and nothing from "
        f"the file was run.\nUnsupported global: GLOBAL {shown} was not an allowed global "
        "by default.\nIf you trust the source of this checkpoint, either:\n"
        "  (1) load it with `taimatsu.load(..., weights_only=False)`, which can run "
        "arbitrary code from the file: do it only for a file from a trusted source; or\n"
        f"  (2) allow this global with `taimatsu.serialization.add_safe_globals([{short}])` "
        f"or inside `with taimatsu.serialization.safe_globals([{short}]):`, after checking "
        f"that {key} is safe to call with data from the file.")


def _py3_name(module: str, name: str) -> tuple[str, str]:
    # Protocol-2 pickles name builtins the Python 2 way (__builtin__.set, xrange).
    if (module, name) in _compat_pickle.NAME_MAPPING:
        return _compat_pickle.NAME_MAPPING[(module, name)]
    return _compat_pickle.IMPORT_MAPPING.get(module, module), name


def resolve_global(module: str, name: str, weights_only: bool, user: dict,
                   file_name: str):
    """The object a checkpoint's global names, or Refused."""
    module, name = _py3_name(module, name)
    key = f"{module}.{name}"
    obj = _ALLOWED.get(key)
    if obj is not None:
        return obj
    if weights_only and module in _BLOCKED_MODULES and key in user:
        # Allowing them would let a file run commands: refused even when allowed.
        raise Refused(f"Trying to load unsupported GLOBAL {key} whose module {module} is "
                      "blocked.")
    if key in user:
        return user[key]
    if _is_torch(module) and _taimatsu_name(module, name) in user:
        # A PyTorch checkpoint names torch's class; allowing ours allows it.
        return user[_taimatsu_name(module, name)]
    if key == _PARAMETER_NAME:
        cls = _parameter_class()
        if cls is not None:
            return cls
    if key.startswith(f"{REBUILD_MODULE}._rebuild"):
        raise Refused(f"{file_name} holds a kind of tensor taimatsu cannot load ({key}: "
                      "sparse, quantized, nested and meta tensors are not supported)")
    if weights_only:
        raise Refused(_refused_message(key, file_name))
    if _is_torch(module):
        return _taimatsu_equivalent(module, name, key)
    return _import_global(module, name)


def _is_torch(module: str) -> bool:
    return module == "torch" or module.startswith("torch.")


def _taimatsu_name(module: str, name: str) -> str:
    return f"taimatsu{module[len('torch'):]}.{name}"


def _import_global(module: str, name: str):
    obj = importlib.import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def _taimatsu_equivalent(module: str, name: str, key: str):
    """Our counterpart of a PyTorch global (torch.nn.modules.linear.Linear -> ours)."""
    ours = "taimatsu" + module[len("torch"):]
    try:
        return _import_global(ours, name)
    except (ImportError, AttributeError):
        raise Refused(f"the checkpoint needs {key}, and taimatsu has no {ours}.{name} to "
                      "stand in for it") from None


def is_allowed(key: str, user: dict) -> bool:
    """Whether a weights_only load resolves the global `key` (module.qualname)."""
    module, _, name = key.rpartition(".")
    module, name = _py3_name(module, name)
    key = f"{module}.{name}"
    if key in _ALLOWED or key == _PARAMETER_NAME:
        return True
    if module in _BLOCKED_MODULES:
        return False
    return key in user or (_is_torch(module) and _taimatsu_name(module, name) in user)


# -- the unpicklers -----------------------------------------------------------------------
class Loader:
    """Per-load state: where storages come from, where they go, and which globals resolve.

    `read_storage(key, storage_type, numel)` returns the storage's bytes as a host uint8
    array; `swap` says the file's byte order differs from this machine's.
    """

    def __init__(self, read_storage, map_location, weights_only: bool, file_name: str,
                 swap: bool = False):
        self.read_storage = read_storage
        self.weights_only = weights_only
        self.file_name = file_name
        self.swap = swap
        self.user = user_globals()
        self.storages: dict = {}
        self._map = map_location

    def find_class(self, module: str, name: str):
        return resolve_global(module, name, self.weights_only, self.user, self.file_name)

    def persistent_load(self, pid):
        if not isinstance(pid, tuple) or not pid:
            raise Damaged("malformed persistent id in the pickle")
        if pid[0] == "module" and len(pid) > 1:  # pre-1.6 saves of a Module's class
            return pid[1]
        if pid[0] != "storage" or len(pid) < 5:
            raise Damaged(f"unknown persistent id {pid[0]!r} in the pickle")
        storage_type, key, location, numel = pid[1:5]
        if not isinstance(storage_type, StorageType):
            raise Damaged("a storage record names no storage type")
        storage = self.storages.get(key)
        if storage is None:
            storage = self._make_storage(storage_type, key, location, numel)
            self.storages[key] = storage
        view = pid[5] if len(pid) > 5 else None
        if view is not None:  # pre-1.6 storage views: (view key, offset, size) in elements
            view_key, offset, size = view
            if view_key not in self.storages:
                item = storage_type.itemsize
                self.storages[view_key] = Storage(
                    storage.data[offset * item:(offset + size) * item], storage.dtype)
            storage = self.storages[view_key]
        return storage

    def _make_storage(self, storage_type: StorageType, key, location, numel) -> Storage:
        data = self.read_storage(str(key), storage_type, numel)
        if not isinstance(numel, int) or data.nbytes < numel * storage_type.itemsize:
            raise Damaged(f"storage {key} is shorter than its record says")
        if self.swap and storage_type.itemsize > 1:
            _byteswap(data, storage_type.dtype)
        return Storage(self._place(data, storage_type, str(location)), storage_type.dtype)

    def _place(self, data, storage_type: StorageType, location: str):
        m = self._map
        if m is None:
            return _to_device(data, location)
        if isinstance(m, (str, device)):
            return _to_device(data, str(m))
        if isinstance(m, dict):
            return _to_device(data, str(m.get(location, location)))
        if callable(m):
            typed = data if storage_type.dtype is None else data.view(storage_type.dtype)
            result = m(Tensor._make(typed), location)
            if result is None:
                return _to_device(data, location)
            arr = result._data if isinstance(result, Tensor) else result
            if not (isinstance(arr, np.ndarray) or backend.is_cuda_array(arr)):
                raise TypeError("map_location must return a Tensor (or None), got "
                                f"{type(result).__name__}")
            xp = backend.of(arr)
            return xp.ascontiguousarray(arr).reshape(-1).view(np.uint8)
        raise TypeError("map_location should be a string, a taimatsu.device, a dict or a "
                        f"callable, got {type(m).__name__}")


def _byteswap(data: np.ndarray, dtype) -> None:
    # Swap per scalar component: a complex number is two floats.
    width = dtype.itemsize // 2 if dtype.kind == "c" else dtype.itemsize
    data.view(f"u{width}").byteswap(inplace=True)


def _to_device(data, location: str):
    if location == "cpu":
        return backend.to_numpy(data)
    if location.startswith("cuda"):
        try:
            dev = device(location)
        except RuntimeError:
            dev = None
        if dev is not None:
            if not backend.cuda_available():
                raise RuntimeError(
                    "Attempting to deserialize object on a CUDA device but "
                    "taimatsu.cuda.is_available() is False. If you are running on a "
                    "CPU-only machine, please use taimatsu.load with "
                    "map_location=taimatsu.device('cpu') to map your storages to the CPU.")
            count = backend.cupy().cuda.runtime.getDeviceCount()
            if dev.index is not None and dev.index >= count:
                raise RuntimeError(
                    f"Attempting to deserialize object on CUDA device {dev.index} but "
                    f"taimatsu.cuda.device_count() is {count}. Please use taimatsu.load "
                    "with map_location to map your storages to an existing device.")
            return move(data, dev)
    raise RuntimeError(f"don't know how to restore data location {location!r}: taimatsu has "
                       "'cpu' and 'cuda' tensors; pass map_location='cpu' (or a dict that "
                       "maps this location)")


def unpickler_class(pickle_module):
    """An Unpickler class over `pickle_module` that consults a Loader."""
    base = pickle.Unpickler if pickle_module is None else pickle_module.Unpickler
    cls = _UNPICKLERS.get(base)
    if cls is None:
        def find_class(self, module, name):
            return self._loader.find_class(module, name)

        def persistent_load(self, pid):
            return self._loader.persistent_load(pid)

        cls = type("CheckpointUnpickler", (base,),
                   {"find_class": find_class, "persistent_load": persistent_load})
        _UNPICKLERS[base] = cls
    return cls


_UNPICKLERS: dict = {}


def unpickle(data_file, loader: Loader, pickle_module=None, **pickle_load_args):
    """Runs the checkpoint's pickle through `loader`."""
    pickle_load_args.setdefault("encoding", "utf-8")
    unpickler = unpickler_class(pickle_module)(data_file, **pickle_load_args)
    unpickler._loader = loader
    return unpickler.load()


class _NoGlobals(pickle.Unpickler):
    """For the small plain-data pickles of the legacy format (magic, versions, keys)."""

    def find_class(self, module, name):
        raise Damaged(f"unexpected global {module}.{name} in a legacy header")


def load_plain(f):
    return _NoGlobals(f, encoding="utf-8").load()
