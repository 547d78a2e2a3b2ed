"""Kernel tests run on the CPU emulator always, and on CUDA when a GPU is present.

`xp` is the array module to build inputs with (numpy under the emulator, cupy on a GPU);
while a test runs under the emulator, taimatsu.backend.cuda.use_kernels() is true for
NumPy arrays, so op-level tests take the kernel path too.
"""

import numpy as np
import pytest

from taimatsu import backend
from taimatsu.testing import cuda_emulator


@pytest.fixture(params=["emulator", "cuda"])
def xp(request):
    if request.param == "emulator":
        if not cuda_emulator.available():
            pytest.skip("no C++ compiler for the CUDA emulator")
        with cuda_emulator.emulate():
            yield np
    else:
        if not backend.cuda_available():
            pytest.skip("no CUDA GPU")
        yield backend.cupy()


def host(array):
    """A NumPy copy of a kernel result, from either backend."""
    return backend.to_numpy(array)
