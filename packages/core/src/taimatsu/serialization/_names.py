"""PyTorch's pickle names for what a checkpoint holds, shared by save and load."""

from __future__ import annotations

# taimatsu/torch dtype name -> PyTorch's legacy storage class (module `torch`)
STORAGE_CLASSES = {
    "float32": "FloatStorage", "float64": "DoubleStorage", "float16": "HalfStorage",
    "bfloat16": "BFloat16Storage", "int64": "LongStorage", "int32": "IntStorage",
    "int16": "ShortStorage", "int8": "CharStorage", "uint8": "ByteStorage",
    "bool": "BoolStorage", "complex64": "ComplexFloatStorage",
    "complex128": "ComplexDoubleStorage",
}

# dtypes PyTorch has and taimatsu does not: checkpoints may name them
FOREIGN_DTYPES = (
    "uint16", "uint32", "uint64", "complex32", "float8_e4m3fn", "float8_e4m3fnuz",
    "float8_e5m2", "float8_e5m2fnuz", "float8_e8m0fnu", "float4_e2m1fn_x2", "qint8",
    "quint8", "qint32", "quint4x2", "quint2x4", "bits8", "bits16", "bits1x8", "bits2x4",
    "bits4x2", *(f"int{i}" for i in range(1, 8)), *(f"uint{i}" for i in range(1, 8)),
)

REBUILD_MODULE = "torch._utils"
