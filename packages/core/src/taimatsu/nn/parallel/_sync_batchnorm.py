"""SyncBatchNorm over processes: batch statistics of the union of every rank's batch.

Forward: each rank computes per-channel (count, mean, sum of squared deviations) of its
batch; one all_gather of that (3, C) table combines them exactly (Chan's parallel
variance) into the global mean and variance. Backward: the input gradient needs the
global sums of dy and dy * x_hat, one all_reduce of a (2, C) table; the weight and bias
gradients stay local sums, which DistributedDataParallel then averages (as torch).

`forward(module, input)` is what nn.SyncBatchNorm.forward calls; on one process, outside
training, or without an initialized process group it is plain BatchNorm.
"""

from __future__ import annotations

from ... import backend
from ... import distributed as dist
from ..._tensor import Tensor
from ...autograd.node import Function

__all__ = ["forward", "sync_batch_norm"]


def forward(module, input: Tensor) -> Tensor:
    """SyncBatchNorm's forward for `module` (an nn.SyncBatchNorm)."""
    from ..modules.batchnorm import _BatchNorm
    pg = module.process_group or dist.group.WORLD
    if not (module.training and dist.is_initialized() and dist.get_world_size(pg) > 1):
        return _BatchNorm.forward(module, input)
    factor = module._averaging_factor()
    running = (module.running_mean, module.running_var) if module.track_running_stats and \
        module.running_mean is not None else None
    return sync_batch_norm(input, module.weight, module.bias, running, factor, module.eps, pg)


def sync_batch_norm(input: Tensor, weight: Tensor | None, bias: Tensor | None, running,
                    momentum: float, eps: float, pg) -> Tensor:
    """Training-mode batch norm with statistics over every rank of `pg`; updates
    `running` = (running_mean, running_var) in place when given."""
    x = input._data
    xp = backend.of(x)
    c = x.shape[1]
    work = xp.float32 if x.dtype.itemsize < 4 else x.dtype  # half types: float32 statistics
    x3 = x.reshape(x.shape[0], c, -1).astype(work, copy=False)
    count = x3.shape[0] * x3.shape[2]
    mean = x3.mean(axis=(0, 2)) if count else xp.zeros(c, dtype=work)
    m2 = ((x3 - mean.reshape(1, c, 1)) ** 2).sum(axis=(0, 2))
    table = xp.stack([xp.full(c, count, dtype=work), mean, m2])
    done, gathered = pg._all_gather(table)
    done.wait()
    counts, means, m2s = gathered[:, 0], gathered[:, 1], gathered[:, 2]
    total = counts.sum(axis=0)
    n = int(total[0]) if c else 0
    if n <= 1:
        raise ValueError("Expected more than 1 value per channel when training, got input "
                         f"size {tuple(input.shape)} (and {n} values over all ranks)")
    g_mean = (counts * means).sum(axis=0) / total
    g_m2 = (m2s + counts * (means - g_mean) ** 2).sum(axis=0)
    var = g_m2 / total
    if running is not None:
        running_mean, running_var = running
        for t, batch in ((running_mean, g_mean), (running_var, g_m2 / (total - 1))):
            t._data *= 1.0 - momentum
            t._data += (momentum * batch).astype(t._data.dtype, copy=False)
            t._vc[0] += 1
    invstd = 1.0 / xp.sqrt(var + eps)
    return _SyncBatchNorm.apply(input, weight, bias, mean=g_mean, invstd=invstd, count=n,
                                group=pg)


class _SyncBatchNorm(Function):
    """y = (x - mean) * invstd * weight + bias with global statistics given."""

    once_differentiable = True  # its backward runs a collective on arrays

    @staticmethod
    def forward(ctx, x, weight, bias, *, mean, invstd, count, group):
        c = x.shape[1]
        x3 = x.reshape(x.shape[0], c, -1).astype(mean.dtype, copy=False)
        xhat = (x3 - mean.reshape(1, c, 1)) * invstd.reshape(1, c, 1)
        y = xhat if weight is None else xhat * weight.reshape(1, c, 1)
        if bias is not None:
            y = y + bias.reshape(1, c, 1)
        if ctx.needs_input_grad:
            ctx.save_for_backward(xhat, weight)
            ctx.stats = (invstd, count, group, x.shape, x.dtype)
            ctx.param_dtypes = tuple(None if p is None else p.dtype for p in (weight, bias))
        return y.reshape(x.shape).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        xhat, weight = ctx.saved_arrays
        invstd, count, group, shape, dtype = ctx.stats
        c = shape[1]
        dy = grad.reshape(shape[0], c, -1).astype(xhat.dtype, copy=False)
        sum_dy = dy.sum(axis=(0, 2))
        sum_dy_xhat = (dy * xhat).sum(axis=(0, 2))
        need = ctx.needs_input_grad
        gx = gw = gb = None
        if need[0]:
            sums = xp.stack([sum_dy, sum_dy_xhat])
            group._all_reduce(sums).wait()
            scale = invstd if weight is None else invstd * weight
            gx = (dy - (sums[0] / count).reshape(1, c, 1)
                  - xhat * (sums[1] / count).reshape(1, c, 1)) * scale.reshape(1, c, 1)
            gx = gx.reshape(shape).astype(dtype, copy=False)
        if need[1]:
            gw = sum_dy_xhat.astype(ctx.param_dtypes[0], copy=False)
        if need[2]:
            gb = sum_dy.astype(ctx.param_dtypes[1], copy=False)
        return gx, gw, gb
