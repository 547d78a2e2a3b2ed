"""dtype objects, the default dtype and PyTorch's type-promotion rules."""

from __future__ import annotations

import builtins

import ml_dtypes
import numpy as np

__all__ = [
    "dtype", "float16", "half", "bfloat16", "float32", "float", "float64", "double",
    "complex64", "cfloat", "complex128", "cdouble", "int8", "int16", "short", "int32", "int",
    "int64", "long", "uint8", "bool", "get_default_dtype", "set_default_dtype",
    "promote_types", "result_type", "can_cast",
]


class dtype:
    """A tensor element type; wraps the NumPy dtype that stores it."""

    __slots__ = ("name", "np", "itemsize", "is_floating_point", "is_complex", "is_signed",
                 "_kind", "_rank")

    # _kind orders categories for promotion: bool < integer < floating < complex.
    def __init__(self, name: str, np_dtype, kind: int, rank: int):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.itemsize = self.np.itemsize
        self.is_floating_point = kind == 2
        self.is_complex = kind == 3
        self.is_signed = name not in ("uint8", "bool")
        self._kind = kind
        self._rank = rank

    def __repr__(self) -> str:
        return f"taimatsu.{self.name}"

    def __reduce__(self):
        return (_dtype_by_name, (self.name,))

    def to_real(self) -> dtype:
        return {"complex64": float32, "complex128": float64}.get(self.name, self)

    def to_complex(self) -> dtype:
        return {"float64": complex128, "complex128": complex128}.get(self.name, complex64)


bool = dtype("bool", np.bool_, 0, 0)
uint8 = dtype("uint8", np.uint8, 1, 1)
int8 = dtype("int8", np.int8, 1, 1)
int16 = dtype("int16", np.int16, 1, 2)
int32 = dtype("int32", np.int32, 1, 3)
int64 = dtype("int64", np.int64, 1, 4)
float16 = dtype("float16", np.float16, 2, 1)
bfloat16 = dtype("bfloat16", ml_dtypes.bfloat16, 2, 1)
float32 = dtype("float32", np.float32, 2, 2)
float64 = dtype("float64", np.float64, 2, 3)
complex64 = dtype("complex64", np.complex64, 3, 2)
complex128 = dtype("complex128", np.complex128, 3, 3)

half, float, double = float16, float32, float64
short, int, long = int16, int32, int64
cfloat, cdouble = complex64, complex128

ALL_DTYPES = (bool, uint8, int8, int16, int32, int64, float16, bfloat16, float32, float64,
              complex64, complex128)
_BY_NAME = {d.name: d for d in ALL_DTYPES}
_BY_NP = {d.np: d for d in ALL_DTYPES}


def _dtype_by_name(name: str) -> dtype:
    return _BY_NAME[name]


def from_numpy_dtype(np_dtype) -> dtype:
    """The taimatsu dtype that stores as `np_dtype`; TypeError for unsupported ones."""
    try:
        return _BY_NP[np_dtype]
    except (KeyError, TypeError):
        pass
    np_dtype = np.dtype(np_dtype)
    if np_dtype in _BY_NP:
        return _BY_NP[np_dtype]
    # NumPy types with no taimatsu twin (uint16/32/64, float128...) are refused like torch does.
    raise TypeError(
        f"can't convert np.ndarray of type numpy.{np_dtype}. The only supported types are: "
        "float64, float32, float16, complex64, complex128, int64, int32, int16, int8, uint8, "
        "and bool.")


def to_dtype(obj) -> dtype:
    """Accepts a taimatsu dtype, a Python type (float/int/bool/complex) or a NumPy dtype."""
    if type(obj) is dtype:
        return obj
    if obj is builtins.float:
        return _default[0]
    if obj is builtins.int:
        return int64
    if obj is builtins.bool:
        return bool
    if obj is builtins.complex:
        return _default[0].to_complex()
    if isinstance(obj, str):
        name = obj.replace("torch.", "").replace("taimatsu.", "")
        if name in _BY_NAME:
            return _BY_NAME[name]
    return from_numpy_dtype(obj)


_default = [float32]


def get_default_dtype() -> dtype:
    return _default[0]


def set_default_dtype(d) -> None:
    d = to_dtype(d)
    if d not in (float16, bfloat16, float32, float64):
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default[0] = d


# Promotion table: same category -> the wider type; float16 with bfloat16 -> float32;
# uint8 with int8 -> int16; complex with a float -> complex wide enough for both.
def promote_types(a: dtype, b: dtype) -> dtype:
    """The smallest dtype both `a` and `b` cast to safely, as torch.promote_types."""
    if a is b:
        return a
    if a._kind != b._kind:
        hi, lo = (a, b) if a._kind > b._kind else (b, a)
        if hi.is_complex and lo.is_floating_point and lo is float64:
            return complex128
        return hi
    if a._rank != b._rank:
        return a if a._rank > b._rank else b
    pair = {a.name, b.name}
    if pair == {"float16", "bfloat16"}:
        return float32
    if pair == {"uint8", "int8"}:
        return int16
    return a


def _scalar_kind(x) -> int:
    if isinstance(x, builtins.bool):
        return 0
    if isinstance(x, builtins.int):
        return 1
    if isinstance(x, builtins.float):
        return 2
    if isinstance(x, builtins.complex):
        return 3
    raise TypeError(f"unsupported operand type {type(x).__name__}")


_KIND_DEFAULT = {0: lambda: bool, 1: lambda: int64, 2: get_default_dtype,
                 3: lambda: get_default_dtype().to_complex()}


def result_type_of(tensors, scalars=()) -> dtype:
    """PyTorch's three-tier promotion over tensors (dtype, ndim) and Python scalars.

    `tensors` is a sequence of (dtype, ndim). Dimensioned tensors win over 0-dim ones,
    which win over Python scalars, unless the lower tier has a higher category
    (bool < int < float < complex); then that category's default-sized type joins.
    """
    dims = zero = None
    for dt, ndim in tensors:
        if ndim:
            dims = dt if dims is None else promote_types(dims, dt)
        else:
            zero = dt if zero is None else promote_types(zero, dt)
    kind = -1
    for s in scalars:
        kind = max(kind, _scalar_kind(s))
    result = dims
    if zero is not None:
        if result is None:
            result = zero
        elif zero._kind > result._kind:
            result = _joined(result, zero)
    if kind >= 0:
        if result is None:
            result = _KIND_DEFAULT[kind]()
        elif kind > result._kind:
            result = _joined(result, _KIND_DEFAULT[kind]())
    return result


def _joined(base: dtype, higher: dtype) -> dtype:
    # A lower tier with a higher category contributes its category; complex keeps the
    # precision of a float base (float64 tensor + 1j -> complex128). torch's complex32 for
    # float16 bases has no NumPy storage: complex64 stands in for it.
    if higher.is_complex and base.is_floating_point:
        return base.to_complex()
    return higher


def result_type(tensor1, tensor2) -> dtype:
    """torch.result_type for two tensors or Python scalars."""
    from ._tensor import Tensor
    tensors, scalars = [], []
    for x in (tensor1, tensor2):
        if isinstance(x, Tensor):
            tensors.append((x.dtype, x.ndim))
        else:
            scalars.append(x)
    return result_type_of(tensors, scalars)


def can_cast(from_: dtype, to: dtype) -> builtins.bool:
    """torch.can_cast: False only when casting lowers the category (float -> int...)."""
    return from_._kind <= to._kind


class finfo:
    """Machine limits of a floating-point dtype (as torch.finfo)."""

    def __init__(self, type=None):
        dt = get_default_dtype() if type is None else to_dtype(type)
        if dt._kind < 2:
            raise TypeError(f"torch.finfo() requires a floating point input type. Use "
                            f"torch.iinfo to handle '{dt!r}'")
        info = ml_dtypes.finfo(dt.to_real().np)
        self.dtype = dt.to_real().name
        self.bits = info.bits
        self.eps = builtins.float(info.eps)
        self.max = builtins.float(info.max)
        self.min = builtins.float(info.min)
        self.tiny = self.smallest_normal = builtins.float(info.tiny)
        self.resolution = 10.0 ** -info.precision  # a power of ten, as torch reports it

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution}, min={self.min}, max={self.max}, "
                f"eps={self.eps}, smallest_normal={self.smallest_normal}, tiny={self.tiny}, "
                f"dtype={self.dtype})")


class iinfo:
    """Limits of an integer dtype (as torch.iinfo)."""

    def __init__(self, type):
        dt = to_dtype(type)
        if dt._kind > 1:
            raise TypeError(f"torch.iinfo() requires an integer input type. Use torch.finfo "
                            f"to handle '{dt!r}'")
        info = np.iinfo(np.uint8 if dt is bool else dt.np)
        self.dtype = dt.name
        self.bits = info.bits
        self.max = builtins.int(info.max) if dt is not bool else 1
        self.min = builtins.int(info.min)

    def __repr__(self) -> str:
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"
