"""taimatsu.backends.cuda: whether CUDA support is present, and the cuBLAS flags.

`matmul.allow_tf32` is the float32 matmul precision seen as a bool, as in PyTorch:
setting it sets `taimatsu.set_float32_matmul_precision("high" / "highest")`.
"""

from __future__ import annotations

from .. import _runtime
from ._flags import Flag

__all__ = ["is_built", "matmul"]


def is_built() -> bool:
    """Whether taimatsu can use CUDA at all: CuPy is installed (a GPU may still be absent)."""
    import importlib.util
    return importlib.util.find_spec("cupy") is not None


class cuBLASModule:
    """The `matmul` flags object: known attributes only, bools validated."""

    allow_fp16_reduced_precision_reduction = Flag(
        True, "allow_fp16_reduced_precision_reduction")
    allow_bf16_reduced_precision_reduction = Flag(
        True, "allow_bf16_reduced_precision_reduction")
    fp32_precision = Flag("none", "_set_fp32_precision_setter", str, ("none", "ieee", "tf32"))

    @property
    def allow_tf32(self) -> bool:
        return _runtime.get_float32_matmul_precision() != "highest"

    @allow_tf32.setter
    def allow_tf32(self, value: bool) -> None:
        if not isinstance(value, bool):
            raise RuntimeError(f"set_allow_tf32_cublas expects a bool, but got "
                               f"{type(value).__name__}")
        _runtime.set_float32_matmul_precision("high" if value else "highest")

    def __setattr__(self, name, value):
        if not hasattr(type(self), name):
            raise AttributeError(f"Unknown attribute {name}")
        super().__setattr__(name, value)

    def __getattr__(self, name):  # only reached for names the class does not define
        raise AttributeError(f"Unknown attribute {name}")


matmul = cuBLASModule()
