"""Kernel modules: one .cu file each, compiled once per process by cupy.RawModule (NVRTC).

Every file gets kernels/prelude.cuh in front. Kernels are `extern "C"` so their names are
plain; a templated kernel is instantiated by small extern "C" wrappers per dtype.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import numpy as np

from ... import backend

KERNELS = Path(__file__).with_name("kernels")
PRELUDE = "prelude.cuh"
OPTIONS = ("--std=c++17",)
_DEFAULT_SHARED_LIMIT = 48 * 1024  # above this a kernel must opt in to more shared memory


class Module:
    """The kernels of one source file in kernels/."""

    def __init__(self, filename: str):
        self.filename = filename
        self._kernels: dict[str, Kernel] = {}

    @cached_property
    def source(self) -> str:
        prelude = (KERNELS / PRELUDE).read_text()
        return f"{prelude}\n#line 1 \"{self.filename}\"\n{(KERNELS / self.filename).read_text()}"

    @cached_property
    def _cupy_module(self):
        return backend.cupy().RawModule(code=self.source, options=OPTIONS)

    @cached_property
    def _emulated(self):
        from ...testing import cuda_emulator
        return cuda_emulator.build(self.source)

    def __getitem__(self, name: str) -> Kernel:
        kernel = self._kernels.get(name)
        if kernel is None:
            kernel = self._kernels[name] = Kernel(self, name)
        return kernel


class Kernel:
    """A launchable kernel: `kernel(grid, block, args, shared_mem=0)`, as cupy.RawKernel.

    Scalars in `args` must be NumPy scalars (np.int32, np.float32, ...) so that their C type
    is explicit. Launches go to CuPy's current stream.
    """

    def __init__(self, module: Module, name: str):
        self.module = module
        self.name = name
        self._functions: dict[int, tuple] = {}  # device id -> (function, shared bytes opted in)

    def __call__(self, grid, block, args, shared_mem: int = 0) -> None:
        from . import EMULATED
        if EMULATED and not any(backend.is_cuda_array(a) for a in args):
            from ...testing import cuda_emulator
            cuda_emulator.launch(self.module._emulated, self.name, grid, block, args,
                                 shared_mem)
            return
        cp = backend.cupy()
        device = cp.cuda.runtime.getDevice()
        function, opted_in = self._functions.get(device, (None, _DEFAULT_SHARED_LIMIT))
        if function is None:  # a module is loaded per device: look the kernel up on this one
            function = self.module._cupy_module.get_function(self.name)
        if shared_mem > opted_in:
            function.max_dynamic_shared_size_bytes = shared_mem
            opted_in = shared_mem
        self._functions[device] = (function, opted_in)
        grid = (grid,) if isinstance(grid, int) else tuple(grid)
        block = (block,) if isinstance(block, int) else tuple(block)
        function(grid, block, tuple(args), shared_mem=shared_mem)


_SUFFIXES = {"float32": "f32", "float64": "f64", "float16": "f16", "bfloat16": "bf16"}


def dtype_suffix(dtype) -> str | None:
    """The kernel-name suffix for a floating dtype (f32, f64, f16, bf16); None for others,
    which then take the generic array path."""
    return _SUFFIXES.get(getattr(dtype, "name", str(dtype)))


def acc_dtype(dtype) -> np.dtype:
    """The dtype kernels accumulate a storage dtype in (tm_acc<T> in prelude.cuh): float64
    for float64, float32 for everything else."""
    return np.dtype(np.float64) if np.dtype(dtype) == np.float64 else np.dtype(np.float32)


def grid_1d(n: int, threads: int = 256, max_blocks: int = 65535) -> int:
    """Blocks for a grid-stride loop over n items (at least one block)."""
    return max(1, min(max_blocks, -(-n // threads)))
