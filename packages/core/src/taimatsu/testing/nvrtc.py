"""Compiles CUDA C to PTX with NVRTC, on machines with or without a GPU.

NVRTC ships on PyPI (`nvidia-cuda-nvrtc-cu12`) and needs no driver, so CI checks that
every kernel source in taimatsu.backend.cuda compiles for the GPU architectures we target,
exactly as cupy.RawModule will compile it there.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import importlib.util
from functools import cache
from pathlib import Path


@cache
def library() -> ctypes.CDLL | None:
    """libnvrtc from the nvidia-cuda-nvrtc wheel or the system, or None."""
    candidates = []
    try:
        spec = importlib.util.find_spec("nvidia.cuda_nvrtc")
    except ModuleNotFoundError:
        spec = None
    if spec is not None and spec.submodule_search_locations:
        for folder in spec.submodule_search_locations:
            candidates += sorted(Path(folder, "lib").glob("libnvrtc.so*"))
    found = ctypes.util.find_library("nvrtc")
    if found:
        candidates.append(found)
    for path in candidates:
        try:
            return ctypes.CDLL(str(path))
        except OSError:
            continue
    return None


def compile_ptx(source: str, name: str = "module.cu", options=("--std=c++17",),
                arch: str = "compute_90") -> str:
    """The PTX for `source`; raises RuntimeError with NVRTC's log when it does not compile."""
    nvrtc = library()
    if nvrtc is None:
        raise RuntimeError("NVRTC is not installed (pip install nvidia-cuda-nvrtc-cu12)")
    program = ctypes.c_void_p()
    _check(nvrtc, nvrtc.nvrtcCreateProgram(ctypes.byref(program), source.encode(),
                                           name.encode(), 0, None, None))
    try:
        flags = [f"--gpu-architecture={arch}".encode(), *(o.encode() for o in options)]
        array = (ctypes.c_char_p * len(flags))(*flags)
        status = nvrtc.nvrtcCompileProgram(program, len(flags), array)
        log_size = ctypes.c_size_t()
        nvrtc.nvrtcGetProgramLogSize(program, ctypes.byref(log_size))
        log = ctypes.create_string_buffer(log_size.value)
        nvrtc.nvrtcGetProgramLog(program, log)
        if status != 0:
            raise RuntimeError(f"{name} does not compile for {arch}:\n"
                               f"{log.value.decode(errors='replace')}")
        size = ctypes.c_size_t()
        _check(nvrtc, nvrtc.nvrtcGetPTXSize(program, ctypes.byref(size)))
        ptx = ctypes.create_string_buffer(size.value)
        _check(nvrtc, nvrtc.nvrtcGetPTX(program, ptx))
        return ptx.value.decode()
    finally:
        nvrtc.nvrtcDestroyProgram(ctypes.byref(program))


def _check(nvrtc, status: int) -> None:
    if status != 0:
        nvrtc.nvrtcGetErrorString.restype = ctypes.c_char_p
        raise RuntimeError(f"NVRTC: {nvrtc.nvrtcGetErrorString(status).decode()}")
