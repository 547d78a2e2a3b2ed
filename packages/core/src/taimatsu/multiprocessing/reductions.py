"""ForkingPickler reductions: CPU tensors cross process boundaries as shared memory.

Registered when taimatsu.multiprocessing is imported (so by `import taimatsu`), as
PyTorch registers its own: every multiprocessing Queue, SimpleQueue, Pool, Connection
used through ForkingPickler, and the arguments of a Process started with 'spawn' or
'forkserver', then send a CPU tensor as a handle to its shared memory, moving it there
first (in place) when it is not there yet. The receiver maps the same memory, so writes
on either side are seen by the other. Gradients are not sent, as in PyTorch.
"""

from __future__ import annotations

import warnings
from multiprocessing import reduction

import numpy as np

from .._tensor import Tensor, _init, _user_state
from ..nn.parameter import Parameter
from ._shared_memory import (
    Segment,
    add_message_ref,
    array_on,
    attach_fd,
    attach_name,
    segment_of,
    share_memory_,
)

__all__ = ["init_reductions", "reduce_tensor", "rebuild_tensor"]

_NON_LEAF = ("Cowardly refusing to serialize non-leaf tensor which requires_grad, since "
             "autograd does not support crossing process boundaries.  If you just want to "
             "transfer the data, call detach() on the tensor before serializing (e.g., "
             "putting it on the queue).")


def reduce_segment(seg: Segment):
    if seg.name is None:
        # DupFd hands the descriptor to the child being spawned, or else keeps a duplicate
        # with multiprocessing's resource sharer until the receiver asks for it (so the
        # sender must still be alive when the message is unpickled, as in PyTorch).
        return rebuild_segment_fd, (reduction.DupFd(seg.fd), seg.size)
    add_message_ref(seg)
    return rebuild_segment_filename, (seg.name, seg.size)


def rebuild_segment_fd(dup_fd, size: int) -> Segment:
    return attach_fd(dup_fd.detach(), size)


def rebuild_segment_filename(name: str, size: int) -> Segment:
    return attach_name(name, size)


def _warn_if_has_hooks(t: Tensor) -> None:
    for hook in (t._hooks or {}).values():
        warnings.warn(f"backward hook {hook!r} on tensor will not be serialized.  If this "
                      "is expected, you can ignore this warning.", stacklevel=4)


def reduce_tensor(t: Tensor):
    if t._rg and t._grad_fn is not None:
        raise RuntimeError(_NON_LEAF)
    _warn_if_has_hooks(t)
    if type(t._data) is not np.ndarray:
        # A CUDA tensor: there is no CUDA IPC here, so it travels as a copy.
        return t.__reduce_ex__(2)
    share_memory_(t)
    arr = t._data
    seg = segment_of(arr)
    offset = arr.__array_interface__["data"][0] - seg.address
    # The segment is pickled as an object of its own, so tensors of one message that
    # share memory (a tensor and its views) map it once on the other side.
    return rebuild_tensor, (type(t), seg, arr.dtype, arr.shape, arr.strides, offset,
                            t._rg, _user_state(t))


def rebuild_tensor(cls, seg: Segment, dtype, shape, strides, offset: int,
                   requires_grad: bool, state=None) -> Tensor:
    arr = array_on(seg, shape, dtype, strides, offset)
    if issubclass(cls, Parameter):
        t = cls(Tensor._make(arr), requires_grad)
    else:
        t = object.__new__(cls)
        _init(t, arr)
        t._rg = requires_grad
    if state:
        t.__dict__.update(state)
    return t


def init_reductions() -> None:
    reduction.register(Segment, reduce_segment)
    reduction.register(Tensor, reduce_tensor)
    reduction.register(Parameter, reduce_tensor)
