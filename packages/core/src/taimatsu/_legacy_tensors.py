"""PyTorch's legacy tensor types and constructors: Tensor(2, 3), FloatTensor([1, 2]), ...

`FloatTensor`, `LongTensor` & co. are not subclasses of Tensor: calling one builds a plain
Tensor of its dtype, and ``isinstance(t, FloatTensor)`` asks whether `t` is a float32 tensor
on its device (a metaclass answers), as in PyTorch. The CUDA variants live in
`cuda_tensor_types` (PyTorch's ``torch.cuda.FloatTensor``).

The legacy constructor (``Tensor(*args)``, ``FloatTensor(*args)``, ``t.new(*args)``) takes
one of: nothing (an empty 1-D tensor), sizes (``2, 3``, a tuple or a Size; uninitialized
memory), a tensor (an alias of it, which must already have the type's dtype) or a sequence
of data (converted to the type's dtype), plus an optional ``device`` that must be of the
type's kind.

Naming: ``t.type()`` answers ``'taimatsu.FloatTensor'`` (like our printed dtypes and sizes,
``taimatsu.float32`` and ``taimatsu.Size``); ``t.type(...)`` accepts both that spelling and
PyTorch's ``'torch.FloatTensor'``, so strings written for PyTorch keep working.
"""

from __future__ import annotations

import operator

import numpy as np

from . import _dtype as D
from ._device import to_device
from ._layout import strided
from ._tensor import _LEGACY_NAMES, Size, Tensor

__all__ = ["typename", "FloatTensor", "DoubleTensor", "HalfTensor", "BFloat16Tensor", "LongTensor",
           "IntTensor", "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor"]

# What PyTorch's TensorOptions call each dtype (C++ type names) in the legacy constructor's
# "expected TensorOptions(...)" error.
_CPP_NAMES = {
    "float32": "float", "float64": "double", "float16": "c10::Half",
    "bfloat16": "c10::BFloat16", "int64": "long int", "int32": "int", "int16": "short int",
    "int8": "signed char", "uint8": "unsigned char", "bool": "bool",
    "complex64": "c10::complex<float>", "complex128": "c10::complex<double>",
}

# The call forms, listed as PyTorch lists its own (which also takes a Storage).
_SIGNATURES = (
    " * (*, taimatsu.device device = None)\n{why}"
    " * (Tensor other)\n"
    " * (tuple of ints size, *, taimatsu.device device = None)\n"
    " * (object data, *, taimatsu.device device = None)\n")


def _options(dtype: D.dtype, device: str) -> str:
    return (f"TensorOptions(dtype={_CPP_NAMES[dtype.name]}, device={device}, layout=Strided, "
            "requires_grad=false (default), pinned_memory=false (default), "
            "memory_format=(nullopt))")


def _type_label(obj) -> str:
    cls = type(obj)
    if cls.__module__ == "builtins":
        return cls.__name__
    return f"{cls.__module__.split('.')[0]}.{cls.__name__}"  # taimatsu.dtype, numpy.float32


def _detailed_label(obj) -> str:
    if isinstance(obj, (list, tuple)):
        return f"{type(obj).__name__} of [{', '.join(_type_label(x) for x in obj)}]"
    return _type_label(obj)


def _bad_call(args, kwargs, unexpected=()) -> TypeError:
    got = [_type_label(a) for a in args] + [f"{k}={_type_label(v)}" for k, v in kwargs.items()]
    if unexpected:
        why = ("      didn't match because some of the keywords were incorrect: "
               f"{', '.join(unexpected)}\n")
    else:
        why = ("      didn't match because some of the arguments have invalid types: "
               f"({', '.join(f'!{_detailed_label(a)}!' for a in args)})\n")
    return TypeError(f"new() received an invalid combination of arguments - got "
                     f"({', '.join(got)}), but expected one of:\n"
                     + _SIGNATURES.format(why=why))


def _is_size_int(x) -> bool:
    # Python and NumPy integers are sizes; bools are not (torch refuses Tensor(True)).
    if isinstance(x, (bool, np.bool_)):
        return False
    try:
        operator.index(x)
    except TypeError:
        return False
    return not isinstance(x, Tensor)


def _checked_device(device, cuda: bool):
    """The device a legacy constructor may use: one of its own kind (cpu or cuda)."""
    kind = "cuda" if cuda else "cpu"
    if device is None:
        return to_device(kind)
    dev = to_device(device)
    if dev.type != kind:
        raise RuntimeError(f"legacy constructor expects device type: {kind} but device "
                           f"type: {dev.type} was passed")
    return dev


def _sizes_from(args) -> tuple:
    for pos, s in enumerate(args, 1):
        if not _is_size_int(s):
            raise TypeError(f"new(): argument 'size' failed to unpack the object at pos {pos} "
                            f"with error \"type must be tuple of ints,but got "
                            f"{type(s).__name__}\"")
    return tuple(operator.index(s) for s in args)


def _empty(sizes, dtype: D.dtype, device) -> Tensor:
    from .ops.creation import empty
    return empty(*sizes, dtype=dtype, device=device)


def _alias(other: Tensor, dtype: D.dtype | None, device) -> Tensor:
    if (dtype is not None and other.dtype is not dtype) or other.device.type != device.type:
        raise TypeError(f"expected {_options(dtype or other.dtype, device.type)} (got "
                        f"{_options(other.dtype, other.device.type)})")
    return other[...]  # a view sharing memory (AliasBackward0 when other requires grad)


def _from_data(data, dtype: D.dtype, device) -> Tensor:
    from .ops.creation import _is_sequence, _tp_name, tensor
    if isinstance(data, (str, bytes)):
        raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
    if not _is_sequence(data):
        raise TypeError(f"new(): data must be a sequence (got {_tp_name(data)})")
    return tensor(data, dtype=dtype, device=device)


_KEYWORD_FORMS = ("size", "data", "other")


def legacy_new(dtype: D.dtype | None, cuda: bool, args: tuple, kwargs: dict) -> Tensor:
    """What ``FloatTensor(*args, **kwargs)`` builds; `dtype` None keeps a tensor's own dtype.

    `dtype` None is ``Tensor(...)``: an alias of any tensor, the default dtype otherwise.
    """
    device = kwargs.get("device")
    extra = [k for k in kwargs if k != "device"]
    if extra:
        # A call form may also be spelled with its one argument as a keyword.
        key = extra[0]
        if args or len(extra) > 1 or key not in _KEYWORD_FORMS:
            bad = extra if args else [k for k in extra if k not in _KEYWORD_FORMS]
            raise _bad_call(args, kwargs, bad or extra[1:])
        value = kwargs[key]
        if key == "size":
            sizes = tuple(value) if isinstance(value, (tuple, list, Size)) else (value,)
            return _empty(_sizes_from(sizes), dtype or D.get_default_dtype(),
                          _checked_device(device, cuda))
        args = (value,)
    dev = _checked_device(device, cuda)
    if not args:
        return _empty((0,), dtype or D.get_default_dtype(), dev)
    first = args[0]
    if len(args) == 1:
        if isinstance(first, Tensor):
            return _alias(first, dtype, dev)
        if isinstance(first, Size) or _is_size_int(first):
            return _empty(_sizes_from(tuple(first) if isinstance(first, Size) else args),
                          dtype or D.get_default_dtype(), dev)
        return _from_data(first, dtype or D.get_default_dtype(), dev)
    if all(_is_size_int(a) for a in args):
        return _empty(_sizes_from(args), dtype or D.get_default_dtype(), dev)
    if _is_size_int(first):
        _sizes_from(args)  # names the first argument that is not an int
    raise _bad_call(args, kwargs)


class _LegacyTensorType(type):
    """The metaclass of FloatTensor & co.: a dtype test for isinstance, a constructor call."""

    def __instancecheck__(cls, obj) -> bool:
        return (isinstance(obj, Tensor) and obj.dtype is cls.dtype
                and obj.is_cuda == cls.is_cuda)

    def __subclasscheck__(cls, sub) -> bool:
        return sub is cls

    def __call__(cls, *args, **kwargs) -> Tensor:
        return legacy_new(cls.dtype, cls.is_cuda, args, kwargs)

    def __getattr__(cls, name):
        # torch.FloatTensor.add is Tensor.add: the type stands for tensors of its dtype.
        try:
            return getattr(Tensor, name)
        except AttributeError:
            raise AttributeError(f"type object '{cls.__module__}.{cls.__name__}' has no "
                                 f"attribute '{name}'") from None

    def __dir__(cls):
        return sorted(set(dir(Tensor)) | set(type.__dir__(cls)))

    def __repr__(cls) -> str:
        return f"<class '{cls.__module__}.{cls.__name__}'>"


def _make_type(dtype: D.dtype, cuda: bool) -> type:
    name = _LEGACY_NAMES[dtype.name]
    module = "taimatsu.cuda" if cuda else "taimatsu"
    return _LegacyTensorType(name, (), {
        "__module__": module, "__qualname__": name, "__slots__": (), "dtype": dtype,
        "is_cuda": cuda, "is_sparse": False, "layout": strided,
        "__doc__": f"Builds {dtype} tensors on the {'GPU' if cuda else 'CPU'}; "
                   f"isinstance() tests for them."})


_EXPORTED = (D.float32, D.float64, D.float16, D.bfloat16, D.int64, D.int32, D.int16, D.int8,
             D.uint8, D.bool)
_CPU_TYPES = {dt: _make_type(dt, False) for dt in _EXPORTED}
_CUDA_TYPES = {dt: _make_type(dt, True) for dt in _EXPORTED}

FloatTensor = _CPU_TYPES[D.float32]
DoubleTensor = _CPU_TYPES[D.float64]
HalfTensor = _CPU_TYPES[D.float16]
BFloat16Tensor = _CPU_TYPES[D.bfloat16]
LongTensor = _CPU_TYPES[D.int64]
IntTensor = _CPU_TYPES[D.int32]
ShortTensor = _CPU_TYPES[D.int16]
CharTensor = _CPU_TYPES[D.int8]
ByteTensor = _CPU_TYPES[D.uint8]
BoolTensor = _CPU_TYPES[D.bool]

# taimatsu.cuda re-exports these under the same names (torch.cuda.FloatTensor, ...).
cuda_tensor_types = {t.__name__: t for t in _CUDA_TYPES.values()}


def is_legacy_type(obj) -> bool:
    return type(obj) is _LegacyTensorType


def parse_type(spec) -> tuple[D.dtype, bool]:
    """(dtype, on cuda) for a `Tensor.type()` argument: a legacy type or its name."""
    if is_legacy_type(spec):
        return spec.dtype, spec.is_cuda
    name = spec
    cuda = False
    for prefix in ("taimatsu.cuda.", "torch.cuda.", "taimatsu.", "torch."):
        if name.startswith(prefix):
            cuda = ".cuda." in prefix
            name = name[len(prefix):]
            break
    else:
        raise ValueError(f"invalid type: '{spec}'")
    for dtype_name, legacy in _LEGACY_NAMES.items():
        if legacy == name:
            return D._BY_NAME[dtype_name], cuda
    raise ValueError(f"invalid type: '{spec}'")


def typename(obj) -> str:
    """A tensor's legacy type name ('taimatsu.FloatTensor'), else the object's qualified
    class name ('float', 'taimatsu.nn.modules.linear.Linear')."""
    from ._tensor import Tensor
    if isinstance(obj, Tensor):
        return obj.type()
    cls = type(obj)
    module = cls.__module__
    if module in (None, "builtins"):
        return cls.__qualname__
    return f"{module}.{cls.__qualname__}"
