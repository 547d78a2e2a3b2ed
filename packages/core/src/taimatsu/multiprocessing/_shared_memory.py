"""Shared-memory segments behind CPU tensors, and Tensor.share_memory_ / is_shared.

A segment is an mmap of a POSIX shared-memory object. A shared tensor's array is built
on it (the segment is the array's ultimate `base`), so a segment lives exactly as long as
the arrays that view it, and a finalizer releases it when the last one is gone.

The two kinds are PyTorch's two sharing strategies on Linux:

- "file_descriptor": an anonymous memfd (or a POSIX shm object unlinked at once). Other
  processes receive a duplicate of its descriptor (multiprocessing.reduction.DupFd).
  Nothing ever has a name in /dev/shm, so nothing can be left there, even by a killed
  process: the kernel frees the memory with the last descriptor and mapping.
- "file_system": a named object in /dev/shm that other processes open by name. Mappings
  and messages in flight that name it are counted in 8 bytes after the data (changed
  under an fcntl lock); whoever brings the count to zero unlinks the name. A message that
  is pickled but never unpickled, or a process killed before its finalizers run, leaves
  the name behind (as with PyTorch, whose shm manager daemon we do not have).

Finalizers act only in the process that mapped the segment: a child forked afterwards
shares the parent's mapping and reference, and never releases what it did not take.
"""

from __future__ import annotations

import mmap
import os
import secrets
import struct
import sys
import threading
import weakref
from multiprocessing import util

import numpy as np

_ndarray = np.ndarray
_COUNT = struct.Struct("<q")
_count_lock = threading.Lock()  # fcntl locks are per process: threads need their own


def _after_fork_in_child() -> None:
    global _count_lock
    _count_lock = threading.Lock()  # a fork taken while another thread held it


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)

# Live segments of this process by identity of the memory they map ((st_dev, st_ino) for
# descriptors, the name for named segments): receiving memory already mapped here reuses
# the mapping, so tensors sent back and forth keep aliasing without new mappings.
_by_key: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


class Segment(mmap.mmap):
    """A writable shared mapping; attributes: fd, size, name (None for an anonymous one),
    address (where it is mapped in this process)."""


def _shm_module():
    import _posixshmem  # CPython's shm_open/shm_unlink (what multiprocessing.shared_memory uses)
    return _posixshmem


def _anonymous_fd(size: int) -> int:
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("taimatsu", os.MFD_CLOEXEC)
    else:
        shm = _shm_module()
        name = "/taimatsu_" + secrets.token_hex(8)
        fd = shm.shm_open(name, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
        shm.shm_unlink(name)
    os.ftruncate(fd, size)
    return fd


def _add_ref(fd: int, offset: int, delta: int) -> int:
    """Adds delta to a named segment's reference count; returns the new count."""
    import fcntl  # POSIX only, as named shared memory is
    with _count_lock:
        fcntl.lockf(fd, fcntl.LOCK_EX)
        try:
            count = _COUNT.unpack(os.pread(fd, _COUNT.size, offset))[0] + delta
            os.pwrite(fd, _COUNT.pack(count), offset)
        finally:
            fcntl.lockf(fd, fcntl.LOCK_UN)
    return count


def _release(fd: int, name: str | None, size: int, pid: int) -> None:
    if os.getpid() != pid:
        return  # inherited through fork: the parent's reference covers this mapping
    try:
        if name is not None and _add_ref(fd, size, -1) <= 0:
            try:
                _shm_module().shm_unlink(name)
            except FileNotFoundError:
                pass
    finally:
        os.close(fd)


# Before Python 3.13 an mmap object keeps a duplicate of the descriptor it maps; where
# it can be told not to, a segment holds one descriptor, as a PyTorch storage does.
_MMAP_KW = {"trackfd": False} if sys.version_info >= (3, 13) else {}


def _map(fd: int, size: int, name: str | None) -> Segment:
    seg = Segment(fd, size, **_MMAP_KW)
    seg.fd = fd
    seg.size = size
    seg.name = name
    seg.address = _ndarray((1,), np.uint8, buffer=seg).__array_interface__["data"][0]
    if name is None:
        st = os.fstat(fd)
        key = (st.st_dev, st.st_ino)
    else:
        key = name
    _by_key[key] = seg
    # Named segments give their count back at exit too (after multiprocessing's queues
    # have flushed, priority -5); anonymous ones need nothing at exit.
    util.Finalize(seg, _release, (fd, name, size, os.getpid()),
                  exitpriority=-10 if name is not None else None)
    return seg


def new_segment(nbytes: int, strategy: str) -> Segment:
    """A fresh zero-filled segment of at least one byte (mmap refuses empty files)."""
    size = max(int(nbytes), 1)
    if strategy == "file_system":
        shm = _shm_module()
        name = f"/taimatsu_{os.getpid()}_{secrets.token_hex(6)}"
        fd = shm.shm_open(name, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
        os.ftruncate(fd, size + _COUNT.size)
        os.pwrite(fd, _COUNT.pack(1), size)
        return _map(fd, size, name)
    return _map(_anonymous_fd(size), size, None)


def attach_fd(fd: int, size: int) -> Segment:
    """The segment for a received descriptor (taking ownership of fd)."""
    st = os.fstat(fd)
    seg = _by_key.get((st.st_dev, st.st_ino))
    if seg is not None:
        os.close(fd)
        return seg
    return _map(fd, size, None)


def attach_name(name: str, size: int) -> Segment:
    """The segment for a received name; the message's reference passes to the mapping."""
    seg = _by_key.get(name)
    if seg is not None:
        _add_ref(seg.fd, seg.size, -1)  # already mapped here: the message's ref is spare
        return seg
    fd = _shm_module().shm_open(name, os.O_RDWR, 0o600)
    return _map(fd, size, name)


def add_message_ref(seg: Segment) -> None:
    """Counts a message naming `seg` (file_system) until its receiver maps it."""
    _add_ref(seg.fd, seg.size, 1)


def segment_of(array) -> Segment | None:
    """The segment an array views, or None when its memory is private."""
    base = array
    while isinstance(base, _ndarray):
        base = base.base
    return base if isinstance(base, Segment) else None


def array_on(seg: Segment, shape, dtype, strides, offset: int) -> np.ndarray:
    return _ndarray(shape, dtype, buffer=seg, offset=offset, strides=strides)


def _extent(arr: np.ndarray) -> tuple[int, int]:
    """Bytes from arr's first element to the lowest and past the highest byte it reads."""
    if arr.size == 0:
        return 0, 0
    lo = hi = 0
    for n, s in zip(arr.shape, arr.strides):
        if s < 0:
            lo += (n - 1) * s
        else:
            hi += (n - 1) * s
    return lo, hi + arr.itemsize


def shared_copy(arr: np.ndarray, strategy: str) -> np.ndarray:
    """arr copied into a new segment with the same shape, dtype and strides."""
    lo, hi = _extent(arr)
    seg = new_segment(hi - lo, strategy)
    out = array_on(seg, arr.shape, arr.dtype, arr.strides, -lo)
    np.copyto(out, arr)
    return out


def share_memory_(self):
    """Moves the tensor's data to shared memory, in place; a no-op when it already is there
    and for CUDA tensors (CUDA memory is shared between processes by other means).

    Other processes that receive the tensor (by fork, or pickled by a multiprocessing
    queue or Process arguments) then map the same memory: writes are seen by all. An
    autograd view moves its base too and keeps aliasing it; other tensors that viewed the
    old memory keep the old memory.
    """
    from . import get_sharing_strategy
    arr = self._data
    if type(arr) is not _ndarray or segment_of(arr) is not None:
        return self
    base = self._base
    if base is not None and type(base._data) is _ndarray:
        share_memory_(base)
        view = self._view_fn(base._data)
        if segment_of(view) is segment_of(base._data) and view.shape == arr.shape:
            self._data = view
            return self
    self._data = shared_copy(arr, get_sharing_strategy())
    return self


def is_shared(self) -> bool:
    """True when the tensor's data lives in shared memory (always for CUDA tensors)."""
    arr = self._data
    return type(arr) is not _ndarray or segment_of(arr) is not None
