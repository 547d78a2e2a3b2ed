"""Runs taimatsu's CUDA kernel sources on the CPU, for tests on machines without a GPU.

The kernel text is compiled with g++ against `cuda_emulator.h`, which maps threadIdx,
__syncthreads, warp shuffles and atomics onto OS threads (see the header for what that
checks and what it cannot). Arguments are what cupy.RawKernel takes: NumPy arrays stand
for device pointers and NumPy scalars for by-value parameters, so a kernel wrapper in
taimatsu.backend.cuda runs unchanged on host arrays while `emulate()` is active.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import numpy as np

HEADER = Path(__file__).with_name("cuda_emulator.h")
_KERNEL_NAME = re.compile(
    r'extern\s+"C"\s+__global__\s+(?:__launch_bounds__\([^)]*\)\s+)?void\s+(\w+)\s*\(')
_SCALARS = {
    np.dtype(np.int32): ctypes.c_int32, np.dtype(np.uint32): ctypes.c_uint32,
    np.dtype(np.int64): ctypes.c_int64, np.dtype(np.uint64): ctypes.c_uint64,
    np.dtype(np.float32): ctypes.c_float, np.dtype(np.float64): ctypes.c_double,
    np.dtype(np.bool_): ctypes.c_bool, np.dtype(np.uint16): ctypes.c_uint16,
}
_libraries: dict[str, ctypes.CDLL] = {}
_build_lock = threading.Lock()


def available() -> bool:
    """Whether a C++20 compiler is here to build kernels with."""
    return shutil.which(os.environ.get("CXX", "g++")) is not None


@functools.lru_cache(maxsize=64)
def kernel_names(source: str) -> tuple[str, ...]:
    """The `extern "C" __global__` kernels of a module, read after the preprocessor has run,
    so that names a macro pastes together count too."""
    done = subprocess.run([os.environ.get("CXX", "g++"), "-E", "-P", "-x", "c++", "-"],
                          input=source, capture_output=True, text=True)
    text = done.stdout if done.returncode == 0 else source
    return tuple(dict.fromkeys(_KERNEL_NAME.findall(text)))


def build(source: str) -> ctypes.CDLL:
    """Compiles a kernel module's text (cached on disk by content) and loads it."""
    header = HEADER.read_text()
    stubs = "".join(
        f'extern "C" int tm_emu_launch_{name}(unsigned gx, unsigned gy, unsigned gz, '
        f'unsigned bx, unsigned by, unsigned bz, unsigned long long shared, void** args) '
        f'{{ return tm_emu::launch(&{name}, dim3(gx, gy, gz), dim3(bx, by, bz), shared, '
        f'args); }}\n' for name in kernel_names(source))
    text = f'#include "{HEADER}"\n{source}\n{stubs}'
    key = hashlib.sha256((header + text).encode()).hexdigest()[:24]
    with _build_lock:
        if key in _libraries:
            return _libraries[key]
        cache = Path(tempfile.gettempdir()) / f"taimatsu-cuda-emulator-{os.getuid()}"
        cache.mkdir(exist_ok=True)
        library = cache / f"{key}.so"
        if not library.exists():
            _compile(text, library)
        _libraries[key] = ctypes.CDLL(str(library))
        return _libraries[key]


def _compile(text: str, library: Path) -> None:
    with tempfile.TemporaryDirectory(dir=library.parent) as work:
        source = Path(work) / "module.cpp"
        source.write_text(text)
        target = Path(work) / library.name
        command = [os.environ.get("CXX", "g++"), "-std=c++20", "-O1", "-fPIC", "-shared",
                   "-pthread", "-w", "-x", "c++", str(source), "-o", str(target)]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"the CUDA emulator could not build the kernel module:\n"
                               f"{done.stderr[-6000:]}")
        os.replace(target, library)  # atomic, so parallel test workers never load half a file


def launch(library: ctypes.CDLL, name: str, grid, block, args, shared_mem: int = 0) -> None:
    """Runs kernel `name` over `grid` x `block` with RawKernel-style arguments."""
    grid, block = _dims(grid), _dims(block)
    holders = [_argument(a, name, i) for i, a in enumerate(args)]
    pointers = (ctypes.c_void_p * max(len(holders), 1))(
        *[ctypes.addressof(h) for h in holders])
    entry = getattr(library, f"tm_emu_launch_{name}")
    entry.restype = ctypes.c_int
    status = entry(*[ctypes.c_uint(v) for v in grid + block],
                   ctypes.c_ulonglong(int(shared_mem)), pointers)
    if status == 1:
        raise ValueError(f"{name}: a block of {block} threads is outside 1..1024")
    if status == 2:
        raise ValueError(f"{name}: the grid {grid} is empty")


def _dims(value) -> tuple[int, int, int]:
    value = (value,) if isinstance(value, int) else tuple(value)
    return tuple(int(v) for v in value) + (1,) * (3 - len(value))


def _argument(value, kernel: str, index: int):
    if isinstance(value, np.ndarray):
        if not value.flags.c_contiguous and value.size > 1:
            raise ValueError(f"{kernel}: argument {index} is not C-contiguous")
        return ctypes.c_void_p(value.ctypes.data)
    if isinstance(value, np.generic) and value.dtype in _SCALARS:
        return _SCALARS[value.dtype](value.item())
    # CuPy would guess a C type for a Python scalar; the kernels always pass NumPy scalars
    # so that the width is explicit, and the emulator holds them to it.
    raise TypeError(f"{kernel}: argument {index} is {type(value).__name__}; pass a NumPy "
                    f"array or a NumPy scalar (np.int32, np.float32, ...)")



@contextlib.contextmanager
def emulate():
    """While active, taimatsu.backend.cuda's kernels run on NumPy arrays through the emulator."""
    from taimatsu.backend import cuda as kernels
    previous = kernels.EMULATED
    kernels.EMULATED = True
    try:
        yield
    finally:
        kernels.EMULATED = previous
