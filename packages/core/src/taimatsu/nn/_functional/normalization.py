"""Normalization: batch_norm, instance_norm, layer_norm, group_norm, rms_norm,
local_response_norm and normalize.

batch_norm, layer_norm and group_norm are fused ops: forward computes the statistics once
(two-pass: the variance of x - mean, not E[x^2] - E[x]^2, which cancels for large means)
and keeps the normalized input x_hat and 1/std; backward reuses them in the closed form
    dx = rstd * (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat))
(means over the normalized axes): a few whole-array passes instead of back-propagating
through a graph of mean, var and sqrt ops.

With create_graph=True the saved x_hat and rstd would be constants to the new graph, so
backward then recomputes them from the saved input with differentiable ops: the same
formulas, now recorded, give correct second derivatives.
"""

from __future__ import annotations

import functools
import math

import ml_dtypes
import numpy as np

from ... import _dtype as D
from ... import backend
from ..._tensor import Tensor
from ...amp._state import hook as _autocast
from ...autograd import _graph_xp
from ...autograd.node import Function
from ...backend.cuda import batch_norm as _bn_kernels
from ...backend.cuda import normalization as _kernels
from ...backend.cuda import use_kernels
from ...ops._util import finish, wrap_dim
from ...ops.creation import zeros
from ...ops.join import cat

__all__ = ["batch_norm", "instance_norm", "layer_norm", "group_norm", "rms_norm",
           "local_response_norm", "normalize"]

_HALF = (np.dtype(np.float16), D.bfloat16.np)


def _work_dtype(np_dtype):
    """Half precisions accumulate statistics in float32, as torch's CPU kernels do."""
    return np.dtype(np.float32) if np_dtype in _HALF else np_dtype


def _as_work(a, dtype):
    return a if a.dtype == dtype else a.astype(dtype)


def _quiet():
    return np.errstate(invalid="ignore", divide="ignore")


# -- shared pieces (arrays, or Tensors under create_graph) ------------------------------------

def _standardize(xp, x, axes, eps):
    """(x_hat, mean, rstd) with statistics over `axes` (kept as size-1 dims)."""
    mean = xp.mean(x, axis=axes, keepdims=True)
    xc = x - mean
    var = xp.mean(xc * xc, axis=axes, keepdims=True)
    rstd = 1.0 / xp.sqrt(var + eps)
    return xc * rstd, mean, rstd


def _standardized_grad(xp, gxhat, xhat, rstd, axes):
    """dL/dx from dL/dx_hat when x_hat = (x - mean(x)) * rstd(x) over `axes`."""
    m1 = xp.mean(gxhat, axis=axes, keepdims=True)
    m2 = xp.mean(gxhat * xhat, axis=axes, keepdims=True)
    return (gxhat - m1 - xhat * m2) * rstd


def _fast_standardize(x, axes, eps):
    """(x_hat, mean, var, rstd) on arrays, with x_hat overwriting x - mean."""
    n = math.prod(x.shape[a] for a in axes)
    with _quiet():
        mean = _sum(x, axes) / max(n, 1)
        xhat = x - mean
        var = _sum_of_products(xhat, xhat, axes) / max(n, 1)
        rstd = 1.0 / backend.of(x).sqrt(var + eps)
        xhat *= rstd
    return xhat, mean, var, rstd


def _fast_standardized_grad(g, xhat, scale, axes, sums=None):
    """scale * (g - mean(g) - x_hat * mean(g * x_hat)) over `axes`, on arrays.

    `_standardized_grad` with one full-size allocation; `sums` are (sum(g), sum(g * x_hat))
    when the caller has them already (batch norm's bias and weight gradients).
    """
    n = max(math.prod(g.shape[a] for a in axes), 1)
    if sums is None:
        sums = (_sum(g, axes), _sum_of_products(g, xhat, axes))
    out = xhat * (sums[1] / -n)
    out += g
    out -= sums[0] / n
    out *= scale
    return out


def _sum_of_products(a, b, axes):
    """sum(a * b) over `axes` (keepdims) without materializing a * b."""
    if backend.of(a) is np and a.ndim <= 3:
        return _einsum_over(axes, a, b)
    return (a * b).sum(axis=axes, keepdims=True)


def _sum(a, axes):
    """sum(a) over `axes` (keepdims); NumPy's einsum is several times faster at it than
    ndarray.sum, at the same accuracy here."""
    if backend.of(a) is np and a.ndim <= 3:
        return _einsum_over(axes, a)
    return a.sum(axis=axes, keepdims=True)


def _einsum_over(axes, *arrays):
    out = np.einsum(_subscripts(arrays[0].ndim, axes, len(arrays)), *arrays)
    return out.reshape(tuple(1 if i in axes else s for i, s in enumerate(arrays[0].shape)))


@functools.cache
def _subscripts(ndim: int, axes: tuple, operands: int) -> str:
    """einsum subscripts multiplying `operands` arrays and summing over `axes`."""
    letters = "abc"[:ndim]
    kept = "".join(ch for i, ch in enumerate(letters) if i not in axes)
    return ",".join([letters] * operands) + "->" + kept


def _cast_back(xp, g, np_dtype):
    """A gradient in its input's dtype (half inputs are worked on in float32 arrays)."""
    if g is None or xp is _graph_xp or g.dtype == np_dtype:
        return g
    return g.astype(np_dtype)


def _param_grads(ctx, g, xhat, axes, shape):
    """Gradients of the affine weight and bias: sum(g * x_hat) and sum(g) over `axes`."""
    xp = ctx.xp
    need = ctx.needs_input_grad
    gw = gb = None
    if need[1]:
        if xp is _graph_xp:
            gw = xp.sum(g * xhat, axis=axes, keepdims=True).reshape(shape)
        else:
            gw = _sum_of_products(g, xhat, axes).reshape(shape)
    if need[2]:
        gb = (xp.sum(g, axis=axes, keepdims=True) if xp is _graph_xp else _sum(g, axes)
              ).reshape(shape)
    return gw, gb


def _param_dtypes(weight, bias):
    return (None if weight is None else weight.dtype, None if bias is None else bias.dtype)


def _affine(xhat, weight, bias, view):
    y = xhat if weight is None else xhat * weight.reshape(view)
    if bias is not None:
        y = y + bias.reshape(view) if y is xhat else _iadd(y, bias.reshape(view))
    return y


def _iadd(y, b):
    y += b
    return y


# -- batch norm -------------------------------------------------------------------------------

def _as_3d(a, shape):
    """An (N, C, *) array or Tensor viewed as (N, C, L)."""
    return a.reshape(shape[0], shape[1], math.prod(shape[2:]))


class _BatchNorm(Function):
    """Normalizes (N, C, *) over every dim but C: batch statistics when training (and then
    updates the running ones in place), else the given running statistics. Works on an
    (N, C, L) view; x_hat is kept in that shape."""

    _backward_name = "NativeBatchNormBackward0"

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, training, momentum, eps):
        if use_kernels(x) and _bn_kernels.supported(x, weight, bias, running_mean, running_var):
            return _BatchNorm._kernel_forward(ctx, x, weight, bias, running_mean, running_var,
                                              training, momentum, eps)
        work = _work_dtype(x.dtype)
        xw = _as_3d(_as_work(x, work), x.shape)
        view = (1, x.shape[1], 1)
        if training:
            xhat, mean, var, rstd = _fast_standardize(xw, (0, 2), eps)
            if running_mean is not None:
                _update_running(running_mean, running_var, mean, var, momentum,
                                xw.shape[0] * xw.shape[2])
        else:
            mean = _as_work(running_mean, work).reshape(view)
            with _quiet():
                rstd = 1.0 / backend.of(x).sqrt(_as_work(running_var, work).reshape(view) + eps)
            if not ctx.needs_input_grad:  # inference: fold everything into one multiply-add
                scale = rstd if weight is None else rstd * _as_work(weight, work).reshape(view)
                shift = -mean * scale
                if bias is not None:
                    shift += _as_work(bias, work).reshape(view)
                y = xw * scale
                y += shift
                return y.reshape(x.shape).astype(x.dtype, copy=False)
            xhat = (xw - mean) * rstd
        y = _affine(xhat, weight, bias, view)
        if ctx.needs_input_grad:
            # x_hat is not kept when it is the output itself: an in-place op on the output
            # would change it under us (torch keeps the input, not the output).
            ctx.save_for_backward(x, weight, None if y is xhat else xhat, mean, rstd)
            ctx.training = training
            ctx.eps = eps
            ctx.dtypes = (x.dtype,) + _param_dtypes(weight, bias)
        return y.reshape(x.shape).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        x, weight, xhat, mean, rstd = ctx.saved_arrays
        axes = (0, 2)
        if xp is _graph_xp:
            gx, gw, gb = _BatchNorm._graph_backward(ctx, _as_3d(grad, x.shape),
                                                    _as_3d(x, x.shape), weight, mean, rstd)
            return None if gx is None else gx.reshape(x.shape), gw, gb
        if ctx.__dict__.get("kernels"):
            gx, gw, gb = _bn_kernels.backward(grad, x, weight, mean, rstd, ctx.training,
                                              ctx.needs_input_grad[:3])
            _, dw, db = ctx.dtypes
            return gx, _cast_back(xp, gw, dw), _cast_back(xp, gb, db)
        c = x.shape[1]
        scale = rstd if weight is None else rstd * weight.reshape(1, c, 1)
        work = _work_dtype(x.dtype)
        grad = _as_3d(_as_work(grad, work), x.shape)
        if xhat is None:
            xhat = (_as_3d(_as_work(x, work), x.shape) - mean) * rstd
        need = ctx.needs_input_grad
        gx = gw = gb = None
        if need[1] or need[2] or (need[0] and ctx.training):
            # with x_hat normalized per channel, these sums give the weight and bias
            # gradients and the two means of the input gradient
            gb = _sum(grad, axes)
            gw = _sum_of_products(grad, xhat, axes)
        if need[0]:
            gx = (_fast_standardized_grad(grad, xhat, scale, axes, (gb, gw)) if ctx.training
                  else grad * scale)
        gx = None if gx is None else gx.reshape(x.shape)
        gw = gw.reshape(c) if need[1] else None
        gb = gb.reshape(c) if need[2] else None
        dx, dw, db = ctx.dtypes
        return (_cast_back(xp, gx, dx), _cast_back(xp, gw, dw), _cast_back(xp, gb, db))

    @staticmethod
    def _kernel_forward(ctx, x, weight, bias, running_mean, running_var, training, momentum,
                        eps):
        """The CUDA kernels: y in x's dtype; the per-channel mean and 1/std (accumulation
        dtype, saved as the CPU path saves them) are kept for backward, x_hat is recomputed
        there rather than stored."""
        if training:
            y, mean, rstd = _bn_kernels.training_forward(x, weight, bias, running_mean,
                                                         running_var, momentum, eps)
        else:
            y, mean, rstd = _bn_kernels.eval_forward(x, weight, bias, running_mean, running_var,
                                                     eps)
        if ctx.needs_input_grad:
            view = (1, x.shape[1], 1)
            ctx.save_for_backward(x, weight, None, mean.reshape(view), rstd.reshape(view))
            ctx.training = training
            ctx.eps = eps
            ctx.dtypes = (x.dtype,) + _param_dtypes(weight, bias)
            ctx.kernels = True
        return y

    @staticmethod
    def _graph_backward(ctx, grad, x, weight, mean, rstd):
        """The same gradients as differentiable ops, statistics recomputed from x."""
        xp = ctx.xp
        axes = (0, 2)
        if ctx.training:
            xhat, mean, rstd = _standardize(xp, x, axes, ctx.eps)
        else:
            xhat = (x - mean) * rstd
        gw, gb = _param_grads(ctx, grad, xhat, axes, (x.shape[1],))
        gx = None
        if ctx.needs_input_grad[0]:
            gxhat = grad if weight is None else grad * weight.reshape(1, x.shape[1], 1)
            gx = (_standardized_grad(xp, gxhat, xhat, rstd, axes) if ctx.training
                  else gxhat * rstd)
        return gx, gw, gb


def _update_running(running_mean, running_var, mean, var, momentum, n):
    """running = (1 - momentum) * running + momentum * batch, with the unbiased variance."""
    var = var.reshape(-1)
    unbiased = var * (n / (n - 1)) if n > 1 else var
    for running, batch in ((running_mean, mean.reshape(-1)), (running_var, unbiased)):
        running *= 1.0 - momentum
        running += (momentum * batch).astype(running.dtype, copy=False)


def _channels(input: Tensor) -> int:
    return input.shape[1] if input.ndim > 1 else 0


def _check_channel_vector(name: str, t: Tensor | None, channels: int) -> None:
    if t is not None and t.numel() != channels:
        raise RuntimeError(f"{name} should contain {channels} elements not {t.numel()}")


def _verify_batch_size(size) -> None:
    if math.prod(size[:1] + size[2:]) == 1:
        raise ValueError("Expected more than 1 value per channel when training, got input "
                         f"size {size}")


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Batch normalization over channel dim 1 (statistics over every other dim).

    When training with running statistics given, they are updated in place:
    running = (1 - momentum) * running + momentum * batch (variance unbiased).
    """
    if training:
        _verify_batch_size(input.shape)
    if training and eps <= 0.0:
        raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    if eps < 0.0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
    c = _channels(input)
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        _check_channel_vector(name, t, c)
    if not training:
        for name, t in (("running_mean", running_mean), ("running_var", running_var)):
            if t is None:
                raise RuntimeError(f"{name} must be defined in evaluation mode")
    update = training and running_mean is not None and running_var is not None
    out = _BatchNorm.apply(input, weight, bias,
                           _data_or_none(running_mean) if (update or not training) else None,
                           _data_or_none(running_var) if (update or not training) else None,
                           training, momentum, eps)
    if update:
        running_mean._vc[0] += 1
        running_var._vc[0] += 1
    return out


def _data_or_none(t):
    return None if t is None else t._data


# -- instance norm ----------------------------------------------------------------------------

def _verify_spatial_size(size) -> None:
    if math.prod(size[2:]) == 1:
        raise ValueError("Expected more than 1 spatial element when training, got input size "
                         f"{size}")


def instance_norm(input: Tensor, running_mean: Tensor | None = None,
                  running_var: Tensor | None = None, weight: Tensor | None = None,
                  bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalizes every (sample, channel) over its spatial dims.

    Runs as batch_norm over a (1, N*C, *) view, as torch does; running statistics (when
    given) are updated with the average of the per-sample statistics.
    """
    if use_input_stats:
        _verify_spatial_size(input.shape)
    elif running_mean is None or running_var is None:
        raise RuntimeError("Expected running_mean and running_var to be defined when "
                           "use_input_stats is false")
    n, c = input.shape[0], _channels(input)
    for name, t in (("weight", weight), ("bias", bias), ("running_mean", running_mean),
                    ("running_var", running_var)):
        _check_channel_vector(name, t, c)
    shape = input.shape
    x = input.reshape((1, n * c) + tuple(shape[2:]))
    rm = None if running_mean is None else running_mean.detach().repeat(n)
    rv = None if running_var is None else running_var.detach().repeat(n)
    w = None if weight is None else weight.repeat(n)
    b = None if bias is None else bias.repeat(n)
    out = batch_norm(x, rm, rv, w, b, use_input_stats, momentum, eps)
    if use_input_stats:
        for running, repeated in ((running_mean, rm), (running_var, rv)):
            if running is not None:
                running._data[...] = repeated._data.reshape(n, c).mean(axis=0)
                running._vc[0] += 1
    return out.reshape(shape)


# -- layer norm and group norm ----------------------------------------------------------------

class _LayerNorm(Function):
    """Normalizes over the trailing `k` dims of x, then applies weight/bias of that shape.

    Works on x viewed as (M, K) rows; x_hat is kept in that shape.
    """

    _backward_name = "NativeLayerNormBackward0"

    @staticmethod
    def forward(ctx, x, weight, bias, k, eps):
        if use_kernels(x) and _kernels.supported(x, weight, bias):
            return _LayerNorm._kernel_forward(ctx, x, weight, bias, k, eps)
        rows = _as_rows(_as_work(x, _work_dtype(x.dtype)), x.shape, k)
        xhat, _, _, rstd = _fast_standardize(rows, (1,), eps)
        y = _affine(xhat, weight, bias, (1, -1))
        if ctx.needs_input_grad:
            ctx.save_for_backward(x, weight, None if y is xhat else xhat, rstd)
            ctx.k, ctx.eps = k, eps
            ctx.dtypes = (x.dtype,) + _param_dtypes(weight, bias)
        return y.reshape(x.shape).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        saved = ctx.saved_arrays
        if len(saved) == 5 and xp is not _graph_xp:  # the kernel forward also kept the means
            return _LayerNorm._kernel_backward(ctx, grad, *saved)
        x, weight, xhat, rstd = saved[:4]
        shape = x.shape
        if xp is _graph_xp or xhat is None:
            xw = x if xp is _graph_xp else _as_work(x, _work_dtype(x.dtype))
            xhat, _, rstd = _standardize(xp, _as_rows(xw, shape, ctx.k), (1,), ctx.eps)
        if xp is not _graph_xp:
            grad = _as_work(grad, xhat.dtype)
        grad = _as_rows(grad, shape, ctx.k)
        pshape = tuple(shape[len(shape) - ctx.k:])
        gw, gb = _param_grads(ctx, grad, xhat, (0,), pshape)
        gx = None
        if ctx.needs_input_grad[0]:
            gxhat = grad if weight is None else grad * weight.reshape(1, -1)
            gx = _input_grad(xp, gxhat, xhat, rstd, (1,)).reshape(shape)
        dx, dw, db = ctx.dtypes
        return (_cast_back(xp, gx, dx), _cast_back(xp, gw, dw), _cast_back(xp, gb, db))

    @staticmethod
    def _kernel_forward(ctx, x, weight, bias, k, eps):
        """The CUDA kernels: y in x's dtype, per-row mean and rstd kept for backward (x_hat
        is recomputed there rather than stored)."""
        y, mean, rstd = _kernels.layer_norm_forward(x, _flat(weight), _flat(bias),
                                                    _cols(x.shape, k), eps)
        if ctx.needs_input_grad:
            ctx.save_for_backward(x, weight, None, rstd, mean)
            ctx.k, ctx.eps = k, eps
            ctx.dtypes = (x.dtype,) + _param_dtypes(weight, bias)
        return y

    @staticmethod
    def _kernel_backward(ctx, grad, x, weight, _, rstd, mean):
        k = ctx.k
        gx, gw, gb = _kernels.layer_norm_backward(grad, x, _flat(weight), mean, rstd,
                                                  _cols(x.shape, k), ctx.needs_input_grad[:3])
        pshape = tuple(x.shape[x.ndim - k:])
        return (gx, None if gw is None else gw.reshape(pshape),
                None if gb is None else gb.reshape(pshape))


def _flat(a):
    return None if a is None else a.reshape(-1)


def _cols(shape, k: int) -> int:
    return math.prod(shape[len(shape) - k:])


def _as_rows(a, shape, k: int):
    """An array or Tensor of `shape` viewed as rows of its trailing k dims."""
    lead = len(shape) - k
    return a.reshape(math.prod(shape[:lead]), math.prod(shape[lead:]))


def _input_grad(xp, gxhat, xhat, rstd, axes):
    if xp is _graph_xp:
        return _standardized_grad(xp, gxhat, xhat, rstd, axes)
    return _fast_standardized_grad(gxhat, xhat, rstd, axes)


def _shape_list(shape) -> str:
    return "[" + ", ".join(str(s) for s in shape) + "]"


def _normalized_shape(normalized_shape) -> tuple:
    if isinstance(normalized_shape, (int, np.integer)):
        return (int(normalized_shape),)
    return tuple(int(s) for s in normalized_shape)


def _check_normalized(input: Tensor, shape: tuple, weight, bias, star: str) -> None:
    if not shape:
        raise RuntimeError(f"Expected normalized_shape to be at least 1-dimensional, i.e., "
                           f"containing at least one element, but got normalized_shape = "
                           f"{_shape_list(shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != shape:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but "
                               f"got {name} of shape {_shape_list(t.shape)} and "
                               f"normalized_shape = {_shape_list(shape)}")
    k = len(shape)
    if input.ndim < k or tuple(input.shape[input.ndim - k:]) != shape:
        raise RuntimeError(f"Given normalized_shape={_shape_list(shape)}, expected input with "
                           f"shape [*{star}{_shape_list(shape)[1:]}, but got input of size"
                           f"{_shape_list(input.shape)}")


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalizes over the trailing dims given by normalized_shape, then weight * x + bias."""
    if _autocast.on and (policy := _autocast.policy("layer_norm", input)):
        return policy(layer_norm, input, normalized_shape, weight, bias, eps)
    shape = _normalized_shape(normalized_shape)
    _check_normalized(input, shape, weight, bias, ", ")
    return _LayerNorm.apply(input, weight, bias, len(shape), eps)


class _GroupNorm(Function):
    """Normalizes (N, C, *) over each group of C/G channels and the spatial dims, then
    applies a per-channel affine. Works on an (N, C, L) view; x_hat is kept in that shape."""

    _backward_name = "NativeGroupNormBackward0"

    @staticmethod
    def forward(ctx, x, weight, bias, groups, eps):
        xw = _as_3d(_as_work(x, _work_dtype(x.dtype)), x.shape)
        n, c, length = xw.shape
        xhat, _, _, rstd = _fast_standardize(xw.reshape(n, groups, -1), (2,), eps)
        xhat = xhat.reshape(n, c, length)
        y = _affine(xhat, weight, bias, (1, c, 1))
        if ctx.needs_input_grad:
            ctx.save_for_backward(x, weight, None if y is xhat else xhat, rstd)
            ctx.groups, ctx.eps = groups, eps
            ctx.dtypes = (x.dtype,) + _param_dtypes(weight, bias)
        return y.reshape(x.shape).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        x, weight, xhat, rstd = ctx.saved_arrays
        shape = x.shape
        n, c, length = shape[0], shape[1], math.prod(shape[2:])
        grouped = (n, ctx.groups, c // ctx.groups * length)
        if xp is _graph_xp or xhat is None:
            xw = x if xp is _graph_xp else _as_work(x, _work_dtype(x.dtype))
            xhat, _, rstd = _standardize(xp, xw.reshape(grouped), (2,), ctx.eps)
            xhat = xhat.reshape(n, c, length)
        if xp is not _graph_xp:
            grad = _as_work(grad, xhat.dtype)
        grad = _as_3d(grad, shape)
        gw, gb = _param_grads(ctx, grad, xhat, (0, 2), (c,))
        gx = None
        if ctx.needs_input_grad[0]:
            gxhat = grad if weight is None else grad * weight.reshape(1, c, 1)
            gx = _input_grad(xp, gxhat.reshape(grouped), xhat.reshape(grouped), rstd,
                             (2,)).reshape(shape)
        dx, dw, db = ctx.dtypes
        return (_cast_back(xp, gx, dx), _cast_back(xp, gw, dw), _cast_back(xp, gb, db))


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalizes each group of channels (dim 1) together with the spatial dims."""
    if _autocast.on and (policy := _autocast.policy("group_norm", input)):
        return policy(group_norm, input, num_groups, weight, bias, eps)
    if input.ndim < 2:
        raise RuntimeError("Expected at least 2 dimensions for input tensor but received "
                           f"{input.ndim}")
    n, c = input.shape[0], input.shape[1]
    _verify_batch_size([n * c // num_groups, num_groups] + list(input.shape[2:]))
    if c % num_groups:
        raise RuntimeError("Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {_shape_list(input.shape)} and "
                           f"num_groups={num_groups}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (t.ndim != 1 or t.numel() != c):
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number of "
                               f"channels in input, but got {name} of shape "
                               f"{_shape_list(t.shape)} and input of shape "
                               f"{_shape_list(input.shape)}")
    return _GroupNorm.apply(input, weight, bias, num_groups, eps)


# -- composed norms ---------------------------------------------------------------------------

def rms_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
             eps: float | None = None) -> Tensor:
    """x / sqrt(mean(x^2) + eps) over the trailing normalized_shape dims, times weight.

    eps=None uses the machine epsilon of input's dtype, as torch.
    """
    shape = _normalized_shape(normalized_shape)
    _check_normalized(input, shape, weight, None, "")
    if eps is None:
        eps = float(ml_dtypes.finfo(input.dtype.np).eps)
    if use_kernels(input._data) and _kernels.supported(
            input._data, None if weight is None else weight._data):
        return _RMSNorm.apply(input, weight, len(shape), eps)
    dims = tuple(range(input.ndim - len(shape), input.ndim))
    # half precisions square and average in float32 (x^2 overflows float16 from 256)
    x = input.float() if input.dtype.np in _HALF else input
    out = (x * (x * x).mean(dim=dims, keepdim=True).add(eps).rsqrt()).to(input.dtype)
    return out if weight is None else out * weight


class _RMSNorm(Function):
    """rms_norm by the CUDA kernels (elsewhere rms_norm is composed of ops, as torch's CPU
    one is): x * rstd * weight with rstd = 1 / sqrt(mean(x^2) + eps) over the trailing k dims,
    the per-row rstd kept for backward."""

    _backward_name = "FusedRmsNormBackward0"

    @staticmethod
    def forward(ctx, x, weight, k, eps):
        y, rstd = _kernels.rms_norm_forward(x, _flat(weight), _cols(x.shape, k), eps)
        if ctx.needs_input_grad:
            ctx.save_for_backward(x, weight, rstd)
            ctx.k, ctx.eps = k, eps
        return y

    @staticmethod
    def backward(ctx, grad):
        x, weight, rstd = ctx.saved_arrays
        if ctx.xp is _graph_xp:
            return _RMSNorm._graph_backward(ctx, grad, x, weight)
        gx, gw = _kernels.rms_norm_backward(grad, x, _flat(weight), rstd,
                                            _cols(x.shape, ctx.k), ctx.needs_input_grad[:2])
        return gx, None if gw is None else gw.reshape(weight.shape)

    @staticmethod
    def _graph_backward(ctx, grad, x, weight):
        """The same gradients as differentiable ops on Tensors, rstd recomputed from x;
        half precisions work in float32 as the composed rms_norm does."""
        xp = ctx.xp
        shape, k = x.shape, ctx.k
        half = x.dtype.np in _HALF
        xw = _as_rows(xp.astype(x, np.float32) if half else x, shape, k)
        g = _as_rows(xp.astype(grad, np.float32) if half else grad, shape, k)
        rstd = 1.0 / xp.sqrt(xp.mean(xw * xw, axis=1, keepdims=True) + ctx.eps)
        xhat = xw * rstd
        gx = gw = None
        if ctx.needs_input_grad[0]:
            gh = g if weight is None else g * weight.reshape(1, -1)
            gx = rstd * (gh - xhat * xp.mean(gh * xhat, axis=1, keepdims=True))
            gx = gx.reshape(shape)
            gx = xp.astype(gx, x.dtype) if half else gx
        if ctx.needs_input_grad[1]:
            gw = xp.sum(g * xhat, axis=0).reshape(weight.shape)
            gw = xp.astype(gw, weight.dtype) if half else gw
        return gx, gw


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0) -> Tensor:
    """x / (k + alpha * mean of x^2 over `size` neighbouring channels) ** beta."""
    dim = input.ndim
    if dim < 3:
        raise ValueError("Expected 3D or higher dimensionality                          "
                         f"input (got {dim} dimensions)")
    if input.numel() == 0:
        return input
    sq = input * input
    c = input.shape[1]
    before, after = size // 2, (size - 1) // 2
    pad = [zeros((input.shape[0], p) + tuple(input.shape[2:]), dtype=input.dtype,
                 device=input.device) for p in (before, after)]
    padded = cat([pad[0], sq, pad[1]], dim=1)
    # A window of `size` channels is summed as `size` shifted slices (size is small).
    window = padded.narrow(1, 0, c)
    for i in range(1, size):
        window = window + padded.narrow(1, i, c)
    div = (window * (alpha / size) + k).pow(beta)
    return input / div


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,
              out: Tensor | None = None) -> Tensor:
    """input / max(||input||_p over dim, eps)."""
    if _autocast.on and (policy := _autocast.policy("normalize", input)):
        return policy(normalize, input, p, dim, eps, out=out)
    wrap_dim(dim, input.ndim)
    denom = input.norm(p, dim, keepdim=True).clamp_min(eps).expand_as(input)
    return finish(input / denom, out)

