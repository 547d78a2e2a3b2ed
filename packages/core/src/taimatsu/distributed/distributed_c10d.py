"""Process groups and the collectives on tensors, with torch.distributed's signatures.

Collectives write into the tensors' own arrays, as torch does (a non-contiguous tensor,
or a CUDA tensor on the MPI backend, goes through a contiguous staging buffer that is
copied back on completion). `src`/`dst` are global ranks; `group_src`/`group_dst` are
ranks inside `group`. With async_op=True they return a Work; call its wait() before
reading the result.
"""

from __future__ import annotations

import pickle
import warnings

import numpy as np

from .. import backend
from .._tensor import Tensor
from ._common import Backend, ReduceOp, Work, seconds
from .constants import default_pg_nccl_timeout, default_pg_timeout

__all__ = [
    "ProcessGroup", "GroupMember", "group", "init_process_group", "destroy_process_group",
    "is_initialized", "is_mpi_available", "is_gloo_available", "is_nccl_available",
    "is_torchelastic_launched", "get_rank", "get_world_size", "get_backend", "new_group",
    "get_process_group_ranks", "get_global_rank", "get_group_rank", "barrier", "broadcast",
    "all_reduce", "reduce", "all_gather", "all_gather_into_tensor", "reduce_scatter",
    "reduce_scatter_tensor", "scatter", "gather", "send", "recv", "isend", "irecv",
    "broadcast_object_list", "all_gather_object", "gather_object", "scatter_object_list",
]

_NOT_INITIALIZED = ("Default process group has not been initialized, please make sure to "
                    "call init_process_group.")


class ProcessGroup:
    """A set of ranks that run collectives together (the world, or one from new_group).

    `rank()` is this process's rank inside the group (-1 when it is not a member) and
    `size()` the number of ranks in it.
    """

    def __init__(self, ranks: list[int], group_rank: int, backend_name: Backend, comm,
                 watchdog, timeout: float, name: str):
        from ._mpi import MPIEngine
        self._ranks = ranks
        self._rank = group_rank
        self._backend = backend_name
        self._comm = comm
        self._mpi = MPIEngine(comm, watchdog) if comm is not None else None
        self._nccl = None
        self._watchdog = watchdog
        self._timeout = timeout
        self.group_name = name

    def rank(self) -> int:
        return self._rank

    def size(self) -> int:
        return len(self._ranks)

    def name(self) -> str:
        return str(self._backend)

    def __repr__(self) -> str:
        return (f"ProcessGroup(name={self.group_name!r}, backend={self._backend!r}, "
                f"ranks={self._ranks}, rank={self._rank})")

    # -- engines ------------------------------------------------------------------------
    def _engine(self, array, op: ReduceOp | None = None):
        """(engine, host): the backend for `array`; host means stage CUDA data on the CPU."""
        if type(array) is np.ndarray or not backend.is_cuda_array(array):
            return self._mpi, False
        if self._backend.uses_nccl:
            from . import _nccl
            if _nccl.supports(array.dtype, op):
                if self._nccl is None:
                    self._nccl = _nccl.NCCLEngine(self._mpi, self._rank, self.size(),
                                                  self._watchdog, self._timeout)
                return self._nccl, False
        return self._mpi, True

    def _free(self) -> None:
        if self._nccl is not None:
            self._nccl.close()
            self._nccl = None
        if self._comm is not None:
            self._comm.Free()
            self._comm = None
            self._mpi = None

    def _work(self, pending, finish=None, outputs=()) -> Work:
        return Work(pending, finish, outputs, self._timeout)

    # -- array-level collectives (used by the public functions, DDP and SyncBatchNorm) -
    def _all_reduce(self, array, op: ReduceOp = ReduceOp.SUM) -> Work:
        """all_reduce into `array` itself."""
        engine, host = self._engine(array, op)
        buf, writeback = _staged(array, host)
        pending = engine.all_reduce(buf, op)
        size = self.size()

        def finish():
            if op is ReduceOp.AVG:
                backend.of(buf).true_divide(buf, size, out=buf)
            if writeback is not None:
                writeback()
        return self._work(pending, finish)

    def _broadcast(self, array, root: int) -> Work:
        engine, host = self._engine(array)
        buf, writeback = _staged(array, host, read=self._rank == root)
        return self._work(engine.broadcast(buf, root), writeback)

    def _all_gather(self, array):
        """(Work, stacked): the ranks' arrays stacked along a new first axis."""
        engine, host = self._engine(array)
        send, _ = _staged(array, host)
        xp = np if host else backend.of(array)
        recv = xp.empty((self.size(), *array.shape), dtype=array.dtype)
        return self._work(engine.all_gather(send, recv)), recv


def _staged(array, host: bool, read: bool = True):
    """A C-contiguous buffer the engine can work on for `array` (on the CPU when `host`),
    and the function copying the result back into `array` (None: the buffer is it)."""
    if host and type(array) is not np.ndarray:
        buf = np.ascontiguousarray(backend.to_numpy(array)) if read else \
            np.empty(array.shape, array.dtype)
        return buf, lambda: _copy_into(array, buf)
    if array.flags.c_contiguous:
        return array, None
    xp = backend.of(array)
    buf = xp.ascontiguousarray(array) if read else xp.empty(array.shape, array.dtype)
    return buf, lambda: _copy_into(array, buf)


def _copy_into(dst, src) -> None:
    if type(dst) is np.ndarray:
        np.copyto(dst, backend.to_numpy(src).reshape(dst.shape))
    else:
        dst[...] = backend.cupy().asarray(src).reshape(dst.shape)


class GroupMember:
    """torch's GroupMember: WORLD is the default group once initialized."""

    WORLD: ProcessGroup | None = None
    NON_GROUP_MEMBER = -100


class group:  # noqa: N801  (torch's name)
    """`group.WORLD`: the default process group (None before init_process_group)."""

    WORLD: ProcessGroup | None = None


class _State:
    default: ProcessGroup | None = None
    groups: list = []
    watchdog = None


_state = _State()


def _set_world(pg: ProcessGroup | None) -> None:
    GroupMember.WORLD = group.WORLD = pg


# -- set-up --------------------------------------------------------------------------------
def is_mpi_available() -> bool:
    """True when mpi4py is installed (the MPI backend can start)."""
    from . import is_available
    return is_available()


is_gloo_available = is_mpi_available  # "gloo" is served by MPI here


def is_nccl_available() -> bool:
    try:
        from cupy.cuda import nccl  # noqa: F401
    except Exception:
        return False
    return True


def is_torchelastic_launched() -> bool:
    return False


def is_initialized() -> bool:
    """Whether init_process_group has run (and destroy_process_group has not)."""
    return _state.default is not None


def init_process_group(backend: str | None = None, init_method: str | None = None,
                       timeout=None, world_size: int = -1, rank: int = -1, store=None,
                       group_name: str = "", pg_options=None, device_id=None) -> None:
    """Joins this process to the default process group of all processes mpiexec started.

    Args:
        backend: "mpi" (default; "gloo" is taken as "mpi") or "nccl" (CUDA tensors through
            NCCL, everything else through MPI)
        init_method, store, pg_options: accepted for compatibility; MPI itself brings the
            processes together (launch with `mpiexec -n N python train.py` or
            `python -m taimatsu.distributed.run --nproc N train.py`)
        timeout: how long a collective may wait for the other ranks before it raises
            (timedelta or seconds; default 30 minutes, 10 for nccl)
        world_size, rank: checked against what mpiexec assigned, when given
        device_id: the CUDA device of this rank for nccl (default: local rank modulo the
            number of devices)
    """
    if _state.default is not None:
        raise ValueError("trying to initialize the default process group twice!")
    name = Backend(backend or Backend.MPI)
    if name.uses_nccl and not is_nccl_available():
        raise RuntimeError("backend 'nccl' needs CuPy with NCCL: pip install \"taimatsu[cuda]\" "
                           "nvidia-nccl-cu12 (use 'mpi' for CPU tensors)")
    MPI = _import_mpi()
    world = MPI.COMM_WORLD
    size, me = world.Get_size(), world.Get_rank()
    if world_size not in (-1, None) and int(world_size) != size:
        raise ValueError(
            f"world_size={world_size} but mpiexec started {size} process(es): launch with "
            f"`mpiexec -n {world_size} python ...` or `python -m taimatsu.distributed.run "
            f"--nproc {world_size} ...`")
    if rank not in (-1, None) and int(rank) != me:
        raise ValueError(f"rank={rank} but MPI gave this process rank {me}: with MPI the "
                         "launcher assigns the ranks")
    if timeout is None:
        timeout = default_pg_nccl_timeout if name.uses_nccl else default_pg_timeout
    timeout_s = seconds(timeout)
    from ._watchdog import Watchdog
    watchdog = Watchdog(MPI, world, timeout_s)
    pg = ProcessGroup(list(range(size)), me, name, world.Dup(), watchdog, timeout_s,
                      group_name or "0")
    _state.default, _state.groups, _state.watchdog = pg, [pg], watchdog
    _set_world(pg)
    if name.uses_nccl:
        _select_cuda_device(device_id, watchdog.local_rank)


def _import_mpi():
    try:
        from ._mpi import MPI
    except ImportError as exc:
        raise RuntimeError(
            "taimatsu.distributed needs mpi4py and an MPI library: `pip install mpich "
            f"mpi4py` (or `pip install \"taimatsu[distributed]\"`); importing failed: {exc}"
        ) from exc
    return MPI


def _select_cuda_device(device_id, local_rank: int) -> None:
    from .. import cuda
    if not cuda.is_available():
        return
    if device_id is None:
        device_id = local_rank % cuda.device_count()
    cuda.set_device(device_id)


def destroy_process_group(group: ProcessGroup | None = None) -> None:
    """Frees `group`, or (default) every group and the default one."""
    pg = _group_or_default(group)
    if pg is _state.default:
        for g in _state.groups:
            g._free()
        _state.watchdog.close()
        _state.default, _state.groups, _state.watchdog = None, [], None
        _set_world(None)
        return
    pg._free()
    _state.groups = [g for g in _state.groups if g is not pg]


def _default_pg() -> ProcessGroup:
    if _state.default is None:
        raise ValueError(_NOT_INITIALIZED)
    return _state.default


def _group_or_default(group) -> ProcessGroup:
    pg = _default_pg()
    if group is None or group is GroupMember.WORLD:
        return pg
    if not isinstance(group, ProcessGroup) or not any(g is group for g in _state.groups):
        raise ValueError(f"Group {group} is not registered, please create group with "
                         "taimatsu.distributed.new_group API")
    return group


def new_group(ranks=None, timeout=None, backend=None, pg_options=None,
              use_local_synchronization: bool = False, group_desc=None,
              device_id=None) -> ProcessGroup:
    """A process group of `ranks` (global ranks; default all).

    Every rank calls it with the same ranks (with use_local_synchronization=True only the
    members do); on other ranks the group's rank() is -1 and collectives on it return None.
    """
    world = _default_pg()
    size = world.size()
    ranks = sorted(set(range(size) if ranks is None else ranks))
    for r in ranks:
        if not 0 <= r < size:
            raise ValueError(f"The new group's rank should be within the world_size set "
                             f"by init_process_group, but got rank {r} (world_size {size})")
    me = world.rank()
    if not use_local_synchronization:
        # Waits (under the watchdog) until every rank is here: a dead peer fails the call
        # instead of hanging MPI's blocking group creation.
        world._work(world._mpi.barrier()).wait()
    MPI = _import_mpi()
    comm = None
    if me in ranks:
        members = world._comm.Get_group().Incl(ranks)
        comm = world._comm.Create_group(members)
        members.Free()
    timeout_s = world._timeout if timeout is None else seconds(timeout)
    name = Backend(backend) if backend is not None else world._backend
    pg = ProcessGroup(ranks, ranks.index(me) if me in ranks else -1, name,
                      None if comm is None or comm == MPI.COMM_NULL else comm,
                      world._watchdog, timeout_s, str(len(_state.groups)))
    _state.groups.append(pg)
    return pg


def get_rank(group: ProcessGroup | None = None) -> int:
    """This process's rank in `group` (default: the world); -1 if it is not a member."""
    return _group_or_default(group).rank()


def get_world_size(group: ProcessGroup | None = None) -> int:
    """The number of ranks in `group` (default: the world); -1 if not a member."""
    pg = _group_or_default(group)
    return pg.size() if pg.rank() >= 0 else -1


def get_backend(group: ProcessGroup | None = None) -> str:
    return _group_or_default(group)._backend


def get_process_group_ranks(group: ProcessGroup | None) -> list[int]:
    return list(_group_or_default(group)._ranks)


def get_global_rank(group: ProcessGroup, group_rank: int) -> int:
    pg = _group_or_default(group)
    if not 0 <= group_rank < pg.size():
        raise ValueError(f"Group rank {group_rank} is not part of group {pg}")
    return pg._ranks[group_rank]


def get_group_rank(group: ProcessGroup, global_rank: int) -> int:
    pg = _group_or_default(group)
    if global_rank not in pg._ranks:
        raise ValueError(f"Global rank {global_rank} is not part of group {pg}")
    return pg._ranks.index(global_rank)


def _root(pg: ProcessGroup, global_rank, group_rank, default_zero: bool = True) -> int:
    """The group rank of a collective's root, from `src`/`dst` or `group_src`/`group_dst`."""
    if group_rank is not None:
        if global_rank is not None:
            raise ValueError("Can't specify both group_rank and global_rank")
        if not 0 <= group_rank < pg.size():
            raise ValueError(f"Group rank {group_rank} is not part of group {pg}")
        return group_rank
    if global_rank is None:
        if not default_zero:
            raise ValueError("Must specify global_rank or group_rank")
        global_rank = 0  # as torch: global rank 0, whatever the group
    return get_group_rank(pg, global_rank)


# -- checks -----------------------------------------------------------------------------------
def _member(pg: ProcessGroup, what: str) -> bool:
    if pg.rank() >= 0:
        return True
    warnings.warn(f"Running {what} on global rank {_state.default.rank()} which does not "
                  "belong to the given group.", stacklevel=3)
    return False


def _check_tensor(t, name: str) -> None:
    if not isinstance(t, Tensor):
        raise TypeError(f"Invalid function argument. Expected parameter `{name}` of type "
                        f"Tensor but got {type(t)} instead.")


def _check_tensor_list(ts, name: str) -> None:
    if not isinstance(ts, list) or not all(isinstance(t, Tensor) for t in ts):
        raise TypeError(f"Invalid function argument. Expected parameter `{name}` of type "
                        f"List[Tensor] but got {type(ts)} instead.")


def _check_op(op, tensor: Tensor, what: str) -> ReduceOp:
    if not isinstance(op, ReduceOp):
        raise ValueError(f"Invalid ``op``. Expected ``op`` to be of type ``ReduceOp``, but "
                         f"got {op!r}")
    dt = tensor.dtype
    if dt.is_complex and op not in (ReduceOp.SUM, ReduceOp.AVG, ReduceOp.PRODUCT):
        raise ValueError(f"{what} does not support {op} on complex tensors")
    if op in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR) and (dt.is_floating_point
                                                               or dt.is_complex):
        raise RuntimeError(f"Cannot use {op} with non-integral dtype")
    if op is ReduceOp.AVG and not (dt.is_floating_point or dt.is_complex):
        raise ValueError(f"{what} with {op} needs a floating-point or complex tensor, got "
                         f"{dt}")
    return op


def _same_numel(outputs, tensor: Tensor, what: str) -> None:
    for t in outputs:
        if t.numel() != tensor.numel() or t.dtype != tensor.dtype:
            raise ValueError(f"{what}: every tensor in the list must have the input's size "
                             f"and dtype ({tuple(tensor.shape)}, {tensor.dtype}), got "
                             f"({tuple(t.shape)}, {t.dtype})")


def _modified(*tensors: Tensor) -> None:
    for t in tensors:
        t._vc[0] += 1


def _result(work: Work, async_op: bool):
    if async_op:
        return work
    work.wait()
    return None


# -- collectives -----------------------------------------------------------------------------
def barrier(group: ProcessGroup | None = None, async_op: bool = False, device_ids=None,
            timeout=None):
    """Waits until every rank of `group` has reached it."""
    pg = _group_or_default(group)
    if not _member(pg, "barrier"):
        return None
    work = pg._work(pg._mpi.barrier())
    if async_op:
        return work
    work.wait(timeout)
    return None


def broadcast(tensor: Tensor, src: int | None = None, group: ProcessGroup | None = None,
              async_op: bool = False, group_src: int | None = None):
    """Copies `tensor` from rank `src` into `tensor` on every other rank."""
    _check_tensor(tensor, "tensor")
    pg = _group_or_default(group)
    root = _root(pg, src, group_src, default_zero=False)
    if not _member(pg, "broadcast"):
        return None
    work = pg._broadcast(tensor._data, root)
    work._outputs = [tensor]
    if pg.rank() != root:
        _modified(tensor)
    return _result(work, async_op)


def all_reduce(tensor: Tensor, op: ReduceOp = ReduceOp.SUM,
               group: ProcessGroup | None = None, async_op: bool = False):
    """Reduces `tensor` over every rank with `op`; every rank gets the result in place."""
    _check_tensor(tensor, "tensor")
    pg = _group_or_default(group)
    if not _member(pg, "all_reduce"):
        return None
    op = _check_op(op, tensor, "all_reduce")
    work = pg._all_reduce(tensor._data, op)
    work._outputs = [tensor]
    _modified(tensor)
    return _result(work, async_op)


def reduce(tensor: Tensor, dst: int | None = None, op: ReduceOp = ReduceOp.SUM,
           group: ProcessGroup | None = None, async_op: bool = False,
           group_dst: int | None = None):
    """Reduces `tensor` over every rank into `tensor` on rank `dst` only."""
    _check_tensor(tensor, "tensor")
    pg = _group_or_default(group)
    root = _root(pg, dst, group_dst, default_zero=False)
    if not _member(pg, "reduce"):
        return None
    op = _check_op(op, tensor, "reduce")
    mine = pg.rank() == root
    engine, host = pg._engine(tensor._data, op)
    buf, writeback = _staged(tensor._data, host)
    pending = engine.reduce(buf, op, root)

    def finish():
        if mine and op is ReduceOp.AVG:
            backend.of(buf).true_divide(buf, pg.size(), out=buf)
        if mine and writeback is not None:
            writeback()
    if mine:
        _modified(tensor)
    return _result(pg._work(pending, finish, [tensor]), async_op)


def all_gather(tensor_list: list[Tensor], tensor: Tensor, group: ProcessGroup | None = None,
               async_op: bool = False):
    """Fills tensor_list[i] with rank i's `tensor`."""
    _check_tensor_list(tensor_list, "tensor_list")
    _check_tensor(tensor, "tensor")
    pg = _group_or_default(group)
    if not _member(pg, "all_gather"):
        return None
    if len(tensor_list) != pg.size():
        raise ValueError(f"all_gather: tensor_list must hold {pg.size()} tensors (one per "
                         f"rank), got {len(tensor_list)}")
    _same_numel(tensor_list, tensor, "all_gather")
    work, stacked = pg._all_gather(tensor._data)

    def finish():
        for t, part in zip(tensor_list, stacked):
            _copy_into(t._data, part)
    work._finish = finish
    work._outputs = tensor_list
    _modified(*tensor_list)
    return _result(work, async_op)


def all_gather_into_tensor(output_tensor: Tensor, input_tensor: Tensor,
                           group: ProcessGroup | None = None, async_op: bool = False):
    """Gathers every rank's `input_tensor` into `output_tensor`, either concatenated along
    dim 0 (world_size * n rows) or stacked ((world_size, *shape))."""
    _check_tensor(output_tensor, "output_tensor")
    _check_tensor(input_tensor, "input_tensor")
    pg = _group_or_default(group)
    if not _member(pg, "all_gather_into_tensor"):
        return None
    if output_tensor.numel() != pg.size() * input_tensor.numel() or \
            output_tensor.dtype != input_tensor.dtype:
        raise ValueError("all_gather_into_tensor: output tensor size must be equal to "
                         "world_size times input tensor size, with the same dtype (got "
                         f"{tuple(output_tensor.shape)} {output_tensor.dtype} for input "
                         f"{tuple(input_tensor.shape)} {input_tensor.dtype})")
    out = output_tensor._data
    engine, host = pg._engine(out)
    send, _ = _staged(input_tensor._data, host)
    recv, writeback = _staged(out, host, read=False)
    work = pg._work(engine.all_gather(send, recv.reshape(pg.size(), -1)), writeback,
                    [output_tensor])
    _modified(output_tensor)
    return _result(work, async_op)


def reduce_scatter(output: Tensor, input_list: list[Tensor], op: ReduceOp = ReduceOp.SUM,
                   group: ProcessGroup | None = None, async_op: bool = False):
    """Reduces input_list[i] over every rank into `output` on rank i."""
    _check_tensor(output, "output")
    _check_tensor_list(input_list, "input_list")
    pg = _group_or_default(group)
    if not _member(pg, "reduce_scatter"):
        return None
    if len(input_list) != pg.size():
        raise ValueError(f"reduce_scatter: input_list must hold {pg.size()} tensors (one per "
                         f"rank), got {len(input_list)}")
    _same_numel(input_list, output, "reduce_scatter")
    op = _check_op(op, output, "reduce_scatter")
    xp = backend.of(output._data)
    stacked = xp.stack([xp.reshape(t._data, output._data.shape) for t in input_list])
    return _reduce_scatter(pg, output, stacked, op, async_op)


def reduce_scatter_tensor(output: Tensor, input: Tensor, op: ReduceOp = ReduceOp.SUM,
                          group: ProcessGroup | None = None, async_op: bool = False):
    """Reduces `input` (world_size * n elements, split along dim 0) over every rank;
    rank i gets the reduced i-th part in `output`."""
    _check_tensor(output, "output")
    _check_tensor(input, "input")
    pg = _group_or_default(group)
    if not _member(pg, "reduce_scatter_tensor"):
        return None
    if input.numel() != pg.size() * output.numel() or input.dtype != output.dtype:
        raise ValueError("reduce_scatter_tensor: input tensor size must be equal to "
                         "world_size times output tensor size, with the same dtype (got "
                         f"{tuple(input.shape)} {input.dtype} for output "
                         f"{tuple(output.shape)} {output.dtype})")
    op = _check_op(op, output, "reduce_scatter_tensor")
    return _reduce_scatter(pg, output, input._data, op, async_op)


def _reduce_scatter(pg: ProcessGroup, output: Tensor, stacked, op: ReduceOp, async_op: bool):
    engine, host = pg._engine(output._data, op)
    send, _ = _staged(stacked, host)
    recv, writeback = _staged(output._data, host, read=False)
    pending = engine.reduce_scatter(send, recv, op)

    def finish():
        if op is ReduceOp.AVG:
            backend.of(recv).true_divide(recv, pg.size(), out=recv)
        if writeback is not None:
            writeback()
    _modified(output)
    return _result(pg._work(pending, finish, [output]), async_op)


def scatter(tensor: Tensor, scatter_list: list[Tensor] | None = None, src: int | None = None,
            group: ProcessGroup | None = None, async_op: bool = False,
            group_src: int | None = None):
    """Rank `src` sends scatter_list[i] to rank i, which receives it in `tensor`."""
    _check_tensor(tensor, "tensor")
    if scatter_list:
        _check_tensor_list(scatter_list, "scatter_list")
    pg = _group_or_default(group)
    root = _root(pg, src, group_src)
    if not _member(pg, "scatter"):
        return None
    mine = pg.rank() == root
    if mine and not scatter_list:
        raise ValueError("Argument ``scatter_list`` must be specified on source rank.")
    if not mine and scatter_list:
        raise ValueError("Argument ``scatter_list`` must NOT be specified on non-source ranks.")
    engine, host = pg._engine(tensor._data)
    send = None
    if mine:
        if len(scatter_list) != pg.size():
            raise ValueError(f"scatter: scatter_list must hold {pg.size()} tensors (one per "
                             f"rank), got {len(scatter_list)}")
        _same_numel(scatter_list, tensor, "scatter")
        xp = np if host else backend.of(tensor._data)
        send = xp.stack([xp.reshape(_on(t._data, host), tensor._data.shape)
                         for t in scatter_list])
    recv, writeback = _staged(tensor._data, host, read=False)
    _modified(tensor)
    return _result(pg._work(engine.scatter(send, recv, root), writeback, [tensor]), async_op)


def gather(tensor: Tensor, gather_list: list[Tensor] | None = None, dst: int | None = None,
           group: ProcessGroup | None = None, async_op: bool = False,
           group_dst: int | None = None):
    """Rank `dst` receives every rank's `tensor`: gather_list[i] from rank i."""
    _check_tensor(tensor, "tensor")
    if gather_list:
        _check_tensor_list(gather_list, "gather_list")
    pg = _group_or_default(group)
    root = _root(pg, dst, group_dst)
    if not _member(pg, "gather"):
        return None
    mine = pg.rank() == root
    if mine and not gather_list:
        raise ValueError("Argument ``gather_list`` must be specified on destination rank.")
    if not mine and gather_list:
        raise ValueError("Argument ``gather_list`` must NOT be specified on non-destination "
                         "ranks.")
    engine, host = pg._engine(tensor._data)
    send, _ = _staged(tensor._data, host)
    recv = None
    finish = None
    if mine:
        if len(gather_list) != pg.size():
            raise ValueError(f"gather: gather_list must hold {pg.size()} tensors (one per "
                             f"rank), got {len(gather_list)}")
        _same_numel(gather_list, tensor, "gather")
        xp = np if host else backend.of(tensor._data)
        recv = xp.empty((pg.size(), *tensor._data.shape), dtype=tensor._data.dtype)

        def finish():
            for t, part in zip(gather_list, recv):
                _copy_into(t._data, part)
        _modified(*gather_list)
    pending = engine.gather(send, recv, root)
    return _result(pg._work(pending, finish, gather_list or []), async_op)


def _on(array, host: bool):
    return backend.to_numpy(array) if host else array


def isend(tensor: Tensor, dst: int | None = None, group: ProcessGroup | None = None,
          tag: int = 0, group_dst: int | None = None) -> Work | None:
    """Starts sending `tensor` to rank `dst`; returns a Work."""
    _check_tensor(tensor, "tensor")
    pg = _group_or_default(group)
    peer = _root(pg, dst, group_dst, default_zero=False)
    if not _member(pg, "isend"):
        return None
    engine, host = pg._engine(tensor._data)
    buf, _ = _staged(tensor._data, host)
    return pg._work(engine.send(buf, peer, tag))


def irecv(tensor: Tensor, src: int | None = None, group: ProcessGroup | None = None,
          tag: int = 0, group_src: int | None = None) -> Work | None:
    """Starts receiving into `tensor` from rank `src` (None: any rank); returns a Work."""
    _check_tensor(tensor, "tensor")
    pg = _group_or_default(group)
    peer = None if src is None and group_src is None else \
        _root(pg, src, group_src, default_zero=False)
    if not _member(pg, "irecv"):
        return None
    engine, host = pg._engine(tensor._data)
    buf, writeback = _staged(tensor._data, host, read=False)
    _modified(tensor)
    return pg._work(engine.recv(buf, peer, tag), writeback, [tensor])


def send(tensor: Tensor, dst: int | None = None, group: ProcessGroup | None = None,
         tag: int = 0, group_dst: int | None = None) -> None:
    """Sends `tensor` to rank `dst` and waits until it is on its way."""
    work = isend(tensor, dst, group, tag, group_dst)
    if work is not None:
        work.wait()


def recv(tensor: Tensor, src: int | None = None, group: ProcessGroup | None = None,
         tag: int = 0, group_src: int | None = None) -> int:
    """Receives into `tensor` from rank `src` (None: any rank); returns the sender's rank
    (global, or in `group` when group_src is given); -1 if not a member of `group`."""
    work = irecv(tensor, src, group, tag, group_src)
    if work is None:
        return -1
    work.wait()
    pg = _group_or_default(group)
    sender = work._pending.source
    if sender < 0:
        sender = _root(pg, src, group_src, default_zero=False)
    return sender if group_src is not None else pg._ranks[sender]


# -- objects (pickled, over MPI) ----------------------------------------------------------
def _pickled(obj) -> np.ndarray:
    return np.frombuffer(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL), dtype=np.uint8)


def _unpickled(data: np.ndarray, counts) -> list:
    out, start = [], 0
    for n in counts:
        out.append(pickle.loads(data[start:start + int(n)].tobytes()))
        start += int(n)
    return out


def broadcast_object_list(object_list: list, src: int | None = None,
                          group: ProcessGroup | None = None, device=None,
                          group_src: int | None = None) -> None:
    """Replaces the items of `object_list` on every rank by those of rank `src`'s."""
    pg = _group_or_default(group)
    root = _root(pg, src, group_src)
    if not _member(pg, "broadcast_object_list"):
        return
    mine = pg.rank() == root
    parts = [_pickled(o) for o in object_list] if mine else []
    counts = np.array([p.size for p in parts] if mine else [0] * len(object_list),
                      dtype=np.int64)
    pg._work(pg._mpi.broadcast(counts, root)).wait()
    data = np.concatenate(parts) if parts else np.empty(int(counts.sum()), dtype=np.uint8)
    pg._work(pg._mpi.broadcast(data, root)).wait()
    if not mine:
        object_list[:] = _unpickled(data, counts)


def _all_counts(pg: ProcessGroup, n: int) -> np.ndarray:
    counts = np.empty(pg.size(), dtype=np.int64)
    pg._work(pg._mpi.all_gather(np.array([n], dtype=np.int64), counts)).wait()
    return counts


def all_gather_object(object_list: list, obj, group: ProcessGroup | None = None) -> None:
    """Fills object_list[i] with rank i's `obj` (object_list needs one slot per rank)."""
    pg = _group_or_default(group)
    if not _member(pg, "all_gather_object"):
        return
    if len(object_list) < pg.size():
        raise ValueError(f"all_gather_object: object_list must have {pg.size()} slots (one "
                         f"per rank), got {len(object_list)}")
    mine = _pickled(obj)
    counts = _all_counts(pg, mine.size)
    data = np.empty(int(counts.sum()), dtype=np.uint8)
    pg._work(pg._mpi.all_gather_bytes(mine, counts, data)).wait()
    object_list[:pg.size()] = _unpickled(data, counts)


def gather_object(obj, object_gather_list: list | None = None, dst: int | None = None,
                  group: ProcessGroup | None = None, group_dst: int | None = None) -> None:
    """Rank `dst` receives every rank's `obj` in object_gather_list (None elsewhere)."""
    pg = _group_or_default(group)
    root = _root(pg, dst, group_dst)
    if not _member(pg, "gather_object"):
        return
    mine = pg.rank() == root
    if mine and object_gather_list is None:
        raise ValueError("Argument ``gather_list`` must be specified on destination rank.")
    if not mine and object_gather_list:
        raise ValueError("Argument ``gather_list`` must NOT be specified on non-destination "
                         "ranks.")
    if mine and len(object_gather_list) < pg.size():
        raise ValueError(f"gather_object: object_gather_list must have {pg.size()} slots "
                         f"(one per rank), got {len(object_gather_list)}")
    part = _pickled(obj)
    counts = np.empty(pg.size(), dtype=np.int64)
    pg._work(pg._mpi.gather(np.array([part.size], dtype=np.int64), counts, root)).wait()
    data = np.empty(int(counts.sum()) if mine else 0, dtype=np.uint8)
    pg._work(pg._mpi.gather_bytes(part, counts, data, root)).wait()
    if mine:
        object_gather_list[:pg.size()] = _unpickled(data, counts)


def scatter_object_list(scatter_object_output_list: list,
                        scatter_object_input_list: list | None = None, src: int | None = None,
                        group: ProcessGroup | None = None, group_src: int | None = None) -> None:
    """Rank `src` sends scatter_object_input_list[i] to rank i, which receives it as
    scatter_object_output_list[0]."""
    if not isinstance(scatter_object_output_list, list) or not scatter_object_output_list:
        raise ValueError("Expected argument scatter_object_output_list to be a list of size "
                         "at least 1.")
    pg = _group_or_default(group)
    root = _root(pg, src, group_src)
    if not _member(pg, "scatter_object_list"):
        return
    mine = pg.rank() == root
    counts = np.zeros(pg.size(), dtype=np.int64)
    data = np.empty(0, dtype=np.uint8)
    if mine:
        if scatter_object_input_list is None or len(scatter_object_input_list) < pg.size():
            raise ValueError(f"scatter_object_list: scatter_object_input_list must have "
                             f"{pg.size()} objects on the source rank")
        parts = [_pickled(o) for o in scatter_object_input_list[:pg.size()]]
        counts[:] = [p.size for p in parts]
        data = np.concatenate(parts)
    count = np.empty(1, dtype=np.int64)
    pg._work(pg._mpi.scatter(counts, count, root)).wait()
    recv = np.empty(int(count[0]), dtype=np.uint8)
    pg._work(pg._mpi.scatter_bytes(data, counts, recv, root)).wait()
    scatter_object_output_list[0] = pickle.loads(recv.tobytes())

