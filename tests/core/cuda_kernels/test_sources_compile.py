"""Every kernel file compiles with NVRTC for the GPUs we target, and with g++ for the emulator."""

import pytest

from taimatsu.backend.cuda import _module
from taimatsu.testing import cuda_emulator, nvrtc

FILES = sorted(p.name for p in _module.KERNELS.glob("*.cu"))


@pytest.mark.skipif(nvrtc.library() is None, reason="NVRTC is not installed")
@pytest.mark.parametrize("arch", ["compute_80", "compute_90"])
@pytest.mark.parametrize("filename", FILES)
def test_kernel_file_compiles_with_nvrtc(filename, arch):
    module = _module.Module(filename)
    ptx = nvrtc.compile_ptx(module.source, filename, _module.OPTIONS, arch)
    for name in cuda_emulator.kernel_names(module.source):
        assert f".entry {name}(" in ptx


@pytest.mark.skipif(not cuda_emulator.available(), reason="no C++ compiler")
@pytest.mark.parametrize("filename", FILES)
def test_kernel_file_builds_for_the_emulator(filename):
    module = _module.Module(filename)
    library = cuda_emulator.build(module.source)
    for name in cuda_emulator.kernel_names(module.source):
        assert hasattr(library, f"tm_emu_launch_{name}")
