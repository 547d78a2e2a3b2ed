"""Launches of the fused optimizer updates (kernels/optimizers.cu): one launch per group.

Multi-tensor apply: the host writes one int64 table of the parameters' array addresses and
sizes plus a chunk list (row, start), and a single kernel updates every chunk of every
parameter. Parameter and state arrays stay where they are between steps, so the table is
cached by its contents and a steady-state step transfers nothing to the device: the
scalars (lr, bias corrections of the host's step count) travel as launch arguments. A
group whose 'step' lives on the device (fused=True) has its steps advanced and read by the
kernels instead, with no synchronization.

Under the CPU emulator the "device addresses" are the NumPy arrays' own addresses.
"""

from __future__ import annotations

import contextlib

import numpy as np

from ... import backend
from ._module import Module, dtype_suffix, grid_1d

_MODULE = Module("optimizers.cu")
CHUNK_SIZE = 65536  # elements one block updates per chunk
THREADS = 512
_MAX_BLOCKS = 65535  # more chunks than this are taken in a grid-stride loop
_ADAM_ROW, _ADAM_STEP_COLUMN, _SGD_ROW = 7, 6, 5
_ADAM_MAXIMIZE, _ADAM_DECOUPLED = 1, 2
_SGD_MAXIMIZE, _SGD_NESTEROV = 1, 2
_REAL = {np.dtype(np.complex64): np.dtype(np.float32),
         np.dtype(np.complex128): np.dtype(np.float64)}
_HOST = contextlib.nullcontext()
_TABLES: dict = {}
_TABLE_CACHE_SIZE = 64


def address(array) -> int:
    """The device address of an array's first element (NumPy's own under the emulator)."""
    return array.ctypes.data if type(array) is np.ndarray else array.data.ptr


def kernel_arrays(arrays: tuple) -> tuple | None:
    """A parameter's arrays (param, grad, state...; None where absent) as the kernels take
    them, or None when they cannot: every array C-contiguous, of the parameter's dtype and
    size. Complex arrays become flat real views, the update being per real component."""
    p = arrays[0]
    dtype, size = p.dtype, p.size
    for a in arrays:
        if a is not None and (a.dtype != dtype or a.size != size or not a.flags.c_contiguous):
            return None
    real = _REAL.get(dtype)
    if real is not None:
        return tuple(None if a is None else a.reshape(-1).view(real) for a in arrays)
    return arrays if dtype_suffix(dtype) is not None else None


def launch_key(param, extra=None) -> tuple:
    """Parameters share a launch when their dtype, device and `extra` (a host step) match."""
    device = getattr(param, "device", None)
    return param.dtype, getattr(device, "id", None), extra


def is_device_step(step, param) -> bool:
    """Whether the kernels can advance and read this 'step' array themselves: a float32
    count on the parameter's device."""
    return type(step) is type(param) and step.dtype == np.float32


def adam_(rows: list, step: float | None, *, lr: float, beta1: float, beta2: float,
          eps: float, weight_decay: float, maximize: bool, decoupled: bool,
          chunk_size: int | None = None, threads: int | None = None) -> None:
    """One Adam step (AdamW's decoupled weight decay when `decoupled`) in place.

    rows: (param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq or None, step or None) per
    parameter, arrays from kernel_arrays(), all of one dtype and device, with
    max_exp_avg_sq given for all (amsgrad) or none. A row's step is a float32 0-dim array
    on the device (see is_device_step), advanced here; rows without one use `step`, the
    host's count, already advanced.
    """
    if not rows:
        return
    like = rows[0][0]
    table_rows = tuple((address(p), address(g), address(m), address(v),
                        0 if vmax is None else address(vmax), p.size,
                        0 if s is None else address(s))
                       for p, g, m, v, vmax, s in rows)
    chunk_size = chunk_size or CHUNK_SIZE
    threads = threads or THREADS
    with _device_of(like):
        table, nchunks = _table(table_rows, 5, chunk_size, like)
        ntensors = np.int32(len(rows))
        if any(s is not None for *_, s in rows):
            _MODULE["optim_increment_steps"](grid_1d(len(rows), 128), 128, [
                table, ntensors, np.int32(_ADAM_ROW), np.int32(_ADAM_STEP_COLUMN)])
        if nchunks == 0:
            return
        neg_step_size = bias_correction2_sqrt = 0.0  # read from the device steps instead
        if step is not None:
            neg_step_size = -(lr / (1 - beta1 ** step))
            bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
        lerp_weight = 1 - beta1
        flags = (_ADAM_MAXIMIZE if maximize else 0) | (_ADAM_DECOUPLED if decoupled else 0)
        scalars = (weight_decay, 1 - lr * weight_decay, lerp_weight, 1 - lerp_weight, beta1,
                   beta2, 1 - beta2, lr, eps, neg_step_size, bias_correction2_sqrt)
        _MODULE[f"adam_{dtype_suffix(like.dtype)}"](
            min(nchunks, _MAX_BLOCKS), threads,
            [table, ntensors, np.int64(nchunks), np.int64(chunk_size)]
            + [np.float64(v) for v in scalars] + [np.int32(flags)])


def sgd_(rows: list, *, lr: float, momentum: float, dampening: float, weight_decay: float,
         nesterov: bool, maximize: bool, chunk_size: int | None = None,
         threads: int | None = None) -> None:
    """One SGD step in place.

    rows: (param, grad, momentum_buffer or None, first) per parameter, arrays from
    kernel_arrays(), all of one dtype and device; `first` marks a buffer created this step,
    which starts as the gradient (torch's first step) instead of being decayed into.
    """
    if not rows:
        return
    like = rows[0][0]
    table_rows = tuple((address(p), address(g), 0 if b is None else address(b), p.size,
                        int(first)) for p, g, b, first in rows)
    chunk_size = chunk_size or CHUNK_SIZE
    with _device_of(like):
        table, nchunks = _table(table_rows, 3, chunk_size, like)
        if nchunks == 0:
            return
        flags = (_SGD_MAXIMIZE if maximize else 0) | (_SGD_NESTEROV if nesterov else 0)
        _MODULE[f"sgd_{dtype_suffix(like.dtype)}"](
            min(nchunks, _MAX_BLOCKS), threads or THREADS,
            [table, np.int32(len(rows)), np.int64(nchunks), np.int64(chunk_size),
             np.float64(-lr), np.float64(momentum), np.float64(dampening),
             np.float64(weight_decay), np.int32(flags)])


def _device_of(array):
    return _HOST if type(array) is np.ndarray else array.device


def _table(rows: tuple, numel_column: int, chunk_size: int, like):
    """(the rows followed by every (row, start) chunk as one int64 array on `like`'s device,
    number of chunks); cached, since a group's arrays keep their addresses across steps."""
    key = (type(like), numel_column, chunk_size, rows)
    hit = _TABLES.get(key)
    if hit is not None:
        return hit
    numels = np.array([r[numel_column] for r in rows], dtype=np.int64)
    counts = -(-numels // chunk_size)
    owner = np.repeat(np.arange(len(rows), dtype=np.int64), counts)
    first_chunk = np.cumsum(counts) - counts
    starts = (np.arange(owner.size, dtype=np.int64) - first_chunk[owner]) * chunk_size
    host = np.concatenate([np.array(rows, dtype=np.int64).reshape(-1),
                           np.stack([owner, starts], axis=1).reshape(-1)])
    table = host if type(like) is np.ndarray else backend.of(like).asarray(host)
    if len(_TABLES) >= _TABLE_CACHE_SIZE:
        _TABLES.pop(next(iter(_TABLES)))
    _TABLES[key] = hit = (table, int(owner.size))
    return hit
