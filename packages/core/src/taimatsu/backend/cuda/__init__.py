"""taimatsu's own CUDA kernels (sources in kernels/*.cu) and the host functions that launch them.

Ops reach for these through `use_kernels(array)`: true for CuPy arrays, and for NumPy arrays
while tests run the kernels through the CPU emulator (taimatsu.testing.cuda_emulator), so
every launch wrapper here is exercised in CI without a GPU. Each wrapper takes and returns
backend arrays and allocates with the array module of its inputs.
"""

from __future__ import annotations

from ... import backend
from ._module import Kernel, Module, acc_dtype, dtype_suffix, grid_1d  # noqa: F401

# Set by taimatsu.testing.cuda_emulator.emulate(): kernels then accept NumPy arrays.
EMULATED = False


def use_kernels(array) -> bool:
    """Whether an op on `array` should take its CUDA kernel path."""
    return EMULATED or backend.is_cuda_array(array)
