"""DistributedDataParallel: one replica per process, gradients averaged in buckets.

How a step goes (as torch's Reducer):

- construction broadcasts rank 0's parameters and buffers, and splits the parameters
  that require grad into buckets: in reverse registration order (roughly the order
  backward produces their gradients), by dtype and device, the first one up to 1 MiB
  and the others up to `bucket_cap_mb`. Each bucket owns one flat buffer;
- a forward with grad enabled (and outside no_sync) arms the reducer; a tensor hook on
  every parameter copies its gradient (plus any gradient accumulated under no_sync) into
  its bucket slot as backward produces it. A full bucket is pre-divided by the world
  size and all-reduced asynchronously (MPI Iallreduce / NCCL) while backward goes on;
  buckets start in index order on every rank, as MPI requires;
- when the last bucket has started, its hook waits for every bucket and writes the
  averaged gradients into `.grad`. The engine has no "backward finished" callback, so
  this happens inside the last parameter's hook: that parameter gets its averaged
  gradient as the hook's result, and the others (whose accumulation already happened)
  get theirs assigned. While reductions are in flight a parameter's `.grad` is
  detached from the bucket, so the engine never writes into a buffer MPI is using.

Checkpoints: `ddp.state_dict()` prefixes every key with `module.` (the wrapped model is
the submodule `module`), exactly as torch. Save `ddp.module.state_dict()` to get a
checkpoint that loads into the bare model (and into torch); to read a checkpoint saved
from the wrapper into a bare model, strip the prefix with
`consume_prefix_in_state_dict_if_present(state_dict, "module.")`.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Iterator

import numpy as np

from ... import backend
from ... import distributed as dist
from ..._tensor import Tensor
from ...autograd import grad_mode
from ...autograd.engine import _AccumulateGrad
from ..modules.module import Module

__all__ = ["DistributedDataParallel", "consume_prefix_in_state_dict_if_present"]

_FIRST_BUCKET_BYTES = 1024 * 1024  # torch's first bucket is small so reduction starts early


class _Bucket:
    __slots__ = ("members", "buffer", "pending", "work")

    def __init__(self, members: list[int], buffer):
        self.members = members   # parameter indices
        self.buffer = buffer     # flat, every member's slot back to back
        self.pending = 0         # members whose gradient has not arrived this step
        self.work = None


def _assign_buckets(params: list[Tensor], cap_bytes: int) -> list[list[int]]:
    """Parameter indices per bucket, in reverse order, by (dtype, device) and size."""
    open_buckets: dict = {}
    done: list[list[int]] = []
    limits: dict = {}
    for i in reversed(range(len(params))):
        p = params[i]
        key = (p._data.dtype, str(p.device))
        members, size = open_buckets.get(key, ([], 0))
        members.append(i)
        size += p._data.nbytes
        limit = limits.get(key, min(_FIRST_BUCKET_BYTES, cap_bytes))
        if size >= limit:
            done.append(members)
            limits[key] = cap_bytes
            open_buckets.pop(key, None)
        else:
            open_buckets[key] = (members, size)
    done.extend(members for members, _ in open_buckets.values())
    return done


class _GradHook:
    """The tensor hook on one parameter. It holds the reducer weakly: parameters may
    outlive their DDP wrapper."""

    __slots__ = ("ref", "index")

    def __init__(self, ref, index: int):
        self.ref = ref
        self.index = index

    def __call__(self, grad: Tensor):
        reducer = self.ref()
        if reducer is None or not reducer.armed:
            return None  # no_sync, or a backward no DDP forward prepared: local grads only
        return reducer.mark_ready(self.index, grad)


class _Reducer:
    """The per-step bookkeeping of gradient buckets (see the module docstring)."""

    def __init__(self, params: list[Tensor], names: list[str], pg, cap_bytes: int,
                 gradient_as_bucket_view: bool, find_unused: bool, static_graph: bool):
        self.params = params
        self.names = names
        self.pg = pg
        self.world = pg.size()
        self.view_mode = gradient_as_bucket_view
        self.find_unused = find_unused
        self.static_graph = static_graph
        self.static_unused: list[int] | None = None   # static_graph: found at step 1
        self.static_unused_everywhere: set[int] = set()
        self.buckets: list[_Bucket] = []
        self.slot: list = [None] * len(params)   # index -> (bucket, slot view)
        for members in _assign_buckets(params, cap_bytes):
            xp = backend.of(params[members[0]]._data)
            total = sum(params[i]._data.size for i in members)
            bucket = _Bucket(members, xp.zeros(total, dtype=params[members[0]]._data.dtype))
            offset = 0
            for i in members:
                n = params[i]._data.size
                self.slot[i] = (bucket, bucket.buffer[offset:offset + n].reshape(params[i].shape))
                offset += n
            self.buckets.append(bucket)
        self.views: list = [None] * len(params)  # gradient_as_bucket_view's .grad tensors
        self.armed = False
        self.started = False
        self._reset()
        ref = weakref.ref(self)
        for i, p in enumerate(params):
            p.register_hook(_GradHook(ref, i))

    def _reset(self) -> None:
        self.ready = [False] * len(self.params)
        self.stash: list = [None] * len(self.params)  # .grad before this step's gradient
        self.next_bucket = 0       # buckets start in index order on every rank
        self.first_in_flight = 0
        self.used_work = None
        for b in self.buckets:
            b.pending = len(b.members)
            b.work = None

    # -- forward side ----------------------------------------------------------------------
    def check_previous_finished(self) -> None:
        if not (self.armed and self.started):
            return
        missing = [f"{i} ({self.names[i]})" for i, r in enumerate(self.ready) if not r]
        self.armed = False
        raise RuntimeError(
            "Expected to have finished reduction in the prior iteration before starting a "
            "new one. This error indicates that your module has parameters that were not "
            "used in producing loss. You can enable unused parameter detection by passing "
            "the keyword argument `find_unused_parameters=True` to "
            "`taimatsu.nn.parallel.DistributedDataParallel`, and by making sure all "
            "`forward` function outputs participate in calculating loss.\nParameter "
            f"indices which did not receive grad for rank {dist.get_rank()}: "
            + " ".join(missing))

    def prepare_for_backward(self, outputs) -> None:
        self._reset()
        self.armed = True
        self.started = False
        unused: list[int] = []
        if self.find_unused or (self.static_graph and self.static_unused is None):
            used = _used_leaves(outputs)
            unused = [i for i, p in enumerate(self.params) if id(p) not in used]
            if self.static_graph:
                self.static_unused = unused
            # Which parameters some rank used: the others keep their .grad untouched.
            self.used_flags = np.ones(len(self.params), dtype=np.uint8)
            self.used_flags[unused] = 0
            self.used_work = self.pg._all_reduce(self.used_flags, dist.ReduceOp.MAX)
        elif self.static_graph:
            unused = self.static_unused
        for i in unused:
            self._mark_unused(i)

    def _mark_unused(self, i: int) -> None:
        bucket, slot = self.slot[i]
        prev = self.params[i]._grad
        if prev is None:
            slot.fill(0)
        elif prev._data is not slot:
            slot[...] = prev._data
        self.stash[i] = prev
        self.ready[i] = True
        self._bucket_ready(bucket, None)

    # -- backward side -------------------------------------------------------------------------
    def mark_ready(self, i: int, grad: Tensor):
        if self.ready[i]:
            raise RuntimeError(
                "Expected to mark a variable ready only once. This error is caused by one "
                "of the following reasons: 1) Use of a module parameter outside the "
                "`forward` function, 2) Reused parameters in multiple reentrant backward "
                "passes, 3) a parameter marked unused by static_graph received a gradient. "
                f"Parameter at index {i} with name {self.names[i]} has been marked as ready "
                "twice.")
        self.started = True
        p = self.params[i]
        bucket, slot = self.slot[i]
        g = grad._data
        prev = p._grad
        if prev is None:
            slot[...] = g
        elif prev._data is slot:  # gradient_as_bucket_view: the old grad lives in the slot
            slot += g
        else:
            backend.of(slot).add(prev._data, g, out=slot)
        self.stash[i] = prev
        p._grad = None  # the engine accumulates into a grad of its own, never into the bucket
        self.ready[i] = True
        self._progress()
        return self._bucket_ready(bucket, i)

    def _progress(self) -> None:
        """Lets MPI move in-flight buckets along: it progresses only inside MPI calls, and
        one poll progresses them all."""
        while self.first_in_flight < self.next_bucket and \
                self.buckets[self.first_in_flight].work.is_completed():
            self.first_in_flight += 1

    def _bucket_ready(self, bucket: _Bucket, current: int | None):
        bucket.pending -= 1
        while self.next_bucket < len(self.buckets) and \
                self.buckets[self.next_bucket].pending == 0:
            b = self.buckets[self.next_bucket]
            if self.world > 1:
                backend.of(b.buffer).true_divide(b.buffer, self.world, out=b.buffer)
            b.work = self.pg._all_reduce(b.buffer, dist.ReduceOp.SUM)
            self.next_bucket += 1
        if self.next_bucket == len(self.buckets):
            return self._finalize(current)
        return None

    def _finalize(self, current: int | None):
        """Waits for every bucket, writes the averaged gradients; returns the current
        parameter's (the engine accumulates it into .grad right after the hook)."""
        for b in self.buckets:
            if b.work is not None:
                b.work.wait()
        unused_everywhere = self.static_unused_everywhere
        if self.used_work is not None:
            self.used_work.wait()
            unused_everywhere = set(np.flatnonzero(self.used_flags == 0).tolist())
            if self.static_graph:
                self.static_unused_everywhere = unused_everywhere
        self.armed = False
        result = None
        for i, p in enumerate(self.params):
            if i in unused_everywhere:
                p._grad = self.stash[i]
                continue
            grad = self._averaged_grad(i)
            if i == current:
                p._grad = None
                result = grad
            else:
                p._grad = grad
        self._reset()
        return result

    def _averaged_grad(self, i: int) -> Tensor:
        slot = self.slot[i][1]
        if self.view_mode:
            if self.views[i] is None:
                self.views[i] = Tensor._make(slot)
            return self.views[i]
        prev = self.stash[i]
        if prev is not None and not prev._rg and prev._data.shape == slot.shape:
            backend.of(slot).copyto(prev._data, slot)
            return prev
        return Tensor._make(slot.copy())


def _tensors_in(obj) -> Iterator[Tensor]:
    if isinstance(obj, Tensor):
        yield obj
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            yield from _tensors_in(o)
    elif isinstance(obj, dict):
        for o in obj.values():
            yield from _tensors_in(o)


def _used_leaves(outputs) -> set[int]:
    """ids of the leaf tensors the graph behind `outputs` reaches (the used parameters)."""
    used: set[int] = set()
    stack = []
    for t in _tensors_in(outputs):
        if t.grad_fn is not None:
            stack.append(t.grad_fn)
        elif t.requires_grad:
            used.add(id(t))
    seen = set()
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if node.fn is _AccumulateGrad:
            used.add(id(node.variable))
            continue
        stack.extend(child for child, _ in node.next_functions if child is not None)
    return used


def _broadcast_coalesced(pg, tensors: list[Tensor], root: int = 0) -> None:
    """Broadcasts `tensors` from group rank `root`, one flat message per dtype and device."""
    by_kind: dict = {}
    for t in tensors:
        by_kind.setdefault((t._data.dtype, str(t.device)), []).append(t)
    for group in by_kind.values():
        xp = backend.of(group[0]._data)
        flat = xp.concatenate([t._data.reshape(-1) for t in group])
        pg._broadcast(flat, root).wait()
        if pg.rank() == root:
            continue
        offset = 0
        for t in group:
            n = t._data.size
            t._data[...] = flat[offset:offset + n].reshape(t._data.shape)
            t._vc[0] += 1
            offset += n


class DistributedDataParallel(Module):
    """Data parallelism over processes: each rank runs the module on its own batch and
    the gradients are averaged over all ranks during backward.

    Args:
        module: the model (its parameters are overwritten with rank 0's at construction)
        device_ids, output_device: the model's one CUDA device (None for CPU models)
        dim: kept for compatibility (inputs are not split: each rank gets its own batch)
        broadcast_buffers: copy rank 0's buffers (e.g. BatchNorm statistics) to every rank
            before each forward (default True)
        init_sync: broadcast parameters and buffers at construction (default True)
        process_group: the group to average over (default: the world)
        bucket_cap_mb: bucket size in MiB (default 25); smaller buckets start their
            all-reduce earlier in backward, larger ones send fewer messages
        find_unused_parameters: walk the graph after each forward and treat parameters it
            does not reach as ready (needed when some parameters get no gradient)
        gradient_as_bucket_view: `.grad` tensors are views into the buckets (no copy)
        static_graph: the set of used parameters never changes: found once, then reused

    State dicts: keys carry the `module.` prefix (see the module docstring; save
    `ddp.module.state_dict()` for a checkpoint of the bare model).
    """

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0,
                 broadcast_buffers: bool = True, init_sync: bool = True, process_group=None,
                 bucket_cap_mb: float | None = None, find_unused_parameters: bool = False,
                 check_reduction: bool = False, gradient_as_bucket_view: bool = False,
                 static_graph: bool = False) -> None:
        super().__init__()
        pg = dist.group.WORLD if process_group is None else process_group
        if pg is None:
            raise ValueError("Default process group has not been initialized, please make "
                             "sure to call init_process_group.")
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        if not named:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't "
                               "have any parameter that requires a gradient.")
        devices = {str(p.device) for _, p in named}
        if device_ids is not None and devices == {"cpu"}:
            raise ValueError(
                "DistributedDataParallel device_ids and output_device arguments only work "
                "with single-device/multiple-device GPU modules or CPU modules, but got "
                f"device_ids {device_ids}, output_device {output_device}, and module "
                f"parameters {devices}.")
        if device_ids is not None and len(device_ids) > 1:
            raise ValueError("device_ids can only be None or contain a single element.")
        self.module = module
        self.device_ids = None if device_ids is None else list(device_ids)
        self.output_device = output_device
        self.dim = dim
        self.broadcast_buffers = broadcast_buffers
        self.process_group = pg
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.static_graph = static_graph
        self.bucket_bytes_cap = int((25 if bucket_cap_mb is None else bucket_cap_mb)
                                    * 1024 * 1024)
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        self._check_same_model(pg, [p for _, p in module.named_parameters()])
        if init_sync:
            _broadcast_coalesced(pg, [*module.parameters(), *module.buffers()])
        self.reducer = _Reducer([p for _, p in named], [n for n, _ in named], pg,
                                self.bucket_bytes_cap, gradient_as_bucket_view,
                                find_unused_parameters, static_graph)

    @staticmethod
    def _check_same_model(pg, params: list[Tensor]) -> None:
        mine = np.array([len(params), sum(p.numel() for p in params)], dtype=np.int64)
        work, table = pg._all_gather(mine)
        work.wait()
        for r, (count, numel) in enumerate(table.tolist()):
            if (count, numel) != tuple(mine.tolist()):
                raise RuntimeError(
                    f"DDP expects same model across all ranks, but Rank {pg.rank()} has "
                    f"{mine[0]} params ({mine[1]} elements), while rank {r} has inconsistent "
                    f"{count} params ({numel} elements).")

    def forward(self, *inputs, **kwargs):
        self.reducer.check_previous_finished()
        grad_sync = grad_mode.is_grad_enabled() and self.require_backward_grad_sync
        if self.require_forward_param_sync and self.broadcast_buffers:
            buffers = list(self.module.buffers())
            if buffers:
                _broadcast_coalesced(self.process_group, buffers)
        output = self.module(*inputs, **kwargs)
        if grad_sync:
            self.reducer.prepare_for_backward(output)
        else:
            self.reducer.armed = False
        self.require_forward_param_sync = grad_sync
        return output

    @contextlib.contextmanager
    def no_sync(self):
        """Inside, backward only accumulates local gradients (no communication); the first
        synchronized backward afterwards averages the accumulated sums."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    def _set_static_graph(self) -> None:
        self.static_graph = self.reducer.static_graph = True


def consume_prefix_in_state_dict_if_present(state_dict: dict, prefix: str) -> None:
    """Strips `prefix` (e.g. "module.") from the keys of `state_dict` in place, also in
    its `_metadata`, as torch.nn.modules.utils does."""
    for key in list(state_dict.keys()):
        if key.startswith(prefix):
            state_dict[key[len(prefix):]] = state_dict.pop(key)
    metadata = getattr(state_dict, "_metadata", None)
    if metadata is not None:
        for key in list(metadata.keys()):
            if key == prefix.rstrip("."):
                metadata[""] = metadata.pop(key)
            elif key.startswith(prefix):
                metadata[key[len(prefix):]] = metadata.pop(key)
