"""Kernel tests run on the CPU emulator always, and on CUDA when a GPU is present.

`xp` is the array module to build inputs with (numpy under the emulator, cupy on a GPU);
while a test runs under the emulator, taimatsu.backend.cuda.use_kernels() is true for
NumPy arrays, so op-level tests take the kernel path too.
"""

import collections
import contextlib

import numpy as np
import pytest

from taimatsu import backend
from taimatsu.backend import cuda as kernels
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


@pytest.fixture
def emulator():
    """cuda_emulator.emulate, or a skip where no C++ compiler is present."""
    if not cuda_emulator.available():
        pytest.skip("no C++ compiler for the CUDA emulator")
    return cuda_emulator.emulate


@contextlib.contextmanager
def generic_path():
    """Ops take their generic array path inside this block, even under emulate()."""
    previous = kernels.EMULATED
    kernels.EMULATED = False
    try:
        yield
    finally:
        kernels.EMULATED = previous


class CallLog(list):
    """The names of the recorded calls, in order."""

    def counts(self) -> collections.Counter:
        return collections.Counter(self)


def record_calls(monkeypatch, module, names) -> CallLog:
    """Wraps each module.<name> so that its calls are logged: a test then knows that an op
    took its kernel path (and cannot pass on the generic one)."""
    log = CallLog()
    for name in names:
        real = getattr(module, name)

        def logged(*args, _real=real, _name=name, **kwargs):
            log.append(_name)
            return _real(*args, **kwargs)
        monkeypatch.setattr(module, name, logged)
    return log
